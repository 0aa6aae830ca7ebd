//go:build duckdb_arrow

package engine

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/kalamdb/kalamdb-go/catalog"
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
	// budget is the user's result memory budget rows is charged to (nil:
	// no per-user cap).
	budget *duck.Budget
	conn   *duck.Conn
	scoped *scopedQuery
	// tx is the transaction the statement ran in: an error streaming the
	// rows aborts it.
	tx *Tx

	// RowsAffected is the DML row count (0 for queries and DDL).
	RowsAffected int64
	// IsUpdate is true for DDL and DML without RETURNING.
	IsUpdate bool
	// OwnPasswordChanged says the statement changed the password of the
	// user who ran it: the credentials the session was opened with no
	// longer hold (the server hands the session a fresh token).
	OwnPasswordChanged bool

	onClose  func()
	release  func()
	deadline time.Time
	timeout  time.Duration
	stop     func() bool
	// interrupted is set when Watch interrupted the query.
	interrupted atomic.Bool
	err         error
	once        sync.Once
}

// Schema is the result's Arrow schema.
func (r *Result) Schema() *arrow.Schema { return r.schema }

// admitted attaches the statement's concurrency slot (released on Close)
// and its deadline (enforced while streaming).
func (r *Result) admitted(release func(), timeout time.Duration) {
	if r.rows == nil {
		// Results held in memory use no DuckDB resources while waiting to
		// be fetched: the slot is free again at once.
		release()
		return
	}
	r.release = release
	if timeout > 0 {
		r.timeout = timeout
		r.deadline = time.Now().Add(timeout)
	}
}

// Watch interrupts the running query when ctx ends (client gone) or the
// statement's deadline passes.
func (r *Result) Watch(ctx context.Context) {
	if r.conn == nil {
		return
	}
	if r.stop != nil && !r.stop() {
		r.interrupted.Store(true)
	}
	c := r.conn
	interrupt := func() {
		r.interrupted.Store(true)
		c.Interrupt()
	}
	if !r.deadline.IsZero() {
		dctx, cancel := context.WithDeadline(ctx, r.deadline)
		stop := context.AfterFunc(dctx, interrupt)
		// Unregister before cancelling: cancelling first would fire the
		// interrupt on a finished query's connection.
		r.stop = func() bool { s := stop(); cancel(); return s }
		return
	}
	r.stop = context.AfterFunc(ctx, interrupt)
}

// Interrupted reports whether the query was interrupted (its connection is
// then not reused).
func (r *Result) Interrupted() bool { return r.interrupted.Load() }

// Next returns the next batch (the caller releases it) or nil at the end; see
// Err.
func (r *Result) Next() arrow.RecordBatch {
	if r.rows != nil {
		rec := r.rows.NextBatch(BatchRows, BatchBytes)
		if rec == nil {
			if err := r.rows.Err(); err != nil && r.err == nil {
				r.err = duckError(err, r.scoped)
				if errors.Is(err, duck.ErrUserResultMemory) {
					r.err = catalog.WrapKind(catalog.KindResourceExhausted, err,
						"results held for your queries exceed the server's --result-memory-per-user cap of %d bytes: read or close your other open results first, fetch fewer or smaller values, or retry", r.budget.Limit())
				}
				if !r.deadline.IsZero() && time.Now().After(r.deadline) {
					r.err = catalog.WrapKind(catalog.KindDeadline, err, "query exceeded the %s timeout", r.timeout)
				}
				if r.tx != nil {
					r.tx.abort(r.err)
				}
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
		// stop reports false when the interrupt already fired (or is firing
		// now): the connection is then not trusted for reuse.
		if r.stop != nil && !r.stop() {
			r.interrupted.Store(true)
		}
		if r.rows != nil {
			r.rows.Close()
		}
		releaseAll(r.recs)
		r.recs = nil
		if r.onClose != nil {
			r.onClose()
		}
		if r.release != nil {
			r.release()
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

// resultBudgets holds one duck.Budget per user (Options.ResultMemoryPerUser).
// A user's budget is kept for the engine's life: batches still charged to it
// would otherwise be forgotten by a fresh one (one small entry per user who
// ran a query).
type resultBudgets struct {
	limit int64    // 0 = no per-user cap
	m     sync.Map // catalog.UserID → *duck.Budget
}

// of returns user's budget, or nil when there is no per-user cap.
func (b *resultBudgets) of(user catalog.UserID) *duck.Budget {
	if b.limit <= 0 {
		return nil
	}
	if v, ok := b.m.Load(user); ok {
		return v.(*duck.Budget)
	}
	v, _ := b.m.LoadOrStore(user, duck.NewBudget(b.limit))
	return v.(*duck.Budget)
}

// Cancel interrupts the query (CancelFlightInfo); the stream then ends with
// a Cancelled error. Safe from any goroutine.
func (r *Result) Cancel() {
	if r.conn != nil {
		r.interrupted.Store(true)
		r.conn.Interrupt()
	}
}
