package hotstore

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/kalamdb/kalamdb-go/catalog"
)

// Default option values.
const (
	DefaultCacheSize    int64  = 64 << 20
	DefaultMemTableSize uint64 = 64 << 20
	DefaultBatchRows           = 65536
)

// Options configures a Store. The zero value is usable.
type Options struct {
	// CacheSize is the size in bytes of Pebble's block cache (default 64 MiB).
	// Pebble charges memtable memory to its cache, so the cache is created
	// with room for two memtables on top of CacheSize.
	CacheSize int64
	// MemTableSize is the size in bytes of one Pebble memtable (default 64 MiB).
	MemTableSize uint64
	// Logger receives Pebble's log output; nil discards it.
	Logger *slog.Logger
}

// EnsureDefaults fills zero fields with their default values.
func (o *Options) EnsureDefaults() {
	if o.CacheSize <= 0 {
		o.CacheSize = DefaultCacheSize
	}
	if o.MemTableSize == 0 {
		o.MemTableSize = DefaultMemTableSize
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// pebbleLogger adapts *slog.Logger to pebble.Logger. Pebble's informational
// messages are logged at debug level.
type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) {
	p.l.Debug(fmt.Sprintf(format, args...), "component", "pebble")
}

func (p pebbleLogger) Errorf(format string, args ...any) {
	p.l.Error(fmt.Sprintf(format, args...), "component", "pebble")
}

func (p pebbleLogger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	p.l.Error(msg, "component", "pebble", "fatal", true)
	panic("pebble: " + msg)
}

// Store is the hot tier: one Pebble database holding the latest version of
// every row of every table plus a small metadata key/value space. A Store is
// safe for concurrent use.
type Store struct {
	db *pebble.DB

	// lifecycle: every operation registers itself in active so Close can
	// wait for in-flight operations; operations started after Close fail.
	mu     sync.Mutex
	cond   *sync.Cond
	closed bool
	active int

	// txs are the open transactions (guarded by mu), ended by Close so
	// that their snapshots do not outlive the database.
	txs map[*Tx]struct{}

	// tableLocks serialises check-then-write per table (StoreID -> *sync.Mutex).
	tableLocks sync.Map
}

// Open opens (creating if needed) the hot store in dir.
func Open(dir string, opts Options) (*Store, error) {
	opts.EnsureDefaults()
	// Pebble charges memtables (the mutable one plus one being flushed)
	// against the block cache, so size it to leave CacheSize for blocks.
	cache := pebble.NewCache(opts.CacheSize + 2*int64(opts.MemTableSize))
	defer cache.Unref()
	po := &pebble.Options{
		Cache:              cache,
		MemTableSize:       opts.MemTableSize,
		Logger:             pebbleLogger{opts.Logger},
		FormatMajorVersion: pebble.FormatNewest,
	}
	// Read sampling only schedules read-triggered compactions, which the
	// hot tier does not need; skipping it makes iteration cheaper.
	po.Experimental.ReadSamplingMultiplier = -1
	for i := range po.Levels {
		// Bloom filters make Insert's duplicate check cheap for new keys.
		po.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
		// 32 KiB blocks (as in CockroachDB) make partition scans, the main
		// read path, much faster than the 4 KiB default: fewer block
		// reads and cache entries per row.
		po.Levels[i].BlockSize = 32 << 10
	}
	po.EnsureDefaults()
	db, err := pebble.Open(dir, po)
	if err != nil {
		return nil, wrapStorage(err, "open "+dir)
	}
	s := &Store{db: db}
	s.cond = sync.NewCond(&s.mu)
	return s, nil
}

// Close waits for in-flight operations and closes the database. It is
// idempotent; operations started afterwards fail with ErrClosed.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	for s.active > 0 {
		s.cond.Wait()
	}
	open := make([]*Tx, 0, len(s.txs))
	for tx := range s.txs {
		open = append(open, tx)
	}
	s.mu.Unlock()
	for _, tx := range open {
		tx.Rollback()
	}
	return wrapStorage(s.db.Close(), "close")
}

