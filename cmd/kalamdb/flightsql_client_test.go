//go:build duckdb_arrow

package main

import (
	"context"
	"encoding/base64"
	"io"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

func newFlightSQLClient(t *testing.T, addr string) *flightsql.Client {
	t.Helper()
	cl, err := flightsql.NewClient(addr, nil, nil, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = cl.Close() })
	return cl
}

func TestArrowFlightSQLClient(t *testing.T) {
	ts := startServer(t, t.TempDir())
	cl := newFlightSQLClient(t, ts.addr)
	ctx := context.Background()

	// Handshake with Basic credentials (unpadded base64, as the Go client
	// sends): the token comes back in both headers and trailers.
	basic := "Basic " + base64.RawStdEncoding.EncodeToString([]byte("root:"+testRootPassword))
	var hdr, trl metadata.MD
	stream, err := cl.Client.Handshake(metadata.AppendToOutgoingContext(ctx, "authorization", basic), grpc.Header(&hdr), grpc.Trailer(&trl))
	require.NoError(t, err)
	require.NoError(t, stream.CloseSend())
	_, err = stream.Recv()
	require.ErrorIs(t, err, io.EOF)
	require.Len(t, hdr.Get("authorization"), 1)
	require.Len(t, trl.Get("authorization"), 1)
	bearer := hdr.Get("authorization")[0]
	require.True(t, strings.HasPrefix(bearer, "Bearer "))
	require.Equal(t, bearer, trl.Get("authorization")[0])
	authed := metadata.AppendToOutgoingContext(ctx, "authorization", bearer)

	// Padded Basic credentials on a plain call work too.
	padded := "Basic " + base64.StdEncoding.EncodeToString([]byte("root:"+testRootPassword))
	_, err = cl.Execute(metadata.AppendToOutgoingContext(ctx, "authorization", padded), "SELECT 1")
	require.NoError(t, err)

	// DDL and DML through ExecuteUpdate (DoPut) return row counts.
	n, err := cl.ExecuteUpdate(authed, "CREATE NAMESPACE fs")
	require.NoError(t, err)
	require.EqualValues(t, 0, n)
	_, err = cl.ExecuteUpdate(authed, "CREATE SHARED TABLE fs.t (id BIGINT PRIMARY KEY, s TEXT)")
	require.NoError(t, err)
	n, err = cl.ExecuteUpdate(authed, "INSERT INTO fs.t SELECT i, 'v' || i FROM range(100000) r(i)")
	require.NoError(t, err)
	require.EqualValues(t, 100000, n)

	// A query: exactly one endpoint, schema in the FlightInfo, rows via DoGet.
	info, err := cl.Execute(authed, "SELECT id, s FROM fs.t WHERE id % 2 = 0 ORDER BY id")
	require.NoError(t, err)
	require.Len(t, info.Endpoint, 1)
	schema, err := flight.DeserializeSchema(info.Schema, nil)
	require.NoError(t, err)
	require.Equal(t, "id", schema.Field(0).Name)
	rdr, err := cl.DoGet(authed, info.Endpoint[0].Ticket)
	require.NoError(t, err)
	var rows int64
	var batches int
	for rdr.Next() {
		rec := rdr.RecordBatch()
		require.LessOrEqual(t, rec.NumRows(), int64(65536))
		if rows == 0 {
			require.EqualValues(t, 0, rec.Column(0).(*array.Int64).Value(0))
		}
		rows += rec.NumRows()
		batches++
	}
	require.NoError(t, rdr.Err())
	rdr.Release()
	require.EqualValues(t, 50000, rows)
	require.Equal(t, 1, batches, "50k rows coalesce into one batch")

	// DDL runs when GetFlightInfo is called, even if DoGet never follows.
	_, err = cl.Execute(authed, "CREATE SHARED TABLE fs.eager (id INT PRIMARY KEY)")
	require.NoError(t, err)
	_, err = cl.ExecuteUpdate(authed, "INSERT INTO fs.eager VALUES (1)")
	require.NoError(t, err)

	// A ticket cannot be redeemed twice, nor by another user.
	info, err = cl.Execute(authed, "SELECT 1")
	require.NoError(t, err)
	rdr, err = cl.DoGet(authed, info.Endpoint[0].Ticket)
	require.NoError(t, err)
	for rdr.Next() {
	}
	rdr.Release()
	_, err = readAll(cl, authed, info.Endpoint[0].Ticket)
	require.Equal(t, codes.NotFound, status.Code(err))

	// No credentials, or a bad token: Unauthenticated.
	_, err = cl.Execute(ctx, "SELECT 1")
	require.Equal(t, codes.Unauthenticated, status.Code(err))
	_, err = cl.Execute(metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer not.a.token"), "SELECT 1")
	require.Equal(t, codes.Unauthenticated, status.Code(err))
	_, err = cl.Execute(metadata.AppendToOutgoingContext(ctx, "authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("root:nope"))), "SELECT 1")
	require.Equal(t, codes.Unauthenticated, status.Code(err))
}

func readAll(cl *flightsql.Client, ctx context.Context, tkt *flight.Ticket) (int64, error) {
	rdr, err := cl.DoGet(ctx, tkt)
	if err != nil {
		return 0, err
	}
	defer rdr.Release()
	var n int64
	for rdr.Next() {
		n += rdr.RecordBatch().NumRows()
	}
	return n, rdr.Err()
}

// TestStreamLargeResult streams ten million rows without holding them.
func TestStreamLargeResult(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 10M rows")
	}
	ts := startServer(t, t.TempDir())
	c := connect(t, ts.addr, "root", testRootPassword)
	stmt, err := c.conn.NewStatement()
	require.NoError(t, err)
	defer stmt.Close()
	require.NoError(t, stmt.SetSqlQuery("SELECT i, i*2 AS j, i%7 AS k FROM range(10000000) t(i)"))
	rdr, _, err := stmt.ExecuteQuery(context.Background())
	require.NoError(t, err)
	defer rdr.Release()
	var rows, sum int64
	for rdr.Next() {
		rec := rdr.RecordBatch()
		rows += rec.NumRows()
		k := rec.Column(2).(*array.Int64)
		for i := 0; i < k.Len(); i++ {
			sum += k.Value(i)
		}
	}
	require.NoError(t, rdr.Err())
	require.EqualValues(t, 10000000, rows)
	var want int64
	for i := int64(0); i < 10000000; i++ {
		want += i % 7
	}
	require.Equal(t, want, sum)
}

// TestSqlInfoIsolation: SqlInfo states the isolation level transactions
// have (snapshot isolation: REPEATABLE_READ, TestTransactionSnapshot*).
func TestSqlInfoIsolation(t *testing.T) {
	ts := startServer(t, t.TempDir())
	cl := newFlightSQLClient(t, ts.addr)
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("root:"+testRootPassword))
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", basic)
	info, err := cl.GetSqlInfo(ctx, []flightsql.SqlInfo{flightsql.SqlInfoDefaultTransactionIsolation, flightsql.SqlInfoSupportedTransactionsIsolationlevels})
	require.NoError(t, err)
	rdr, err := cl.DoGet(ctx, info.Endpoint[0].Ticket)
	require.NoError(t, err)
	defer rdr.Release()
	got := map[uint32]string{}
	for rdr.Next() {
		r := rdr.RecordBatch()
		names := r.Column(0).(*array.Uint32)
		u := r.Column(1).(*array.DenseUnion)
		for i := 0; i < int(r.NumRows()); i++ {
			got[names.Value(i)] = u.Field(u.ChildID(i)).ValueStr(int(u.ValueOffset(i)))
		}
	}
	require.Equal(t, map[uint32]string{
		uint32(flightsql.SqlInfoDefaultTransactionIsolation):          "3",
		uint32(flightsql.SqlInfoSupportedTransactionsIsolationlevels): "12",
	}, got)
}

// TestBasicSessionNotInherited: Basic credentials sent with every call
// share one session per account; a user dropped and re-created under the
// same name starts with a new session, not the dropped account's (its
// default namespace, its open transaction).
func TestBasicSessionNotInherited(t *testing.T) {
	ts := startServer(t, t.TempDir())
	root := connect(t, ts.addr, "root", testRootPassword)
	root.mustExec("CREATE NAMESPACE bs")
	root.mustExec("CREATE USER TABLE bs.t (id INT PRIMARY KEY)")
	root.mustExec("CREATE USER carl WITH PASSWORD 'carl-password' ROLE user")
	cl := newFlightSQLClient(t, ts.addr)
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("carl:carl-password"))
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", basic)
	_, err := cl.ExecuteUpdate(ctx, "USE bs")
	require.NoError(t, err)
	_, err = cl.ExecuteUpdate(ctx, "BEGIN")
	require.NoError(t, err)
	_, err = cl.ExecuteUpdate(ctx, "INSERT INTO t VALUES (1)")
	require.NoError(t, err, "the session's namespace applies")

	root.mustExec("DROP USER carl")
	root.mustExec("CREATE USER carl WITH PASSWORD 'carl-password' ROLE user")
	_, err = cl.ExecuteUpdate(ctx, "INSERT INTO t VALUES (2)")
	require.Error(t, err, "a new session has no default namespace")
	_, err = cl.ExecuteUpdate(ctx, "COMMIT")
	requireCode(t, err, codes.FailedPrecondition, "")
	n, err := cl.ExecuteUpdate(ctx, "INSERT INTO bs.t VALUES (3)")
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
	c := connect(t, ts.addr, "carl", "carl-password")
	require.Equal(t, [][]string{{"3"}}, c.mustQuery("SELECT id FROM bs.t"))
}

