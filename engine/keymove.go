//go:build duckdb_arrow

package engine

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/kalamdb/kalamdb-go/catalog"
	"github.com/kalamdb/kalamdb-go/hotstore"
)

// An UPDATE that assigns the primary key moves rows, as DuckDB's UPDATE of
// a PRIMARY KEY column does: the old keys of all matched rows are deleted
// and the new rows inserted, so a row may move into a key another row of
// the same statement leaves (a swap, or SET id = id + 1 over consecutive
// keys), while a new key held by a row the statement does not move, or two
// rows moving to one key, fail the whole statement with a duplicate-key
// error, as INSERT reports it. The tombstones of the old keys and the new
// rows are one versioned write (hotstore.MoveVersions): the versions read
// are checked as for any UPDATE, and the new keys' absence in the same step.

// oldKeyColumn names the column of updateSQL's result holding each row's
// primary key before the UPDATE.
const oldKeyColumn = "__kdb_old_key"

// oldKeys collects the old primary keys (the column after _seq) of an
// UPDATE's result batches.
func oldKeys(t *catalog.TableDef, recs []arrow.RecordBatch) (arrow.Array, error) {
	want := t.Columns[t.PrimaryKeyIndex()].Type.ArrowType()
	idx := len(t.Columns) + 1
	parts := make([]arrow.Array, 0, len(recs))
	for _, r := range recs {
		if int(r.NumCols()) <= idx || !arrow.TypeEqual(r.Column(idx).DataType(), want) {
			return nil, fmt.Errorf("update %s: old primary keys missing from the result", t.ID)
		}
		parts = append(parts, r.Column(idx))
	}
	if len(parts) == 0 {
		return array.MakeArrayOfNull(memory.DefaultAllocator, want, 0), nil
	}
	keys, err := array.Concatenate(parts, memory.DefaultAllocator)
	if err != nil {
		return nil, fmt.Errorf("collect old keys of %s: %w", t.ID, err)
	}
	return keys, nil
}

// moveRows writes an UPDATE's new rows under their new keys in place of the
// rows at old (see hotstore.MoveVersions), refusing a new key no row of the
// statement held whose newest version is a live row in the partition's
// segments. locked says the caller holds the partition's flush lock shared.
func (e *Engine) moveRows(ctx context.Context, t *catalog.TableDef, user catalog.UserID, rec arrow.RecordBatch,
	seqs []int64, old arrow.Array, base, tombs []int64, locked bool) error {
	if e.cold != nil && t.Type != catalog.TableStream {
		fresh, err := freshKeys(rec.Column(t.PrimaryKeyIndex()), old)
		if err != nil {
			return err
		}
		if fresh != nil {
			defer fresh.Release()
			if !locked {
				l := e.coldState.lock(partKey{t.StoreID, user})
				l.RLock()
				defer l.RUnlock()
			}
			if err := e.checkNewColdKeys(ctx, t, user, fresh); err != nil {
				return err
			}
		}
	}
	return e.hot.MoveVersions(ctx, t, user, rec, seqs, old, base, tombs)
}

// freshKeys returns the keys of pks that are not among old (nil when
// there are none): the new keys of a move that no row of the statement
// held.
func freshKeys(pks, old arrow.Array) (arrow.Array, error) {
	held := make(map[string]struct{}, old.Len())
	var k []byte
	var err error
	for j := 0; j < old.Len(); j++ {
		if k, err = hotstore.AppendKey(k[:0], old, j); err != nil {
			return nil, err
		}
		held[string(k)] = struct{}{}
	}
	// Runs of consecutive fresh keys become one slice each.
	var parts []arrow.Array
	defer func() {
		for _, p := range parts {
			p.Release()
		}
	}()
	start := -1
	for i := 0; i <= pks.Len(); i++ {
		fresh := false
		if i < pks.Len() {
			if k, err = hotstore.AppendKey(k[:0], pks, i); err != nil {
				return nil, err
			}
			_, isHeld := held[string(k)]
			fresh = !isHeld
		}
		switch {
		case fresh && start < 0:
			start = i
		case !fresh && start >= 0:
			parts = append(parts, array.NewSlice(pks, int64(start), int64(i)))
			start = -1
		}
	}
	if len(parts) == 0 {
		return nil, nil
	}
	fresh, err := array.Concatenate(parts, memory.DefaultAllocator)
	if err != nil {
		return nil, fmt.Errorf("collect new keys: %w", err)
	}
	return fresh, nil
}