// acquire registers an in-flight operation.
func (s *Store) acquire() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errClosed()
	}
	s.active++
	return nil
}

func (s *Store) release() {
	s.mu.Lock()
	s.active--
	if s.active == 0 && s.closed {
		s.cond.Broadcast()
	}
	s.mu.Unlock()
}

// tableLock returns the check-then-write mutex of a table.
func (s *Store) tableLock(storeID uint64) *sync.Mutex {
	if m, ok := s.tableLocks.Load(storeID); ok {
		return m.(*sync.Mutex)
	}
	m, _ := s.tableLocks.LoadOrStore(storeID, new(sync.Mutex))
	return m.(*sync.Mutex)
}

// begin runs the common prologue of a table operation.
func (s *Store) begin(ctx context.Context, t *catalog.TableDef, user catalog.UserID) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if t == nil {
		return catalog.Errorf(catalog.KindInvalid, "hotstore: nil table definition")
	}
	if t.Type.PerUser() {
		if err := validUser(user); err != nil {
			return err
		}
	}
	return s.acquire()
}

// encodedRows holds the keys and values of a write, in one arena each.
type encodedRows struct {
	keys, vals     []byte
	keyEnd, valEnd []int
}

func (e *encodedRows) key(i int) []byte {
	start := 0
	if i > 0 {
		start = e.keyEnd[i-1]
	}
	return e.keys[start:e.keyEnd[i]]
}

func (e *encodedRows) val(i int) []byte {
	start := 0
	if i > 0 {
		start = e.valEnd[i-1]
	}
	return e.vals[start:e.valEnd[i]]
}

// encodeRows encodes the key and value of every row of rec.
func encodeRows(t *catalog.TableDef, user catalog.UserID, rec arrow.RecordBatch, seqs []int64) (*encodedRows, error) {
	if err := checkRecord(t, rec, seqs); err != nil {
		return nil, err
	}
	n := int(rec.NumRows())
	prefix := partitionPrefix(nil, t, user)
	pk := t.PrimaryKeyIndex()
	var pkArr arrow.Array
	if pk >= 0 {
		pkArr = rec.Column(pk)
	}
	enc := newRowEncoder(t, rec)
	out := &encodedRows{
		keys:   make([]byte, 0, n*(len(prefix)+16)),
		vals:   make([]byte, 0, n*32),
		keyEnd: make([]int, n),
		valEnd: make([]int, n),
	}
	var err error
	for i := 0; i < n; i++ {
		out.keys = append(out.keys, prefix...)
		if pkArr != nil {
			if out.keys, err = appendPK(out.keys, pkArr, i); err != nil {
				return nil, err
			}
		} else {
			out.keys = appendOrderedInt64(out.keys, seqs[i])
		}
		out.keyEnd[i] = len(out.keys)
		out.vals = enc.encode(out.vals, i, seqs[i])
		out.valEnd[i] = len(out.vals)
	}
	return out, nil
}

// pkString renders row i's primary key for error messages.
func pkString(t *catalog.TableDef, rec arrow.RecordBatch, seqs []int64, i int) string {
	if pk := t.PrimaryKeyIndex(); pk >= 0 {
		return rec.Column(pk).ValueStr(i)
	}
	return fmt.Sprintf("_seq=%d", seqs[i])
}

