package hotstore

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/cockroachdb/pebble/v2"

	"github.com/kalamdb/kalamdb-go/catalog"
)

// AppendKey appends the row-key encoding of pks[i] (a primary-key value,
// not NULL) to dst. Two key values name the same row exactly when their
// encodings are equal.
func AppendKey(dst []byte, pks arrow.Array, i int) ([]byte, error) {
	return appendPK(dst, pks, i)
}

// MoveVersions writes the new versions of an UPDATE that may change primary
// keys, all or nothing in one synced batch: row i of rec, under its new key,
// replaces the row whose key was old[i] and whose version the statement
// read was base[i] (the _seq of the version row i was computed from). seqs
// are the new versions' _seq values, tombSeqs[i] the _seq of the tombstone
// written for old[i] when no row of rec moves to that key.
//
// It fails with an error wrapping ErrDuplicateKey, writing nothing, when two
// rows of rec have the same new key, or when a new key that is not one of
// the old keys holds a live hot row. A new key that is one of the old keys
// (a row moving into the place another row of the same statement left, or a
// row keeping its key) and every old key are checked like UpsertVersions:
// the stored version must still be the one read, or have no hot version.
// A new key with no hot version may still be live in a colder tier; the
// caller checks that, holding off flushes across the call. Inside a
// transaction (WithTx) the writes are staged: the versions read are checked
// at commit, and each new key's version when staged (as Insert stages).
func (s *Store) MoveVersions(ctx context.Context, t *catalog.TableDef, user catalog.UserID, rec arrow.RecordBatch, seqs []int64,
	old arrow.Array, base, tombSeqs []int64) error {
	if err := s.begin(ctx, t, user); err != nil {
		return err
	}
	defer s.release()
	if t.PrimaryKeyIndex() < 0 {
		return catalog.Errorf(catalog.KindInvalid, "hotstore: %s: moving rows needs a primary key", t.ID)
	}
	if err := checkKeys(t, old); err != nil {
		return err
	}
	rows, err := encodeRows(t, user, rec, seqs)
	if err != nil {
		return err
	}
	n := len(rows.keyEnd)
	if old.Len() != n || len(base) != n || len(tombSeqs) != n {
		return catalog.Errorf(catalog.KindInvalid, "hotstore: %s: %d rows but %d old keys, %d base versions, %d tombstone _seq values",
			t.ID, n, old.Len(), len(base), len(tombSeqs))
	}
	if n == 0 {
		return nil
	}
	w, err := planMove(t, user, rec, seqs, rows, old, base, tombSeqs)
	if err != nil {
		return err
	}
	tx, err := s.txFrom(ctx)
	if err != nil {
		return err
	}
	if tx != nil {
		if err := w.noLiveFresh(tx.b, t, rec, seqs); err != nil {
			return err
		}
		if err := tx.stage(t, user, len(w.fresh), w.freshKey, w.freshVal, nil); err != nil {
			return err
		}
		return tx.stage(t, user, len(w.based), w.basedKey, w.basedVal, w.baseSeqs)
	}
	b := s.db.NewBatchWithSize(len(rows.keys) + len(rows.vals) + 2*n*8)
	defer b.Close()
	for i := range w.fresh {
		if err := b.Set(w.freshKey(i), w.freshVal(i), nil); err != nil {
			return wrapStorage(err, "move")
		}
	}
	for i := range w.based {
		if err := b.Set(w.basedKey(i), w.basedVal(i), nil); err != nil {
			return wrapStorage(err, "move")
		}
	}
	mu := s.tableLock(t.StoreID)
	mu.Lock()
	defer mu.Unlock()
	// Versions read first: a statement that lost a race is retried from a
	// fresh read, which may then find no duplicate.
	if err := unchanged(s.db, t, len(w.based), w.basedKey, w.baseSeqs); err != nil {
		return err
	}
	if err := w.noLiveFresh(s.db, t, rec, seqs); err != nil {
		return err
	}
	return wrapStorage(b.Commit(pebble.Sync), "move")
}

