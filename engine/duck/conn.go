//go:build duckdb_arrow

package duck

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	ddb "github.com/duckdb/duckdb-go-bindings"
)

// Conn is one DuckDB connection. Temporary tables are private to it.
type Conn struct {
	conn      ddb.Connection
	arrowOpts ddb.ArrowOptions
	alloc     *poolAllocator
	// resultLimit is Options.ResultMemoryLimit.
	resultLimit int64
	mu          struct {
		sync.Mutex
		// abandoned counts calls whose caller gave up (its ctx ended)
		// while DuckDB still works on them; closing defers Close until
		// they end.
		abandoned int
		closing   bool
		closed    bool
	}
}

// Error is an error reported by DuckDB; Type is DuckDB's error class
// (parser, binder, conversion, …) when known.
type Error struct {
	Msg string
}

// Error implements error.
func (e *Error) Error() string { return e.Msg }

// Close closes the connection. A connection still running a call its
// caller abandoned (see QueryContext) is closed when that call ends.
func (c *Conn) Close() {
	c.mu.Lock()
	c.mu.closing = true
	closeNow := c.mu.abandoned == 0 && !c.mu.closed
	c.mu.closed = c.mu.closed || closeNow
	c.mu.Unlock()
	if closeNow {
		c.disconnect()
	}
}

func (c *Conn) disconnect() {
	ddb.DestroyArrowOptions(&c.arrowOpts)
	ddb.Disconnect(&c.conn)
}

// abandonedDone ends an abandoned call, closing c if Close came meanwhile.
func (c *Conn) abandonedDone() {
	c.mu.Lock()
	c.mu.abandoned--
	closeNow := c.mu.abandoned == 0 && c.mu.closing && !c.mu.closed
	c.mu.closed = c.mu.closed || closeNow
	c.mu.Unlock()
	if closeNow {
		c.disconnect()
	}
}

// Interrupt asks DuckDB to stop the statement running on c. Safe from any
// goroutine, and a no-op once c is closed (a watcher's interrupt may fire
// while the result's owner closes the connection).
func (c *Conn) Interrupt() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.mu.closed {
		ddb.Interrupt(c.conn)
	}
}

// Exec runs one statement and discards its result.
func (c *Conn) Exec(sql string, params ...any) error {
	r, err := c.Query(sql, params...)
	if err != nil {
		return err
	}
	r.Close()
	return nil
}

// Query prepares sql, binds params and starts streaming execution. The caller
// must Close the returned Rows before using c again.
func (c *Conn) Query(sql string, params ...any) (*Rows, error) {
	return c.QueryContext(context.Background(), sql, params...)
}

// QueryContext is Query that returns ctx's error as soon as ctx ends before
// the first result chunk is ready, whatever DuckDB is doing: parsing and
// planning do not heed DuckDB's interrupt (a 60,000-term OR plans for
// minutes), so they run on another goroutine that the caller stops waiting
// for. DuckDB is interrupted, and the connection finishes the call on its
// own; the caller must then Close it (the close happens when the call ends)
// and never use it again.
func (c *Conn) QueryContext(ctx context.Context, sql string, params ...any) (*Rows, error) {
	if ctx.Done() == nil {
		return c.query(ctx, sql, params...)
	}
	type result struct {
		rows *Rows
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		rows, err := c.query(ctx, sql, params...)
		ch <- result{rows, err}
	}()
	select {
	case r := <-ch:
		return r.rows, r.err
	case <-ctx.Done():
		c.mu.Lock()
		c.mu.abandoned++
		c.mu.Unlock()
		c.Interrupt()
		go func() {
			if r := <-ch; r.rows != nil {
				r.rows.Close()
			}
			c.abandonedDone()
		}()
		return nil, ctx.Err()
	}
}

func (c *Conn) query(ctx context.Context, sql string, params ...any) (*Rows, error) {
	p, err := c.Prepare(sql)
	if err != nil {
		return nil, err
	}
	rows, err := p.QueryContext(ctx, params...)
	if err != nil {
		p.Close()
		return nil, err
	}
	rows.stmt = p
	return rows, nil
}

// Prepared is a prepared statement on one connection.
type Prepared struct {
	c    *Conn
	stmt ddb.PreparedStatement
}

// Prepare prepares one statement.
func (c *Conn) Prepare(sql string) (*Prepared, error) {
	p := &Prepared{c: c}
	if ddb.Prepare(c.conn, sql, &p.stmt) == ddb.StateError {
		msg := ddb.PrepareError(p.stmt)
		ddb.DestroyPrepare(&p.stmt)
		return nil, &Error{Msg: msg}
	}
	return p, nil
}

