//go:build duckdb_arrow

package main

import (
	"context"
	"net"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
)

// loginFrom performs a Basic handshake to addr from local IP src.
func loginFrom(t *testing.T, addr, src, user, pass string) error {
	t.Helper()
	dial := func(ctx context.Context, a string) (net.Conn, error) {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
		return d.DialContext(ctx, "tcp", a)
	}
	cl, err := flightsql.NewClient(addr, nil, nil, grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithContextDialer(dial))
	require.NoError(t, err)
	defer cl.Close()
	_, err = cl.Client.AuthenticateBasicToken(context.Background(), user, pass)
	return err
}

// TestLockoutIsPerAddress: failed logins lock only the address they come
// from, and never lock root out of loopback.
func TestLockoutIsPerAddress(t *testing.T) {
	ts := startServerWith(t, t.TempDir(), []string{"--handshake-rate", "1000"}, nil)
	root := connect(t, ts.addr, "root", testRootPassword)
	root.mustExec("CREATE USER lou WITH PASSWORD 'lou-password' ROLE dba")

	// Root on loopback: failures delay, never lock.
	for i := 0; i < 6; i++ {
		requireCode(t, loginFrom(t, ts.addr, "127.0.0.1", "root", "wrong-password"), codes.Unauthenticated, "invalid username or password")
	}
	require.NoError(t, loginFrom(t, ts.addr, "127.0.0.1", "root", testRootPassword))

	// Five failures from 127.0.0.2 lock lou out of 127.0.0.2 only.
	for i := 0; i < 5; i++ {
		requireCode(t, loginFrom(t, ts.addr, "127.0.0.2", "lou", "wrong-password"), codes.Unauthenticated, "invalid username or password")
	}
	requireCode(t, loginFrom(t, ts.addr, "127.0.0.2", "lou", "lou-password"), codes.Unauthenticated, "locked for this client address")
	require.NoError(t, loginFrom(t, ts.addr, "127.0.0.1", "lou", "lou-password"))
	require.NoError(t, loginFrom(t, ts.addr, "127.0.0.3", "lou", "lou-password"))
	// An unknown name locks the same way.
	for i := 0; i < 5; i++ {
		requireCode(t, loginFrom(t, ts.addr, "127.0.0.2", "nobody", "wrong-password"), codes.Unauthenticated, "invalid username or password")
	}
	requireCode(t, loginFrom(t, ts.addr, "127.0.0.2", "nobody", "wrong-password"), codes.Unauthenticated, "locked for this client address")
	// system.users tells an operator what happened.
	rows := root.mustQuery("SELECT failed_login_attempts, locked_until IS NOT NULL FROM system.users WHERE user_id = 'lou'")
	require.Equal(t, [][]string{{"0", "true"}}, rows, "the success from 127.0.0.1 reset the count; the lock of 127.0.0.2 is recorded")
}
