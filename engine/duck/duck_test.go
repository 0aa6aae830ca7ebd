//go:build duckdb_arrow

package duck

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"
)

func newTestDB(t testing.TB) *DB {
	t.Helper()
	d, err := Open(Options{Threads: 2, AllowedDirs: []string{t.TempDir()}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = d.Close() })
	return d
}

func TestStreamAndCoalesce(t *testing.T) {
	d := newTestDB(t)
	c, err := d.Connect()
	require.NoError(t, err)
	defer c.Close()
	rows, err := c.Query("SELECT i, i*2 AS j, 'x' || i AS s FROM range(100000) t(i)")
	require.NoError(t, err)
	defer rows.Close()
	require.Equal(t, "i", rows.Schema().Field(0).Name)
	var total int64
	var batches int
	for {
		rec := rows.NextBatch(65536, 16<<20)
		if rec == nil {
			break
		}
		total += rec.NumRows()
		batches++
		rec.Release()
	}
	require.NoError(t, rows.Err())
	require.EqualValues(t, 100000, total)
	require.Equal(t, 2, batches)
}

func TestAppendRecordAndParams(t *testing.T) {
	d := newTestDB(t)
	c, err := d.Connect()
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.Exec("CREATE TEMP TABLE t (id BIGINT, name VARCHAR)"))
	schema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}, {Name: "name", Type: arrow.BinaryTypes.String, Nullable: true}}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for i := 0; i < 5000; i++ {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		if i%2 == 0 {
			b.Field(1).(*array.StringBuilder).Append("even")
		} else {
			b.Field(1).AppendNull()
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	require.NoError(t, c.AppendRecord("t", true, rec))
	rows, err := c.Query("SELECT count(*), count(name), sum(id) FROM t WHERE id >= $1", int64(0))
	require.NoError(t, err)
	recs, err := rows.All()
	rows.Close()
	require.NoError(t, err)
	require.Len(t, recs, 1)
	require.EqualValues(t, 5000, recs[0].Column(0).(*array.Int64).Value(0))
	require.EqualValues(t, 2500, recs[0].Column(1).(*array.Int64).Value(0))
	recs[0].Release()
}

func TestLockdown(t *testing.T) {
	d := newTestDB(t)
	c, err := d.Connect()
	require.NoError(t, err)
	defer c.Close()
	for _, q := range []string{
		"SELECT * FROM read_csv('/etc/passwd')",
		"SET enable_external_access=true",
		"INSTALL httpfs",
		"COPY (SELECT 1) TO '/tmp/kalam_escape.csv'",
	} {
		err := c.Exec(q)
		require.Error(t, err, q)
	}
}