// Close releases the statement.
func (p *Prepared) Close() { ddb.DestroyPrepare(&p.stmt) }

// NumParams is the number of parameters the statement takes.
func (p *Prepared) NumParams() int { return int(ddb.NParams(p.stmt)) }

// ParamSchema returns one field per parameter with the type DuckDB infers
// for it; a parameter whose type DuckDB cannot tell is arrow.Null (any
// type is accepted).
func (p *Prepared) ParamSchema() *arrow.Schema {
	n := p.NumParams()
	fields := make([]arrow.Field, n)
	for i := 0; i < n; i++ {
		typ := arrow.DataType(arrow.Null)
		// DuckDB crashes converting an unresolved type: check it first.
		if known(ddb.ParamType(p.stmt, ddb.IdxT(i+1))) {
			lt := ddb.ParamLogicalType(p.stmt, ddb.IdxT(i+1))
			if s, err := arrowSchema(p.c.arrowOpts, []ddb.LogicalType{lt}, []string{"p"}); err == nil {
				typ = s.Field(0).Type
			}
			ddb.DestroyLogicalType(&lt)
		}
		fields[i] = arrow.Field{Name: fmt.Sprintf("parameter_%d", i+1), Type: typ, Nullable: true}
	}
	return arrow.NewSchema(fields, nil)
}

// Schema returns the Arrow schema of the statement's result without running
// it.
func (p *Prepared) Schema() (*arrow.Schema, error) {
	n := int(ddb.PreparedStatementColumnCount(p.stmt))
	types := make([]ddb.LogicalType, n)
	names := make([]string, n)
	allKnown := true
	for i := 0; i < n; i++ {
		types[i] = ddb.PreparedStatementColumnLogicalType(p.stmt, ddb.IdxT(i))
		names[i] = ddb.PreparedStatementColumnName(p.stmt, ddb.IdxT(i))
		allKnown = allKnown && known(ddb.PreparedStatementColumnType(p.stmt, ddb.IdxT(i)))
	}
	defer func() {
		for i := range types {
			ddb.DestroyLogicalType(&types[i])
		}
	}()
	if allKnown {
		if s, err := arrowSchema(p.c.arrowOpts, types, names); err == nil {
			return s, nil
		}
	}
	// Some column types are unknown until parameters are bound: describe
	// those as Null, the others as they are.
	fields := make([]arrow.Field, n)
	for i := range types {
		fields[i] = arrow.Field{Name: names[i], Type: arrow.Null, Nullable: true}
		if !known(ddb.PreparedStatementColumnType(p.stmt, ddb.IdxT(i))) {
			continue
		}
		if s, err := arrowSchema(p.c.arrowOpts, types[i:i+1], names[i:i+1]); err == nil {
			fields[i] = s.Field(0)
		}
	}
	return arrow.NewSchema(fields, nil), nil
}

func arrowSchema(opts ddb.ArrowOptions, types []ddb.LogicalType, names []string) (*arrow.Schema, error) {
	s, ed := ddb.NewArrowSchema(opts, types, names)
	defer ddb.DestroyErrorData(&ed)
	if ddb.ErrorDataHasError(ed) {
		return nil, &Error{Msg: ddb.ErrorDataMessage(ed)}
	}
	return s, nil
}

func (p *Prepared) bind(params []any) error {
	if len(params) != p.NumParams() {
		return &Error{Msg: fmt.Sprintf("statement takes %d parameters, %d given", p.NumParams(), len(params))}
	}
	ddb.ClearBindings(p.stmt)
	for i, v := range params {
		idx := ddb.IdxT(i + 1)
		var st ddb.State
		switch x := v.(type) {
		case nil:
			st = ddb.BindNull(p.stmt, idx)
		case bool:
			st = ddb.BindBoolean(p.stmt, idx, x)
		case int:
			st = ddb.BindInt64(p.stmt, idx, int64(x))
		case int8:
			st = ddb.BindInt8(p.stmt, idx, x)
		case int16:
			st = ddb.BindInt16(p.stmt, idx, x)
		case int32:
			st = ddb.BindInt32(p.stmt, idx, x)
		case int64:
			st = ddb.BindInt64(p.stmt, idx, x)
		case uint8:
			st = ddb.BindInt16(p.stmt, idx, int16(x))
		case uint16:
			st = ddb.BindInt32(p.stmt, idx, int32(x))
		case uint32:
			st = ddb.BindInt64(p.stmt, idx, int64(x))
		case float32:
			st = ddb.BindFloat(p.stmt, idx, x)
		case float64:
			st = ddb.BindDouble(p.stmt, idx, x)
		case string:
			st = ddb.BindVarchar(p.stmt, idx, x)
		case []byte:
			st = ddb.BindBlob(p.stmt, idx, x)
		case time.Time:
			st = ddb.BindVarchar(p.stmt, idx, x.UTC().Format("2006-01-02 15:04:05.999999"))
		default:
			return &Error{Msg: fmt.Sprintf("parameter $%d: unsupported type %T", i+1, v)}
		}
		if st == ddb.StateError {
			return &Error{Msg: fmt.Sprintf("bind parameter $%d", i+1)}
		}
	}
	return nil
}

