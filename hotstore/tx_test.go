package hotstore

import (
	"context"
	"errors"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/kalamdb/kalamdb-go/catalog"
	"github.com/stretchr/testify/require"
)

func TestTxStagesAndCommits(t *testing.T) {
	s := openTest(t)
	td := tableDef(1, catalog.TableShared, col(0, "id", catalog.TypeBigInt, true), col(1, "v", catalog.TypeText, false))
	ctx := context.Background()
	base := record(t, td.UserSchema(), int64s(1, 2), []any{"a", "b"})
	defer base.Release()
	require.NoError(t, s.Insert(ctx, td, "", base, seqRange(10, 2)))

	tx, err := s.BeginTx()
	require.NoError(t, err)
	tctx := WithTx(ctx, tx)
	add := record(t, td.UserSchema(), int64s(3), []any{"c"})
	defer add.Release()
	require.NoError(t, s.Insert(tctx, td, "", add, seqRange(20, 1)))
	dup := record(t, td.UserSchema(), int64s(3), []any{"again"})
	defer dup.Release()
	require.True(t, errors.Is(s.Insert(tctx, td, "", dup, seqRange(21, 1)), ErrDuplicateKey), "the staged row counts for the duplicate check")
	keys := keyArray(t, arrow.PrimitiveTypes.Int64, int64(1))
	defer keys.Release()
	n, err := s.Delete(tctx, td, "", keys, seqRange(22, 1))
	require.NoError(t, err)
	require.EqualValues(t, 1, n)

	inTx := func() arrow.RecordBatch {
		var got arrow.RecordBatch
		require.NoError(t, s.Scan(tctx, td, "", ScanOptions{}, func(r arrow.RecordBatch) error { r.Retain(); got = r; return nil }))
		return got
	}
	got := inTx()
	requireColumn(t, got, 0, int64s(2, 3)...)
	got.Release()
	outside := scanAll(t, s, td, "")
	requireColumn(t, outside, 0, int64s(1, 2)...)
	outside.Release()

	require.True(t, tx.Staged())
	require.NoError(t, tx.Commit(ctx))
	after := scanAll(t, s, td, "")
	requireColumn(t, after, 0, int64s(2, 3)...)
	after.Release()
	require.Equal(t, catalog.KindFailedPrecondition, catalog.KindOf(tx.Commit(ctx)), "a transaction ends once")
	require.Equal(t, catalog.KindFailedPrecondition, catalog.KindOf(s.Insert(tctx, td, "", dup, seqRange(30, 1))), "an ended transaction takes no writes")
}

func TestTxConflictAndRollback(t *testing.T) {
	s := openTest(t)
	td := tableDef(1, catalog.TableShared, col(0, "id", catalog.TypeBigInt, true), col(1, "v", catalog.TypeText, false))
	ctx := context.Background()
	base := record(t, td.UserSchema(), int64s(1), []any{"a"})
	defer base.Release()
	require.NoError(t, s.Insert(ctx, td, "", base, seqRange(10, 1)))

	tx, err := s.BeginTx()
	require.NoError(t, err)
	mine := record(t, td.UserSchema(), int64s(1), []any{"tx"})
	defer mine.Release()
	require.NoError(t, s.Upsert(WithTx(ctx, tx), td, "", mine, seqRange(20, 1)))
	theirs := record(t, td.UserSchema(), int64s(1), []any{"other"})
	defer theirs.Release()
	require.NoError(t, s.Upsert(ctx, td, "", theirs, seqRange(21, 1)))
	require.Equal(t, catalog.KindConflict, catalog.KindOf(tx.Commit(ctx)))
	rec := scanAll(t, s, td, "")
	requireColumn(t, rec, 1, "other")
	rec.Release()

	tx2, err := s.BeginTx()
	require.NoError(t, err)
	require.NoError(t, s.Upsert(WithTx(ctx, tx2), td, "", mine, seqRange(30, 1)))
	tx2.Rollback()
	tx2.Rollback() // idempotent
	rec = scanAll(t, s, td, "")
	requireColumn(t, rec, 1, "other")
	rec.Release()
}
