//go:build duckdb_arrow

package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

func TestQueryTimeout(t *testing.T) {
	ts := startServerWith(t, t.TempDir(), []string{"--query-timeout", "2s"}, nil)
	root := connect(t, ts.addr, "root", testRootPassword)

	// A query running past --query-timeout is cancelled: DeadlineExceeded.
	start := time.Now()
	_, _, err := root.query("SELECT count(*) FROM range(1000000000000) t(i) WHERE i % 7 = 3")
	requireCode(t, err, codes.DeadlineExceeded, "timeout")
	require.Less(t, time.Since(start), 15*time.Second)
	// The server is fine afterwards.
	require.Equal(t, [][]string{{"1"}}, root.mustQuery("SELECT 1"))
}

// TestQueryTimeoutCoversPlanning: DuckDB neither parses nor plans with an
// eye on interrupts, and a long OR chain plans in time quadratic in its
// length. The timeout still answers on time, and chains past the cap are
// refused before DuckDB plans them.
func TestQueryTimeoutCoversPlanning(t *testing.T) {
	ts := startServerWith(t, t.TempDir(), []string{"--query-timeout", "200ms"}, nil)
	root := connect(t, ts.addr, "root", testRootPassword)
	eve := newUser(t, ts.addr, root, "eve")
	orChain := func(n int) string {
		terms := make([]string, n)
		for i := range terms {
			terms[i] = fmt.Sprintf("i = %d", i)
		}
		return "SELECT count(*) FROM range(10) t(i) WHERE " + strings.Join(terms, " OR ")
	}
	// 10,000 terms take DuckDB over a second to parse and plan.
	for range 3 {
		start := time.Now()
		_, _, err := eve.query(orChain(10000))
		requireCode(t, err, codes.DeadlineExceeded, "timeout")
		require.Less(t, time.Since(start), time.Second)
	}
	// The user's slots and the server's connections are free again.
	require.Equal(t, [][]string{{"1"}}, eve.mustQuery("SELECT 1"))
	ts.stop()

	ts = startServer(t, t.TempDir())
	root = connect(t, ts.addr, "root", testRootPassword)
	_, _, err := root.query(orChain(10001))
	requireCode(t, err, codes.InvalidArgument, "too complex")
	require.Equal(t, [][]string{{"1"}}, root.mustQuery("SELECT count(*) FROM range(10) t(i) WHERE i = 1 OR i = 12"))
}

// TestHugeValuesStream: rows of megabyte values arrive in batches bounded by
// bytes (a DuckDB chunk of them no longer becomes one huge message), with
// the result memory cap on.
func TestHugeValuesStream(t *testing.T) {
	ts := startServerWith(t, t.TempDir(), []string{"--result-memory-limit", "256MB"}, nil)
	root := connect(t, ts.addr, "root", testRootPassword)
	rows := root.mustQuery("SELECT i, length(s), s = repeat('x', 3000000) FROM (SELECT i, repeat('x', 3000000) AS s FROM range(40) t(i)) ORDER BY i")
	require.Len(t, rows, 40)
	// 16 MiB per message, as the ADBC and JDBC drivers accept.
	cl, err := flightsql.NewClient(ts.addr, nil, nil, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(16<<20)))
	require.NoError(t, err)
	defer cl.Close()
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("root:"+testRootPassword)))
	info, err := cl.Execute(ctx, "SELECT i, repeat('x', 3000000) AS s FROM range(40) t(i)")
	require.NoError(t, err)
	n, err := readAll(cl, ctx, info.Endpoint[0].Ticket)
	require.NoError(t, err, "120 MB in messages clients accept")
	require.EqualValues(t, 40, n)
	require.Equal(t, [][]string{{"1"}}, root.mustQuery("SELECT 1"))
}

func TestQueryMemoryAndConcurrencyLimits(t *testing.T) {
	ts := startServerWith(t, t.TempDir(), []string{"--max-queries-per-user", "2", "--memory-limit", "64MB"}, nil)
	root := connect(t, ts.addr, "root", testRootPassword)

	// More than --memory-limit: ResourceExhausted (spilling is off).
	_, _, err := root.query("SELECT list(i) FROM range(50000000) t(i)")
	requireCode(t, err, codes.ResourceExhausted, "memory")

	// A third concurrent query of the same user is refused; others are not.
	root.mustExec("CREATE USER other WITH PASSWORD 'other-pass' ROLE user")
	cl := newFlightSQLClient(t, ts.addr)
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("root:"+testRootPassword)))
	q := "SELECT i FROM range(100) t(i)"
	info1, err := cl.Execute(ctx, q)
	require.NoError(t, err)
	info2, err := cl.Execute(ctx, q)
	require.NoError(t, err)
	_, err = cl.Execute(ctx, q)
	require.Equal(t, codes.ResourceExhausted, status.Code(err), "%v", err)
	other := connect(t, ts.addr, "other", "other-pass")
	require.Equal(t, [][]string{{"1"}}, other.mustQuery("SELECT 1"))
	// Fetching a result frees its slot.
	n, err := readAll(cl, ctx, info1.Endpoint[0].Ticket)
	require.NoError(t, err)
	require.EqualValues(t, 100, n)
	_, err = cl.Execute(ctx, q)
	require.NoError(t, err)
	_ = info2
}

