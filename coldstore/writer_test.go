package coldstore

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/kalamdb/kalamdb-go/catalog"
	"github.com/stretchr/testify/require"
)

// allTypesTable has a BIGINT key and one column of every other type; "room"
// is NOT NULL to show that tombstones may still leave it null.
func allTypesTable() *catalog.TableDef {
	room := col("room", catalog.TypeText)
	room.NotNull = true
	return newTestTable(catalog.TableUser,
		pkCol("id", catalog.TypeBigInt),
		col("b", catalog.TypeBoolean),
		col("si", catalog.TypeSmallInt),
		col("i", catalog.TypeInt),
		col("f", catalog.TypeFloat),
		col("d", catalog.TypeDouble),
		col("dec", catalog.TypeDecimal),
		room,
		col("blob", catalog.TypeBytes),
		col("js", catalog.TypeJSON),
		col("ts", catalog.TypeTimestamp),
		col("day", catalog.TypeDate),
		col("tod", catalog.TypeTime),
		col("uid", catalog.TypeUUID),
	)
}

// allTypesRows: id, b, si, i, f, d, dec, room, blob, js, ts, day, tod, uid, _seq, _deleted.
var allTypesRows = [][][]any{
	{
		{int64(-5), "true", "-3", "70000", "1.5", "-2.25", "123456789.123", "r1", []byte{0, 1, 2}, `{"a":1}`, "2026-01-02 03:04:05.123456", "2026-01-02", "03:04:05.123456", "0190a0b0-c0d0-7000-8000-000000000001", int64(100), false},
		{int64(1), nil, nil, nil, nil, nil, nil, "r2", nil, nil, nil, nil, nil, nil, int64(90), false},
		{int64(2), nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, int64(130), true},
	},
	{
		{int64(3), "false", "32767", "-2147483648", "-0.5", "1e300", "-0.001", "r3", []byte{}, `[]`, "1969-12-31 23:59:59", "1900-01-01", "23:59:59.999999", "0190a0b0-c0d0-7000-8000-000000000002", int64(110), false},
		{int64(40), nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, int64(120), true},
	},
}

