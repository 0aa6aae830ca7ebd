package hotstore

import (
	"context"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/stretchr/testify/require"

	"github.com/kalamdb/kalamdb-go/catalog"
)

func scanVersionsAll(t *testing.T, s *Store, td *catalog.TableDef, user catalog.UserID) [][]any {
	t.Helper()
	var rows [][]any
	err := s.ScanVersions(context.Background(), td, user, ScanOptions{BatchRows: 2}, func(rec arrow.RecordBatch) error {
		require.True(t, rec.Schema().Equal(VersionSchema(td)))
		for r := 0; r < int(rec.NumRows()); r++ {
			row := make([]any, rec.NumCols())
			for c, col := range rec.Columns() {
				if col.IsNull(r) {
					continue
				}
				row[c] = col.GetOneForMarshal(r)
			}
			rows = append(rows, row)
		}
		return nil
	})
	require.NoError(t, err)
	return rows
}

func TestScanVersionsAndCommitFlush(t *testing.T) {
	for _, kind := range []catalog.TypeKind{catalog.TypeBigInt, catalog.TypeText} {
		t.Run((catalog.DataType{Kind: kind}).String(), func(t *testing.T) {
			s := openTest(t)
			ctx := context.Background()
			td := tableDef(7, catalog.TableUser, col(1, "id", kind, true), col(2, "v", catalog.TypeText, false))
			key := func(i int64) any {
				if kind == catalog.TypeText {
					return string(rune('a' + i))
				}
				return i
			}
			rec := record(t, td.UserSchema(), []any{key(1), key(2), key(3)}, []any{"one", nil, "three"})
			defer rec.Release()
			require.NoError(t, s.Insert(ctx, td, "u", rec, []int64{10, 11, 12}))
			dk := keyArray(t, td.Columns[0].Type.ArrowType(), key(2))
			defer dk.Release()
			_, err := s.Delete(ctx, td, "u", dk, []int64{13})
			require.NoError(t, err)

			rows := scanVersionsAll(t, s, td, "u")
			require.Equal(t, [][]any{
				{key(1), "one", int64(10), false},
				{key(2), nil, int64(13), true},
				{key(3), "three", int64(12), false},
			}, rows)

			// Flush the versions seen so far; meanwhile key 3 is rewritten.
			up := record(t, td.UserSchema(), []any{key(3)}, []any{"THREE"})
			defer up.Release()
			require.NoError(t, s.Upsert(ctx, td, "u", up, []int64{14}))
			pks := keyArray(t, td.Columns[0].Type.ArrowType(), key(1), key(2), key(3))
			defer pks.Release()
			n, err := s.CommitFlush(ctx, td, "u", pks, []int64{10, 13, 12}, map[string][]byte{"man/7/u": []byte("m1")})
			require.NoError(t, err)
			require.EqualValues(t, 2, n)
			require.Equal(t, [][]any{{key(3), "THREE", int64(14), false}}, scanVersionsAll(t, s, td, "u"))
			v, ok, err := s.MetaGet([]byte("man/7/u"))
			require.NoError(t, err)
			require.True(t, ok)
			require.Equal(t, "m1", string(v))
		})
	}
}

func TestEvictBefore(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	td := tableDef(9, catalog.TableStream, col(1, "v", catalog.TypeText, false))
	for _, u := range []catalog.UserID{"a", "b"} {
		rec := record(t, td.UserSchema(), []any{"x", "y", "z"})
		require.NoError(t, s.Insert(ctx, td, u, rec, []int64{100, 200, 300}))
		rec.Release()
	}
	n, err := s.EvictBefore(ctx, td, 250)
	require.NoError(t, err)
	require.EqualValues(t, 4, n)
	for _, u := range []catalog.UserID{"a", "b"} {
		got := scanAll(t, s, td, u)
		require.EqualValues(t, 1, got.NumRows())
		require.Equal(t, "z", got.Column(0).(*array.String).Value(0))
		got.Release()
	}
}
