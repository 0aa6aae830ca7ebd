//go:build duckdb_arrow

package main

import (
	"context"
	"encoding/base64"
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

// TestResultMemoryPerUser: a user holding several large results open and
// unread hits --result-memory-per-user (ResourceExhausted, saying so) long
// before the server's --result-memory-limit, so another user still streams
// a large result and runs queries; once the first user's streams end, their
// budget is free again.
func TestResultMemoryPerUser(t *testing.T) {
	// A stalled stream holds up to four 9 MiB batches (one being written,
	// two queued, one fetched): 100 MB lets one user read a large result,
	// and three stalled streams take it. Without the per-user cap, the six
	// stalled streams below would take most of the 250 MB.
	ts := startServerWith(t, t.TempDir(), []string{"--result-memory-limit", "250MB", "--result-memory-per-user", "100MB",
		"--max-queries-per-user", "0"}, nil)
	root := connect(t, ts.addr, "root", testRootPassword)
	root.mustExec("CREATE USER hog WITH PASSWORD 'hog-password' ROLE user")
	root.mustExec("CREATE USER bob WITH PASSWORD 'bob-password' ROLE user")
	cl, err := flightsql.NewClient(ts.addr, nil, nil, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(16<<20)))
	require.NoError(t, err)
	defer cl.Close()
	as := func(ctx context.Context, user, pass string) context.Context {
		return metadata.AppendToOutgoingContext(ctx, "authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(user+":"+pass)))
	}
	const big = "SELECT i, repeat('x', 1000000) AS s FROM range(100) t(i)" // 100 MB
	readBig := func(ctx context.Context) (int64, error) {
		info, err := cl.Execute(ctx, big)
		if err != nil {
			return 0, err
		}
		return readAll(cl, ctx, info.Endpoint[0].Ticket)
	}

	// hog opens six streams and reads none of their batches: the server
	// fetches ahead until the streams stall (or hit the cap).
	hogCtx, stopHog := context.WithCancel(as(context.Background(), "hog", "hog-password"))
	defer stopHog()
	for range 6 {
		info, err := cl.Execute(hogCtx, big)
		require.NoError(t, err)
		rdr, err := cl.DoGet(hogCtx, info.Endpoint[0].Ticket)
		require.NoError(t, err)
		defer rdr.Release()
	}
	// Once they have stalled, hog can no longer read a large result.
	var hogErr error
	require.Eventually(t, func() bool {
		_, hogErr = readBig(hogCtx)
		return hogErr != nil
	}, 10*time.Second, 10*time.Millisecond)
	require.Equal(t, codes.ResourceExhausted, status.Code(hogErr), "%v", hogErr)
	require.Contains(t, hogErr.Error(), "--result-memory-per-user")

	// bob is unaffected: a whole 100 MB result, and small queries.
	bobCtx := as(context.Background(), "bob", "bob-password")
	n, err := readBig(bobCtx)
	require.NoError(t, err)
	require.EqualValues(t, 100, n)
	bob := connect(t, ts.addr, "bob", "bob-password")
	require.Equal(t, [][]string{{"1"}}, bob.mustQuery("SELECT 1"))
	require.Equal(t, [][]string{{"1"}}, root.mustQuery("SELECT 1"))

	// Ending hog's streams frees hog's budget.
	stopHog()
	hogCtx = as(context.Background(), "hog", "hog-password")
	require.Eventually(t, func() bool {
		n, err := readBig(hogCtx)
		return err == nil && n == 100
	}, 10*time.Second, 10*time.Millisecond)
}