// Query binds params and starts streaming execution of the statement. The
// Rows must be closed before the statement or connection is used again.
func (p *Prepared) Query(params ...any) (*Rows, error) {
	return p.QueryContext(context.Background(), params...)
}

// QueryContext is Query that checks ctx between DuckDB's execution tasks (a
// blocking aggregate does all its work before the first chunk).
func (p *Prepared) QueryContext(ctx context.Context, params ...any) (*Rows, error) {
	if err := p.bind(params); err != nil {
		return nil, err
	}
	r := &Rows{c: p.c, alloc: p.c.alloc}
	if ddb.PendingPreparedStreaming(p.stmt, &r.pending) == ddb.StateError {
		msg := ddb.PendingError(r.pending)
		ddb.DestroyPending(&r.pending)
		return nil, &Error{Msg: msg}
	}
	for {
		if err := ctx.Err(); err != nil {
			// Stop the query and let it unwind before destroying it: a
			// pending result destroyed mid-execution leaves the connection
			// busy, and the next statement on it blocks.
			ddb.Interrupt(p.c.conn)
			for {
				st := ddb.PendingExecuteTask(r.pending)
				if st == ddb.PendingStateError || ddb.PendingExecutionIsFinished(st) {
					break
				}
			}
			ddb.DestroyPending(&r.pending)
			return nil, err
		}
		st := ddb.PendingExecuteTask(r.pending)
		if st == ddb.PendingStateError {
			msg := ddb.PendingError(r.pending)
			ddb.DestroyPending(&r.pending)
			return nil, &Error{Msg: msg}
		}
		if ddb.PendingExecutionIsFinished(st) {
			break
		}
	}
	if ddb.ExecutePending(r.pending, &r.res) == ddb.StateError {
		msg := ddb.ResultError(&r.res)
		ddb.DestroyResult(&r.res)
		ddb.DestroyPending(&r.pending)
		return nil, &Error{Msg: msg}
	}
	r.hasRes = true
	n := int(ddb.ColumnCount(&r.res))
	types := make([]ddb.LogicalType, n)
	names := make([]string, n)
	for i := 0; i < n; i++ {
		types[i] = ddb.ColumnLogicalType(&r.res, ddb.IdxT(i))
		names[i] = ddb.ColumnName(&r.res, ddb.IdxT(i))
	}
	s, err := arrowSchema(p.c.arrowOpts, types, names)
	ids := make([]ddb.Type, n)
	for i := range types {
		ids[i] = ddb.GetTypeId(types[i])
		ddb.DestroyLogicalType(&types[i])
	}
	if err != nil {
		r.Close()
		return nil, err
	}
	r.schema = s
	r.direct = directWidths(s, ids)
	return r, nil
}

// Rows is a streaming result. Next returns DuckDB's chunks (up to 2048 rows)
// as Arrow record batches; NextBatch coalesces them.
type Rows struct {
	c       *Conn
	stmt    *Prepared // owned when created by Conn.Query
	pending ddb.PendingResult
	res     ddb.Result
	hasRes  bool
	schema  *arrow.Schema
	done    bool
	err     error
	pendRec arrow.RecordBatch // a chunk read ahead by NextBatch
	// chunk is a DuckDB chunk of which nextDirect copied the rows before
	// chunkOff only (a batch fills up by bytes mid-chunk).
	chunk    ddb.DataChunk
	chunkOff int
	rowBytes []int64 // scratch of fitRows
	// direct holds per-column copy widths when every column can be copied
	// straight from DuckDB's vectors (see coalesce.go); nil otherwise.
	direct []int
	// alloc makes the buffers of the batches nextDirect fills: the shared
	// pool, or a budgetAllocator over it once SetBudget is called.
	alloc  memory.Allocator
	budget *Budget
}