// Insert writes new rows, all or nothing, in one synced Pebble batch. rec
// must have exactly the table's user columns (t.UserSchema() order and
// types) and seqs[i] is row i's _seq. Insert fails with an error wrapping
// ErrDuplicateKey, writing nothing, if any primary key already has a live
// (non-tombstone) row in the hot store or repeats within rec. For tables
// without a primary key the key is the _seq, which must then be unique.
func (s *Store) Insert(ctx context.Context, t *catalog.TableDef, user catalog.UserID, rec arrow.RecordBatch, seqs []int64) error {
	if err := s.begin(ctx, t, user); err != nil {
		return err
	}
	defer s.release()
	rows, err := encodeRows(t, user, rec, seqs)
	if err != nil {
		return err
	}
	n := len(rows.keyEnd)
	if n == 0 {
		return nil
	}
	if n > 1 {
		seen := make(map[string]struct{}, n)
		for i := 0; i < n; i++ {
			k := rows.key(i)
			if _, dup := seen[string(k)]; dup {
				return errDuplicate(pkString(t, rec, seqs, i), t)
			}
			seen[string(k)] = struct{}{}
		}
	}
	tx, err := s.txFrom(ctx)
	if err != nil {
		return err
	}
	if tx != nil {
		if err := noLiveRows(tx.b, t, rec, seqs, rows); err != nil {
			return err
		}
		return tx.stage(t, user, n, rows.key, rows.val, nil)
	}
	b := s.db.NewBatchWithSize(len(rows.keys) + len(rows.vals) + n*8)
	defer b.Close()
	for i := 0; i < n; i++ {
		if err := b.Set(rows.key(i), rows.val(i), nil); err != nil {
			return wrapStorage(err, "insert")
		}
	}
	mu := s.tableLock(t.StoreID)
	mu.Lock()
	defer mu.Unlock()
	if err := noLiveRows(s.db, t, rec, seqs, rows); err != nil {
		return err
	}
	return wrapStorage(b.Commit(pebble.Sync), "insert")
}

// noLiveRows fails with a duplicate-key error when r holds a live row for
// any of the rows' keys.
func noLiveRows(r reader, t *catalog.TableDef, rec arrow.RecordBatch, seqs []int64, rows *encodedRows) error {
	for i := range rows.keyEnd {
		live, err := isLive(r, rows.key(i))
		if err != nil {
			return err
		}
		if live {
			return errDuplicate(pkString(t, rec, seqs, i), t)
		}
	}
	return nil
}

// isLive reports whether key holds a live (non-tombstone) row.
func isLive(r reader, key []byte) (bool, error) {
	v, closer, err := r.Get(key)
	if err == pebble.ErrNotFound {
		return false, nil
	}
	if err != nil {
		return false, wrapStorage(err, "get")
	}
	live := !isTombstone(v)
	closer.Close()
	return live, nil
}

// Upsert writes new row versions unconditionally, in one synced batch. rec
// and seqs are as for Insert. UPDATE uses UpsertVersions, which refuses to
// overwrite a version the statement did not read.
func (s *Store) Upsert(ctx context.Context, t *catalog.TableDef, user catalog.UserID, rec arrow.RecordBatch, seqs []int64) error {
	return s.upsert(ctx, t, user, rec, seqs, nil)
}

// upsert writes new row versions; with base, only if every key's stored
// version is still base[i] (see UpsertVersions).
func (s *Store) upsert(ctx context.Context, t *catalog.TableDef, user catalog.UserID, rec arrow.RecordBatch, seqs, base []int64) error {
	if err := s.begin(ctx, t, user); err != nil {
		return err
	}
	defer s.release()
	rows, err := encodeRows(t, user, rec, seqs)
	if err != nil {
		return err
	}
	n := len(rows.keyEnd)
	if n == 0 {
		return nil
	}
	tx, err := s.txFrom(ctx)
	if err != nil {
		return err
	}
	if base != nil && len(base) != n {
		return catalog.Errorf(catalog.KindInvalid, "hotstore: %s: %d rows but %d base versions", t.ID, n, len(base))
	}
	if tx != nil {
		return tx.stage(t, user, n, rows.key, rows.val, base)
	}
	b := s.db.NewBatchWithSize(len(rows.keys) + len(rows.vals) + n*8)
	defer b.Close()
	for i := 0; i < n; i++ {
		if err := b.Set(rows.key(i), rows.val(i), nil); err != nil {
			return wrapStorage(err, "upsert")
		}
	}
	// Taken so that Upsert linearises with Insert's check-then-write and
	// with other writers' version checks.
	mu := s.tableLock(t.StoreID)
	mu.Lock()
	defer mu.Unlock()
	if err := unchanged(s.db, t, n, rows.key, base); err != nil {
		return err
	}
	return wrapStorage(b.Commit(pebble.Sync), "upsert")
}

