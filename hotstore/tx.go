package hotstore

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/cockroachdb/pebble/v2"

	"github.com/kalamdb/kalamdb-go/catalog"
)

// MaxTxBytes bounds the staged writes of one transaction.
const MaxTxBytes = 512 << 20

// Tx stages the writes of one transaction in a Pebble indexed batch. While
// a Tx is attached to a context (WithTx), the Store's writes with that
// context go into the batch instead of the database. Its row reads (Scan,
// ScanVersions, Lookup, CountLive) see one snapshot of the database, taken
// at the transaction's first read, with the batch applied on top (read your
// own writes); the duplicate-key checks of its inserts and deletes see the
// newest committed rows with the batch on top. Commit
// applies every staged write in one synced batch, all or nothing even
// across a crash, after checking that every staged key still holds the
// version the transaction's write was computed from (first committer wins
// on rows read-then-written): for UPDATE and DELETE the version the
// statement read, for INSERT the version present when the key was staged.
//
// A Tx is used by one statement at a time; the caller serialises.
type Tx struct {
	s *Store
	b *pebble.Batch

	mu struct {
		sync.Mutex
		done bool
		// snap is the snapshot the transaction reads (nil until its
		// first read); closed when the transaction ends.
		snap *pebble.Snapshot
	}
	// observed is, per staged key, the committed version the transaction's
	// first write of the key was computed from.
	observed map[string]txSeen
	tables   map[uint64]struct{}
	// parts are the partitions written; txSeen.part indexes it.
	parts   []Partition
	partIdx map[Partition]int
}

// txSeen is the committed version a staged key was computed from.
type txSeen struct {
	seq  int64 // _seq of the version (0: none)
	part int   // index in Tx.parts
}

// Partition names one partition of a table: its store id, and the user for
// per-user tables ("" for shared tables).
type Partition struct {
	StoreID uint64
	User    catalog.UserID
}

type txKey struct{}

// BeginTx starts a transaction.
func (s *Store) BeginTx() (*Tx, error) {
	if err := s.acquire(); err != nil {
		return nil, err
	}
	defer s.release()
	tx := &Tx{s: s, b: s.db.NewIndexedBatch(), observed: map[string]txSeen{}, tables: map[uint64]struct{}{},
		partIdx: map[Partition]int{}}
	s.mu.Lock()
	if s.txs == nil {
		s.txs = map[*Tx]struct{}{}
	}
	s.txs[tx] = struct{}{}
	s.mu.Unlock()
	return tx, nil
}

// snapshot returns the snapshot the transaction reads, taking it on the
// first call.
func (tx *Tx) snapshot() (*pebble.Snapshot, error) {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	if tx.mu.done {
		return nil, catalog.Errorf(catalog.KindFailedPrecondition, "the transaction has already ended")
	}
	if tx.mu.snap == nil {
		tx.mu.snap = tx.s.db.NewSnapshot()
	}
	return tx.mu.snap, nil
}

// view returns what ctx's row reads go through: the transaction's snapshot
// with its staged writes on top, or the database.
func (s *Store) view(ctx context.Context) (view, error) {
	tx, err := s.txFrom(ctx)
	if err != nil || tx == nil {
		return pebbleView{s.db}, err
	}
	snap, err := tx.snapshot()
	if err != nil {
		return nil, err
	}
	return txView{snap: snap, b: tx.b}, nil
}

// WithTx returns a context whose Store operations run inside tx.
func WithTx(ctx context.Context, tx *Tx) context.Context {
	if tx == nil {
		return ctx
	}
	return context.WithValue(ctx, txKey{}, tx)
}

// txFrom returns the transaction of ctx that belongs to s, if any.
func (s *Store) txFrom(ctx context.Context) (*Tx, error) {
	tx, _ := ctx.Value(txKey{}).(*Tx)
	if tx == nil || tx.s != s {
		return nil, nil
	}
	tx.mu.Lock()
	done := tx.mu.done
	tx.mu.Unlock()
	if done {
		return nil, catalog.Errorf(catalog.KindFailedPrecondition, "the transaction has already ended")
	}
	return tx, nil
}

// reader is what reads go through: the database, a snapshot of it, or a
// transaction's batch over it.
type reader interface {
	Get(key []byte) ([]byte, io.Closer, error)
	NewIterWithContext(ctx context.Context, o *pebble.IterOptions) (*pebble.Iterator, error)
}

// reader returns the reader for ctx: the transaction's batch when ctx
// carries a transaction of s, else the database.
func (s *Store) reader(ctx context.Context) (reader, error) {
	tx, err := s.txFrom(ctx)
	if err != nil {
		return nil, err
	}
	if tx != nil {
		return tx.b, nil
	}
	return s.db, nil
}

// Staged reports whether the transaction has written anything.
func (tx *Tx) Staged() bool { return len(tx.observed) > 0 }

