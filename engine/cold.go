//go:build duckdb_arrow

package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/kalamdb/kalamdb-go/catalog"
	"github.com/kalamdb/kalamdb-go/coldstore"
	"github.com/kalamdb/kalamdb-go/engine/duck"
	"github.com/kalamdb/kalamdb-go/hotstore"
)

// Manifests live in the hot store's metadata, one per partition:
//
//	man/<store id, 16 hex>/<user id or "">   JSON coldstore.Manifest
const metaManifestPrefix = "man/"

func manifestKey(storeID uint64, user catalog.UserID) string {
	return fmt.Sprintf("%s%016x/%s", metaManifestPrefix, storeID, user)
}

// manifest reads a partition's manifest (empty when never flushed).
func (e *Engine) manifest(t *catalog.TableDef, user catalog.UserID) (coldstore.Manifest, error) {
	b, ok, err := e.hot.MetaGet([]byte(manifestKey(t.StoreID, user)))
	if err != nil || !ok {
		return coldstore.Manifest{}, err
	}
	m, err := coldstore.UnmarshalManifest(b)
	if err != nil {
		return coldstore.Manifest{}, fmt.Errorf("read manifest of %s/%s: %w", t.ID, user, err)
	}
	return m, nil
}

// manifestAt is the partition's manifest as the statement of ctx reads it:
// in a transaction, as of its snapshot, with the segments it names pinned
// until the transaction ends; otherwise the newest.
func (e *Engine) manifestAt(ctx context.Context, t *catalog.TableDef, user catalog.UserID) (coldstore.Manifest, error) {
	tx := txOf(ctx)
	if tx == nil {
		return e.manifest(t, user)
	}
	b, ok, err := e.hot.MetaGetAt(ctx, []byte(manifestKey(t.StoreID, user)))
	if err != nil || !ok {
		return coldstore.Manifest{}, err
	}
	m, err := coldstore.UnmarshalManifest(b)
	if err != nil {
		return coldstore.Manifest{}, fmt.Errorf("read manifest of %s/%s: %w", t.ID, user, err)
	}
	return m, tx.pinSnapshotSegments(t, user, m)
}

// tableManifests lists every partition manifest of a table.
func (e *Engine) tableManifests(storeID uint64) (map[catalog.UserID]coldstore.Manifest, error) {
	prefix := fmt.Sprintf("%s%016x/", metaManifestPrefix, storeID)
	out := map[catalog.UserID]coldstore.Manifest{}
	err := e.hot.MetaScan([]byte(prefix), func(k, v []byte) error {
		m, err := coldstore.UnmarshalManifest(v)
		if err != nil {
			return err
		}
		out[catalog.UserID(strings.TrimPrefix(string(k), prefix))] = m
		return nil
	})
	return out, err
}

// partKey names one partition of one table.
type partKey struct {
	storeID uint64
	user    catalog.UserID
}

// coldState is the engine's bookkeeping for the cold tier: a lock per
// partition (writers that must see a stable set of segments hold it shared;
// the flush and compaction commits hold it exclusively, briefly) and
// reference counts of segment files read by running queries, so that a
// compaction never deletes a file under a reader.
type coldState struct {
	mu       sync.Mutex
	locks    map[partKey]*sync.RWMutex
	refs     map[string]int
	doomed   map[string]heldSegment // removed from manifests, awaiting the last reader
	dirty    map[partKey]int64      // rows written since the last flush (FLUSH_POLICY)
	lastSeen map[partKey]int64      // unix seconds of the last flush or start
	// firstWrite is the unix second of the oldest write not yet flushed.
	firstWrite map[partKey]int64
	lanes      map[partKey]*rmwLane // turns of retried read-modify-write statements
	combs      map[partKey]*keyUpdateCombiner
	// removing counts the retired segments being deleted right now.
	removing map[string]int
	// Transactions read segments as of their snapshot, which may name
	// segments retired since: a retired segment is kept (held) while a
	// transaction begun before its retirement is open. epoch counts
	// retirements; openTxs maps each open transaction to the epoch it
	// began in.
	epoch   int64
	openTxs map[*Tx]int64
	held    []heldSegment
}

