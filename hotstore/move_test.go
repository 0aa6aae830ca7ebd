package hotstore

import (
	"context"
	"errors"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/stretchr/testify/require"

	"github.com/kalamdb/kalamdb-go/catalog"
)

// TestMoveVersions: a move writes the new keys and tombstones the keys left
// empty in one step, lets rows move into keys the same move leaves (swaps,
// chains), and writes nothing when a new key holds a live row no row of the
// move left, when two rows move to one key, or when a key it read changed.
// Inside a transaction the new keys' absence is checked again at commit.
func TestMoveVersions(t *testing.T) {
	td := tableDef(1, catalog.TableShared, col(0, "id", catalog.TypeBigInt, true), col(1, "v", catalog.TypeText, false))
	ctx := context.Background()
	// Every case starts from keys 1, 2, 3 (versions 10, 11, 12) and a
	// tombstone at key 4 (version 13).
	type move struct {
		ids, old []int64
		vals     []any
		base     []int64
	}
	tests := []struct {
		name    string
		move    move
		wantErr error
		ids     []int64
		vals    []any
		tombs   []int64 // keys holding a tombstone afterwards
	}{
		{"to a free key", move{ids: []int64{7}, vals: []any{"a7"}, old: []int64{1}, base: []int64{10}},
			nil, []int64{2, 3, 7}, []any{"b", "c", "a7"}, []int64{1, 4}},
		{"to a deleted key", move{ids: []int64{4}, vals: []any{"a4"}, old: []int64{1}, base: []int64{10}},
			nil, []int64{2, 3, 4}, []any{"b", "c", "a4"}, []int64{1}},
		{"onto a row not moved", move{ids: []int64{2}, vals: []any{"a2"}, old: []int64{1}, base: []int64{10}},
			ErrDuplicateKey, []int64{1, 2, 3}, []any{"a", "b", "c"}, []int64{4}},
		{"two rows to one key", move{ids: []int64{9, 9}, vals: []any{"a", "b"}, old: []int64{1, 2}, base: []int64{10, 11}},
			ErrDuplicateKey, []int64{1, 2, 3}, []any{"a", "b", "c"}, []int64{4}},
		{"swap", move{ids: []int64{2, 1}, vals: []any{"a", "b"}, old: []int64{1, 2}, base: []int64{10, 11}},
			nil, []int64{1, 2, 3}, []any{"b", "a", "c"}, []int64{4}},
		{"chain", move{ids: []int64{2, 3, 4}, vals: []any{"a", "b", "c"}, old: []int64{1, 2, 3}, base: []int64{10, 11, 12}},
			nil, []int64{2, 3, 4}, []any{"a", "b", "c"}, []int64{1}},
		{"key kept", move{ids: []int64{1}, vals: []any{"a1"}, old: []int64{1}, base: []int64{10}},
			nil, []int64{1, 2, 3}, []any{"a1", "b", "c"}, []int64{4}},
		{"old key changed since read", move{ids: []int64{7}, vals: []any{"a7"}, old: []int64{1}, base: []int64{9}},
			ErrConflict, []int64{1, 2, 3}, []any{"a", "b", "c"}, []int64{4}},
		{"key moved into changed since read", move{ids: []int64{2, 8}, vals: []any{"a", "b"}, old: []int64{1, 2}, base: []int64{10, 5}},
			ErrConflict, []int64{1, 2, 3}, []any{"a", "b", "c"}, []int64{4}},
		{"old key with no hot version", move{ids: []int64{7}, vals: []any{"cold"}, old: []int64{20}, base: []int64{3}},
			nil, []int64{1, 2, 3, 7}, []any{"a", "b", "c", "cold"}, []int64{4, 20}},
	}
	setup := func(t *testing.T) *Store {
		s := openTest(t)
		rec := record(t, td.UserSchema(), int64s(1, 2, 3), []any{"a", "b", "c"})
		defer rec.Release()
		require.NoError(t, s.Insert(ctx, td, "", rec, seqRange(10, 3)))
		k := keyArray(t, arrow.PrimitiveTypes.Int64, int64(4))
		defer k.Release()
		_, err := s.Delete(ctx, td, "", k, seqRange(13, 1))
		require.NoError(t, err)
		return s
	}
	run := func(ctx context.Context, s *Store, m move) error {
		rec := record(t, td.UserSchema(), int64s(m.ids...), m.vals)
		defer rec.Release()
		old := keyArray(t, arrow.PrimitiveTypes.Int64, int64s(m.old...)...)
		defer old.Release()
		return s.MoveVersions(ctx, td, "", rec, seqRange(100, len(m.ids)), old, m.base, seqRange(200, len(m.ids)))
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := setup(t)
			err := run(ctx, s, tc.move)
			if tc.wantErr != nil {
				require.True(t, errors.Is(err, tc.wantErr), "%v", err)
			} else {
				require.NoError(t, err)
			}
			rec := scanAll(t, s, td, "")
			defer rec.Release()
			requireColumn(t, rec, 0, int64s(tc.ids...)...)
			requireColumn(t, rec, 1, tc.vals...)
			var tombs []int64
			for _, v := range scanVersionsAll(t, s, td, "") {
				if v[3] == true {
					tombs = append(tombs, v[0].(int64))
				}
			}
			require.Equal(t, tc.tombs, tombs)
		})
	}

	t.Run("transaction", func(t *testing.T) {
		s := setup(t)
		// The move sees the transaction's own insert.
		tx, err := s.BeginTx()
		require.NoError(t, err)
		txCtx := WithTx(ctx, tx)
		rec := record(t, td.UserSchema(), int64s(7), []any{"tx"})
		defer rec.Release()
		require.NoError(t, s.Insert(txCtx, td, "", rec, seqRange(50, 1)))
		err = run(txCtx, s, move{ids: []int64{7}, vals: []any{"a7"}, old: []int64{1}, base: []int64{10}})
		require.True(t, errors.Is(err, ErrDuplicateKey), "%v", err)
		tx.Rollback()

		// Another writer takes the new key before the commit.
		tx, err = s.BeginTx()
		require.NoError(t, err)
		require.NoError(t, run(WithTx(ctx, tx), s, move{ids: []int64{8}, vals: []any{"a8"}, old: []int64{1}, base: []int64{10}}))
		other := record(t, td.UserSchema(), int64s(8), []any{"other"})
		defer other.Release()
		require.NoError(t, s.Insert(ctx, td, "", other, seqRange(60, 1)))
		err = tx.Commit(ctx)
		require.True(t, errors.Is(err, ErrConflict), "%v", err)
		got := scanAll(t, s, td, "")
		defer got.Release()
		requireColumn(t, got, 0, int64s(1, 2, 3, 8)...)

		// Unopposed, it commits.
		tx, err = s.BeginTx()
		require.NoError(t, err)
		require.NoError(t, run(WithTx(ctx, tx), s, move{ids: []int64{9}, vals: []any{"a9"}, old: []int64{1}, base: []int64{10}}))
		require.NoError(t, tx.Commit(ctx))
		got2 := scanAll(t, s, td, "")
		defer got2.Release()
		requireColumn(t, got2, 0, int64s(2, 3, 8, 9)...)
	})
}