// stage records, on a key's first write, the committed version the write
// was computed from — base[i] when given (the version the statement read),
// else the version committed now — and adds the writes to the batch.
// val(i) is key i's new value.
func (tx *Tx) stage(t *catalog.TableDef, user catalog.UserID, n int, key func(int) []byte, val func(int) []byte, base []int64) error {
	if tx.b.Len() > MaxTxBytes {
		return catalog.Errorf(catalog.KindResourceExhausted, "transaction too large: more than %d MiB of staged writes; commit in smaller transactions", MaxTxBytes>>20)
	}
	if !t.Type.PerUser() {
		user = ""
	}
	p := Partition{StoreID: t.StoreID, User: user}
	part, ok := tx.partIdx[p]
	if !ok {
		part = len(tx.parts)
		tx.parts = append(tx.parts, p)
		tx.partIdx[p] = part
	}
	for i := 0; i < n; i++ {
		k := key(i)
		if _, ok := tx.observed[string(k)]; ok {
			continue
		}
		var seq int64
		if base != nil {
			seq = base[i]
		} else {
			var err error
			if seq, err = committedSeq(tx.s.db, k); err != nil {
				return err
			}
		}
		tx.observed[string(k)] = txSeen{seq: seq, part: part}
	}
	for i := 0; i < n; i++ {
		if err := tx.b.Set(key(i), val(i), nil); err != nil {
			return wrapStorage(err, "stage write")
		}
	}
	tx.tables[t.StoreID] = struct{}{}
	return nil
}

// committedSeq is the _seq of key's committed version (0 when absent).
func committedSeq(r reader, key []byte) (int64, error) {
	v, closer, err := r.Get(key)
	if err == pebble.ErrNotFound {
		return 0, nil
	}
	if err != nil {
		return 0, wrapStorage(err, "get")
	}
	defer closer.Close()
	if len(v) < headerLen {
		return 0, errCorrupt("value of %d bytes", len(v))
	}
	return int64(binary.LittleEndian.Uint64(v[1:9])), nil
}

// Commit is CommitIf with no cold tier to consult.
func (tx *Tx) Commit(ctx context.Context) error { return tx.CommitIf(ctx, nil) }

// CommitIf applies the staged writes atomically and durably. It fails with
// a KindConflict error wrapping ErrConflict, applying nothing, when a staged
// key no longer holds the committed version its first write was computed
// from: another writer committed a newer version (or tombstone) meanwhile.
// A key with no hot version at commit passes only if coldChanged reports its
// partition's cold tier unchanged since the transaction read it (the version
// it read then is still the newest, in the cold tier); nil coldChanged means
// no cold tier. The caller holds off flushes and compactions of the written
// partitions across the call. The transaction has ended either way.
func (tx *Tx) CommitIf(ctx context.Context, coldChanged func(Partition) bool) error {
	if err := tx.end(); err != nil {
		return err
	}
	defer tx.b.Close()
	if len(tx.observed) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := tx.s.acquire(); err != nil {
		return err
	}
	defer tx.s.release()
	// Lock the written tables in a fixed order so that commits, inserts
	// and upserts of the same tables linearise without deadlock.
	ids := make([]uint64, 0, len(tx.tables))
	for id := range tx.tables {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		mu := tx.s.tableLock(id)
		mu.Lock()
		defer mu.Unlock()
	}
	changed := make([]bool, len(tx.parts))
	if coldChanged != nil {
		for i, p := range tx.parts {
			changed[i] = coldChanged(p)
		}
	}
	for k, seen := range tx.observed {
		now, err := committedSeq(tx.s.db, []byte(k))
		if err != nil {
			return err
		}
		if now == seen.seq && now != 0 {
			continue
		}
		if now == 0 && !changed[seen.part] {
			continue // no hot version; the cold one it saw is still the newest
		}
		return errConflict("transaction aborted: a row it wrote was changed by another writer after the transaction read it; retry the transaction")
	}
	return wrapStorage(tx.b.Commit(pebble.Sync), "commit")
}

// Rollback discards the staged writes. Rolling back an ended transaction
// does nothing.
func (tx *Tx) Rollback() {
	if tx.end() == nil {
		_ = tx.b.Close()
	}
}

// end marks the transaction ended and releases its snapshot; it fails if
// the transaction already was ended.
func (tx *Tx) end() error {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	if tx.mu.done {
		return catalog.Errorf(catalog.KindFailedPrecondition, "the transaction has already ended")
	}
	tx.mu.done = true
	if tx.mu.snap != nil {
		_ = tx.mu.snap.Close() // only reports a closed database, which Close prevents
		tx.mu.snap = nil
	}
	tx.s.mu.Lock()
	delete(tx.s.txs, tx)
	tx.s.mu.Unlock()
	return nil
}

// String describes the transaction for logs.
func (tx *Tx) String() string {
	return fmt.Sprintf("hotstore tx (%d keys, %d bytes)", len(tx.observed), tx.b.Len())
}
