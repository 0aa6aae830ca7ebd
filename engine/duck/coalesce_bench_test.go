//go:build duckdb_arrow

package duck

import (
	"fmt"
	"testing"
)

// BenchmarkNextBatchStrings streams a result of short strings (the common
// case of the direct copy, which measures every chunk's string bytes before
// copying) in 64k-row, 8 MiB batches; the budget= cases charge the result
// to a per-user Budget (never exceeded), as the engine does.
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
		for _, budget := range []*Budget{nil, NewBudget(1 << 40)} {
			name := fmt.Sprintf("cols=%s", cols)
			if budget != nil {
				name += ",budget=on"
			}
			b.Run(name, func(b *testing.B) {
				benchNextBatch(b, c, cols, budget)
			})
		}
	}
}

func benchNextBatch(b *testing.B, c *Conn, cols string, budget *Budget) {
	b.ReportAllocs()
	for b.Loop() {
		r, err := c.Query("SELECT " + cols + " FROM t")
		if err != nil {
			b.Fatal(err)
		}
		r.SetBudget(budget)
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
	if budget != nil && budget.Used() != 0 {
		b.Fatalf("%d bytes still charged", budget.Used())
	}
}