// TestOwnPasswordChangeKeepsSession: the session that changes its own
// password keeps working (a fresh token comes back with the statement's
// answer); the user's other sessions end.
func TestOwnPasswordChangeKeepsSession(t *testing.T) {
	ts := startServer(t, t.TempDir())
	root := connect(t, ts.addr, "root", testRootPassword)
	root.mustExec("CREATE NAMESPACE pw")
	root.mustExec("CREATE USER TABLE pw.t (id INT PRIMARY KEY)")
	dana := newUser(t, ts.addr, root, "dana")
	other := connect(t, ts.addr, "dana", "dana-password")
	dana.mustExec("USE pw")
	dana.mustExec("INSERT INTO t VALUES (1)")

	dana.mustExec("ALTER USER dana SET PASSWORD 'dana-password-2'")
	require.Equal(t, [][]string{{"1"}}, dana.mustQuery("SELECT id FROM t"), "the session keeps its namespace and works on")
	dana.mustExec("INSERT INTO t VALUES (2)")
	_, _, err := other.query("SELECT 1")
	requireCode(t, err, codes.Unauthenticated, "")
	_, err = tryConnect(ts.addr, "dana", "dana-password")
	requireCode(t, err, codes.Unauthenticated, "")
	require.Equal(t, [][]string{{"1"}, {"2"}}, connect(t, ts.addr, "dana", "dana-password-2").mustQuery("SELECT id FROM pw.t ORDER BY id"))

	// Changing one's password in a query (not an update) call works too.
	require.NotEmpty(t, dana.mustQuery("ALTER USER dana SET PASSWORD 'dana-password-3'"))
	require.Equal(t, [][]string{{"2"}}, dana.mustQuery("SELECT count(*) FROM t"))

	// Someone else changing the password ends that session too.
	root.mustExec("ALTER USER dana SET PASSWORD 'dana-password-4'")
	_, _, err = dana.query("SELECT 1")
	requireCode(t, err, codes.Unauthenticated, "")
}