// moveWrite is the plan of a MoveVersions: fresh entries write a new key no
// row of the statement held (it must hold no live row), based entries write
// a key the statement read (it must still hold the version read).
type moveWrite struct {
	rows *encodedRows // the new rows of rec
	// fresh are the rows of rec whose new key no row of the statement held.
	fresh []int
	// based are the entries over keys the statement read: a row of rec
	// moving into (or keeping) a key read, or a tombstone for a key read
	// that no row moves into; baseSeqs[i] is the version read there.
	based    []movedEntry
	baseSeqs []int64
	oldKeys  *encodedRows // the old keys (no values)
	tombSeqs []int64
	tomb     []byte // scratch for basedVal
}

// movedEntry is a based entry: row >= 0 writes row of rec at its new key;
// row < 0 writes a tombstone at old key -row-1.
type movedEntry struct{ row int }

func (w *moveWrite) freshKey(i int) []byte { return w.rows.key(w.fresh[i]) }
func (w *moveWrite) freshVal(i int) []byte { return w.rows.val(w.fresh[i]) }

func (w *moveWrite) basedKey(i int) []byte {
	if r := w.based[i].row; r >= 0 {
		return w.rows.key(r)
	}
	return w.oldKeys.key(-w.based[i].row - 1)
}

func (w *moveWrite) basedVal(i int) []byte {
	if r := w.based[i].row; r >= 0 {
		return w.rows.val(r)
	}
	j := -w.based[i].row - 1
	w.tomb = appendTombstone(w.tomb[:0], w.tombSeqs[j])
	return w.tomb
}

// noLiveFresh fails with a duplicate-key error when r holds a live row at
// a fresh key.
func (w *moveWrite) noLiveFresh(r reader, t *catalog.TableDef, rec arrow.RecordBatch, seqs []int64) error {
	for _, row := range w.fresh {
		live, err := isLive(r, w.rows.key(row))
		if err != nil {
			return err
		}
		if live {
			return errDuplicate(pkString(t, rec, seqs, row), t)
		}
	}
	return nil
}

// planMove sorts the writes of a MoveVersions into fresh and based entries,
// refusing two rows with the same new key.
func planMove(t *catalog.TableDef, user catalog.UserID, rec arrow.RecordBatch, seqs []int64, rows *encodedRows,
	old arrow.Array, base, tombSeqs []int64) (*moveWrite, error) {
	n := len(rows.keyEnd)
	prefix := partitionPrefix(nil, t, user)
	oldKeys := &encodedRows{keyEnd: make([]int, n)}
	oldAt := make(map[string]int, n)
	var err error
	for j := 0; j < n; j++ {
		oldKeys.keys = append(oldKeys.keys, prefix...)
		if oldKeys.keys, err = appendPK(oldKeys.keys, old, j); err != nil {
			return nil, err
		}
		oldKeys.keyEnd[j] = len(oldKeys.keys)
		oldAt[string(oldKeys.key(j))] = j
	}
	w := &moveWrite{rows: rows, oldKeys: oldKeys, tombSeqs: tombSeqs}
	newAt := make(map[string]struct{}, n)
	for i := 0; i < n; i++ {
		k := rows.key(i)
		if _, dup := newAt[string(k)]; dup {
			return nil, errDuplicate(pkString(t, rec, seqs, i), t)
		}
		newAt[string(k)] = struct{}{}
		if j, ok := oldAt[string(k)]; ok {
			w.based = append(w.based, movedEntry{row: i})
			w.baseSeqs = append(w.baseSeqs, base[j])
		} else {
			w.fresh = append(w.fresh, i)
		}
	}
	for j := 0; j < n; j++ {
		if _, ok := newAt[string(oldKeys.key(j))]; !ok {
			w.based = append(w.based, movedEntry{row: -j - 1})
			w.baseSeqs = append(w.baseSeqs, base[j])
		}
	}
	return w, nil
}
