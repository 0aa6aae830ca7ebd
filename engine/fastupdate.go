//go:build duckdb_arrow

package engine

import (
	"context"
	"math"
	"regexp"
	"strconv"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/kalamdb/kalamdb-go/catalog"
	"github.com/kalamdb/kalamdb-go/engine/duck"
	"github.com/kalamdb/kalamdb-go/engine/sqlparse"
)

// keyUpdate is an UPDATE of one integer column of one row named by its
// integer primary key, which the engine applies without DuckDB:
//
//	UPDATE t SET c = c + n | c = c - n | c = n WHERE pk = k
//
// The counter workload is this statement; through DuckDB it spends most of
// its time building the scoped relation of a single row.
type keyUpdate struct {
	col   int
	n     int64
	add   bool // c = c + n (n negated for c - n) rather than c = n
	key   string
	table *catalog.TableDef
}

var (
	keyEqualsPattern = regexp.MustCompile(`^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(-?[0-9]+)\s*$`)
	addPattern       = regexp.MustCompile(`^\s*([A-Za-z_][A-Za-z0-9_]*)\s*([+-])\s*([0-9]+)\s*$`)
	intPattern       = regexp.MustCompile(`^\s*(-?[0-9]+)\s*$`)
)

// integerBounds are the ranges of the integer column types.
var integerBounds = map[catalog.TypeKind][2]int64{
	catalog.TypeSmallInt: {math.MinInt16, math.MaxInt16},
	catalog.TypeInt:      {math.MinInt32, math.MaxInt32},
	catalog.TypeBigInt:   {math.MinInt64, math.MaxInt64},
}

// parseKeyUpdate recognises a keyUpdate; ok=false sends the statement to
// DuckDB. Only unquoted names, plain integer literals and no alias,
// RETURNING or parameters qualify, so the text means nothing else.
func parseKeyUpdate(t *catalog.TableDef, st *sqlparse.Update) (keyUpdate, bool) {
	if len(st.Set) != 1 || st.Alias != "" || st.Returning != "" || t.Type == catalog.TableStream {
		return keyUpdate{}, false
	}
	pk := t.PrimaryKeyIndex()
	m := keyEqualsPattern.FindStringSubmatch(st.Where)
	if pk < 0 || m == nil || t.ColumnIndex(m[1]) != pk {
		return keyUpdate{}, false
	}
	if _, ok := integerBounds[t.Columns[pk].Type.Kind]; !ok {
		return keyUpdate{}, false
	}
	u := keyUpdate{key: m[2], table: t, col: t.ColumnIndex(st.Set[0].Column)}
	if u.col < 0 || u.col == pk {
		return keyUpdate{}, false
	}
	if _, ok := integerBounds[t.Columns[u.col].Type.Kind]; !ok {
		return keyUpdate{}, false
	}
	var lit string
	if m := addPattern.FindStringSubmatch(st.Set[0].Expr); m != nil {
		if t.ColumnIndex(m[1]) != u.col {
			return keyUpdate{}, false
		}
		u.add, lit = true, m[3]
		if m[2] == "-" {
			lit = "-" + lit
		}
	} else if m := intPattern.FindStringSubmatch(st.Set[0].Expr); m != nil {
		lit = m[1]
	} else {
		return keyUpdate{}, false
	}
	n, err := strconv.ParseInt(lit, 10, 64)
	if err != nil {
		return keyUpdate{}, false
	}
	u.n = n
	return u, true
}

// apply computes the column's new value from old (null when oldNull).
// ok=false when the result leaves the column type's range: DuckDB then
// reports the overflow in its words.
func (u keyUpdate) apply(old int64, oldNull bool) (v int64, null bool, ok bool) {
	b := integerBounds[u.table.Columns[u.col].Type.Kind]
	if !u.add {
		return u.n, false, u.n >= b[0] && u.n <= b[1]
	}
	if oldNull {
		return 0, true, true // NULL + n is NULL
	}
	v = old + u.n
	if (u.n > 0 && v < old) || (u.n < 0 && v > old) {
		return 0, false, false
	}
	return v, false, v >= b[0] && v <= b[1]
}