func TestWriteAllTypes(t *testing.T) {
	s, mem := newTestStore(t, Options{})
	tbl := allTypesTable()

	w, err := s.Create(tbl, "alice")
	require.NoError(t, err)
	defer func() { require.NoError(t, w.Abort()) }()
	var want []arrow.RecordBatch
	for _, rows := range allTypesRows {
		rec := buildRecord(t, mem, tbl, rows)
		defer rec.Release()
		require.NoError(t, w.Write(rec))
		want = append(want, rec)
	}
	seg, err := w.Commit()
	require.NoError(t, err)

	require.Regexp(t, regexp.MustCompile(`^seg-0000000000000082-[0-9a-f]{8}$`), seg.ID)
	require.Equal(t, "chat/messages/alice/"+seg.ID+".parquet", seg.File)
	require.Equal(t, int64(5), seg.Rows)
	require.Equal(t, int64(2), seg.Tombstones)
	require.Equal(t, int64(90), seg.MinSeq)
	require.Equal(t, int64(130), seg.MaxSeq)
	require.Equal(t, "BIGINT", seg.PKType)
	require.Equal(t, "-5", seg.MinPK)
	require.Equal(t, "40", seg.MaxPK)
	require.Equal(t, int64(-5), *seg.MinPKInt)
	require.Equal(t, int64(40), *seg.MaxPKInt)
	require.Equal(t, 3, seg.SchemaVersion)
	require.Len(t, seg.ColumnIDs, len(seg.Columns))
	for i, name := range seg.Columns {
		require.Equal(t, tbl.Columns[tbl.ColumnIndex(name)].ID, seg.ColumnIDs[i], "column %s", name)
	}
	require.Equal(t, testNow, seg.CreatedAt)
	fi, err := os.Stat(s.Path(seg))
	require.NoError(t, err)
	require.Equal(t, fi.Size(), seg.Bytes)
	require.Equal(t, []string{seg.File}, listFiles(t, s.Dir()), "no temporary file left")

	got, rdr := readSegment(t, mem, s.Path(seg))
	defer got.Release()
	wantTbl := array.NewTableFromRecords(SegmentSchema(tbl), want)
	defer wantTbl.Release()
	require.True(t, withoutFieldIDs(got.Schema()).Equal(wantTbl.Schema()), "schema\ngot:  %s\nwant: %s", got.Schema(), wantTbl.Schema())
	require.Equal(t, wantTbl.NumRows(), got.NumRows())
	for i := 0; i < int(wantTbl.NumCols()); i++ {
		require.True(t, array.ChunkedEqual(wantTbl.Column(i).Data(), got.Column(i).Data()),
			"column %s\ngot:  %v\nwant: %v", wantTbl.Schema().Field(i).Name, got.Column(i).Data(), wantTbl.Column(i).Data())
	}

	// File-level properties: one row group, zstd, statistics, sort order,
	// table metadata.
	md := rdr.MetaData()
	require.Equal(t, 1, md.NumRowGroups())
	for k, v := range map[string]string{"kalamdb.table": "chat.messages", "kalamdb.table_version": "3"} {
		got := md.KeyValueMetadata().FindValue(k)
		require.NotNil(t, got, k)
		require.Equal(t, v, *got, k)
	}
	rg := md.RowGroup(0)
	require.Equal(t, []parquet.SortingColumn{{ColumnIdx: 0}}, rgSorting(rg))
	for c := 0; c < rg.NumColumns(); c++ {
		cc, err := rg.ColumnChunk(c)
		require.NoError(t, err)
		require.Equal(t, compress.Codecs.Zstd, cc.Compression(), "column %d", c)
		ok, err := cc.StatsSet()
		require.NoError(t, err)
		// Float columns have none: their min/max would leave NaN out.
		isFloat := cc.Type() == parquet.Types.Float || cc.Type() == parquet.Types.Double
		require.Equal(t, !isFloat, ok, "column %d (%s) statistics", c, cc.Type())
	}
	idStats := columnStats(t, rg, 0)
	require.Equal(t, int64(-5), idStats.(*metadata.Int64Statistics).Min())
	require.Equal(t, int64(40), idStats.(*metadata.Int64Statistics).Max())
}

func rgSorting(rg *metadata.RowGroupMetaData) []parquet.SortingColumn {
	return append([]parquet.SortingColumn{}, rg.SortingColumns()...)
}

func columnStats(t *testing.T, rg *metadata.RowGroupMetaData, c int) metadata.TypedStatistics {
	t.Helper()
	cc, err := rg.ColumnChunk(c)
	require.NoError(t, err)
	st, err := cc.Statistics()
	require.NoError(t, err)
	require.True(t, st.HasMinMax())
	return st
}

// withoutFieldIDs drops the PARQUET:field_id metadata the reader adds.
func withoutFieldIDs(sc *arrow.Schema) *arrow.Schema {
	fields := sc.Fields()
	for i, f := range fields {
		var keys, vals []string
		for j, k := range f.Metadata.Keys() {
			if k != "PARQUET:field_id" {
				keys = append(keys, k)
				vals = append(vals, f.Metadata.Values()[j])
			}
		}
		fields[i].Metadata = arrow.Metadata{}
		if len(keys) > 0 {
			fields[i].Metadata = arrow.NewMetadata(keys, vals)
		}
	}
	return arrow.NewSchema(fields, nil)
}

