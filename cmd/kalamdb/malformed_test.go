//go:build duckdb_arrow

package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sort"
	"syscall"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	pb "github.com/apache/arrow-go/v18/arrow/flight/gen/flight"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// ipcCapture collects the FlightData messages an IPC writer sends.
type ipcCapture struct{ msgs []*flight.FlightData }

func (c *ipcCapture) Send(fd *flight.FlightData) error {
	c.msgs = append(c.msgs, &flight.FlightData{
		DataHeader: append([]byte(nil), fd.DataHeader...),
		DataBody:   append([]byte(nil), fd.DataBody...),
	})
	return nil
}

// itemsBatch encodes rows (id, name) as a schema message and a batch
// message; names have no nulls, so the batch body is the id values, then
// the name offsets, then the name bytes, each padded to 8 bytes.
func itemsBatch(t *testing.T, ids []int64, names []string) []*flight.FlightData {
	t.Helper()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "name", Type: arrow.BinaryTypes.String},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	b.Field(0).(*array.Int64Builder).AppendValues(ids, nil)
	b.Field(1).(*array.StringBuilder).AppendValues(names, nil)
	rec := b.NewRecordBatch()
	defer rec.Release()
	c := &ipcCapture{}
	w := flight.NewRecordWriter(c, ipc.WithSchema(schema))
	require.NoError(t, w.Write(rec))
	require.NoError(t, w.Close())
	require.Len(t, c.msgs, 2)
	return c.msgs
}

// command packs a Flight SQL command for a descriptor.
func command(t *testing.T, m proto.Message) *flight.FlightDescriptor {
	t.Helper()
	a, err := anypb.New(m)
	require.NoError(t, err)
	b, err := proto.Marshal(a)
	require.NoError(t, err)
	return &flight.FlightDescriptor{Type: flight.DescriptorCMD, Cmd: b}
}

// rawPut sends msgs as one DoPut and returns the record count the server
// reported (if any) and the call's final error.
func rawPut(ctx context.Context, cl *flightsql.Client, msgs []*flight.FlightData) (int64, error) {
	stream, err := cl.Client.DoPut(ctx)
	if err != nil {
		return 0, err
	}
	for _, m := range msgs {
		if err := stream.Send(m); err != nil {
			break // the server ended the call; Recv has its status
		}
	}
	_ = stream.CloseSend()
	var count int64
	for {
		res, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return count, nil
		}
		if err != nil {
			return count, err
		}
		var upd pb.DoPutUpdateResult
		if proto.Unmarshal(res.GetAppMetadata(), &upd) == nil {
			count += upd.GetRecordCount()
		}
	}
}