// checkKeys checks that pks has the key type of t (the primary-key
// column's type, or Int64 _seq values for tables without a primary key).
func checkKeys(t *catalog.TableDef, pks arrow.Array) error {
	if pks == nil {
		return catalog.Errorf(catalog.KindInvalid, "hotstore: nil key array")
	}
	want, _ := keyType(t)
	if !arrow.TypeEqual(want, pks.DataType()) {
		return catalog.Errorf(catalog.KindInvalid, "hotstore: %s: key array has type %s, want %s", t.ID, pks.DataType(), want)
	}
	return nil
}

// Delete writes tombstone versions (flags deleted, no columns) for the
// given keys in one synced batch: pks is an Arrow array of the primary-key
// column's type, or an Int64 array of _seq values for tables without a
// primary key; seqs[i] is the _seq of key i's tombstone. Tombstones are
// written for every key, so that copies of the row already flushed to a
// colder tier are masked too. It returns the number of keys that had a live
// row in the hot store.
func (s *Store) Delete(ctx context.Context, t *catalog.TableDef, user catalog.UserID, pks arrow.Array, seqs []int64) (int64, error) {
	return s.delete(ctx, t, user, pks, seqs, nil)
}

// delete writes tombstones; with base, only if every key's stored version
// is still base[i] (see DeleteVersions).
func (s *Store) delete(ctx context.Context, t *catalog.TableDef, user catalog.UserID, pks arrow.Array, seqs, base []int64) (int64, error) {
	if err := s.begin(ctx, t, user); err != nil {
		return 0, err
	}
	defer s.release()
	if err := checkKeys(t, pks); err != nil {
		return 0, err
	}
	n := pks.Len()
	if len(seqs) != n {
		return 0, catalog.Errorf(catalog.KindInvalid, "hotstore: %s: %d keys but %d _seq values", t.ID, n, len(seqs))
	}
	if n == 0 {
		return 0, nil
	}
	if base != nil && len(base) != n {
		return 0, catalog.Errorf(catalog.KindInvalid, "hotstore: %s: %d keys but %d base versions", t.ID, n, len(base))
	}
	prefix := partitionPrefix(nil, t, user)
	keys := make([]byte, 0, n*(len(prefix)+16))
	ends := make([]int, n)
	var err error
	for i := 0; i < n; i++ {
		keys = append(keys, prefix...)
		if keys, err = appendPK(keys, pks, i); err != nil {
			return 0, err
		}
		ends[i] = len(keys)
	}
	key := func(i int) []byte {
		if i == 0 {
			return keys[:ends[0]]
		}
		return keys[ends[i-1]:ends[i]]
	}
	var val []byte
	tomb := func(i int) []byte {
		val = appendTombstone(val[:0], seqs[i])
		return val
	}
	// countLive counts the distinct keys with a live row in r.
	countLive := func(r reader) (int64, error) {
		var count int64
		seen := make(map[string]struct{})
		for i := 0; i < n; i++ {
			k := key(i)
			if _, dup := seen[string(k)]; dup {
				continue
			}
			seen[string(k)] = struct{}{}
			live, err := isLive(r, k)
			if err != nil {
				return 0, err
			}
			if live {
				count++
			}
		}
		return count, nil
	}
	tx, err := s.txFrom(ctx)
	if err != nil {
		return 0, err
	}
	if tx != nil {
		count, err := countLive(tx.b)
		if err != nil {
			return 0, err
		}
		return count, tx.stage(t, user, n, key, tomb, base)
	}
	b := s.db.NewBatch()
	defer b.Close()
	for i := 0; i < n; i++ {
		if err := b.Set(key(i), tomb(i), nil); err != nil {
			return 0, wrapStorage(err, "delete")
		}
	}
	mu := s.tableLock(t.StoreID)
	mu.Lock()
	defer mu.Unlock()
	if err := unchanged(s.db, t, n, key, base); err != nil {
		return 0, err
	}
	count, err := countLive(s.db)
	if err != nil {
		return 0, err
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return 0, wrapStorage(err, "delete")
	}
	return count, nil
}

