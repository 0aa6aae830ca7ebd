//go:build duckdb_arrow

package flightsrv

import (
	"context"
	"maps"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"google.golang.org/grpc/metadata"

	"github.com/kalamdb/kalamdb-go/catalog"
	"github.com/kalamdb/kalamdb-go/engine"
)

// Ingester loads bulk data (implemented by *engine.Engine).
type Ingester interface {
	Ingest(ctx context.Context, s *engine.Session, req engine.IngestRequest, schema *arrow.Schema, next func() (arrow.RecordBatch, error)) (int64, error)
}

// DoPutCommandStatementIngest is Flight SQL bulk ingest (ADBC adbc_ingest):
// create, append, replace or create-append into a table.
func (s *Server) DoPutCommandStatementIngest(ctx context.Context, cmd flightsql.StatementIngest, rdr flight.MessageReader) (int64, error) {
	sess, err := session(ctx)
	if err != nil {
		return 0, err
	}
	if c := cmd.GetCatalog(); c != "" && c != CatalogName {
		return 0, statusError(catalog.Errorf(catalog.KindNotFound, "catalog %s does not exist", c))
	}
	if len(cmd.GetTransactionId()) > 0 {
		tx, err := s.txFor(sess, cmd.GetTransactionId())
		if err != nil {
			return 0, err
		}
		err = catalog.Errorf(catalog.KindFailedPrecondition, "bulk ingest cannot run inside a transaction (it may create or replace tables); ingest outside the transaction")
		tx.Abort(err) // as any statement failing in it does
		return 0, statusError(err)
	}
	if cmd.GetTemporary() {
		return 0, statusError(catalog.Errorf(catalog.KindInvalid, "temporary tables are not supported"))
	}
	req := engine.IngestRequest{Namespace: catalog.NamespaceID(cmd.GetSchema()), Table: cmd.GetTable(), Options: ingestOptions(ctx, cmd.GetOptions())}
	if o := cmd.GetTableDefinitionOptions(); o != nil {
		req.Mode.CreateIfMissing = o.IfNotExist == flightsql.TableDefinitionOptionsTableNotExistOptionCreate
		switch o.IfExists {
		case flightsql.TableDefinitionOptionsTableExistsOptionAppend:
			req.Mode.IfExists = "append"
		case flightsql.TableDefinitionOptionsTableExistsOptionReplace:
			req.Mode.IfExists = "replace"
		default:
			req.Mode.IfExists = "fail"
		}
	}
	// Every batch is validated before the engine reads it.
	br, err := newBatchReader(rdr)
	if err != nil {
		return 0, statusError(err)
	}
	n, err := s.ingest.Ingest(ctx, sess, req, br.Schema(), br.Next)
	return n, statusError(err)
}

// ingestHeaders maps call headers to the ingest options they set, for
// clients whose drivers refuse unknown ingest options (the stock ADBC
// drivers): adbc.flight.sql.rpc.call_header.kalamdb-table-type = USER.
var ingestHeaders = map[string]string{
	"kalamdb-table-type":  "kalamdb.table_type",
	"kalamdb-primary-key": "kalamdb.primary_key",
}

// ingestOptions is the command's options, completed by the call headers
// (an option in the command wins).
func ingestOptions(ctx context.Context, opts map[string]string) map[string]string {
	md, _ := metadata.FromIncomingContext(ctx)
	out := maps.Clone(opts)
	for hdr, opt := range ingestHeaders {
		v := md.Get(hdr)
		if len(v) == 0 || out[opt] != "" {
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		out[opt] = v[0]
	}
	return out
}
