package coldstore

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/kalamdb/kalamdb-go/catalog"
	"github.com/stretchr/testify/require"
)

// testNow is the injected clock of test stores.
var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// newTestStore opens a store in a temporary directory with a checked
// allocator (asserted empty at cleanup) and the key-order invariant check.
func newTestStore(t testing.TB, opts Options) (*Store, *memory.CheckedAllocator) {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	s, err := Open(opts)
	require.NoError(t, err)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	t.Cleanup(func() { mem.AssertSize(t, 0) })
	s.mem = mem
	s.checkSorted = true
	s.now = func() time.Time { return testNow }
	return s, mem
}

// newTestTable returns a sealed table definition with the given columns.
func newTestTable(typ catalog.TableType, cols ...catalog.Column) *catalog.TableDef {
	for i := range cols {
		cols[i].ID = uint32(i + 1)
	}
	return (&catalog.TableDef{
		ID:      catalog.TableID{Namespace: "chat", Name: "messages"},
		StoreID: 7,
		Type:    typ,
		Columns: cols,
		Version: 3,
	}).Seal()
}

// col is shorthand for a column definition.
func col(name string, kind catalog.TypeKind) catalog.Column {
	c := catalog.Column{Name: name, Type: catalog.DataType{Kind: kind}}
	if kind == catalog.TypeDecimal {
		c.Type.Precision, c.Type.Scale = 12, 3
	}
	return c
}

// pkCol is a NOT NULL primary-key column.
func pkCol(name string, kind catalog.TypeKind) catalog.Column {
	c := col(name, kind)
	c.PrimaryKey, c.NotNull = true, true
	return c
}

// buildRecord builds a batch of SegmentSchema(tbl) from rows of Go values
// (nil for null), appended with each builder's generic AppendValueFromString
// unless the value is typed.
func buildRecord(t testing.TB, mem memory.Allocator, tbl *catalog.TableDef, rows [][]any) arrow.RecordBatch {
	t.Helper()
	b := array.NewRecordBuilder(mem, SegmentSchema(tbl))
	defer b.Release()
	for _, row := range rows {
		require.Len(t, row, b.Schema().NumFields())
		for i, v := range row {
			fb := b.Field(i)
			if v == nil {
				fb.AppendNull()
				continue
			}
			switch x := v.(type) {
			case string:
				require.NoError(t, fb.AppendValueFromString(x))
			case []byte:
				fb.(*array.BinaryBuilder).Append(x)
			case int64:
				fb.(*array.Int64Builder).Append(x)
			case bool:
				fb.(*array.BooleanBuilder).Append(x)
			default:
				t.Fatalf("unsupported test value %T", v)
			}
		}
	}
	return b.NewRecordBatch()
}

// readSegment reads a whole segment file back with pqarrow. It reads with
// Go's allocator, not the test's checked one: arrow-go's (v18.8.0)
// DELTA_BINARY_PACKED decoder never frees a 64-byte block buffer, which the
// garbage collector reclaims but a checked allocator reports as a leak.
func readSegment(t testing.TB, _ memory.Allocator, path string) (arrow.Table, *file.Reader) {
	t.Helper()
	rdr, err := file.OpenParquetFile(path, false)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, rdr.Close()) })
	fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{}, memory.NewGoAllocator())
	require.NoError(t, err)
	tbl, err := fr.ReadTable(context.Background())
	require.NoError(t, err)
	return tbl, rdr
}

// listFiles returns the files under dir relative to it, '/'-separated.
func listFiles(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	require.NoError(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		out = append(out, filepath.ToSlash(rel))
		return err
	}))
	return out
}
