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
// context go into the batch instead of the database, and its reads see the
// database with the batch applied on top (read your own writes). Commit
// applies every staged write in one synced batch, all or nothing even
// across a crash, after checking that no other writer changed a staged key
// since the transaction first wrote it (first committer wins).
//
// A Tx is used by one statement at a time; the caller serialises.
type Tx struct {
	s *Store
	b *pebble.Batch

	mu struct {
		sync.Mutex
		done bool
	}
	// observed is, per staged key, the committed _seq seen when the
	// transaction first wrote the key (0: absent).
	observed map[string]int64
	tables   map[uint64]struct{}
}

type txKey struct{}

// BeginTx starts a transaction.
func (s *Store) BeginTx() (*Tx, error) {
	if err := s.acquire(); err != nil {
		return nil, err
	}
	defer s.release()
	return &Tx{s: s, b: s.db.NewIndexedBatch(), observed: map[string]int64{}, tables: map[uint64]struct{}{}}, nil
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

// stage records each key's committed version (first write only) and adds
// the writes to the batch. vals(i) is key i's new value.
func (tx *Tx) stage(storeID uint64, n int, key func(int) []byte, val func(int) []byte) error {
	if tx.b.Len() > MaxTxBytes {
		return catalog.Errorf(catalog.KindResourceExhausted, "transaction too large: more than %d MiB of staged writes; commit in smaller transactions", MaxTxBytes>>20)
	}
	for i := 0; i < n; i++ {
		k := key(i)
		if _, ok := tx.observed[string(k)]; ok {
			continue
		}
		seq, err := committedSeq(tx.s.db, k)
		if err != nil {
			return err
		}
		tx.observed[string(k)] = seq
	}
	for i := 0; i < n; i++ {
		if err := tx.b.Set(key(i), val(i), nil); err != nil {
			return wrapStorage(err, "stage write")
		}
	}
	tx.tables[storeID] = struct{}{}
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

// Commit applies the staged writes atomically and durably. It fails with a
// KindConflict error, applying nothing, when another writer committed a
// newer version of a staged key after the transaction first wrote it. The
// transaction has ended either way.
func (tx *Tx) Commit(ctx context.Context) error {
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
	for k, seen := range tx.observed {
		now, err := committedSeq(tx.s.db, []byte(k))
		if err != nil {
			return err
		}
		if now > seen {
			return catalog.Errorf(catalog.KindConflict, "transaction aborted: a row it wrote was changed by another writer after the transaction first wrote it (write-write conflict); retry the transaction")
		}
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

// end marks the transaction ended; it fails if it already was.
func (tx *Tx) end() error {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	if tx.mu.done {
		return catalog.Errorf(catalog.KindFailedPrecondition, "the transaction has already ended")
	}
	tx.mu.done = true
	return nil
}

// String describes the transaction for logs.
func (tx *Tx) String() string {
	return fmt.Sprintf("hotstore tx (%d keys, %d bytes)", len(tx.observed), tx.b.Len())
}
