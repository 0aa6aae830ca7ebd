//go:build duckdb_arrow

package duck

import (
	"fmt"
	"testing"
)

// BenchmarkNextBatchStrings streams a result of short strings (the common
// case of the direct copy, which measures every chunk's string bytes before
// copying) in 64k-row, 8 MiB batches.
func BenchmarkNextBatchStrings(b *testing.B) {
	d := newTestDB(b)
	c, err := d.Connect()
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if err := c.Exec("CREATE TABLE t AS SELECT i, 'name-' || i AS s, 'x' || (i % 97) AS u FROM range(1000000) r(i)"); err != nil {
		b.Fatal(err)
	}
	for _, cols := range []string{"s", "i, s, u"} {
		b.Run(fmt.Sprintf("cols=%s", cols), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r, err := c.Query("SELECT " + cols + " FROM t")
				if err != nil {
					b.Fatal(err)
				}
				var n int64
				for rec := r.NextBatch(65536, 8<<20); rec != nil; rec = r.NextBatch(65536, 8<<20) {
					n += rec.NumRows()
					rec.Release()
				}
				if err := r.Err(); err != nil || n != 1000000 {
					b.Fatalf("%d rows, %v", n, err)
				}
				r.Close()
			}
		})
	}
}
