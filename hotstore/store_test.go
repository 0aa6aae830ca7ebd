package hotstore

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/kalamdb/kalamdb-go/catalog"
	"github.com/stretchr/testify/require"
)

// ---- helpers ----

func openTest(t testing.TB) *Store {
	t.Helper()
	s, err := Open(t.TempDir(), Options{CacheSize: 8 << 20, MemTableSize: 4 << 20})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

func col(id uint32, name string, kind catalog.TypeKind, pk bool) catalog.Column {
	dt := catalog.DataType{Kind: kind}
	if kind == catalog.TypeDecimal {
		dt.Precision, dt.Scale = 20, 4
	}
	return catalog.Column{ID: id, Name: name, Type: dt, PrimaryKey: pk, NotNull: pk}
}

func tableDef(storeID uint64, typ catalog.TableType, cols ...catalog.Column) *catalog.TableDef {
	var next uint32
	for _, c := range cols {
		next = max(next, c.ID+1)
	}
	return (&catalog.TableDef{
		ID:           catalog.TableID{Namespace: "app", Name: catalog.TableName(fmt.Sprintf("t%d", storeID))},
		StoreID:      storeID,
		Type:         typ,
		Columns:      cols,
		NextColumnID: next,
	}).Seal()
}

// appendVals appends Go values (nil = NULL) to an Arrow builder.
func appendVals(t testing.TB, b array.Builder, vals ...any) {
	t.Helper()
	for _, v := range vals {
		if v == nil {
			b.AppendNull()
			continue
		}
		switch bb := b.(type) {
		case *array.BooleanBuilder:
			bb.Append(v.(bool))
		case *array.Int16Builder:
			bb.Append(v.(int16))
		case *array.Int32Builder:
			bb.Append(v.(int32))
		case *array.Int64Builder:
			bb.Append(v.(int64))
		case *array.Float32Builder:
			bb.Append(v.(float32))
		case *array.Float64Builder:
			bb.Append(v.(float64))
		case *array.Decimal128Builder:
			bb.Append(v.(decimal128.Num))
		case *array.StringBuilder:
			bb.Append(v.(string))
		case *array.BinaryBuilder:
			bb.Append(v.([]byte))
		case *array.TimestampBuilder:
			bb.Append(arrow.Timestamp(v.(int64)))
		case *array.Date32Builder:
			bb.Append(arrow.Date32(v.(int32)))
		case *array.Time64Builder:
			bb.Append(arrow.Time64(v.(int64)))
		default:
			t.Fatalf("unsupported builder %T", b)
		}
	}
}

// record builds a batch with the given schema from per-column values.
func record(t testing.TB, schema *arrow.Schema, cols ...[]any) arrow.RecordBatch {
	t.Helper()
	rb := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer rb.Release()
	for i, vals := range cols {
		appendVals(t, rb.Field(i), vals...)
	}
	return rb.NewRecordBatch()
}

func keyArray(t testing.TB, dt arrow.DataType, vals ...any) arrow.Array {
	t.Helper()
	b := array.NewBuilder(memory.DefaultAllocator, dt)
	defer b.Release()
	appendVals(t, b, vals...)
	return b.NewArray()
}

// scanAll scans a partition and concatenates the result into one batch.
func scanAll(t testing.TB, s *Store, td *catalog.TableDef, user catalog.UserID) arrow.RecordBatch {
	t.Helper()
	var recs []arrow.RecordBatch
	err := s.Scan(context.Background(), td, user, ScanOptions{BatchRows: 7}, func(r arrow.RecordBatch) error {
		require.True(t, r.Schema().Equal(td.ArrowSchema()))
		r.Retain()
		recs = append(recs, r)
		return nil
	})
	require.NoError(t, err)
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	tbl := array.NewTableFromRecords(td.ArrowSchema(), recs)
	defer tbl.Release()
	cols := make([]arrow.Array, tbl.NumCols())
	for i := range cols {
		chunks := tbl.Column(i).Data().Chunks()
		if len(chunks) == 0 {
			cols[i] = array.MakeArrayOfNull(memory.DefaultAllocator, td.ArrowSchema().Field(i).Type, 0)
			continue
		}
		a, err := array.Concatenate(chunks, memory.DefaultAllocator)
		require.NoError(t, err)
		cols[i] = a
	}
	out := array.NewRecordBatch(td.ArrowSchema(), cols, tbl.NumRows())
	for _, c := range cols {
		c.Release()
	}
	return out
}

func requireColumn(t testing.TB, rec arrow.RecordBatch, i int, want ...any) {
	t.Helper()
	exp := keyArray(t, rec.Column(i).DataType(), want...)
	defer exp.Release()
	require.Truef(t, array.Equal(exp, rec.Column(i)), "column %d: want %v, got %v", i, exp, rec.Column(i))
}

func int64s(vals ...int64) []any {
	out := make([]any, len(vals))
	for i, v := range vals {
		out[i] = v
	}
	return out
}

func seqRange(start int64, n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = start + int64(i)
	}
	return out
}

