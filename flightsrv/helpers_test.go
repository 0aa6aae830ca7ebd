//go:build duckdb_arrow

package flightsrv

import (
	"context"
	"io"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/flight"
	pb "github.com/apache/arrow-go/v18/arrow/flight/gen/flight"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/kalamdb/kalamdb-go/catalog"
	"github.com/kalamdb/kalamdb-go/engine"
)

// The stubs below let tests drive the Flight SQL dispatcher and the
// handlers without an engine or a network: statements fail, the catalog
// is fixed, and ingest reads every value of every batch it is given.

type stubExec struct{}

func (stubExec) Execute(context.Context, *engine.Session, string, ...any) (*engine.Result, error) {
	return nil, catalog.Errorf(catalog.KindInvalid, "stub: no statements")
}

func (stubExec) ExecuteTx(context.Context, *engine.Session, *engine.Tx, string, ...any) (*engine.Result, error) {
	return nil, catalog.Errorf(catalog.KindInvalid, "stub: no statements")
}

func (stubExec) ExecuteEach(context.Context, *engine.Session, *engine.Tx, string, [][]any) (*engine.Result, error) {
	return nil, catalog.Errorf(catalog.KindInvalid, "stub: no statements")
}

func (stubExec) ExecuteMany(context.Context, *engine.Session, *engine.Tx, string, [][]any) (*engine.Result, error) {
	return nil, catalog.Errorf(catalog.KindInvalid, "stub: no statements")
}

func (stubExec) Begin(*engine.Session) (*engine.Tx, error) {
	return nil, catalog.Errorf(catalog.KindUnavailable, "stub: no transactions")
}

func (stubExec) Audit(engine.AuditEntry) {}

type stubCatalog struct{}

func (stubCatalog) Namespaces(*engine.Session) []catalog.NamespaceID {
	return []catalog.NamespaceID{"app", "chat"}
}

func (stubCatalog) Tables(*engine.Session) []*catalog.TableDef {
	cols := []catalog.Column{
		{ID: 1, Name: "id", Type: catalog.DataType{Kind: catalog.TypeBigInt}, NotNull: true, PrimaryKey: true},
		{ID: 2, Name: "body", Type: catalog.DataType{Kind: catalog.TypeText}},
	}
	return []*catalog.TableDef{
		{ID: catalog.TableID{Namespace: "app", Name: "messages"}, Type: catalog.TableUser, Columns: cols},
		{ID: catalog.TableID{Namespace: "chat", Name: "rooms"}, Type: catalog.TableShared, Columns: cols},
	}
}

type stubDescriber struct{}

func (stubDescriber) Describe(context.Context, *engine.Session, string) (*engine.StatementInfo, error) {
	return &engine.StatementInfo{Schema: arrow.NewSchema(nil, nil), IsUpdate: true, Params: arrow.NewSchema(nil, nil)}, nil
}

// readingIngester reads every value of every batch, as the engine would.
type readingIngester struct{ rows int64 }

func (g *readingIngester) Ingest(_ context.Context, _ *engine.Session, _ engine.IngestRequest, _ *arrow.Schema, next func() (arrow.RecordBatch, error)) (int64, error) {
	for {
		rec, err := next()
		if err != nil || rec == nil {
			return g.rows, err
		}
		readAll(rec)
		g.rows += rec.NumRows()
	}
}

// readAll reads every value of a batch the way parameter binding does.
func readAll(rec arrow.RecordBatch) {
	for _, col := range rec.Columns() {
		for i := 0; i < col.Len(); i++ {
			_, _ = paramValue(col, i)
		}
	}
}

// newTestServer returns a server (not listening) over the stubs.
func newTestServer(t testing.TB) (*Server, *readingIngester) {
	t.Helper()
	ing := &readingIngester{}
	return New(stubExec{}, stubCatalog{}, stubDescriber{}, ing, nil, Options{}), ing
}

// userCtx is a call context authenticated as user.
func userCtx(ctx context.Context, user catalog.UserID) context.Context {
	return context.WithValue(ctx, sessionKey{}, engine.NewSession(user, catalog.RoleUser))
}

// fakeStream is the server side of a gRPC stream, in memory.
type fakeStream struct {
	grpc.ServerStream
	ctx  context.Context
	in   []*flight.FlightData
	sent int
}

func (s *fakeStream) Context() context.Context { return s.ctx }

func (s *fakeStream) Recv() (*flight.FlightData, error) {
	if len(s.in) == 0 {
		return nil, io.EOF
	}
	fd := s.in[0]
	s.in = s.in[1:]
	return fd, nil
}

func (s *fakeStream) Send(any) error { s.sent++; return nil }

// putStream, getStream and actionStream adapt fakeStream to the typed
// stream interfaces.
type putStream struct{ *fakeStream }

func (s putStream) Send(*flight.PutResult) error { return s.fakeStream.Send(nil) }

type getStream struct{ *fakeStream }

func (s getStream) Send(*flight.FlightData) error { return s.fakeStream.Send(nil) }

type actionStream struct{ *fakeStream }