// rmwLane serialises the retries of read-modify-write statements of one
// partition (see Engine.rmw).
type rmwLane struct {
	mu sync.Mutex
	// waiting counts statements holding or queued for mu.
	waiting atomic.Int32
}

func (c *coldState) lane(k partKey) *rmwLane { return partEntry(c, c.lanes, k) }

func (c *coldState) combiner(k partKey) *keyUpdateCombiner { return partEntry(c, c.combs, k) }

func (c *coldState) lock(k partKey) *sync.RWMutex { return partEntry(c, c.locks, k) }

// partEntry returns partition k's entry of one of c's per-partition maps,
// made (zero) on first use.
func partEntry[V any](c *coldState, m map[partKey]*V, k partKey) *V {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := m[k]
	if !ok {
		v = new(V)
		m[k] = v
	}
	return v
}

func newColdState() *coldState {
	return &coldState{locks: map[partKey]*sync.RWMutex{}, refs: map[string]int{}, doomed: map[string]heldSegment{},
		dirty: map[partKey]int64{}, lastSeen: map[partKey]int64{}, lanes: map[partKey]*rmwLane{},
		combs: map[partKey]*keyUpdateCombiner{}, removing: map[string]int{}, firstWrite: map[partKey]int64{},
		openTxs: map[*Tx]int64{}}
}

// acquire pins segment files for a reader; the returned func unpins them.
func (e *Engine) acquire(segs []coldstore.Segment) func() {
	e.coldState.mu.Lock()
	for _, s := range segs {
		e.coldState.refs[s.File]++
	}
	e.coldState.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			var remove []coldstore.Segment
			e.coldState.mu.Lock()
			for _, s := range segs {
				if e.coldState.refs[s.File]--; e.coldState.refs[s.File] <= 0 {
					delete(e.coldState.refs, s.File)
					if d, ok := e.coldState.doomed[s.File]; ok {
						delete(e.coldState.doomed, s.File)
						if e.coldState.oldestTxEpoch() < d.epoch {
							// A transaction begun before its retirement
							// may still read it.
							e.coldState.held = append(e.coldState.held, d)
							continue
						}
						remove = append(remove, d.seg)
						e.coldState.removing[s.File]++
					}
				}
			}
			e.coldState.mu.Unlock()
			e.removeRetired(remove)
		})
	}
}

// retire deletes segments no longer in any manifest, now or when their last
// reader finishes.
func (e *Engine) retire(segs []coldstore.Segment) {
	var now []coldstore.Segment
	e.coldState.mu.Lock()
	e.coldState.epoch++
	oldest := e.coldState.oldestTxEpoch()
	for _, s := range segs {
		switch {
		case e.coldState.refs[s.File] > 0:
			e.coldState.doomed[s.File] = heldSegment{s, e.coldState.epoch}
		case oldest < e.coldState.epoch:
			e.coldState.held = append(e.coldState.held, heldSegment{s, e.coldState.epoch})
		default:
			now = append(now, s)
			e.coldState.removing[s.File]++
		}
	}
	e.coldState.mu.Unlock()
	e.removeRetired(now)
}

// heldSegment is a retired segment kept for transactions begun before its
// retirement (in an epoch before epoch).
type heldSegment struct {
	seg   coldstore.Segment
	epoch int64
}

// oldestTxEpoch is the epoch the oldest open transaction began in
// (MaxInt64 when none is open). Callers hold mu.
func (c *coldState) oldestTxEpoch() int64 {
	oldest := int64(math.MaxInt64)
	for _, ep := range c.openTxs {
		oldest = min(oldest, ep)
	}
	return oldest
}

