//go:build duckdb_arrow

package flightsrv

import (
	"context"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	pb "github.com/apache/arrow-go/v18/arrow/flight/gen/flight"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// FuzzDoPutIngest sends a bulk-ingest DoPut of one schema message and one
// batch message, both arbitrary, through the checked Flight SQL dispatcher
// to an ingester that reads every value: it must not panic, and a bad
// stream is InvalidArgument.
func FuzzDoPutIngest(f *testing.F) { fuzzDoPut(f, false) }

// FuzzDoPutParams is FuzzDoPutIngest for prepared-statement parameters.
func FuzzDoPutParams(f *testing.F) { fuzzDoPut(f, true) }

func fuzzDoPut(f *testing.F, params bool) {
	mem := memory.NewGoAllocator()
	zeroCols := array.NewRecordBatch(arrow.NewSchema(nil, nil), nil, 3)
	for _, rec := range []arrow.RecordBatch{sampleBatch(mem), unionBatch(mem), stringBatch(mem, "ab", "", "c"), zeroCols} {
		for _, opts := range [][]ipc.Option{nil, {ipc.WithZstd()}, {ipc.WithLZ4()}} {
			msgs := encodeBatches(f, []arrow.RecordBatch{rec}, opts...)
			f.Add(msgs[0].DataHeader, msgs[1].DataHeader, msgs[1].DataBody)
		}
		rec.Release()
	}
	s, _ := newTestServer(f)
	s.mu.prepared["h"] = &prepared{user: "alice"}
	cmd := ingestCmd(f)
	if params {
		cmd = packCmd(f, &pb.CommandPreparedStatementQuery{PreparedStatementHandle: []byte("h")})
	}
	ctx := userCtx(context.Background(), "alice")
	f.Fuzz(func(t *testing.T, schemaHdr, batchHdr, body []byte) {
		msgs := []*flight.FlightData{
			{FlightDescriptor: &flight.FlightDescriptor{Type: flight.DescriptorCMD, Cmd: cmd}, DataHeader: schemaHdr},
			{DataHeader: batchHdr, DataBody: body},
		}
		if err := doPut(ctx, s, msgs); err != nil && status.Code(err) != codes.InvalidArgument {
			t.Fatalf("want InvalidArgument, got %v", err)
		}
	})
}
