//go:build duckdb_arrow

package flightsrv

import (
	"bytes"
	"context"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	pb "github.com/apache/arrow-go/v18/arrow/flight/gen/flight"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/kalamdb/kalamdb-go/catalog"
	"github.com/kalamdb/kalamdb-go/engine"
)

// FuzzTicket hands arbitrary bytes to DoGet as a ticket and to
// GetFlightInfo and GetSchema as a descriptor's command: none may panic or
// fail with Internal.
func FuzzTicket(f *testing.F) {
	pattern := "%a%a%a%a%a%a%a%a%a%a%a%b"
	seeds := [][]byte{
		nil, {0}, []byte("not a protobuf"),
		packCmd(f, &pb.TicketStatementQuery{StatementHandle: []byte("0123456789abcdef")}),
		packCmd(f, &pb.CommandStatementQuery{Query: "SELECT 1"}),
		packCmd(f, &pb.CommandPreparedStatementQuery{PreparedStatementHandle: []byte("h")}),
		packCmd(f, &pb.CommandGetCatalogs{}),
		packCmd(f, &pb.CommandGetDbSchemas{DbSchemaFilterPattern: &pattern}),
		packCmd(f, &pb.CommandGetTables{TableNameFilterPattern: &pattern, IncludeSchema: true, TableTypes: []string{"USER", "x"}}),
		packCmd(f, &pb.CommandGetTableTypes{}),
		packCmd(f, &pb.CommandGetPrimaryKeys{Table: "messages"}),
		packCmd(f, &pb.CommandGetXdbcTypeInfo{}),
		packCmd(f, &pb.CommandGetSqlInfo{Info: []uint32{0, 1, 500, 1 << 31}}),
		packCmd(f, &pb.CommandGetCrossReference{PkTable: "a", FkTable: "b"}),
	}
	for _, s := range seeds {
		f.Add(s)
	}
	s, _ := newTestServer(f)
	s.mu.prepared["h"] = &prepared{user: "alice", info: &engine.StatementInfo{Schema: arrow.NewSchema(nil, nil)}}
	svc := s.flightService()
	ctx := userCtx(context.Background(), "alice")
	f.Fuzz(func(t *testing.T, b []byte) {
		check := func(op string, err error) {
			if c := status.Code(err); c == codes.Internal || c == codes.Unknown {
				t.Fatalf("%s: %v", op, err)
			}
		}
		check("DoGet", svc.DoGet(&flight.Ticket{Ticket: b}, getStream{&fakeStream{ctx: ctx}}))
		desc := &flight.FlightDescriptor{Type: flight.DescriptorCMD, Cmd: b}
		_, err := svc.GetFlightInfo(ctx, desc)
		check("GetFlightInfo", err)
		_, err = svc.GetSchema(ctx, desc)
		check("GetSchema", err)
	})
}

// FuzzPreparedHandle uses arbitrary bytes as a prepared-statement handle in
// every call that takes one: only the owner's real handle resolves, every
// other handle is NotFound, and nothing panics.
func FuzzPreparedHandle(f *testing.F) {
	const known = "0123456789abcdef0123456789abcdef"
	for _, h := range []string{"", known, known[:31], known + "0", "\x00", "h\xff"} {
		f.Add([]byte(h), false)
		f.Add([]byte(h), true)
	}
	s, _ := newTestServer(f)
	s.mu.prepared[known] = &prepared{user: "alice", sql: "SELECT 1", info: &engine.StatementInfo{Schema: arrow.NewSchema(nil, nil)}}
	svc := s.flightService()
	f.Fuzz(func(t *testing.T, h []byte, asBob bool) {
		user, want := "alice", codes.NotFound
		if asBob {
			user = "bob"
		}
		ctx := userCtx(context.Background(), catalog.UserID(user))
		owned := !asBob && bytes.Equal(h, []byte(known))
		check := func(op string, err error) {
			c := status.Code(err)
			if owned && c == codes.NotFound || !owned && c != want {
				t.Fatalf("%s with handle %q as %s: %v", op, h, user, err)
			}
		}
		q := packCmd(t, &pb.CommandPreparedStatementQuery{PreparedStatementHandle: h})
		desc := &flight.FlightDescriptor{Type: flight.DescriptorCMD, Cmd: q}
		_, err := svc.GetFlightInfo(ctx, desc)
		check("GetFlightInfo", err)
		_, err = svc.GetSchema(ctx, desc)
		check("GetSchema", err)
		check("DoPut query", doPut(ctx, s, putMessages(q, nil)))
		u := packCmd(t, &pb.CommandPreparedStatementUpdate{PreparedStatementHandle: h})
		check("DoPut update", doPut(ctx, s, putMessages(u, nil)))
		if !owned {
			// Closing the real handle would end the run's other checks.
			body := packCmd(t, &pb.ActionClosePreparedStatementRequest{PreparedStatementHandle: h})
			check("ClosePreparedStatement", svc.DoAction(&flight.Action{Type: flightsql.ClosePreparedStatementActionType, Body: body}, actionStream{&fakeStream{ctx: ctx}}))
		}
	})
}
