//go:build duckdb_arrow

package flightsrv

import (
	"encoding/binary"
	"io"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	pb "github.com/apache/arrow-go/v18/arrow/flight/gen/flight"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// stringBatch is a one-column batch of strings without nulls: its IPC
// body is the offsets (padded to 8 bytes), then the characters.
func stringBatch(mem memory.Allocator, vals ...string) arrow.RecordBatch {
	schema := arrow.NewSchema([]arrow.Field{{Name: "s", Type: arrow.BinaryTypes.String}}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	b.Field(0).(*array.StringBuilder).AppendValues(vals, nil)
	return b.NewRecordBatch()
}

// batchBuffers returns the (offset, length) of every buffer a batch
// message's header lists.
func batchBuffers(t testing.TB, hdr []byte) [][2]int64 {
	t.Helper()
	fb := flatbuf(hdr)
	msg, err := fb.root()
	require.NoError(t, err)
	h, _, err := fb.tableField(msg, slotMessageHeader)
	require.NoError(t, err)
	n, elem, _, err := fb.vectorField(h, slotBatchBuffers, 16)
	require.NoError(t, err)
	out := make([][2]int64, n)
	for i := range out {
		out[i][0] = int64(binary.LittleEndian.Uint64(hdr[elem+16*i:]))
		out[i][1] = int64(binary.LittleEndian.Uint64(hdr[elem+16*i+8:]))
	}
	return out
}

// nestedLists is a schema with one column nested depth lists deep.
func nestedLists(depth int) *arrow.Schema {
	var dt arrow.DataType = arrow.PrimitiveTypes.Int32
	for range depth {
		dt = arrow.ListOf(dt)
	}
	return arrow.NewSchema([]arrow.Field{{Name: "l", Type: dt, Nullable: true}}, nil)
}

// schemaMessage is the FlightData of a schema alone.
func schemaMessage(t testing.TB, schema *arrow.Schema) *flight.FlightData {
	t.Helper()
	c := &captureWriter{}
	w := flight.NewRecordWriter(c, ipc.WithSchema(schema))
	require.NoError(t, w.Close())
	require.NotEmpty(t, c.msgs)
	return c.msgs[0]
}

func TestDoPutRejectsMalformedInput(t *testing.T) {
	mem := memory.NewGoAllocator()
	valid := stringBatch(mem, "ab", "cde", "f")
	defer valid.Release()
	zeroCols := array.NewRecordBatch(arrow.NewSchema(nil, nil), nil, 1<<30)
	defer zeroCols.Release()

	const handle = "h1"
	paramCmd := func(tb testing.TB) []byte {
		return packCmd(tb, &pb.CommandPreparedStatementQuery{PreparedStatementHandle: []byte(handle)})
	}
	cases := []struct {
		name     string
		msgs     func(t *testing.T) []*flight.FlightData
		contains string
	}{
		{"empty stream", func(*testing.T) []*flight.FlightData { return nil }, "ended before"},
		{"no descriptor", func(t *testing.T) []*flight.FlightData {
			msgs := encodeBatches(t, []arrow.RecordBatch{valid})
			return msgs
		}, "FlightDescriptor"},
		{"path descriptor", func(t *testing.T) []*flight.FlightData {
			msgs := encodeBatches(t, []arrow.RecordBatch{valid})
			msgs[0].FlightDescriptor = &flight.FlightDescriptor{Type: flight.DescriptorPATH, Path: []string{"t"}}
			return msgs
		}, "FlightDescriptor"},
		{"ingest: string offset out of range", func(t *testing.T) []*flight.FlightData {
			msgs := putMessages(ingestCmd(t), encodeBatches(t, []arrow.RecordBatch{valid}))
			binary.LittleEndian.PutUint32(msgs[1].DataBody[4:], 1<<30)
			return msgs
		}, "invalid Arrow IPC batch 1"},
		{"ingest: decreasing string offsets", func(t *testing.T) []*flight.FlightData {
			msgs := putMessages(ingestCmd(t), encodeBatches(t, []arrow.RecordBatch{valid}))
			binary.LittleEndian.PutUint32(msgs[1].DataBody[4:], 5)
			binary.LittleEndian.PutUint32(msgs[1].DataBody[8:], 1)
			return msgs
		}, "monotonic"},
		{"params: string offset out of range", func(t *testing.T) []*flight.FlightData {
			msgs := putMessages(paramCmd(t), encodeBatches(t, []arrow.RecordBatch{valid}))
			binary.LittleEndian.PutUint32(msgs[1].DataBody[4:], 1<<30)
			return msgs
		}, "read parameters"},
		{"ingest: garbage schema", func(t *testing.T) []*flight.FlightData {
			msgs := putMessages(ingestCmd(t), encodeBatches(t, []arrow.RecordBatch{valid}))
			for i := range msgs[0].DataHeader {
				msgs[0].DataHeader[i] ^= 0xA5
			}
			return msgs
		}, ""},
		{"ingest: schema nested too deep", func(t *testing.T) []*flight.FlightData {
			return putMessages(ingestCmd(t), []*flight.FlightData{schemaMessage(t, nestedLists(maxSchemaDepth+1))})
		}, "nests fields"},
		{"params: too many rows for the data", func(t *testing.T) []*flight.FlightData {
			return putMessages(paramCmd(t), encodeBatches(t, []arrow.RecordBatch{zeroCols}))
		}, "declares 1073741824 rows"},
		{"ingest: compressed buffer declares a huge size", func(t *testing.T) []*flight.FlightData {
			msgs := putMessages(ingestCmd(t), encodeBatches(t, []arrow.RecordBatch{valid}, ipc.WithZstd()))
			for _, b := range batchBuffers(t, msgs[1].DataHeader) {
				if b[1] >= 8 {
					binary.LittleEndian.PutUint64(msgs[1].DataBody[b[0]:], 1<<40)
					return msgs
				}
			}
			t.Fatal("no compressed buffer")
			return nil
		}, "decompresses to more than"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, ing := newTestServer(t)
			s.mu.prepared[handle] = &prepared{user: "alice"}
			err := doPut(userCtx(t.Context(), "alice"), s, tc.msgs(t))
			require.Error(t, err)
			require.Equal(t, codes.InvalidArgument, status.Code(err), "%v", err)
			require.Contains(t, status.Convert(err).Message(), tc.contains)
			require.Zero(t, ing.rows)
			require.Nil(t, s.mu.prepared[handle].params)
		})
	}
}

func TestDoPutAcceptsValidInput(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rec, union := sampleBatch(mem), unionBatch(mem)
	defer rec.Release()
	defer union.Release()

	for _, compress := range []bool{false, true} {
		var opts []ipc.Option
		if compress {
			opts = append(opts, ipc.WithZstd())
		}
		s, ing := newTestServer(t)
		s.alloc = mem
		ctx := userCtx(t.Context(), "alice")
		require.NoError(t, doPut(ctx, s, putMessages(ingestCmd(t), encodeBatches(t, []arrow.RecordBatch{rec, rec}, opts...))))
		require.EqualValues(t, 6, ing.rows)

		s.mu.prepared["h"] = &prepared{user: "alice"}
		cmd := packCmd(t, &pb.CommandPreparedStatementQuery{PreparedStatementHandle: []byte("h")})
		require.NoError(t, doPut(ctx, s, putMessages(cmd, encodeBatches(t, []arrow.RecordBatch{union}, opts...))))
		require.Equal(t, [][]any{{int64(7)}, {"seven"}}, s.mu.prepared["h"].params)

		// A stream of a descriptor alone binds nothing.
		require.NoError(t, doPut(ctx, s, putMessages(cmd, nil)))
		require.Nil(t, s.mu.prepared["h"].params)
	}
}

func TestCheckIPCMessageLimits(t *testing.T) {
	require.NoError(t, checkIPCMessage(schemaMessage(t, nestedLists(maxSchemaDepth-1)).DataHeader, nil, 1<<20))
	require.ErrorContains(t, checkIPCMessage(schemaMessage(t, nestedLists(maxSchemaDepth+1)).DataHeader, nil, 1<<20), "nests fields")

	fields := make([]arrow.Field, maxSchemaFields+1)
	for i := range fields {
		fields[i] = arrow.Field{Name: "c", Type: arrow.PrimitiveTypes.Int8}
	}
	require.ErrorContains(t, checkIPCMessage(schemaMessage(t, arrow.NewSchema(fields, nil)).DataHeader, nil, 1<<20), "more than")

	for _, hdr := range [][]byte{{1}, {0xff, 0xff, 0xff, 0x7f}, {4, 0, 0, 0, 0xfc, 0xff, 0xff, 0xff}} {
		require.Error(t, checkIPCMessage(hdr, nil, 1<<20), "%x", hdr)
	}
}

// TestDoPutBindsNullTypedParameters binds the batch pyarrow sends for a
// None parameter: a column of the null type, which the IPC format carries
// with no buffers, alone and nested in a struct and a list.
func TestDoPutBindsNullTypedParameters(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "i", Type: arrow.PrimitiveTypes.Int64},
		{Name: "n", Type: arrow.Null, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	b.Field(0).(*array.Int64Builder).Append(7)
	b.Field(1).(*array.NullBuilder).AppendNull()
	rec := b.NewRecordBatch()
	defer rec.Release()

	s, _ := newTestServer(t)
	s.alloc = mem
	ctx := userCtx(t.Context(), "alice")
	s.mu.prepared["h"] = &prepared{user: "alice"}
	cmd := packCmd(t, &pb.CommandPreparedStatementQuery{PreparedStatementHandle: []byte("h")})
	require.NoError(t, doPut(ctx, s, putMessages(cmd, encodeBatches(t, []arrow.RecordBatch{rec}))))
	require.Equal(t, [][]any{{int64(7), nil}}, s.mu.prepared["h"].params)

	// Nested null-typed arrays pass validation after an IPC round trip
	// too, and a corrupt sibling column is still caught.
	nested := arrow.NewSchema([]arrow.Field{
		{Name: "s", Type: arrow.StructOf(arrow.Field{Name: "a", Type: arrow.Null, Nullable: true}), Nullable: true},
		{Name: "l", Type: arrow.ListOf(arrow.Null), Nullable: true},
	}, nil)
	nb := array.NewRecordBuilder(mem, nested)
	defer nb.Release()
	sb := nb.Field(0).(*array.StructBuilder)
	sb.Append(true)
	sb.FieldBuilder(0).(*array.NullBuilder).AppendNull()
	lb := nb.Field(1).(*array.ListBuilder)
	lb.Append(true)
	lb.ValueBuilder().(*array.NullBuilder).AppendNulls(2)
	nrec := nb.NewRecordBatch()
	defer nrec.Release()
	r, err := flight.NewRecordReader(&msgQueue{msgs: encodeBatches(t, []arrow.RecordBatch{nrec})}, ipc.WithAllocator(mem))
	require.NoError(t, err)
	defer r.Release()
	require.True(t, r.Next())
	require.NoError(t, validateBatch(nested, r.RecordBatch()))
}

// msgQueue hands out FlightData messages in order, then io.EOF.
type msgQueue struct{ msgs []*flight.FlightData }

func (q *msgQueue) Recv() (*flight.FlightData, error) {
	if len(q.msgs) == 0 {
		return nil, io.EOF
	}
	m := q.msgs[0]
	q.msgs = q.msgs[1:]
	return m, nil
}