func TestPKBounds(t *testing.T) {
	i64 := func(v int64) *int64 { return &v }
	tests := []struct {
		name           string
		kind           catalog.TypeKind
		first, last    any
		pkType         string
		minPK, maxPK   string
		minInt, maxInt *int64
	}{
		{name: "smallint", kind: catalog.TypeSmallInt, first: "-7", last: "9", pkType: "SMALLINT", minPK: "-7", maxPK: "9", minInt: i64(-7), maxInt: i64(9)},
		{name: "int", kind: catalog.TypeInt, first: "1", last: "2000000000", pkType: "INT", minPK: "1", maxPK: "2000000000", minInt: i64(1), maxInt: i64(2000000000)},
		{name: "text", kind: catalog.TypeText, first: "alpha", last: "beta", pkType: "TEXT", minPK: "alpha", maxPK: "beta"},
		{name: "uuid", kind: catalog.TypeUUID, first: "0190a0b0-c0d0-7000-8000-000000000001", last: "0190a0b0-c0d0-7000-8000-00000000000f", pkType: "UUID", minPK: "0190a0b0-c0d0-7000-8000-000000000001", maxPK: "0190a0b0-c0d0-7000-8000-00000000000f"},
		{name: "bytes", kind: catalog.TypeBytes, first: []byte{0x00, 0xab}, last: []byte{0xff}, pkType: "BYTES", minPK: "00ab", maxPK: "ff"},
		{name: "double", kind: catalog.TypeDouble, first: "-1.5", last: "1e+21", pkType: "DOUBLE", minPK: "-1.5", maxPK: "1e+21"},
		{name: "decimal", kind: catalog.TypeDecimal, first: "-2.5", last: "10", pkType: "DECIMAL(12,3)", minPK: "-2.500", maxPK: "10.000"},
		{name: "timestamp", kind: catalog.TypeTimestamp, first: "1970-01-01 00:00:01", last: "2026-01-02 03:04:05.5", pkType: "TIMESTAMP", minPK: "1970-01-01 00:00:01", maxPK: "2026-01-02 03:04:05.5", minInt: i64(1_000_000), maxInt: i64(1767323045_500000)},
		{name: "date", kind: catalog.TypeDate, first: "1969-12-31", last: "1970-01-03", pkType: "DATE", minPK: "1969-12-31", maxPK: "1970-01-03", minInt: i64(-1), maxInt: i64(2)},
		{name: "time", kind: catalog.TypeTime, first: "00:00:00", last: "23:59:59.25", pkType: "TIME", minPK: "00:00:00", maxPK: "23:59:59.25", minInt: i64(0), maxInt: i64(86399_250000)},
		{name: "boolean", kind: catalog.TypeBoolean, first: "false", last: "true", pkType: "BOOLEAN", minPK: "false", maxPK: "true"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, mem := newTestStore(t, Options{})
			tbl := newTestTable(catalog.TableShared, pkCol("k", tt.kind), col("v", catalog.TypeText))
			w, err := s.Create(tbl, "ignored")
			require.NoError(t, err)
			defer func() { require.NoError(t, w.Abort()) }()
			rec := buildRecord(t, mem, tbl, [][]any{{tt.first, "x", int64(1), false}, {tt.last, nil, int64(2), true}})
			defer rec.Release()
			require.NoError(t, w.Write(rec))
			seg, err := w.Commit()
			require.NoError(t, err)
			require.True(t, strings.HasPrefix(seg.File, "chat/messages/shared/seg-0000000000000002-"), seg.File)
			require.Equal(t, tt.pkType, seg.PKType)
			require.Equal(t, tt.minPK, seg.MinPK)
			require.Equal(t, tt.maxPK, seg.MaxPK)
			require.Equal(t, tt.minInt, seg.MinPKInt)
			require.Equal(t, tt.maxInt, seg.MaxPKInt)
			require.True(t, Manifest{Segments: []Segment{seg, seg}}.Overlaps(), "a segment overlaps itself")
		})
	}
}

func TestRowGroups(t *testing.T) {
	s, mem := newTestStore(t, Options{RowGroupRows: 10})
	tbl := newTestTable(catalog.TableUser, pkCol("id", catalog.TypeBigInt), col("v", catalog.TypeText))
	w, err := s.Create(tbl, "bob")
	require.NoError(t, err)
	defer func() { require.NoError(t, w.Abort()) }()
	for b := 0; b < 5; b++ { // 5 batches of 7 rows: row groups of 10, 10, 10, 5
		var rows [][]any
		for i := 0; i < 7; i++ {
			id := int64(b*7 + i)
			rows = append(rows, []any{id, "v", id + 1000, false})
		}
		rec := buildRecord(t, mem, tbl, rows)
		require.NoError(t, w.Write(rec))
		rec.Release()
	}
	seg, err := w.Commit()
	require.NoError(t, err)
	require.Equal(t, int64(35), seg.Rows)
	require.Equal(t, "0", seg.MinPK)
	require.Equal(t, "34", seg.MaxPK)

	got, rdr := readSegment(t, mem, s.Path(seg))
	defer got.Release()
	require.Equal(t, int64(35), got.NumRows())
	md := rdr.MetaData()
	require.Equal(t, 4, md.NumRowGroups())
	for i, n := range []int64{10, 10, 10, 5} {
		rg := md.RowGroup(i)
		require.Equal(t, n, rg.NumRows())
		st := columnStats(t, rg, 0).(*metadata.Int64Statistics)
		require.Equal(t, int64(i*10), st.Min(), "row group %d min id", i)
		require.Equal(t, int64(i*10)+n-1, st.Max(), "row group %d max id", i)
	}
}