// SetBudget charges the batches r hands out from now on to b (nil: to no
// budget) until they are released; past b's limit, r's next fetch fails
// with ErrUserResultMemory. Call it before the first Next or NextBatch.
func (r *Rows) SetBudget(b *Budget) {
	r.budget = b
	r.alloc = r.c.alloc
	if b != nil {
		r.alloc = &budgetAllocator{pool: r.c.alloc, budget: b}
	}
}

// memoryErr is the error that stops the next fetch when the batches held
// are past the result's budget or the server's limit, else nil. The budget
// comes first: a user past their own cap is told so, not that the server
// is full.
func (r *Rows) memoryErr() error {
	if r.budget != nil && r.budget.exceeded() {
		return ErrUserResultMemory
	}
	if r.c.resultLimit > 0 && r.c.alloc.used.Load() > r.c.resultLimit {
		return ErrResultMemory
	}
	return nil
}

// Schema is the result's Arrow schema.
func (r *Rows) Schema() *arrow.Schema { return r.schema }

// Next returns the next chunk as a record batch, or nil at the end or on
// error (see Err). The caller releases the batch.
func (r *Rows) Next() arrow.RecordBatch {
	if r.pendRec != nil {
		rec := r.pendRec
		r.pendRec = nil
		return rec
	}
	if r.done {
		return nil
	}
	if err := r.memoryErr(); err != nil {
		r.err, r.done = err, true
		return nil
	}
	chunk := ddb.FetchChunk(r.res)
	if chunk.Ptr == nil {
		r.done = true
		if msg := ddb.ResultError(&r.res); msg != "" {
			r.err = &Error{Msg: msg}
		}
		return nil
	}
	defer ddb.DestroyDataChunk(&chunk)
	if ddb.DataChunkGetSize(chunk) == 0 {
		r.done = true
		return nil
	}
	rec, ed := ddb.DataChunkToArrowArray(r.c.arrowOpts, r.schema, chunk)
	defer ddb.DestroyErrorData(&ed)
	if ddb.ErrorDataHasError(ed) {
		r.err = &Error{Msg: ddb.ErrorDataMessage(ed)}
		r.done = true
		return nil
	}
	return rec
}

// NextBatch returns a batch of at least minRows rows (fewer at the end of the
// result) and at most about maxBytes bytes, made by concatenating chunks.
func (r *Rows) NextBatch(minRows int, maxBytes int64) arrow.RecordBatch {
	if r.direct != nil && r.pendRec == nil {
		rowBytes := 0
		for _, w := range r.direct {
			rowBytes += max(w, 1)
			if w == widthString {
				rowBytes += 4 // offsets; the values are budgeted as they come
			}
		}
		return r.nextDirect(min(minRows, max(int(maxBytes)/max(rowBytes, 1), 1)), maxBytes)
	}
	first := r.Next()
	if first == nil {
		return nil
	}
	if first.NumRows() >= int64(minRows) {
		return first
	}
	recs := []arrow.RecordBatch{first}
	rows := first.NumRows()
	size := recordSize(first)
	for rows < int64(minRows) && size < maxBytes {
		rec := r.Next()
		if rec == nil {
			break
		}
		recs = append(recs, rec)
		rows += rec.NumRows()
		size += recordSize(rec)
	}
	if len(recs) == 1 {
		return first
	}
	out, err := ConcatRecords(r.schema, recs)
	for _, rec := range recs {
		rec.Release()
	}
	if err != nil {
		r.err = err
		r.done = true
		return nil
	}
	return out
}

func recordSize(rec arrow.RecordBatch) int64 {
	var n int64
	for _, col := range rec.Columns() {
		for _, b := range col.Data().Buffers() {
			if b != nil {
				n += int64(b.Len())
			}
		}
	}
	return n
}

// ConcatRecords concatenates batches of one schema into a single batch with
// the given schema (zero batches give an empty one). The inputs are not
// released.
func ConcatRecords(schema *arrow.Schema, recs []arrow.RecordBatch) (arrow.RecordBatch, error) {
	cols := make([]arrow.Array, schema.NumFields())
	var rows int64
	for _, rec := range recs {
		rows += rec.NumRows()
	}
	release := func(n int) {
		for _, c := range cols[:n] {
			c.Release()
		}
	}
	for i := range cols {
		if len(recs) == 0 {
			cols[i] = array.MakeArrayOfNull(memory.DefaultAllocator, schema.Field(i).Type, 0)
			continue
		}
		parts := make([]arrow.Array, len(recs))
		for j, rec := range recs {
			parts[j] = rec.Column(i)
		}
		col, err := array.Concatenate(parts, memory.DefaultAllocator)
		if err != nil {
			release(i)
			return nil, fmt.Errorf("concatenate result chunks: %w", err)
		}
		cols[i] = col
	}
	out := array.NewRecordBatch(schema, cols, rows)
	release(len(cols))
	return out, nil
}

