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

// TestTxReadsOneSnapshot: a transaction's scans and lookups see the
// database as of its first read, with its staged writes on top; commits by
// others after that are invisible to it. Closing the store rolls back a
// transaction left open.
func TestTxReadsOneSnapshot(t *testing.T) {
	s := openTest(t)
	td := tableDef(1, catalog.TableShared, col(0, "id", catalog.TypeBigInt, true), col(1, "v", catalog.TypeText, false))
	ctx := context.Background()
	row := func(ids []any, vals ...any) arrow.RecordBatch {
		r := record(t, td.UserSchema(), ids, vals)
		t.Cleanup(r.Release)
		return r
	}
	require.NoError(t, s.Insert(ctx, td, "", row(int64s(1, 2, 4), "a", "b", "d"), seqRange(10, 3)))

	tx, err := s.BeginTx()
	require.NoError(t, err)
	tctx := WithTx(ctx, tx)
	n, err := s.CountLive(tctx, td, "") // the first read takes the snapshot
	require.NoError(t, err)
	require.EqualValues(t, 3, n)

	require.NoError(t, s.Insert(ctx, td, "", row(int64s(3), "c"), seqRange(20, 1)))
	require.NoError(t, s.Upsert(ctx, td, "", row(int64s(1), "A"), seqRange(21, 1)))
	require.NoError(t, s.Upsert(tctx, td, "", row(int64s(2, 5), "tx2", "tx5"), seqRange(22, 2)))

	var got arrow.RecordBatch
	require.NoError(t, s.Scan(tctx, td, "", ScanOptions{}, func(r arrow.RecordBatch) error { r.Retain(); got = r; return nil }))
	requireColumn(t, got, 0, int64s(1, 2, 4, 5)...)
	requireColumn(t, got, 1, "a", "tx2", "d", "tx5")
	got.Release()
	keys := keyArray(t, arrow.PrimitiveTypes.Int64, int64(5), int64(3), int64(1), int64(2))
	defer keys.Release()
	look, err := s.Lookup(tctx, td, "", keys, nil)
	require.NoError(t, err)
	requireColumn(t, look, 1, "tx5", "a", "tx2")
	look.Release()

	outside := scanAll(t, s, td, "")
	requireColumn(t, outside, 1, "A", "b", "c", "d")
	outside.Release()

	require.NoError(t, s.Close(), "an open transaction's snapshot does not keep the store from closing")
	require.Equal(t, catalog.KindFailedPrecondition, catalog.KindOf(tx.Commit(ctx)), "closing rolled it back")
}
