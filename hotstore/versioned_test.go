package hotstore

import (
	"context"
	"errors"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/stretchr/testify/require"

	"github.com/kalamdb/kalamdb-go/catalog"
)

// TestVersionedWrites: an UpsertVersions or DeleteVersions computed from a
// version that is no longer the newest writes nothing and fails with a
// conflict; from the newest version (or a key with no hot version) it
// writes.
func TestVersionedWrites(t *testing.T) {
	s := openTest(t)
	td := tableDef(1, catalog.TableShared, col(0, "id", catalog.TypeBigInt, true), col(1, "v", catalog.TypeText, false))
	ctx := context.Background()
	base := record(t, td.UserSchema(), int64s(1, 2), []any{"a", "b"})
	defer base.Release()
	require.NoError(t, s.Insert(ctx, td, "", base, seqRange(10, 2)))

	row := func(id int64, v string) arrow.RecordBatch {
		r := record(t, td.UserSchema(), int64s(id), []any{v})
		t.Cleanup(r.Release)
		return r
	}
	tests := []struct {
		name     string
		write    func() error
		conflict bool
		want     []any // column v after the write
	}{
		{"newest version", func() error { return s.UpsertVersions(ctx, td, "", row(1, "a1"), seqRange(20, 1), []int64{10}) }, false, []any{"a1", "b"}},
		{"stale version", func() error { return s.UpsertVersions(ctx, td, "", row(1, "lost"), seqRange(21, 1), []int64{10}) }, true, []any{"a1", "b"}},
		{"no hot version", func() error { return s.UpsertVersions(ctx, td, "", row(3, "cold"), seqRange(22, 1), []int64{5}) }, false, []any{"a1", "b", "cold"}},
		{"stale delete", func() error {
			keys := keyArray(t, arrow.PrimitiveTypes.Int64, int64(2))
			defer keys.Release()
			_, err := s.DeleteVersions(ctx, td, "", keys, seqRange(23, 1), []int64{9})
			return err
		}, true, []any{"a1", "b", "cold"}},
		{"delete of the version read", func() error {
			keys := keyArray(t, arrow.PrimitiveTypes.Int64, int64(2))
			defer keys.Release()
			_, err := s.DeleteVersions(ctx, td, "", keys, seqRange(24, 1), []int64{11})
			return err
		}, false, []any{"a1", "cold"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.write()
			if tc.conflict {
				require.True(t, errors.Is(err, ErrConflict), "%v", err)
				require.Equal(t, catalog.KindConflict, catalog.KindOf(err))
			} else {
				require.NoError(t, err)
			}
			rec := scanAll(t, s, td, "")
			defer rec.Release()
			requireColumn(t, rec, 1, tc.want...)
		})
	}
}

// TestTxCommitChecksVersionsRead: a transaction's commit fails when a row
// it wrote no longer holds the version its write was computed from, even if
// the other writer committed before the transaction staged its write; a key
// with no hot version passes only while its partition's cold tier is
// unchanged.
func TestTxCommitChecksVersionsRead(t *testing.T) {
	s := openTest(t)
	td := tableDef(1, catalog.TableShared, col(0, "id", catalog.TypeBigInt, true), col(1, "v", catalog.TypeText, false))
	ctx := context.Background()
	base := record(t, td.UserSchema(), int64s(1), []any{"a"})
	defer base.Release()
	require.NoError(t, s.Insert(ctx, td, "", base, seqRange(10, 1)))
	row := func(id int64, v string) arrow.RecordBatch {
		r := record(t, td.UserSchema(), int64s(id), []any{v})
		t.Cleanup(r.Release)
		return r
	}

	// Read at _seq 10; another writer commits 11; the transaction stages
	// its write computed from 10 afterwards: the commit must fail.
	tx, err := s.BeginTx()
	require.NoError(t, err)
	require.NoError(t, s.Upsert(ctx, td, "", row(1, "other"), seqRange(11, 1)))
	require.NoError(t, s.UpsertVersions(WithTx(ctx, tx), td, "", row(1, "tx"), seqRange(20, 1), []int64{10}))
	err = tx.Commit(ctx)
	require.True(t, errors.Is(err, ErrConflict), "%v", err)
	rec := scanAll(t, s, td, "")
	requireColumn(t, rec, 1, "other")
	rec.Release()

	// Computed from the newest version: commits.
	tx, err = s.BeginTx()
	require.NoError(t, err)
	require.NoError(t, s.UpsertVersions(WithTx(ctx, tx), td, "", row(1, "tx"), seqRange(21, 1), []int64{11}))
	require.NoError(t, tx.Commit(ctx))

	// A key with no hot version (read from the cold tier).
	for i, changed := range []bool{false, true} {
		tx, err = s.BeginTx()
		require.NoError(t, err)
		require.NoError(t, s.UpsertVersions(WithTx(ctx, tx), td, "", row(int64(7+i), "x"), seqRange(int64(30+i), 1), []int64{3}))
		err = tx.CommitIf(ctx, func(p Partition) bool {
			require.Equal(t, Partition{StoreID: 1}, p)
			return changed
		})
		if changed {
			require.True(t, errors.Is(err, ErrConflict), "%v", err)
		} else {
			require.NoError(t, err)
		}
	}
}