// txBegan registers an open transaction; txEnded forgets it and deletes
// the retired segments no open transaction may still read.
func (e *Engine) txBegan(tx *Tx) {
	e.coldState.mu.Lock()
	e.coldState.openTxs[tx] = e.coldState.epoch
	e.coldState.mu.Unlock()
}

func (e *Engine) txEnded(tx *Tx) {
	var now []coldstore.Segment
	e.coldState.mu.Lock()
	delete(e.coldState.openTxs, tx)
	oldest := e.coldState.oldestTxEpoch()
	keep := e.coldState.held[:0]
	for _, h := range e.coldState.held {
		switch {
		case oldest < h.epoch:
			keep = append(keep, h)
		case e.coldState.refs[h.seg.File] > 0:
			e.coldState.doomed[h.seg.File] = h
		default:
			now = append(now, h.seg)
			e.coldState.removing[h.seg.File]++
		}
	}
	e.coldState.held = keep
	e.coldState.mu.Unlock()
	e.removeRetired(now)
}

// removeRetired deletes retired segments counted in removing.
func (e *Engine) removeRetired(segs []coldstore.Segment) {
	for _, s := range segs {
		e.removeSegment(s)
		e.coldState.mu.Lock()
		if e.coldState.removing[s.File]--; e.coldState.removing[s.File] <= 0 {
			delete(e.coldState.removing, s.File)
		}
		e.coldState.mu.Unlock()
	}
}

// acquireLive is acquire for segments that may have been retired already
// (a transaction's snapshot names segments of an older manifest): ok is
// false when one is deleted or being deleted. Either way the caller calls
// the returned func.
func (e *Engine) acquireLive(segs []coldstore.Segment) (func(), bool) {
	unpin := e.acquire(segs)
	e.coldState.mu.Lock()
	for _, s := range segs {
		if e.coldState.removing[s.File] > 0 {
			e.coldState.mu.Unlock()
			return unpin, false
		}
	}
	e.coldState.mu.Unlock()
	// Pinned and not being deleted: a segment still on disk now stays.
	for _, s := range segs {
		if _, err := os.Stat(e.cold.Path(s)); err != nil {
			return unpin, false
		}
	}
	return unpin, true
}

func (e *Engine) removeSegment(s coldstore.Segment) {
	if err := e.cold.Remove(s); err != nil {
		e.log.Warn("remove segment", "file", s.File, "err", err)
	}
}

// noteWrite counts rows written to a partition, for FLUSH_POLICY.
func (e *Engine) noteWrite(t *catalog.TableDef, user catalog.UserID, n int64) {
	if t.Type == catalog.TableStream || e.cold == nil {
		return
	}
	k := partKey{t.StoreID, user}
	e.coldState.mu.Lock()
	e.coldState.dirty[k] += n
	if _, ok := e.coldState.firstWrite[k]; !ok {
		e.coldState.firstWrite[k] = e.opts.Now().Unix()
	}
	e.coldState.mu.Unlock()
}

