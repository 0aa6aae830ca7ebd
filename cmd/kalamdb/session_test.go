//go:build duckdb_arrow

package main

import (
	"context"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestSessionOptionsAndCancel(t *testing.T) {
	ts := startServer(t, t.TempDir())
	root := connect(t, ts.addr, "root", testRootPassword)
	root.mustExec("CREATE NAMESPACE so")
	root.mustExec("CREATE SHARED TABLE so.t (id INT PRIMARY KEY)")
	root.mustExec("INSERT INTO so.t VALUES (1), (2)")
	cl := newFlightSQLClient(t, ts.addr)
	ctx, err := cl.Client.AuthenticateBasicToken(context.Background(), "root", testRootPassword)
	require.NoError(t, err)

	// schema = namespace (same as USE); catalog must be kalamdb.
	opts, err := flight.NewSessionOptionValues(map[string]any{"schema": "so", "catalog": "kalamdb"})
	require.NoError(t, err)
	res, err := cl.SetSessionOptions(ctx, &flight.SetSessionOptionsRequest{SessionOptions: opts})
	require.NoError(t, err)
	require.Empty(t, res.Errors)
	n, err := readAll(cl, ctx, mustTicket(t, cl, ctx, "SELECT * FROM t"))
	require.NoError(t, err)
	require.EqualValues(t, 2, n)
	got, err := cl.GetSessionOptions(ctx, &flight.GetSessionOptionsRequest{})
	require.NoError(t, err)
	require.Equal(t, "so", got.SessionOptions["schema"].GetStringValue())
	require.Equal(t, "kalamdb", got.SessionOptions["catalog"].GetStringValue())
	bad, err := flight.NewSessionOptionValues(map[string]any{"schema": "nope", "catalog": "other", "color": "blue"})
	require.NoError(t, err)
	res, err = cl.SetSessionOptions(ctx, &flight.SetSessionOptionsRequest{SessionOptions: bad})
	require.NoError(t, err)
	require.Len(t, res.Errors, 3)
	require.Equal(t, flight.SetSessionOptionsResultErrorInvalidName, res.Errors["color"].Value)
	// CloseSession forgets the namespace.
	cr, err := cl.CloseSession(ctx, &flight.CloseSessionRequest{})
	require.NoError(t, err)
	require.Equal(t, flight.CloseSessionResultClosed, cr.Status)
	_, err = cl.Execute(ctx, "SELECT * FROM t")
	require.Equal(t, codes.NotFound, status.Code(err))

	// Cancel a result before it is fetched: the ticket is gone.
	info, err := cl.Execute(ctx, "SELECT * FROM so.t")
	require.NoError(t, err)
	cres, err := cl.CancelFlightInfo(ctx, &flight.CancelFlightInfoRequest{Info: info})
	require.NoError(t, err)
	require.Equal(t, flight.CancelStatusCancelled, cres.Status)
	_, err = readAll(cl, ctx, info.Endpoint[0].Ticket)
	require.Equal(t, codes.NotFound, status.Code(err))

	// Cancel a result while it streams: the stream ends with Cancelled.
	info, err = cl.Execute(ctx, "SELECT i FROM range(10000000000) t(i)")
	require.NoError(t, err)
	rdr, err := cl.DoGet(ctx, info.Endpoint[0].Ticket)
	require.NoError(t, err)
	require.True(t, rdr.Next())
	cres, err = cl.CancelFlightInfo(ctx, &flight.CancelFlightInfoRequest{Info: info})
	require.NoError(t, err)
	require.Equal(t, flight.CancelStatusCancelling, cres.Status)
	deadline := time.Now().Add(20 * time.Second)
	for rdr.Next() {
		require.True(t, time.Now().Before(deadline), "the stream did not stop after CancelFlightInfo")
	}
	require.Equal(t, codes.Canceled, status.Code(rdr.Err()), "%v", rdr.Err())
	rdr.Release()
	// The server keeps serving.
	n, err = readAll(cl, ctx, mustTicket(t, cl, ctx, "SELECT * FROM so.t"))
	require.NoError(t, err)
	require.EqualValues(t, 2, n)
}

func mustTicket(t *testing.T, cl interface {
	Execute(context.Context, string, ...grpc.CallOption) (*flight.FlightInfo, error)
}, ctx context.Context, q string) *flight.Ticket {
	t.Helper()
	info, err := cl.Execute(ctx, q)
	require.NoError(t, err)
	return info.Endpoint[0].Ticket
}