// TestMalformedDoPutKeepsServerUp sends a user-role client's mutated IPC
// streams (flipped header, schema and body bytes, string offsets out of
// range) through DoPut, for bulk ingest and for prepared INSERT and SELECT
// parameters, plus a DoPut without a descriptor and one with a random
// schema. Each gets an error code that is not a crash, the server process
// stays up and answers a SELECT, and the table holds exactly the rows of
// the valid batches (plus whatever mutated batches the server accepted and
// counted).
func TestMalformedDoPutKeepsServerUp(t *testing.T) {
	cmd, addr := startProcess(t, t.TempDir())
	root := connect(t, addr, "root", testRootPassword)
	root.mustExec("CREATE NAMESPACE app")
	root.mustExec("CREATE TABLE app.items (id BIGINT PRIMARY KEY, name TEXT) WITH (TYPE='USER')")
	user := newUser(t, addr, root, "mallory")

	cl, err := flightsql.NewClient(addr, nil, nil, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { _ = cl.Close() })
	ctx, err := cl.Client.AuthenticateBasicToken(t.Context(), "mallory", "mallory-password")
	require.NoError(t, err)
	insert, err := cl.Prepare(ctx, "INSERT INTO app.items VALUES ($1, $2)")
	require.NoError(t, err)
	t.Cleanup(func() { _ = insert.Close(context.Background()) })
	sel, err := cl.Prepare(ctx, "SELECT name FROM app.items WHERE id = $1 AND name <> $2")
	require.NoError(t, err)
	t.Cleanup(func() { _ = sel.Close(context.Background()) })

	ingest := command(t, &pb.CommandStatementIngest{
		Table: "items", Schema: proto.String("app"),
		TableDefinitionOptions: &pb.CommandStatementIngest_TableDefinitionOptions{
			IfNotExist: pb.CommandStatementIngest_TableDefinitionOptions_TABLE_NOT_EXIST_OPTION_FAIL,
			IfExists:   pb.CommandStatementIngest_TableDefinitionOptions_TABLE_EXISTS_OPTION_APPEND,
		},
	})
	insertCmd := command(t, &pb.CommandPreparedStatementUpdate{PreparedStatementHandle: insert.Handle()})
	selectCmd := command(t, &pb.CommandPreparedStatementQuery{PreparedStatementHandle: sel.Handle()})
	targets := []*flight.FlightDescriptor{ingest, insertCmd, selectCmd}

	const n = 240
	rng := rand.New(rand.NewPCG(11, 12))
	want := map[int64]string{} // rows of the valid batches
	var accepted int64         // rows the server counted for mutated batches
	codesSeen := map[codes.Code]int{}
	for i := range n {
		desc := targets[i%len(targets)]
		// Mutated batches carry ids below 1e6 (a flipped body byte may move
		// one anywhere), valid ones 1000000..1000999.
		base := int64(i * 10)
		msgs := itemsBatch(t, []int64{base + 1, base + 2}, []string{"abc", "défg"})
		switch i / len(targets) % 5 {
		case 0: // flip schema header bytes
			flip(rng, msgs[0].DataHeader, 1+rng.IntN(4))
		case 1: // flip batch header bytes
			flip(rng, msgs[1].DataHeader, 1+rng.IntN(4))
		case 2: // flip body bytes
			flip(rng, msgs[1].DataBody, 1+rng.IntN(4))
		case 3: // a string offset out of range (name offsets follow the 16 id bytes)
			binary.LittleEndian.PutUint32(msgs[1].DataBody[16+4:], uint32(8+rng.IntN(1<<30)))
		case 4: // decreasing string offsets
			binary.LittleEndian.PutUint32(msgs[1].DataBody[16+4:], 6)
			binary.LittleEndian.PutUint32(msgs[1].DataBody[16+8:], 2)
		}
		msgs[0].FlightDescriptor = desc
		count, err := rawPut(ctx, cl, msgs)
		if err == nil && desc != selectCmd {
			accepted += count
		}
		c := status.Code(err)
		codesSeen[c]++
		require.NotContains(t, []codes.Code{codes.Internal, codes.Unknown, codes.Unavailable}, c, "message %d: %v", i, err)

		if i%20 == 0 { // now and then, a valid batch into each target
			id := int64(1_000_000 + i)
			valid := itemsBatch(t, []int64{id}, []string{fmt.Sprintf("valid %d", i)})
			valid[0].FlightDescriptor = targets[i/20%2] // ingest or prepared INSERT
			_, err := rawPut(ctx, cl, valid)
			require.NoError(t, err, "valid batch %d", i)
			want[id] = fmt.Sprintf("valid %d", i)
		}
	}
	t.Logf("codes of %d mutated messages: %v; %d rows of mutated batches accepted", n, codesSeen, accepted)
	require.Greater(t, n-codesSeen[codes.OK], n/2, "most mutations must be refused")

	// No descriptor, and a random schema.
	noDesc := itemsBatch(t, []int64{1}, []string{"x"})
	_, err = rawPut(ctx, cl, noDesc)
	require.Equal(t, codes.InvalidArgument, status.Code(err), "%v", err)
	random := itemsBatch(t, []int64{2}, []string{"y"})
	random[0].DataHeader = make([]byte, 64+rng.IntN(200))
	for i := range random[0].DataHeader {
		random[0].DataHeader[i] = byte(rng.Uint32())
	}
	random[0].FlightDescriptor = ingest
	_, err = rawPut(ctx, cl, random)
	require.Equal(t, codes.InvalidArgument, status.Code(err), "%v", err)

	// The process is alive and serves; the valid rows are all there.
	require.NoError(t, cmd.Process.Signal(syscall.Signal(0)))
	rows := user.mustQuery("SELECT id, name FROM app.items WHERE id BETWEEN 1000000 AND 1000999 ORDER BY id")
	var got []string
	for _, r := range rows {
		got = append(got, r[0]+"="+r[1])
	}
	var exp []string
	for id, name := range want {
		exp = append(exp, fmt.Sprintf("%d=%s", id, name))
	}
	sort.Strings(exp)
	sort.Strings(got)
	require.Equal(t, exp, got)
	total := user.mustQuery("SELECT count(*) FROM app.items")
	require.Equal(t, fmt.Sprint(int64(len(want))+accepted), total[0][0])
}

// flip inverts k random bytes of b.
func flip(rng *rand.Rand, b []byte, k int) {
	if len(b) == 0 {
		return
	}
	for range k {
		b[rng.IntN(len(b))] ^= byte(1 + rng.IntN(255))
	}
}

// TestErrorEchoesPercentVerbatim checks that user text echoed in an error
// is not read as a format string.
func TestErrorEchoesPercentVerbatim(t *testing.T) {
	ts := startServer(t, t.TempDir())
	root := connect(t, ts.addr, "root", testRootPassword)
	u := newUser(t, ts.addr, root, "pct")
	for _, tc := range []struct{ sql, echo string }{
		{`SELECT * FROM "pct %s %d"`, `pct %s %d`},
		{`SELECT * FROM app."pct %s %d%%"`, `app.pct %s %d%%`},
		{`INSERT INTO "pct %s %d" VALUES (1)`, `"pct %s %d"`},
		{`SELECT "pct %s %d %v"`, `"pct %s %d %v"`},
		{`SELECT CAST('pct %s %d' AS INT)`, `'pct %s %d'`},
		{`EXECUTE AS USER 'pct %s %d' (SELECT 1)`, `"pct %s %d"`},
	} {
		_, _, err := u.query(tc.sql)
		require.Error(t, err, tc.sql)
		require.Contains(t, err.Error(), tc.echo, tc.sql)
		require.NotContains(t, err.Error(), "%!", tc.sql)
	}
}