// ---- tests ----

// TestCodecRoundTrip stores every supported type both as primary key and as
// a nullable value column, in reverse order, and checks that Scan returns
// the values in primary-key order with NULLs intact.
func TestCodecRoundTrip(t *testing.T) {
	dec := func(hi int64, lo uint64) decimal128.Num { return decimal128.New(hi, lo) }
	cases := []struct {
		kind catalog.TypeKind
		vals []any // distinct, ascending
	}{
		{catalog.TypeBoolean, []any{false, true}},
		{catalog.TypeSmallInt, []any{int16(math.MinInt16), int16(-1), int16(0), int16(7), int16(math.MaxInt16)}},
		{catalog.TypeInt, []any{int32(math.MinInt32), int32(-5), int32(0), int32(1), int32(math.MaxInt32)}},
		{catalog.TypeBigInt, []any{int64(math.MinInt64), int64(-300), int64(0), int64(300), int64(math.MaxInt64)}},
		{catalog.TypeFloat, []any{float32(math.Inf(-1)), float32(-2.5), float32(0), float32(1e-30), float32(3.5), float32(math.Inf(1))}},
		{catalog.TypeDouble, []any{math.Inf(-1), -1e300, -0.5, 0.0, 1e-300, 2.25, math.Inf(1)}},
		{catalog.TypeDecimal, []any{dec(-1, 0), dec(-1, math.MaxUint64), dec(0, 0), dec(0, 12345), dec(1, 0)}},
		{catalog.TypeText, []any{"", "\x00", "\x00\x00", "\x00a", "a", "a\x00", "ab", "héllo", "\xff"}},
		{catalog.TypeBytes, []any{[]byte{}, []byte{0}, []byte{0, 0xff}, []byte{1}, []byte{0xff, 0}}},
		{catalog.TypeTimestamp, []any{int64(-1_000_000), int64(0), int64(1_700_000_000_000_000)}},
		{catalog.TypeDate, []any{int32(-365), int32(0), int32(19000)}},
		{catalog.TypeTime, []any{int64(0), int64(1), int64(86_399_999_999)}},
		{catalog.TypeJSON, []any{`[]`, `{"a":1}`}},
	}
	s := openTest(t)
	ctx := context.Background()
	for i, tc := range cases {
		td := tableDef(uint64(100+i), catalog.TableShared, col(1, "k", tc.kind, true), col(2, "v", tc.kind, false), col(3, "n", catalog.TypeBigInt, false))
		t.Run(td.Columns[0].Type.String(), func(t *testing.T) {
			n := len(tc.vals)
			// reverse order for insertion; value column has NULL at every other row
			var keys, vals, ns []any
			for j := n - 1; j >= 0; j-- {
				keys = append(keys, tc.vals[j])
				if j%2 == 0 {
					vals = append(vals, nil)
				} else {
					vals = append(vals, tc.vals[j])
				}
				ns = append(ns, int64(j))
			}
			rec := record(t, td.UserSchema(), keys, vals, ns)
			defer rec.Release()
			seqs := seqRange(1000, n)
			require.NoError(t, s.Insert(ctx, td, "", rec, seqs))

			got := scanAll(t, s, td, "")
			defer got.Release()
			require.EqualValues(t, n, got.NumRows())
			var wantVals, wantN, wantSeq []any
			for j := 0; j < n; j++ {
				if j%2 == 0 {
					wantVals = append(wantVals, nil)
				} else {
					wantVals = append(wantVals, tc.vals[j])
				}
				wantN = append(wantN, int64(j))
				wantSeq = append(wantSeq, seqs[n-1-j])
			}
			requireColumn(t, got, 0, tc.vals...)
			requireColumn(t, got, 1, wantVals...)
			requireColumn(t, got, 2, wantN...)
			requireColumn(t, got, 3, wantSeq...)

			// Lookup by every key, plus a missing one for non-bool types.
			pk := keyArray(t, td.Columns[0].Type.ArrowType(), tc.vals...)
			defer pk.Release()
			lk, err := s.Lookup(ctx, td, "", pk, nil)
			require.NoError(t, err)
			defer lk.Release()
			requireColumn(t, lk, 0, tc.vals...)
			requireColumn(t, lk, 1, wantVals...)
		})
	}
}