// flushPartition moves a partition's hot row versions into a new Parquet
// segment. The segment is written and renamed first; then, in one Pebble
// batch, the manifest gains the segment and the flushed hot keys are deleted
// (a key rewritten meanwhile stays hot). A crash before that batch leaves an
// orphan file (removed at start) and the rows hot; after it, the rows are
// cold only: none lost, none duplicated.
func (e *Engine) flushPartition(ctx context.Context, t *catalog.TableDef, user catalog.UserID) (int64, error) {
	if t.Type == catalog.TableStream {
		return 0, catalog.Errorf(catalog.KindInvalid, "STREAM table %s is never flushed", t.ID)
	}
	w, err := e.cold.Create(t, user)
	if err != nil {
		return 0, err
	}
	defer func() { _ = w.Abort() }() // no-op after Commit
	// The writes counted before the scan are the ones this flush takes
	// (or found already gone); those counted meanwhile stay due.
	k := partKey{t.StoreID, user}
	e.coldState.mu.Lock()
	counted := e.coldState.dirty[k]
	e.coldState.mu.Unlock()
	var keys []arrow.Array
	var seqs []int64
	pk := t.PrimaryKeyIndex()
	defer func() {
		for _, k := range keys {
			k.Release()
		}
	}()
	err = e.hot.ScanVersions(ctx, t, user, hotstore.ScanOptions{}, func(rec arrow.RecordBatch) error {
		if err := w.Write(rec); err != nil {
			return err
		}
		k := rec.Column(pk)
		k.Retain()
		keys = append(keys, k)
		seqs = append(seqs, rec.Column(len(t.Columns)).(*array.Int64).Int64Values()...)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("flush %s/%s: %w", t.ID, user, err)
	}
	if len(seqs) == 0 {
		e.flushed(k, counted)
		return 0, nil
	}
	e.failpoint("flush-before-commit-segment")
	seg, err := w.Commit()
	if err != nil {
		return 0, fmt.Errorf("flush %s/%s: %w", t.ID, user, err)
	}
	e.failpoint("flush-after-segment")
	allKeys, err := array.Concatenate(keys, memory.DefaultAllocator)
	if err != nil {
		e.removeSegment(seg)
		return 0, fmt.Errorf("flush %s/%s: %w", t.ID, user, err)
	}
	defer allKeys.Release()
	l := e.coldState.lock(partKey{t.StoreID, user})
	l.Lock()
	man, err := e.manifest(t, user)
	if err == nil {
		man.Segments = append(man.Segments, seg)
		var b []byte
		if b, err = man.Marshal(); err == nil {
			_, err = e.hot.CommitFlush(ctx, t, user, allKeys, seqs, map[string][]byte{manifestKey(t.StoreID, user): b})
		}
	}
	e.bumpPartition(t.StoreID, user)
	l.Unlock()
	if err != nil {
		e.removeSegment(seg)
		return 0, fmt.Errorf("flush %s/%s: %w", t.ID, user, err)
	}
	e.failpoint("flush-after-commit")
	e.flushed(k, counted)
	if len(man.Segments) > e.opts.CompactAfterSegments {
		if _, _, err := e.submitTableJob(jobCompact, t, user); err != nil {
			e.log.Warn("schedule compaction", "table", t.ID, "err", err)
		}
	}
	return int64(len(seqs)), nil
}

// flushed records a flush of partition k that took the counted writes:
// the scheduler's count restarts from those written since.
func (e *Engine) flushed(k partKey, counted int64) {
	now := e.opts.Now().Unix()
	e.coldState.mu.Lock()
	defer e.coldState.mu.Unlock()
	e.coldState.lastSeen[k] = now
	if e.coldState.dirty[k] -= counted; e.coldState.dirty[k] <= 0 {
		delete(e.coldState.dirty, k)
		delete(e.coldState.firstWrite, k)
		return
	}
	// Written while the flush ran: as old as the flush at most.
	e.coldState.firstWrite[k] = now
}

// forgetPartition drops the scheduler's bookkeeping of a partition emptied
// outside a flush (TRUNCATE, a dropped user's cleanup): its unflushed
// writes, their age, its last flush and its fold candidacy.
func (e *Engine) forgetPartition(k partKey) {
	e.coldState.mu.Lock()
	delete(e.coldState.dirty, k)
	delete(e.coldState.firstWrite, k)
	delete(e.coldState.lastSeen, k)
	e.coldState.mu.Unlock()
	e.folds.mu.Lock()
	delete(e.folds.cands, k)
	e.folds.mu.Unlock()
}

// compactPartition merges all segments of a partition into one sorted
// segment holding only the newest live version of each key (tombstones drop
// out: every older version is among the merged segments, and hot versions
// are newer than any cold one).
func (e *Engine) compactPartition(ctx context.Context, t *catalog.TableDef, user catalog.UserID) (int64, error) {
	man, err := e.manifest(t, user)
	if err != nil {
		return 0, err
	}
	inputs := man.Segments
	// One segment is rewritten only to drop its tombstones or to record
	// its column IDs (segments written before they were).
	if len(inputs) < 2 && (len(inputs) == 0 || (inputs[0].Tombstones == 0 && len(inputs[0].ColumnIDs) > 0)) {
		return 0, nil
	}
	release := e.acquire(inputs)
	defer release()
	c, err := e.conn()
	if err != nil {
		return 0, err
	}
	broken := true
	defer func() { e.release(c, broken) }()
	pk := duck.QuoteIdent(t.Columns[t.PrimaryKeyIndex()].Name)
	sql := "SELECT * FROM (" + e.segmentRelation(t, inputs, true) + ") " +
		"QUALIFY row_number() OVER (PARTITION BY " + pk + " ORDER BY _seq DESC) = 1 AND NOT _deleted ORDER BY " + pk
	rows, err := c.QueryContext(ctx, sql)
	if err != nil {
		return 0, fmt.Errorf("compact %s/%s: %w", t.ID, user, err)
	}
	defer rows.Close()
	w, err := e.cold.Create(t, user)
	if err != nil {
		return 0, err
	}
	defer func() { _ = w.Abort() }()
	schema := coldstore.SegmentSchema(t)
	var n int64
	for rec := rows.NextBatch(BatchRows, BatchBytes); rec != nil; rec = rows.NextBatch(BatchRows, BatchBytes) {
		out := array.NewRecordBatch(schema, rec.Columns(), rec.NumRows())
		err := w.Write(out)
		out.Release()
		rec.Release()
		if err != nil {
			return 0, fmt.Errorf("compact %s/%s: %w", t.ID, user, err)
		}
		n += out.NumRows()
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("compact %s/%s: %w", t.ID, user, err)
	}
	broken = false
	var merged []coldstore.Segment
	if n > 0 {
		seg, err := w.Commit()
		if err != nil {
			return 0, err
		}
		merged = append(merged, seg)
	}
	e.failpoint("compact-after-segment")
	in := map[string]bool{}
	for _, s := range inputs {
		in[s.File] = true
	}
	l := e.coldState.lock(partKey{t.StoreID, user})
	l.Lock()
	cur, err := e.manifest(t, user)
	if err == nil {
		next := coldstore.Manifest{Segments: merged}
		for _, s := range cur.Segments {
			if !in[s.File] {
				next.Segments = append(next.Segments, s)
			}
		}
		var b []byte
		if b, err = next.Marshal(); err == nil {
			err = e.hot.MetaPut([]byte(manifestKey(t.StoreID, user)), b)
		}
	}
	l.Unlock()
	if err != nil {
		for _, s := range merged {
			e.removeSegment(s)
		}
		return 0, fmt.Errorf("compact %s/%s: %w", t.ID, user, err)
	}
	e.failpoint("compact-after-manifest")
	e.retire(inputs)
	return n, nil
}

// segmentRelation is a query reading segs with the table's current columns,
// then _seq (and _deleted when withDeleted). Each current column comes from
// the segment column with the same column ID, whatever its name was when the
// segment was written (RENAME COLUMN), or is a typed NULL where the segment
// has none (a column added later, or dropped and re-added under the same
// name). Segments written before column IDs were recorded match by name.
// Segments that map alike are read by one read_parquet; usually that is
// all of them. Bare column references keep filter pushdown into the scan.
func (e *Engine) segmentRelation(t *catalog.TableDef, segs []coldstore.Segment, withDeleted bool) string {
	type group struct {
		src  []string
		segs []coldstore.Segment
	}
	var order []*group
	byKey := map[string]*group{}
	for _, s := range segs {
		src := sourceColumns(t, s)
		key := strings.Join(src, "\x00")
		g := byKey[key]
		if g == nil {
			g = &group{src: src}
			byKey[key] = g
			order = append(order, g)
		}
		g.segs = append(g.segs, s)
	}
	parts := make([]string, len(order))
	for k, g := range order {
		var b strings.Builder
		b.WriteString("SELECT ")
		for i, c := range t.Columns {
			if i > 0 {
				b.WriteString(", ")
			}
			switch src := g.src[i]; {
			case src == "":
				b.WriteString(fillColumnSQL(c) + " AS " + duck.QuoteIdent(c.Name))
			case src == c.Name:
				b.WriteString(duck.QuoteIdent(c.Name))
			default:
				b.WriteString(duck.QuoteIdent(src) + " AS " + duck.QuoteIdent(c.Name))
			}
		}
		b.WriteString(", _seq")
		if withDeleted {
			b.WriteString(", _deleted")
		}
		b.WriteString(" FROM read_parquet(" + e.fileList(g.segs) + ", union_by_name=true)")
		parts[k] = b.String()
	}
	return strings.Join(parts, " UNION ALL ")
}

// sourceColumns names, for each current column of t, the column of segment
// s holding it ("" for none).
func sourceColumns(t *catalog.TableDef, s coldstore.Segment) []string {
	byID := len(s.ColumnIDs) == len(s.Columns) && len(s.ColumnIDs) > 0
	src := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		for j, name := range s.Columns {
			if (byID && s.ColumnIDs[j] == c.ID) || (!byID && strings.EqualFold(name, c.Name)) {
				src[i] = name
			}
		}
	}
	return src
}