// keyUpdateReq is one statement's keyUpdate waiting for a batch; res,
// handled and err are its answer (see keyUpdateBatch).
type keyUpdateReq struct {
	u       keyUpdate
	res     *Result
	handled bool
	err     error
	// done is closed when the request is answered, or when it is to
	// lead the next batch (lead set).
	done chan struct{}
	lead bool
}

// keyUpdateCombiner gathers the keyUpdates of one partition that arrive
// while a batch is being written, so that the next batch writes them all
// in one synced write: 32 sessions incrementing one counter then share a
// write instead of taking turns at one each.
type keyUpdateCombiner struct {
	mu      sync.Mutex
	queue   []*keyUpdateReq
	leading bool
}

// keyUpdate applies u, outside a transaction batched with the partition's
// concurrent keyUpdates, inside one alone. handled=false sends the
// statement through DuckDB.
func (e *Engine) keyUpdate(ctx context.Context, u keyUpdate, user catalog.UserID) (*Result, bool, error) {
	req := &keyUpdateReq{u: u, done: make(chan struct{})}
	if txOf(ctx) != nil {
		e.keyUpdateBatch(ctx, user, []*keyUpdateReq{req})
		return req.res, req.handled, req.err
	}
	b := e.coldState.combiner(partKey{u.table.StoreID, user})
	b.mu.Lock()
	b.queue = append(b.queue, req)
	lead := !b.leading
	b.leading = true
	b.mu.Unlock()
	if !lead {
		<-req.done
		if !req.lead {
			return req.res, req.handled, req.err
		}
	}
	// Lead one batch: everything queued, this request among it; then hand
	// the lead to the first request queued meanwhile.
	b.mu.Lock()
	batch := b.queue
	b.queue = nil
	b.mu.Unlock()
	// The batch answers other statements too: the leader's cancellation
	// must not fail theirs.
	e.keyUpdateBatch(context.WithoutCancel(ctx), user, batch)
	b.mu.Lock()
	if len(b.queue) > 0 {
		b.queue[0].lead = true
		close(b.queue[0].done)
	} else {
		b.leading = false
	}
	b.mu.Unlock()
	return req.res, req.handled, req.err
}

// keyUpdateBatch applies the batch's updates in order to the rows as read,
// and writes the rows they changed in one versioned write, retried as a
// whole from a fresh read when it loses a race (Engine.rmw). A request
// whose row is not hot in a partition with segments, or whose result
// leaves its column's range, is left unhandled; the rest see the rows
// without it. Every request is answered (done closed) on return.
func (e *Engine) keyUpdateBatch(ctx context.Context, user catalog.UserID, batch []*keyUpdateReq) {
	t := batch[0].u.table
	_, err := e.rmw(ctx, t, user, func(a *rmwAttempt) (*Result, error) {
		return nil, e.keyUpdateAttempt(ctx, user, batch, a)
	})
	for _, r := range batch {
		if err != nil && r.handled {
			r.res, r.err = nil, err
		}
		if !r.lead {
			close(r.done)
		}
	}
}