func TestAlterColumns(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	v1 := tableDef(7, catalog.TableShared, col(1, "id", catalog.TypeBigInt, true), col(2, "a", catalog.TypeText, false), col(3, "b", catalog.TypeBigInt, false))
	rec := record(t, v1.UserSchema(), int64s(1, 2), []any{"x", nil}, int64s(10, 20))
	defer rec.Release()
	require.NoError(t, s.Insert(ctx, v1, "", rec, []int64{1, 2}))

	// v2: drop b, rename a -> name, add c DOUBLE.
	v2 := tableDef(7, catalog.TableShared, col(1, "id", catalog.TypeBigInt, true), col(2, "name", catalog.TypeText, false), col(4, "c", catalog.TypeDouble, false))
	got := scanAll(t, s, v2, "")
	requireColumn(t, got, 0, int64(1), int64(2))
	requireColumn(t, got, 1, "x", nil)
	requireColumn(t, got, 2, nil, nil)
	requireColumn(t, got, 3, int64(1), int64(2))
	got.Release()

	rec2 := record(t, v2.UserSchema(), int64s(3), []any{"z"}, []any{1.5})
	defer rec2.Release()
	require.NoError(t, s.Insert(ctx, v2, "", rec2, []int64{3}))

	// v3: column IDs not in position order (generic decode path).
	v3 := tableDef(7, catalog.TableShared, col(4, "c", catalog.TypeDouble, false), col(1, "id", catalog.TypeBigInt, true), col(2, "name", catalog.TypeText, false))
	got = scanAll(t, s, v3, "")
	defer got.Release()
	requireColumn(t, got, 0, nil, nil, 1.5)
	requireColumn(t, got, 1, int64(1), int64(2), int64(3))
	requireColumn(t, got, 2, "x", nil, "z")

	// Re-adding a column under an old ID with another type is reported.
	bad := tableDef(7, catalog.TableShared, col(1, "id", catalog.TypeBigInt, true), col(3, "b", catalog.TypeText, false))
	err := s.Scan(ctx, bad, "", ScanOptions{}, func(arrow.RecordBatch) error { return nil })
	require.ErrorIs(t, err, ErrCorrupt)
}