// ScanOptions configures Scan.
type ScanOptions struct {
	// BatchRows is the maximum number of rows per batch (default 65536).
	BatchRows int
	// Alloc allocates the batches' buffers (nil = memory.DefaultAllocator).
	Alloc memory.Allocator
}

// Scan streams the live rows (tombstones skipped) of one partition of t in
// key (primary-key) order as record batches with schema t.ArrowSchema()
// (user columns then _seq), at most opts.BatchRows rows each. For shared
// tables user is ignored. fn does not own the batch: it is released after
// fn returns, so fn must Retain it to keep it. Scan reads a consistent
// snapshot, stops at the first error returned by fn, and honours ctx
// cancellation between batches.
func (s *Store) Scan(ctx context.Context, t *catalog.TableDef, user catalog.UserID, opts ScanOptions, fn func(arrow.RecordBatch) error) error {
	if err := s.begin(ctx, t, user); err != nil {
		return err
	}
	defer s.release()
	batchRows := opts.BatchRows
	if batchRows <= 0 {
		batchRows = DefaultBatchRows
	}
	dec, err := newRowDecoder(t, t.ArrowSchema(), opts.Alloc)
	if err != nil {
		return err
	}
	defer dec.release()
	return s.scanLoop(ctx, t, user, batchRows, dec, "scan", nil, nil, fn)
}

// scanLoop iterates one partition in key order, decoding values into
// batches of at most batchRows rows. row, when set, is called with each
// key and value the decoder appended; finish, when set, turns the decoder's
// batch into what fn receives (and owns both). The caller has called begin.
func (s *Store) scanLoop(ctx context.Context, t *catalog.TableDef, user catalog.UserID, batchRows int, dec *rowDecoder, op string,
	row func(key, val []byte) error, finish func(arrow.RecordBatch) arrow.RecordBatch, fn func(arrow.RecordBatch) error) error {
	lower := partitionPrefix(nil, t, user)
	r, err := s.view(ctx)
	if err != nil {
		return err
	}
	iter, err := r.iter(ctx, lower, prefixSuccessor(lower))
	if err != nil {
		return wrapStorage(err, op)
	}
	defer iter.Close()
	emit := func() error {
		rec := dec.finish()
		if finish != nil {
			out := finish(rec)
			rec.Release()
			rec = out
		}
		defer rec.Release()
		if err := fn(rec); err != nil {
			return err
		}
		return ctx.Err()
	}
	dec.reserve(batchRows)
	for valid := iter.First(); valid; valid = iter.Next() {
		v, err := iter.ValueAndErr()
		if err != nil {
			return wrapStorage(err, op)
		}
		appended, err := dec.decode(v)
		if err != nil {
			return err
		}
		if appended && row != nil {
			if err := row(iter.Key()[len(lower):], v); err != nil {
				return err
			}
		}
		if dec.rows == batchRows {
			if err := emit(); err != nil {
				return err
			}
			dec.reserve(batchRows)
		}
	}
	if err := iter.Error(); err != nil {
		return wrapStorage(err, op)
	}
	if dec.rows > 0 {
		return emit()
	}
	return nil
}

