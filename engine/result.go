//go:build duckdb_arrow

package engine

import (
	"context"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/kalamdb/kalamdb-go/engine/duck"
)

// Batch sizing of streamed results: DuckDB's 2048-row chunks are coalesced to
// about 64k rows, and a batch stops growing at 8 MiB so that a Flight message
// stays well under the 16 MiB clients accept.
const (
	BatchRows  = 65536
	BatchBytes = 8 << 20
)

// Result is the outcome of one statement: a stream of record batches (a query,
// or a DDL/DML statement's small result) plus, for DML, the affected row
// count. Next and Close are called by one goroutine; Close is idempotent.
type Result struct {
	schema *arrow.Schema
	recs   []arrow.RecordBatch
	rows   *duck.Rows
	conn   *duck.Conn
	scoped *scopedQuery

	// RowsAffected is the DML row count (0 for queries and DDL).
	RowsAffected int64
	// IsUpdate is true for DDL and DML without RETURNING.
	IsUpdate bool

	onClose func()
	stop    func() bool
	err     error
	once    sync.Once
}

// Schema is the result's Arrow schema.
func (r *Result) Schema() *arrow.Schema { return r.schema }

// Watch interrupts the running query when ctx ends (client gone, deadline).
func (r *Result) Watch(ctx context.Context) {
	if r.conn == nil {
		return
	}
	if r.stop != nil {
		r.stop()
	}
	c := r.conn
	r.stop = context.AfterFunc(ctx, c.Interrupt)
}

// Next returns the next batch (the caller releases it) or nil at the end; see
// Err.
func (r *Result) Next() arrow.RecordBatch {
	if r.rows != nil {
		rec := r.rows.NextBatch(BatchRows, BatchBytes)
		if rec == nil {
			if err := r.rows.Err(); err != nil && r.err == nil {
				r.err = duckError(err, r.scoped)
			}
		}
		return rec
	}
	if len(r.recs) == 0 {
		return nil
	}
	rec := r.recs[0]
	r.recs = r.recs[1:]
	return rec
}

// Err is the error that ended the stream, if any.
func (r *Result) Err() error { return r.err }

// Close releases the result's resources.
func (r *Result) Close() {
	r.once.Do(func() {
		if r.stop != nil {
			r.stop()
		}
		if r.rows != nil {
			r.rows.Close()
		}
		releaseAll(r.recs)
		r.recs = nil
		if r.onClose != nil {
			r.onClose()
		}
	})
}

// recordsResult wraps in-memory batches (it takes ownership).
func recordsResult(schema *arrow.Schema, recs []arrow.RecordBatch) *Result {
	return &Result{schema: schema, recs: recs}
}

var messageSchema = arrow.NewSchema([]arrow.Field{{Name: "message", Type: arrow.BinaryTypes.String}}, nil)

// messageResult is the result of a DDL or admin statement: one row with a
// human-readable message.
func messageResult(msg string) *Result {
	b := array.NewStringBuilder(memory.DefaultAllocator)
	defer b.Release()
	b.Append(msg)
	col := b.NewArray()
	defer col.Release()
	rec := array.NewRecordBatch(messageSchema, []arrow.Array{col}, 1)
	return &Result{schema: messageSchema, recs: []arrow.RecordBatch{rec}, IsUpdate: true}
}

var affectedSchema = arrow.NewSchema([]arrow.Field{{Name: "rows_affected", Type: arrow.PrimitiveTypes.Int64}}, nil)

// affectedResult is the result of DML without RETURNING.
func affectedResult(n int64) *Result {
	b := array.NewInt64Builder(memory.DefaultAllocator)
	defer b.Release()
	b.Append(n)
	col := b.NewArray()
	defer col.Release()
	rec := array.NewRecordBatch(affectedSchema, []arrow.Array{col}, 1)
	return &Result{schema: affectedSchema, recs: []arrow.RecordBatch{rec}, RowsAffected: n, IsUpdate: true}
}