// TestAddedColumnFill checks that a column added with a default
// (catalog.Column.Fill) reads the default in row versions older than the
// column, and NULL or its value in newer ones, in every read and in both
// decode paths.
func TestAddedColumnFill(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	v1 := tableDef(8, catalog.TableShared, col(1, "id", catalog.TypeBigInt, true), col(2, "a", catalog.TypeText, false))
	rec := record(t, v1.UserSchema(), int64s(1, 2), []any{"x", nil})
	defer rec.Release()
	require.NoError(t, s.Insert(ctx, v1, "", rec, []int64{10, 20}))

	seven := keyArray(t, arrow.PrimitiveTypes.Int32, int32(7))
	defer seven.Release()
	val, err := EncodeValue(seven, 0)
	require.NoError(t, err)
	n := col(3, "n", catalog.TypeInt, false)
	n.Fill = &catalog.ColumnFill{Before: 25, SQL: "7", Value: val}
	v2 := tableDef(8, catalog.TableShared, col(1, "id", catalog.TypeBigInt, true), col(2, "a", catalog.TypeText, false), n)
	rec2 := record(t, v2.UserSchema(), int64s(3, 4), []any{"y", "z"}, []any{nil, int32(5)})
	defer rec2.Release()
	require.NoError(t, s.Insert(ctx, v2, "", rec2, []int64{30, 40}))

	got := scanAll(t, s, v2, "")
	requireColumn(t, got, 2, int32(7), int32(7), nil, int32(5))
	got.Release()

	// Column IDs out of position order: the generic decode path.
	v3 := tableDef(8, catalog.TableShared, n, col(1, "id", catalog.TypeBigInt, true), col(2, "a", catalog.TypeText, false))
	got = scanAll(t, s, v3, "")
	requireColumn(t, got, 0, int32(7), int32(7), nil, int32(5))
	got.Release()

	keys := keyArray(t, arrow.PrimitiveTypes.Int64, int64(2), int64(3))
	defer keys.Release()
	found, err := s.Lookup(ctx, v2, "", keys, nil)
	require.NoError(t, err)
	requireColumn(t, found, 2, int32(7), nil)
	found.Release()

	var fills []any
	err = s.ScanVersions(ctx, v2, "", ScanOptions{}, func(r arrow.RecordBatch) error {
		c := r.Column(2).(*array.Int32)
		for i := 0; i < c.Len(); i++ {
			if c.IsNull(i) {
				fills = append(fills, nil)
			} else {
				fills = append(fills, c.Value(i))
			}
		}
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, []any{int32(7), int32(7), nil, int32(5)}, fills)

	// A fill that is not one value of the column's type is reported.
	bad := col(3, "n", catalog.TypeInt, false)
	bad.Fill = &catalog.ColumnFill{Before: 25, Value: []byte{1, 2}}
	err = s.Scan(ctx, tableDef(8, catalog.TableShared, col(1, "id", catalog.TypeBigInt, true), bad), "", ScanOptions{}, func(arrow.RecordBatch) error { return nil })
	require.ErrorIs(t, err, ErrCorrupt)
}

func TestInsertDuplicateAllOrNothing(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	td := tableDef(1, catalog.TableUser, col(1, "id", catalog.TypeBigInt, true), col(2, "v", catalog.TypeText, false))
	ins := func(ids ...int64) error {
		vals := make([]any, len(ids))
		for i := range vals {
			vals[i] = fmt.Sprint("v", ids[i])
		}
		rec := record(t, td.UserSchema(), int64s(ids...), vals)
		defer rec.Release()
		return s.Insert(ctx, td, "alice", rec, seqRange(ids[0]*10, len(ids)))
	}
	require.NoError(t, ins(1, 2, 3))
	err := ins(4, 5, 2)
	require.ErrorIs(t, err, ErrDuplicateKey)
	require.Equal(t, catalog.KindAlreadyExists, catalog.KindOf(err))
	require.Contains(t, err.Error(), "duplicate primary key 2 in app.t1")
	n, err := s.CountLive(ctx, td, "alice")
	require.NoError(t, err)
	require.EqualValues(t, 3, n)

	require.ErrorIs(t, ins(6, 7, 6), ErrDuplicateKey)
	n, _ = s.CountLive(ctx, td, "alice")
	require.EqualValues(t, 3, n)

	// Other partitions are independent.
	rec := record(t, td.UserSchema(), int64s(1), []any{"b"})
	defer rec.Release()
	require.NoError(t, s.Insert(ctx, td, "bob", rec, []int64{99}))

	// A tombstoned key may be inserted again.
	pks := keyArray(t, arrow.PrimitiveTypes.Int64, int64(2), int64(42))
	defer pks.Release()
	cnt, err := s.Delete(ctx, td, "alice", pks, []int64{100, 101})
	require.NoError(t, err)
	require.EqualValues(t, 1, cnt)
	require.NoError(t, ins(2))

	// Wrong shapes are rejected.
	bad := record(t, arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}}, nil), int64s(9))
	defer bad.Release()
	err = s.Insert(ctx, td, "alice", bad, []int64{1})
	require.Equal(t, catalog.KindInvalid, catalog.KindOf(err))
	rec9 := record(t, td.UserSchema(), int64s(9), []any{"x"})
	defer rec9.Release()
	require.Equal(t, catalog.KindInvalid, catalog.KindOf(s.Insert(ctx, td, "alice", rec9, nil)))
	require.Equal(t, catalog.KindInvalid, catalog.KindOf(s.Insert(ctx, td, "a\x00b", rec9, []int64{1})))
	nullPK := record(t, td.UserSchema(), []any{nil}, []any{"x"})
	defer nullPK.Release()
	require.Equal(t, catalog.KindInvalid, catalog.KindOf(s.Insert(ctx, td, "alice", nullPK, []int64{1})))
}