// Lookup returns the live rows for the given keys (same key types as
// Delete) as one batch with schema t.ArrowSchema(), in the order of pks;
// the caller releases it. Missing and tombstoned keys are absent and
// repeated keys appear once.
func (s *Store) Lookup(ctx context.Context, t *catalog.TableDef, user catalog.UserID, pks arrow.Array, alloc memory.Allocator) (arrow.RecordBatch, error) {
	if err := s.begin(ctx, t, user); err != nil {
		return nil, err
	}
	defer s.release()
	if err := checkKeys(t, pks); err != nil {
		return nil, err
	}
	dec, err := newRowDecoder(t, t.ArrowSchema(), alloc)
	if err != nil {
		return nil, err
	}
	defer dec.release()
	n := pks.Len()
	dec.reserve(n)
	r, err := s.view(ctx)
	if err != nil {
		return nil, err
	}
	if r == view(pebbleView{s.db}) {
		snap := s.db.NewSnapshot()
		defer snap.Close()
		r = pebbleView{snap}
	}
	prefix := partitionPrefix(nil, t, user)
	key := make([]byte, 0, len(prefix)+32)
	var seen map[string]struct{}
	if n > 1 {
		seen = make(map[string]struct{}, n)
	}
	for i := 0; i < n; i++ {
		if i&1023 == 1023 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		if key, err = appendPK(append(key[:0], prefix...), pks, i); err != nil {
			return nil, err
		}
		if seen != nil {
			if _, dup := seen[string(key)]; dup {
				continue
			}
			seen[string(key)] = struct{}{}
		}
		v, closer, err := r.Get(key)
		if err == pebble.ErrNotFound {
			continue
		}
		if err != nil {
			return nil, wrapStorage(err, "lookup")
		}
		_, err = dec.decode(v)
		closer.Close()
		if err != nil {
			return nil, err
		}
	}
	return dec.finish(), nil
}

// CountLive counts the live rows of one partition of t (for statistics).
func (s *Store) CountLive(ctx context.Context, t *catalog.TableDef, user catalog.UserID) (int64, error) {
	if err := s.begin(ctx, t, user); err != nil {
		return 0, err
	}
	defer s.release()
	lower := partitionPrefix(nil, t, user)
	r, err := s.view(ctx)
	if err != nil {
		return 0, err
	}
	iter, err := r.iter(ctx, lower, prefixSuccessor(lower))
	if err != nil {
		return 0, wrapStorage(err, "count")
	}
	defer iter.Close()
	var n int64
	for valid := iter.First(); valid; valid = iter.Next() {
		v, err := iter.ValueAndErr()
		if err != nil {
			return 0, wrapStorage(err, "count")
		}
		if !isTombstone(v) {
			n++
		}
		if n&0xFFFF == 0 {
			if err := ctx.Err(); err != nil {
				return 0, err
			}
		}
	}
	return n, wrapStorage(iter.Error(), "count")
}

// DropTable deletes every row key of the table (all partitions) with one
// synced range deletion.
func (s *Store) DropTable(ctx context.Context, storeID uint64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.acquire(); err != nil {
		return err
	}
	defer s.release()
	mu := s.tableLock(storeID)
	mu.Lock()
	defer mu.Unlock()
	lower, upper := tableBounds(storeID)
	return wrapStorage(s.db.DeleteRange(lower, upper, pebble.Sync), "drop table")
}

// Partitions lists, in ascending order, the user ids having at least one
// key (live or tombstone) in a per-user table, for flush jobs. For shared
// tables it returns [""].
func (s *Store) Partitions(ctx context.Context, t *catalog.TableDef) ([]catalog.UserID, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if t == nil {
		return nil, catalog.Errorf(catalog.KindInvalid, "hotstore: nil table definition")
	}
	if !t.Type.PerUser() {
		return []catalog.UserID{""}, nil
	}
	if err := s.acquire(); err != nil {
		return nil, err
	}
	defer s.release()
	lower, upper := tableBounds(t.StoreID)
	iter, err := s.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return nil, wrapStorage(err, "partitions")
	}
	defer iter.Close()
	var users []catalog.UserID
	var seek []byte
	for valid := iter.First(); valid; {
		u, err := userOfKey(iter.Key(), t.StoreID)
		if err != nil {
			return nil, err
		}
		users = append(users, catalog.UserID(u))
		// Skip the rest of this partition: user | 0x00 | ... < user | 0x01.
		seek = append(append(append(seek[:0], lower...), u...), 0x01)
		valid = iter.SeekGE(seek)
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	return users, wrapStorage(iter.Error(), "partitions")
}

// flush flushes the memtable to sstables (tests and benchmarks).
func (s *Store) flush() error { return s.db.Flush() }

var _ io.Closer = (*Store)(nil)
