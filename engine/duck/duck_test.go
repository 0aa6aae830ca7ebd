//go:build duckdb_arrow

package duck

import (
	"fmt"
	"strings"
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

// TestDirectBatchesMatchArrowConversion checks the direct vector copy used
// for fixed-width and string results against DuckDB's own Arrow conversion,
// with nulls, booleans, inline (≤ 12 bytes) and out-of-line strings, and
// chunk sizes that are not multiples of 8.
func TestDirectBatchesMatchArrowConversion(t *testing.T) {
	d := newTestDB(t)
	c, err := d.Connect()
	require.NoError(t, err)
	defer c.Close()
	const q = `SELECT (i % 100)::TINYINT AS a, (i % 10000)::SMALLINT AS b, CASE WHEN i % 3 = 0 THEN NULL ELSE i::INTEGER END AS c,
		i::BIGINT * 1000003 AS d, i::FLOAT / 7 AS e, CASE WHEN i % 5 = 0 THEN NULL ELSE i::DOUBLE / 3 END AS f,
		i % 2 = 0 AS g, CASE WHEN i % 7 = 0 THEN NULL ELSE i % 4 = 1 END AS h,
		DATE '2000-01-01' + (i % 1000)::INTEGER AS k, TIMESTAMP '2020-01-01' + to_microseconds(i) AS l,
		TIME '00:00:00' + to_microseconds(i) AS m, i::UBIGINT AS n,
		CASE WHEN i % 6 = 0 THEN NULL WHEN i % 6 = 1 THEN '' ELSE 'v' || i END AS s,
		repeat('é', (i % 40)::INTEGER) || i AS t, CASE WHEN i % 9 = 0 THEN NULL ELSE ('blob' || repeat('z', (i % 20)::INTEGER))::BLOB END AS u
		FROM range(NROWS) t(i) WHERE i % 11 <> 3`
	for _, rows := range []int{0, 1, 5, 2047, 2048, 2049, 70001} {
		sql := strings.ReplaceAll(q, "NROWS", fmt.Sprint(rows))
		r1, err := c.Query(sql)
		require.NoError(t, err)
		require.NotNil(t, r1.direct, "every column of the probe query should copy directly")
		var direct []arrow.RecordBatch
		for rec := r1.NextBatch(4096, 1<<30); rec != nil; rec = r1.NextBatch(4096, 1<<30) {
			require.LessOrEqual(t, rec.NumRows(), int64(4096))
			direct = append(direct, rec)
		}
		require.NoError(t, r1.Err())
		r1.Close()
		r2, err := c.Query(sql)
		require.NoError(t, err)
		converted, err := r2.All()
		require.NoError(t, err)
		r2.Close()
		tbl1 := array.NewTableFromRecords(r1.Schema(), direct)
		tbl2 := array.NewTableFromRecords(r2.Schema(), converted)
		require.Equal(t, tbl2.NumRows(), tbl1.NumRows(), "rows=%d", rows)
		require.True(t, array.TableEqual(tbl1, tbl2), "rows=%d: direct copy differs from DuckDB's conversion", rows)
		tbl1.Release()
		tbl2.Release()
		releaseRecs(direct)
		releaseRecs(converted)
	}
}

// TestDirectStringBatchesKeepToTheByteBudget: batches of long strings stop
// at about maxBytes of string data instead of at the row count.
func TestDirectStringBatchesKeepToTheByteBudget(t *testing.T) {
	d := newTestDB(t)
	c, err := d.Connect()
	require.NoError(t, err)
	defer c.Close()
	r, err := c.Query("SELECT repeat('x', 1000) || i AS s FROM range(50000) t(i)")
	require.NoError(t, err)
	defer r.Close()
	require.NotNil(t, r.direct)
	var rows, batches int64
	for rec := r.NextBatch(65536, 1<<20); rec != nil; rec = r.NextBatch(65536, 1<<20) {
		s := rec.Column(0).(*array.String)
		require.LessOrEqual(t, len(s.ValueBytes()), 1<<20+1010, "one value past the budget at most")
		require.Equal(t, fmt.Sprintf("%s%d", strings.Repeat("x", 1000), rows), s.Value(0))
		rows += rec.NumRows()
		batches++
		rec.Release()
	}
	require.NoError(t, r.Err())
	require.EqualValues(t, 50000, rows)
	require.Greater(t, batches, int64(20), "50 MB of strings in 1 MiB batches")
}

// TestHugeValuesSplitChunks: a chunk of 2048 rows holds a batch's worth of
// bytes many times over when values are megabytes each; batches stop at the
// byte budget mid-chunk (one value past it at most), so a Flight message
// stays under what clients accept, and every row arrives once, in order.
func TestHugeValuesSplitChunks(t *testing.T) {
	d := newTestDB(t)
	c, err := d.Connect()
	require.NoError(t, err)
	defer c.Close()
	r, err := c.Query("SELECT i, CASE WHEN i % 5 = 0 THEN NULL ELSE repeat(chr(65 + (i % 26)::INT), 3000000) END AS s, i % 2 = 0 AS even FROM range(60) t(i)")
	require.NoError(t, err)
	defer r.Close()
	require.NotNil(t, r.direct)
	var rows int64
	for rec := r.NextBatch(65536, 8<<20); rec != nil; rec = r.NextBatch(65536, 8<<20) {
		s := rec.Column(1).(*array.String)
		require.LessOrEqual(t, len(s.ValueBytes()), 8<<20+3000000)
		for j := 0; j < int(rec.NumRows()); j++ {
			i := rec.Column(0).(*array.Int64).Value(j)
			require.Equal(t, rows, i)
			require.Equal(t, i%2 == 0, rec.Column(2).(*array.Boolean).Value(j))
			if i%5 == 0 {
				require.True(t, s.IsNull(j))
			} else {
				require.Equal(t, strings.Repeat(string(rune(65+i%26)), 3000000), s.Value(j))
			}
			rows++
		}
		rec.Release()
	}
	require.NoError(t, r.Err())
	require.True(t, r.Done())
	require.EqualValues(t, 60, rows)
}

// TestResultMemoryLimit: batches held past Options.ResultMemoryLimit (over
// all results) end the next fetch with ErrResultMemory; releasing them
// lets queries run again.
func TestResultMemoryLimit(t *testing.T) {
	d, err := Open(Options{Threads: 2, ResultMemoryLimit: 20 << 20})
	require.NoError(t, err)
	defer func() { _ = d.Close() }()
	c, err := d.Connect()
	require.NoError(t, err)
	defer c.Close()
	q := "SELECT repeat('x', 1000000) AS s FROM range(100) t(i)"
	r, err := c.Query(q)
	require.NoError(t, err)
	var held []arrow.RecordBatch
	for rec := r.NextBatch(65536, 4<<20); rec != nil; rec = r.NextBatch(65536, 4<<20) {
		held = append(held, rec)
	}
	require.ErrorIs(t, r.Err(), ErrResultMemory)
	require.Less(t, len(held), 10, "stopped near 20 MB of 100 MB")
	r.Close()
	releaseRecs(held)
	r, err = c.Query(q)
	require.NoError(t, err)
	defer r.Close()
	var rows int64
	for rec := r.NextBatch(65536, 4<<20); rec != nil; rec = r.NextBatch(65536, 4<<20) {
		rows += rec.NumRows()
		rec.Release()
	}
	require.NoError(t, r.Err())
	require.EqualValues(t, 100, rows)
}

func releaseRecs(recs []arrow.RecordBatch) {
	for _, r := range recs {
		r.Release()
	}
}

// TestResultMemoryBudget: two users' results charged to their own Budgets.
// One holding batches past its budget gets ErrUserResultMemory while the
// other, under the same server limit, streams everything; releasing the
// batches gives the first its budget back.
func TestResultMemoryBudget(t *testing.T) {
	d, err := Open(Options{Threads: 2, ResultMemoryLimit: 200 << 20})
	require.NoError(t, err)
	defer func() { _ = d.Close() }()
	greedy, other := NewBudget(20<<20), NewBudget(20<<20)
	cg, err := d.Connect()
	require.NoError(t, err)
	defer cg.Close()
	co, err := d.Connect()
	require.NoError(t, err)
	defer co.Close()
	q := "SELECT repeat('x', 1000000) AS s FROM range(100) t(i)"
	query := func(c *Conn, b *Budget) *Rows {
		r, err := c.Query(q)
		require.NoError(t, err)
		r.SetBudget(b)
		return r
	}

	r := query(cg, greedy)
	var held []arrow.RecordBatch
	for rec := r.NextBatch(65536, 4<<20); rec != nil; rec = r.NextBatch(65536, 4<<20) {
		held = append(held, rec)
	}
	require.ErrorIs(t, r.Err(), ErrUserResultMemory)
	require.Less(t, len(held), 10, "stopped near 20 MB of 100 MB")
	require.Greater(t, greedy.Used(), greedy.Limit())
	r.Close()

	// The other user streams all 100 MB (holding one batch at a time)
	// while the first still holds its batches.
	ro := query(co, other)
	var rows int64
	for rec := ro.NextBatch(65536, 4<<20); rec != nil; rec = ro.NextBatch(65536, 4<<20) {
		rows += rec.NumRows()
		rec.Release()
	}
	require.NoError(t, ro.Err())
	require.EqualValues(t, 100, rows)
	ro.Close()
	require.Zero(t, other.Used())

	// Released batches free the budget, even after their Rows closed.
	releaseRecs(held)
	require.Zero(t, greedy.Used())
	r = query(cg, greedy)
	defer r.Close()
	rows = 0
	for rec := r.NextBatch(65536, 4<<20); rec != nil; rec = r.NextBatch(65536, 4<<20) {
		rows += rec.NumRows()
		rec.Release()
	}
	require.NoError(t, r.Err())
	require.EqualValues(t, 100, rows)
	require.Zero(t, greedy.Used())
	require.Zero(t, d.alloc.used.Load())
}