func TestConcurrentWriters(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	td := tableDef(3, catalog.TableShared, col(1, "id", catalog.TypeInt, true), col(2, "w", catalog.TypeInt, false))
	const workers, keys = 8, 50
	var ok, dup atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < keys; k++ {
				rec := record(t, td.UserSchema(), []any{int32(k)}, []any{int32(w)})
				err := s.Insert(ctx, td, "", rec, []int64{int64(w*keys + k)})
				rec.Release()
				switch {
				case err == nil:
					ok.Add(1)
				case errors.Is(err, ErrDuplicateKey):
					dup.Add(1)
				default:
					t.Error(err)
				}
			}
		}()
	}
	// Concurrent upserts/readers on another key range.
	wg.Add(2)
	go func() {
		defer wg.Done()
		for k := 0; k < keys; k++ {
			rec := record(t, td.UserSchema(), []any{int32(1000 + k)}, []any{int32(-1)})
			require.NoError(t, s.Upsert(ctx, td, "", rec, []int64{int64(10000 + k)}))
			rec.Release()
		}
	}()
	go func() {
		defer wg.Done()
		for k := 0; k < 20; k++ {
			_, err := s.CountLive(ctx, td, "")
			require.NoError(t, err)
		}
	}()
	wg.Wait()
	require.EqualValues(t, keys, ok.Load())
	require.EqualValues(t, (workers-1)*keys, dup.Load())
	n, err := s.CountLive(ctx, td, "")
	require.NoError(t, err)
	require.EqualValues(t, 2*keys, n)
}

func TestReopenPersists(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	td := tableDef(5, catalog.TableUser, col(1, "id", catalog.TypeText, true), col(2, "n", catalog.TypeBigInt, false))
	s, err := Open(dir, Options{})
	require.NoError(t, err)
	rec := record(t, td.UserSchema(), []any{"a", "b"}, int64s(1, 2))
	defer rec.Release()
	require.NoError(t, s.Insert(ctx, td, "u1", rec, []int64{1, 2}))
	require.NoError(t, s.MetaPut([]byte("k"), []byte("v")))
	require.NoError(t, s.Close())
	require.NoError(t, s.Close()) // idempotent
	_, _, err = s.MetaGet([]byte("k"))
	require.ErrorIs(t, err, ErrClosed)
	require.ErrorIs(t, s.Insert(ctx, td, "u1", rec, []int64{1, 2}), ErrClosed)

	s, err = Open(dir, Options{})
	require.NoError(t, err)
	defer s.Close()
	got := scanAll(t, s, td, "u1")
	defer got.Release()
	requireColumn(t, got, 0, "a", "b")
	requireColumn(t, got, 1, int64(1), int64(2))
	requireColumn(t, got, 2, int64(1), int64(2))
	v, found, err := s.MetaGet([]byte("k"))
	require.NoError(t, err)
	require.True(t, found)
	require.Equal(t, "v", string(v))
}