func TestAbort(t *testing.T) {
	s, mem := newTestStore(t, Options{})
	tbl := allTypesTable()
	w, err := s.Create(tbl, "alice")
	require.NoError(t, err)
	rec := buildRecord(t, mem, tbl, allTypesRows[0])
	defer rec.Release()
	require.NoError(t, w.Write(rec))
	require.Len(t, listFiles(t, s.Dir()), 1)
	require.NoError(t, w.Abort())
	require.Empty(t, listFiles(t, s.Dir()))
	require.NoError(t, w.Abort(), "Abort is idempotent")
	require.ErrorIs(t, w.Write(rec), ErrWriterDone)
	_, err = w.Commit()
	require.ErrorIs(t, err, ErrWriterDone)
}

// TestCrashBeforeCommit simulates a process dying between writing a segment
// and renaming it: only the temporary file exists, and RemoveOrphans, run at
// the next start, deletes it together with committed files no manifest lists.
func TestCrashBeforeCommit(t *testing.T) {
	s, mem := newTestStore(t, Options{})
	tbl := allTypesTable()

	kept := commitRows(t, s, mem, tbl, "alice", allTypesRows[0])
	unlisted := commitRows(t, s, mem, tbl, "bob", allTypesRows[1])

	crashed, err := s.Create(tbl, "alice")
	require.NoError(t, err)
	rec := buildRecord(t, mem, tbl, allTypesRows[1])
	defer rec.Release()
	require.NoError(t, crashed.Write(rec))

	var tmp []string
	for _, f := range listFiles(t, s.Dir()) {
		if strings.HasSuffix(f, ".tmp") {
			tmp = append(tmp, f)
		}
	}
	require.Len(t, tmp, 1)
	require.Regexp(t, `^chat/messages/alice/pending-[0-9a-f]{8}\.parquet\.tmp$`, tmp[0])
	require.NoError(t, os.WriteFile(s.Dir()+"/notes.txt", []byte("kept"), 0o644))

	// "Restart": a fresh Store on the same directory.
	s2, err := Open(Options{Dir: s.Dir()})
	require.NoError(t, err)
	removed, err := s2.RemoveOrphans(map[string]bool{kept.File: true})
	require.NoError(t, err)
	require.ElementsMatch(t, []string{tmp[0], unlisted.File}, removed)
	require.ElementsMatch(t, []string{kept.File, "notes.txt"}, listFiles(t, s.Dir()))

	// The dead writer's buffers are released; its file is already gone.
	require.NoError(t, crashed.Abort())
	removed, err = s2.RemoveOrphans(map[string]bool{kept.File: true})
	require.NoError(t, err)
	require.Empty(t, removed)
}

// commitRows writes rows as one segment of (tbl, user).
func commitRows(t *testing.T, s *Store, mem *memory.CheckedAllocator, tbl *catalog.TableDef, user catalog.UserID, rows [][]any) Segment {
	t.Helper()
	w, err := s.Create(tbl, user)
	require.NoError(t, err)
	rec := buildRecord(t, mem, tbl, rows)
	defer rec.Release()
	require.NoError(t, w.Write(rec))
	seg, err := w.Commit()
	require.NoError(t, err)
	return seg
}