// Err is the error that ended the stream, if any.
func (r *Rows) Err() error { return r.err }

// Done reports whether the stream was read to its end.
func (r *Rows) Done() bool { return r.done && r.pendRec == nil && r.chunk.Ptr == nil }

// Close releases the result (and the statement when Conn.Query made it).
func (r *Rows) Close() {
	if r.pendRec != nil {
		r.pendRec.Release()
		r.pendRec = nil
	}
	if r.chunk.Ptr != nil {
		ddb.DestroyDataChunk(&r.chunk)
		r.chunk = ddb.DataChunk{}
	}
	if r.hasRes {
		ddb.DestroyResult(&r.res)
		r.hasRes = false
	}
	ddb.DestroyPending(&r.pending)
	if r.stmt != nil {
		r.stmt.Close()
		r.stmt = nil
	}
}

// All reads the whole result into memory; for small internal results only.
func (r *Rows) All() ([]arrow.RecordBatch, error) {
	var out []arrow.RecordBatch
	for {
		rec := r.Next()
		if rec == nil {
			break
		}
		out = append(out, rec)
	}
	if r.err != nil {
		for _, rec := range out {
			rec.Release()
		}
		return nil, r.err
	}
	return out, nil
}

// AppendRecord appends rec's rows to the table (catalog "temp" when temp is
// true). rec's column types must match the table's exactly.
func (c *Conn) AppendRecord(table string, temp bool, recs ...arrow.RecordBatch) error {
	if len(recs) == 0 {
		return nil
	}
	var app ddb.Appender
	cat := ""
	if temp {
		cat = "temp"
	}
	if ddb.AppenderCreateExt(c.conn, cat, "main", table, &app) == ddb.StateError {
		msg := ddb.AppenderError(app)
		ddb.AppenderDestroy(&app)
		return &Error{Msg: "create appender for " + table + ": " + msg}
	}
	defer ddb.AppenderDestroy(&app)
	conv, ed := ddb.SchemaFromArrow(c.conn, recs[0].Schema())
	hasErr := ddb.ErrorDataHasError(ed)
	msg := ""
	if hasErr {
		msg = ddb.ErrorDataMessage(ed)
	}
	ddb.DestroyErrorData(&ed)
	if hasErr {
		return &Error{Msg: "convert arrow schema: " + msg}
	}
	defer ddb.DestroyArrowConvertedSchema(&conv)
	const chunkRows = 2048
	for _, rec := range recs {
		n := rec.NumRows()
		for off := int64(0); off < n; off += chunkRows {
			end := min(off+chunkRows, n)
			part := rec
			if off != 0 || end != n {
				part = rec.NewSlice(off, end)
			}
			err := c.appendChunk(app, conv, part)
			if part != rec {
				part.Release()
			}
			if err != nil {
				return err
			}
		}
	}
	if ddb.AppenderClose(app) == ddb.StateError {
		return &Error{Msg: "append to " + table + ": " + ddb.AppenderError(app)}
	}
	return nil
}

func (c *Conn) appendChunk(app ddb.Appender, conv ddb.ArrowConvertedSchema, rec arrow.RecordBatch) error {
	chunk, ed := ddb.DataChunkFromArrow(c.conn, rec, conv)
	defer ddb.DestroyErrorData(&ed)
	if ddb.ErrorDataHasError(ed) {
		return &Error{Msg: "convert arrow batch: " + ddb.ErrorDataMessage(ed)}
	}
	defer ddb.DestroyDataChunk(&chunk)
	if ddb.AppendDataChunk(app, chunk) == ddb.StateError {
		return &Error{Msg: "append chunk: " + ddb.AppenderError(app)}
	}
	return nil
}

var errClosed = errors.New("duck: connection closed")

// known reports whether a type is resolved (DuckDB cannot convert the
// placeholder types of unbound parameters to Arrow).
func known(t ddb.Type) bool {
	return t != ddb.TypeInvalid && t != ddb.TypeAny && t != ddb.TypeSQLNull
}