func TestScanBatching(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	td := tableDef(9, catalog.TableShared, col(1, "id", catalog.TypeBigInt, true), col(2, "s", catalog.TypeText, false))
	const n = 10_000
	ids := make([]any, n)
	strs := make([]any, n)
	for i := range ids {
		ids[i] = int64(n - i) // reverse
		strs[i] = fmt.Sprintf("row-%d", n-i)
	}
	rec := record(t, td.UserSchema(), ids, strs)
	defer rec.Release()
	require.NoError(t, s.Insert(ctx, td, "", rec, seqRange(1, n)))
	require.NoError(t, s.flush())

	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	var batches, rows int
	var kept arrow.RecordBatch
	next := int64(1)
	err := s.Scan(ctx, td, "", ScanOptions{BatchRows: 1000, Alloc: mem}, func(r arrow.RecordBatch) error {
		require.LessOrEqual(t, r.NumRows(), int64(1000))
		idc := r.Column(0).(*array.Int64)
		sc := r.Column(1).(*array.String)
		for i := 0; i < idc.Len(); i++ {
			require.Equal(t, next, idc.Value(i))
			require.Equal(t, fmt.Sprintf("row-%d", next), sc.Value(i))
			next++
		}
		if batches == 3 {
			r.Retain()
			kept = r
		}
		batches++
		rows += int(r.NumRows())
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, 10, batches)
	require.Equal(t, n, rows)
	require.EqualValues(t, 3001, kept.Column(0).(*array.Int64).Value(0))
	kept.Release()
	mem.AssertSize(t, 0)

	// fn errors stop the scan; cancellation is honoured between batches.
	stop := errors.New("stop")
	calls := 0
	err = s.Scan(ctx, td, "", ScanOptions{BatchRows: 1000}, func(arrow.RecordBatch) error { calls++; return stop })
	require.ErrorIs(t, err, stop)
	require.Equal(t, 1, calls)
	cctx, cancel := context.WithCancel(ctx)
	calls = 0
	err = s.Scan(cctx, td, "", ScanOptions{BatchRows: 1000}, func(arrow.RecordBatch) error { calls++; cancel(); return nil })
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, 1, calls)

	// Empty partition: no batches.
	empty := tableDef(10, catalog.TableShared, td.Columns...)
	err = s.Scan(ctx, empty, "", ScanOptions{}, func(arrow.RecordBatch) error { t.Fatal("unexpected batch"); return nil })
	require.NoError(t, err)
}

func TestLookupAndDelete(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	td := tableDef(11, catalog.TableUser, col(1, "id", catalog.TypeText, true), col(2, "n", catalog.TypeBigInt, false))
	rec := record(t, td.UserSchema(), []any{"a", "b", "c", "d"}, int64s(1, 2, 3, 4))
	defer rec.Release()
	require.NoError(t, s.Insert(ctx, td, "u", rec, seqRange(1, 4)))

	pks := keyArray(t, arrow.BinaryTypes.String, "b", "zz", "d")
	defer pks.Release()
	cnt, err := s.Delete(ctx, td, "u", pks, []int64{10, 11, 12})
	require.NoError(t, err)
	require.EqualValues(t, 2, cnt)
	cnt, err = s.Delete(ctx, td, "u", pks, []int64{13, 14, 15})
	require.NoError(t, err)
	require.EqualValues(t, 0, cnt)

	got := scanAll(t, s, td, "u")
	requireColumn(t, got, 0, "a", "c")
	got.Release()
	n, err := s.CountLive(ctx, td, "u")
	require.NoError(t, err)
	require.EqualValues(t, 2, n)

	look := keyArray(t, arrow.BinaryTypes.String, "c", "b", "missing", "a", "c")
	defer look.Release()
	lk, err := s.Lookup(ctx, td, "u", look, nil)
	require.NoError(t, err)
	defer lk.Release()
	requireColumn(t, lk, 0, "c", "a")
	requireColumn(t, lk, 1, int64(3), int64(1))
	requireColumn(t, lk, 2, int64(3), int64(1))

	// Upsert replaces and resurrects.
	up := record(t, td.UserSchema(), []any{"a", "b"}, int64s(100, 200))
	defer up.Release()
	require.NoError(t, s.Upsert(ctx, td, "u", up, []int64{20, 21}))
	got = scanAll(t, s, td, "u")
	defer got.Release()
	requireColumn(t, got, 0, "a", "b", "c")
	requireColumn(t, got, 1, int64(100), int64(200), int64(3))
	requireColumn(t, got, 2, int64(20), int64(21), int64(3))

	// Wrong key type.
	wrong := keyArray(t, arrow.PrimitiveTypes.Int64, int64(1))
	defer wrong.Release()
	_, err = s.Lookup(ctx, td, "u", wrong, nil)
	require.Equal(t, catalog.KindInvalid, catalog.KindOf(err))
}