func TestAuditLog(t *testing.T) {
	ts := startServer(t, t.TempDir())
	root := connect(t, ts.addr, "root", testRootPassword)
	root.mustExec("CREATE NAMESPACE a")
	root.mustExec("CREATE USER TABLE a.t (id INT PRIMARY KEY)")
	root.mustExec("CREATE USER ann WITH PASSWORD 'ann-password' ROLE user")
	root.mustExec("ALTER USER ann SET PASSWORD 'ann-password2'")
	root.mustExec("EXECUTE AS USER 'ann' (INSERT INTO a.t VALUES (1))")
	_, err := tryConnect(ts.addr, "ann", "wrong-password")
	require.Error(t, err)
	ann := connect(t, ts.addr, "ann", "ann-password2")
	_, err = ann.exec("DROP TABLE a.t")
	require.Error(t, err)
	root.mustExec("DROP TABLE a.t")

	rows := root.mustQuery("SELECT actor_user_id, subject_user_id, action, target, details, ip_address FROM system.audit_log ORDER BY audit_id")
	find := func(actor, subject, action, target string) []string {
		for _, r := range rows {
			if r[0] == actor && r[1] == subject && r[2] == action && (target == "" || r[3] == target) {
				return r
			}
		}
		t.Fatalf("no audit entry %s/%s/%s/%s in %v", actor, subject, action, target, rows)
		return nil
	}
	login := find("root", "root", "LOGIN", "")
	require.Equal(t, "127.0.0.1", login[5])
	find("root", "root", "CREATE NAMESPACE", "a")
	find("root", "root", "CREATE TABLE", "a.t")
	find("root", "root", "CREATE USER", "ann role=user")
	find("root", "root", "ALTER USER SET PASSWORD", "ann")
	find("root", "ann", "EXECUTE AS INSERT", "a.t")
	find("ann", "ann", "LOGIN FAILED", "")
	find("ann", "ann", "DENIED DROP TABLE", "a.t")
	find("root", "root", "DROP TABLE", "a.t")
	for _, r := range rows {
		require.NotContains(t, fmt.Sprint(r), "ann-password", "passwords never reach the audit log")
	}
}

func TestTokenLifetimeAndLockout(t *testing.T) {
	ts := startServerWith(t, t.TempDir(), []string{"--jwt-ttl", "2s", "--handshake-rate", "1000"}, nil)
	root := connect(t, ts.addr, "root", testRootPassword)
	root.mustExec("CREATE USER lou WITH PASSWORD 'lou-password' ROLE user")

	// A token stops working when it expires.
	cl := newFlightSQLClient(t, ts.addr)
	ctx, err := cl.Client.AuthenticateBasicToken(context.Background(), "lou", "lou-password")
	require.NoError(t, err)
	_, err = cl.Execute(ctx, "SELECT 1")
	require.NoError(t, err)
	time.Sleep(3 * time.Second)
	_, err = cl.Execute(ctx, "SELECT 1")
	require.Equal(t, codes.Unauthenticated, status.Code(err))

	// A token issued before a password change stops working.
	root = connect(t, ts.addr, "root", testRootPassword) // the first one's token has expired too
	ctx, err = cl.Client.AuthenticateBasicToken(context.Background(), "lou", "lou-password")
	require.NoError(t, err)
	root.mustExec("ALTER USER lou SET PASSWORD 'lou-password-2'")
	_, err = cl.Execute(ctx, "SELECT 1")
	require.Equal(t, codes.Unauthenticated, status.Code(err))

	// Five failures lock the account, even for the right password; the
	// message for an unknown user is the same as for a wrong password.
	for i := 0; i < 5; i++ {
		_, err := tryConnect(ts.addr, "lou", "nope")
		requireCode(t, err, codes.Unauthenticated, "invalid username or password")
	}
	_, err = tryConnect(ts.addr, "lou", "lou-password-2")
	requireCode(t, err, codes.Unauthenticated, "locked")
	_, err = tryConnect(ts.addr, "nobody", "nope")
	requireCode(t, err, codes.Unauthenticated, "invalid username or password")
}

func TestHandshakeRateLimit(t *testing.T) {
	ts := startServerWith(t, t.TempDir(), []string{"--handshake-rate", "2"}, nil)
	cl := newFlightSQLClient(t, ts.addr)
	var limited bool
	for i := 0; i < 20; i++ {
		_, err := cl.Client.AuthenticateBasicToken(context.Background(), "root", testRootPassword)
		if status.Code(err) == codes.ResourceExhausted {
			limited = true
			break
		}
		require.NoError(t, err)
	}
	require.True(t, limited, "20 handshakes at once from one address must hit a 2/s limit")
}