func (s actionStream) Send(*flight.Result) error { return s.fakeStream.Send(nil) }

// packCmd is a Flight SQL command as a descriptor or ticket carries it.
func packCmd(t testing.TB, m proto.Message) []byte {
	t.Helper()
	a, err := anypb.New(m)
	if err != nil {
		t.Fatal(err)
	}
	b, err := proto.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func ingestCmd(t testing.TB) []byte {
	t.Helper()
	return packCmd(t, &pb.CommandStatementIngest{
		Table: "t",
		TableDefinitionOptions: &pb.CommandStatementIngest_TableDefinitionOptions{
			IfNotExist: pb.CommandStatementIngest_TableDefinitionOptions_TABLE_NOT_EXIST_OPTION_CREATE,
			IfExists:   pb.CommandStatementIngest_TableDefinitionOptions_TABLE_EXISTS_OPTION_APPEND,
		},
	})
}

// captureWriter collects the FlightData messages an IPC writer sends.
type captureWriter struct{ msgs []*flight.FlightData }

func (c *captureWriter) Send(fd *flight.FlightData) error {
	c.msgs = append(c.msgs, &flight.FlightData{
		DataHeader: append([]byte(nil), fd.DataHeader...),
		DataBody:   append([]byte(nil), fd.DataBody...),
	})
	return nil
}

// encodeBatches returns the FlightData messages of an IPC stream: the
// schema, then one message per batch.
func encodeBatches(t testing.TB, recs []arrow.RecordBatch, opts ...ipc.Option) []*flight.FlightData {
	t.Helper()
	c := &captureWriter{}
	w := flight.NewRecordWriter(c, append([]ipc.Option{ipc.WithSchema(recs[0].Schema())}, opts...)...)
	for _, rec := range recs {
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return c.msgs
}

// sampleBatch is a batch of the types clients ingest and bind, with
// nulls, empty strings and multi-byte text.
func sampleBatch(mem memory.Allocator) arrow.RecordBatch {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "data", Type: arrow.BinaryTypes.Binary, Nullable: true},
		{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, Nullable: true},
		{Name: "ok", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
		{Name: "price", Type: &arrow.Decimal128Type{Precision: 10, Scale: 2}, Nullable: true},
		{Name: "day", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
		{Name: "big", Type: arrow.BinaryTypes.LargeString, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	b.Field(0).(*array.Int64Builder).AppendValues([]int64{1, 2, 3}, nil)
	b.Field(1).(*array.StringBuilder).AppendValues([]string{"a", "", "héllo"}, []bool{true, true, false})
	b.Field(2).(*array.BinaryBuilder).AppendValues([][]byte{{1, 2}, nil, {3}}, []bool{true, false, true})
	b.Field(3).(*array.TimestampBuilder).AppendValues([]arrow.Timestamp{0, 1_700_000_000_000_000, -1}, nil)
	b.Field(4).(*array.BooleanBuilder).AppendValues([]bool{true, false, true}, []bool{true, true, false})
	b.Field(5).(*array.Decimal128Builder).AppendValues([]decimal128.Num{decimal128.FromI64(12345), decimal128.FromI64(-1), decimal128.FromI64(0)}, nil)
	b.Field(6).(*array.Date32Builder).AppendValues([]arrow.Date32{0, 19000, -1}, nil)
	b.Field(7).(*array.LargeStringBuilder).AppendValues([]string{"x", "yy", "zzz"}, nil)
	return b.NewRecordBatch()
}

// unionBatch is a batch with one dense-union column, as ADBC binds untyped
// parameters.
func unionBatch(mem memory.Allocator) arrow.RecordBatch {
	ut := arrow.DenseUnionOf([]arrow.Field{
		{Name: "i", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
	}, []arrow.UnionTypeCode{0, 1})
	schema := arrow.NewSchema([]arrow.Field{{Name: "p", Type: ut, Nullable: true}}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	ub := b.Field(0).(*array.DenseUnionBuilder)
	ub.Append(0)
	ub.Child(0).(*array.Int64Builder).Append(7)
	ub.Append(1)
	ub.Child(1).(*array.StringBuilder).Append("seven")
	return b.NewRecordBatch()
}

// putMessages is the messages of a DoPut: the descriptor and schema first,
// then the batches.
func putMessages(cmd []byte, ipcMsgs []*flight.FlightData) []*flight.FlightData {
	out := make([]*flight.FlightData, len(ipcMsgs))
	for i, m := range ipcMsgs {
		out[i] = &flight.FlightData{DataHeader: m.DataHeader, DataBody: m.DataBody}
	}
	if len(out) == 0 {
		out = append(out, &flight.FlightData{})
	}
	out[0].FlightDescriptor = &flight.FlightDescriptor{Type: flight.DescriptorCMD, Cmd: cmd}
	return out
}

// doPut runs a DoPut through the checked Flight SQL dispatcher.
func doPut(ctx context.Context, s *Server, msgs []*flight.FlightData) error {
	return s.flightService().DoPut(putStream{&fakeStream{ctx: ctx, in: msgs}})
}