func TestNoPrimaryKey(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	td := tableDef(12, catalog.TableStream, col(1, "msg", catalog.TypeText, false))
	rec := record(t, td.UserSchema(), []any{"x", "y", nil})
	defer rec.Release()
	require.NoError(t, s.Insert(ctx, td, "u", rec, []int64{-5, 3, 1}))
	got := scanAll(t, s, td, "u")
	requireColumn(t, got, 0, "x", nil, "y")
	requireColumn(t, got, 1, int64(-5), int64(1), int64(3))
	got.Release()
	require.ErrorIs(t, s.Insert(ctx, td, "u", rec, []int64{7, 8, 3}), ErrDuplicateKey)

	seqs := keyArray(t, arrow.PrimitiveTypes.Int64, int64(1))
	defer seqs.Release()
	cnt, err := s.Delete(ctx, td, "u", seqs, []int64{1})
	require.NoError(t, err)
	require.EqualValues(t, 1, cnt)
	lk, err := s.Lookup(ctx, td, "u", keyArray(t, arrow.PrimitiveTypes.Int64, int64(3), int64(1)), nil)
	require.NoError(t, err)
	defer lk.Release()
	requireColumn(t, lk, 0, "y")
}

func TestPartitionsAndDropTable(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	tu := tableDef(20, catalog.TableUser, col(1, "id", catalog.TypeBigInt, true))
	tu2 := tableDef(21, catalog.TableUser, col(1, "id", catalog.TypeBigInt, true))
	ts := tableDef(22, catalog.TableShared, col(1, "id", catalog.TypeBigInt, true))
	tmax := tableDef(math.MaxUint64, catalog.TableShared, col(1, "id", catalog.TypeBigInt, true))
	rec := record(t, tu.UserSchema(), int64s(1, 2))
	defer rec.Release()
	for _, u := range []catalog.UserID{"carol", "alice", "bob", "al", ""} {
		require.NoError(t, s.Insert(ctx, tu, u, rec, []int64{1, 2}))
	}
	require.NoError(t, s.Insert(ctx, tu2, "zed", rec, []int64{1, 2}))
	require.NoError(t, s.Insert(ctx, ts, "ignored", rec, []int64{1, 2}))
	require.NoError(t, s.Insert(ctx, tmax, "", rec, []int64{1, 2}))

	parts, err := s.Partitions(ctx, tu)
	require.NoError(t, err)
	require.Equal(t, []catalog.UserID{"", "al", "alice", "bob", "carol"}, parts)
	parts, err = s.Partitions(ctx, ts)
	require.NoError(t, err)
	require.Equal(t, []catalog.UserID{""}, parts)

	// "al" must not see "alice"'s rows.
	n, err := s.CountLive(ctx, tu, "al")
	require.NoError(t, err)
	require.EqualValues(t, 2, n)

	// Partitions include tombstone-only partitions.
	pks := keyArray(t, arrow.PrimitiveTypes.Int64, int64(1), int64(2))
	defer pks.Release()
	_, err = s.Delete(ctx, tu, "bob", pks, []int64{5, 6})
	require.NoError(t, err)
	parts, _ = s.Partitions(ctx, tu)
	require.Contains(t, parts, catalog.UserID("bob"))

	require.NoError(t, s.DropTable(ctx, tu.StoreID))
	parts, err = s.Partitions(ctx, tu)
	require.NoError(t, err)
	require.Empty(t, parts)
	n, _ = s.CountLive(ctx, tu, "alice")
	require.Zero(t, n)
	n, _ = s.CountLive(ctx, tu2, "zed")
	require.EqualValues(t, 2, n)
	n, _ = s.CountLive(ctx, ts, "")
	require.EqualValues(t, 2, n)
	require.NoError(t, s.DropTable(ctx, math.MaxUint64))
	n, _ = s.CountLive(ctx, tmax, "")
	require.Zero(t, n)
	n, _ = s.CountLive(ctx, ts, "")
	require.EqualValues(t, 2, n)
	// Metadata survives DropTable.
	require.NoError(t, s.MetaPut([]byte("x"), []byte("1")))
	require.NoError(t, s.DropTable(ctx, 0))
	_, found, _ := s.MetaGet([]byte("x"))
	require.True(t, found)
}