func TestWriteErrors(t *testing.T) {
	s, mem := newTestStore(t, Options{})
	tbl := newTestTable(catalog.TableUser, pkCol("id", catalog.TypeBigInt), col("v", catalog.TypeText))
	write := func(t *testing.T, batches ...[][]any) error {
		w, err := s.Create(tbl, "alice")
		require.NoError(t, err)
		defer func() { require.NoError(t, w.Abort()) }()
		for _, rows := range batches {
			rec := buildRecord(t, mem, tbl, rows)
			err := w.Write(rec)
			rec.Release()
			if err != nil {
				return err
			}
		}
		_, err = w.Commit()
		return err
	}

	t.Run("schema mismatch", func(t *testing.T) {
		w, err := s.Create(tbl, "alice")
		require.NoError(t, err)
		defer func() { require.NoError(t, w.Abort()) }()
		b := array.NewRecordBuilder(mem, tbl.ArrowSchema()) // hot-tier schema: no _deleted
		defer b.Release()
		rec := b.NewRecordBatch()
		defer rec.Release()
		err = w.Write(rec)
		require.ErrorIs(t, err, ErrSchemaMismatch)
		require.Equal(t, catalog.KindInvalid, catalog.KindOf(err))
	})
	t.Run("null key", func(t *testing.T) {
		require.ErrorIs(t, write(t, [][]any{{nil, "v", int64(1), false}}), ErrNullKey)
	})
	t.Run("unsorted within a batch", func(t *testing.T) {
		require.ErrorIs(t, write(t, [][]any{{int64(2), "v", int64(1), false}, {int64(1), "v", int64(2), false}}), ErrUnsorted)
	})
	t.Run("unsorted across batches", func(t *testing.T) {
		require.ErrorIs(t, write(t, [][]any{{int64(5), "v", int64(1), false}}, [][]any{{int64(4), "v", int64(2), false}}), ErrUnsorted)
	})
	t.Run("empty segment", func(t *testing.T) {
		err := write(t)
		require.ErrorIs(t, err, ErrEmptySegment)
	})
	t.Run("invalid user", func(t *testing.T) {
		for _, u := range []catalog.UserID{"", "..", "a/b"} {
			_, err := s.Create(tbl, u)
			require.Error(t, err, "user %q", u)
			require.Equal(t, catalog.KindInvalid, catalog.KindOf(err))
		}
	})
	require.Empty(t, listFiles(t, s.Dir()), "failed writers leave no file")
}

func TestCommitIOError(t *testing.T) {
	s, mem := newTestStore(t, Options{})
	tbl := newTestTable(catalog.TableUser, pkCol("id", catalog.TypeBigInt))
	w, err := s.Create(tbl, "alice")
	require.NoError(t, err)
	rec := buildRecord(t, mem, tbl, [][]any{{int64(1), int64(1), false}})
	defer rec.Release()
	require.NoError(t, w.Write(rec))
	// Make the rename fail: the partition directory disappears.
	require.NoError(t, os.RemoveAll(s.Dir()+"/chat/messages/alice"))
	_, err = w.Commit()
	var ioe *IOError
	require.ErrorAs(t, err, &ioe)
	require.Equal(t, tbl.ID, ioe.Table)
	require.ErrorIs(t, err, os.ErrNotExist)
	require.NoError(t, w.Abort())
}

func TestDictionaryPolicy(t *testing.T) {
	s, mem := newTestStore(t, Options{})
	tbl := newTestTable(catalog.TableUser,
		pkCol("id", catalog.TypeBigInt), col("room", catalog.TypeText), col("body", catalog.TypeText), col("score", catalog.TypeDouble))
	var rows [][]any
	for i := 0; i < 5000; i++ {
		rows = append(rows, []any{int64(i), []string{"lobby", "dev", "random"}[i%3], strings.Repeat("x", 20) + strconv.Itoa(i*7919), strconv.Itoa(i) + ".25", int64(i + 1), false})
	}
	seg := commitRows(t, s, mem, tbl, "alice", rows)
	got, rdr := readSegment(t, mem, s.Path(seg))
	defer got.Release()
	rg := rdr.MetaData().RowGroup(0)
	for c, want := range map[int]bool{0: false, 1: true, 2: false, 3: false, 4: false} {
		cc, err := rg.ColumnChunk(c)
		require.NoError(t, err)
		require.Equal(t, want, cc.HasDictionaryPage(), "column %s", cc.PathInSchema())
	}
}