// fileList renders segment paths as a DuckDB list literal.
func (e *Engine) fileList(segs []coldstore.Segment) string {
	parts := make([]string, len(segs))
	for i, s := range segs {
		parts[i] = duck.QuoteString(e.cold.Path(s))
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// removeOrphans deletes segment files no manifest lists (an interrupted
// flush or compaction); run once at start.
func (e *Engine) removeOrphans() error {
	keep := map[string]bool{}
	err := e.hot.MetaScan([]byte(metaManifestPrefix), func(_, v []byte) error {
		m, err := coldstore.UnmarshalManifest(v)
		if err != nil {
			return err
		}
		for _, s := range m.Segments {
			keep[s.File] = true
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("read manifests: %w", err)
	}
	removed, err := e.cold.RemoveOrphans(keep)
	if len(removed) > 0 {
		e.log.Info("removed orphan segment files", "count", len(removed))
	}
	return err
}

// dropTableSegments removes every segment and manifest of a dropped table.
func (e *Engine) dropTableSegments(storeID uint64) error {
	mans, err := e.tableManifests(storeID)
	if err != nil {
		return err
	}
	for user, m := range mans {
		if err := e.hot.MetaDelete([]byte(manifestKey(storeID, user))); err != nil {
			return err
		}
		e.retire(m.Segments)
	}
	return nil
}

// legacySegments reports whether any segment of the table was written
// without column IDs (before they were recorded), so that its columns can
// be matched by name only.
func (e *Engine) legacySegments(storeID uint64) (bool, error) {
	mans, err := e.tableManifests(storeID)
	if err != nil {
		return false, err
	}
	for _, m := range mans {
		for _, s := range m.Segments {
			if len(s.ColumnIDs) != len(s.Columns) || len(s.ColumnIDs) == 0 {
				return true, nil
			}
		}
	}
	return false, nil
}

// failpoint kills the process at a named point when the test hook asks for
// it (KALAMDB_FAILPOINT via Options.Failpoint): crash tests use it to stop a
// flush exactly between its steps.
func (e *Engine) failpoint(name string) {
	if e.opts.Failpoint != nil {
		e.opts.Failpoint(name)
	}
}

var errTableGone = errors.New("table no longer exists")