func TestMeta(t *testing.T) {
	s := openTest(t)
	_, found, err := s.MetaGet([]byte("none"))
	require.NoError(t, err)
	require.False(t, found)
	require.NoError(t, s.MetaPut([]byte("user/a"), []byte("1")))
	require.NoError(t, s.MetaPut([]byte("user/b"), []byte("2")))
	require.NoError(t, s.MetaPut([]byte("users"), []byte("x")))
	require.NoError(t, s.MetaPut([]byte("empty"), nil))
	v, found, err := s.MetaGet([]byte("empty"))
	require.NoError(t, err)
	require.True(t, found)
	require.Empty(t, v)

	scan := func(prefix string) map[string]string {
		out := map[string]string{}
		require.NoError(t, s.MetaScan([]byte(prefix), func(k, v []byte) error {
			out[string(k)] = string(v)
			return nil
		}))
		return out
	}
	require.Equal(t, map[string]string{"user/a": "1", "user/b": "2"}, scan("user/"))
	require.Len(t, scan(""), 4)

	require.NoError(t, s.MetaBatch(map[string][]byte{"user/c": []byte("3"), "user/a": []byte("9")}, []string{"user/b", "user/a"}))
	require.Equal(t, map[string]string{"user/a": "9", "user/c": "3"}, scan("user/"))
	require.NoError(t, s.MetaDelete([]byte("user/a")))
	require.NoError(t, s.MetaDelete([]byte("never")))
	require.Equal(t, map[string]string{"user/c": "3"}, scan("user/"))

	stop := errors.New("stop")
	require.ErrorIs(t, s.MetaScan(nil, func(k, v []byte) error { return stop }), stop)
}

func TestLookupEmptyAndNoLeaks(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	td := tableDef(30, catalog.TableShared, col(1, "id", catalog.TypeBigInt, true), col(2, "s", catalog.TypeText, false), col(3, "b", catalog.TypeBoolean, false), col(4, "d", catalog.TypeDecimal, false))
	rec := record(t, td.UserSchema(), int64s(1, 2, 3), []any{"a", nil, "c"}, []any{true, false, nil}, []any{decimal128.FromI64(-5), nil, decimal128.FromI64(7)})
	defer rec.Release()
	require.NoError(t, s.Insert(ctx, td, "", rec, []int64{1, 2, 3}))

	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	for _, keys := range [][]any{{}, {int64(9), int64(10)}} {
		pks := keyArray(t, arrow.PrimitiveTypes.Int64, keys...)
		lk, err := s.Lookup(ctx, td, "", pks, mem)
		pks.Release()
		require.NoError(t, err)
		require.Zero(t, lk.NumRows())
		require.True(t, lk.Schema().Equal(td.ArrowSchema()))
		for i := 0; i < int(lk.NumCols()); i++ {
			require.Zero(t, lk.Column(i).Len())
		}
		lk.Release()
	}
	pks := keyArray(t, arrow.PrimitiveTypes.Int64, int64(3), int64(2), int64(1))
	defer pks.Release()
	lk, err := s.Lookup(ctx, td, "", pks, mem)
	require.NoError(t, err)
	requireColumn(t, lk, 1, "c", nil, "a")
	requireColumn(t, lk, 2, nil, false, true)
	requireColumn(t, lk, 3, decimal128.FromI64(7), nil, decimal128.FromI64(-5))
	lk.Release()

	// A failing callback mid-scan leaks nothing.
	err = s.Scan(ctx, td, "", ScanOptions{BatchRows: 1, Alloc: mem}, func(arrow.RecordBatch) error { return errors.New("boom") })
	require.Error(t, err)
	// A corrupt value fails the scan cleanly.
	key := append(partitionPrefix(nil, td, ""), appendOrderedInt64(nil, 4)...)
	require.NoError(t, s.db.Set(key, []byte{valueVersion, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1 << 3}, nil))
	err = s.Scan(ctx, td, "", ScanOptions{BatchRows: 2, Alloc: mem}, func(arrow.RecordBatch) error { return nil })
	require.ErrorIs(t, err, ErrCorrupt)
}