// keyUpdateAttempt is one try of keyUpdateBatch.
func (e *Engine) keyUpdateAttempt(ctx context.Context, user catalog.UserID, batch []*keyUpdateReq, a *rmwAttempt) error {
	t := batch[0].u.table
	pk := t.PrimaryKeyIndex()
	var keyTexts []string
	keyOf := make([]int64, len(batch))
	valid := make([]bool, len(batch))
	for i, r := range batch {
		r.res, r.handled, r.err = nil, false, nil
		k, err := strconv.ParseInt(r.u.key, 10, 64)
		if err != nil {
			continue // beyond int64: DuckDB compares it
		}
		keyOf[i], valid[i] = k, true
		keyTexts = append(keyTexts, r.u.key)
	}
	if len(keyTexts) == 0 {
		return nil
	}
	keys, ok := keyArray(t, keyTexts)
	if !ok {
		return nil // a key out of the column's range: DuckDB compares it
	}
	defer keys.Release()
	rec, segments, err := e.lookupWithManifest(ctx, t, user, keys)
	if err != nil {
		for _, r := range batch {
			r.handled, r.err = true, err
		}
		return nil
	}
	defer rec.Release()
	rowOf := map[int64]int{}
	for i := 0; i < int(rec.NumRows()); i++ {
		rowOf[integerValue(rec.Column(pk), i)] = i
	}
	// The rows' current values, per key and column, as the batch changes
	// them in order.
	type cell struct {
		v    int64
		null bool
	}
	changed := map[int64]map[int]cell{}
	var order []int64
	for i, r := range batch {
		row, found := rowOf[keyOf[i]]
		switch {
		case !valid[i]:
			continue
		case !found && segments:
			continue // the row may be cold: DuckDB reads it
		case !found:
			r.res, r.handled = affectedResult(0), true
			continue
		}
		cur, ok := changed[keyOf[i]][r.u.col]
		if !ok {
			col := rec.Column(r.u.col)
			cur = cell{integerValue(col, row), col.IsNull(row)}
		}
		v, null, ok := r.u.apply(cur.v, cur.null)
		if !ok {
			continue // overflow: DuckDB reports it
		}
		if changed[keyOf[i]] == nil {
			changed[keyOf[i]] = map[int]cell{}
			order = append(order, keyOf[i])
		}
		changed[keyOf[i]][r.u.col] = cell{v, null}
		r.res, r.handled = affectedResult(1), true
	}
	if len(order) == 0 {
		return nil
	}
	rows := make([]arrow.RecordBatch, 0, len(order))
	defer func() { releaseAll(rows) }()
	base := make([]int64, 0, len(order))
	for _, k := range order {
		row := rowOf[k]
		cols := make([]arrow.Array, len(t.Columns))
		for j := range cols {
			c, ok := changed[k][j]
			if !ok {
				cols[j] = array.NewSlice(rec.Column(j), int64(row), int64(row)+1)
				continue
			}
			b := array.NewBuilder(memory.DefaultAllocator, rec.Column(j).DataType())
			if c.null {
				b.AppendNull()
			} else {
				switch bb := b.(type) {
				case *array.Int16Builder:
					bb.Append(int16(c.v))
				case *array.Int32Builder:
					bb.Append(int32(c.v))
				case *array.Int64Builder:
					bb.Append(c.v)
				}
			}
			cols[j] = b.NewArray()
			b.Release()
		}
		rows = append(rows, array.NewRecordBatch(t.UserSchema(), cols, 1))
		for _, c := range cols {
			c.Release()
		}
		base = append(base, rec.Column(len(t.Columns)).(*array.Int64).Value(row))
	}
	out, err := duck.ConcatRecords(t.UserSchema(), rows)
	if err != nil {
		return err
	}
	defer out.Release()
	if err := checkConstraints(t, out); err != nil {
		return err
	}
	seqs := e.seq.NextN(len(order), nil)
	err = a.write(func() error { return e.hot.UpsertVersions(ctx, t, user, out, seqs, base) })
	e.wrote(ctx, t, user, int64(len(order)), err)
	return err
}

// lookupWithManifest returns the live hot rows of keys and whether the
// partition has segments, both read under the partition lock (one state;
// see Engine.load).
func (e *Engine) lookupWithManifest(ctx context.Context, t *catalog.TableDef, user catalog.UserID, keys arrow.Array) (arrow.RecordBatch, bool, error) {
	segments := false
	if e.cold != nil {
		lk := e.coldState.lock(partKey{t.StoreID, user})
		lk.RLock()
		defer lk.RUnlock()
		man, err := e.manifestAt(ctx, t, user)
		if err != nil {
			return nil, false, err
		}
		segments = len(man.Segments) > 0
	}
	rec, err := e.hot.Lookup(ctx, t, user, keys, memory.DefaultAllocator)
	return rec, segments, err
}

// integerValue reads row i of an integer array as int64.
func integerValue(a arrow.Array, i int) int64 {
	switch c := a.(type) {
	case *array.Int16:
		return int64(c.Value(i))
	case *array.Int32:
		return int64(c.Value(i))
	case *array.Int64:
		return c.Value(i)
	}
	return 0
}
