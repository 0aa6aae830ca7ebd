package hotstore

import (
	"context"
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/kalamdb/kalamdb-go/catalog"
)

func benchTable(storeID uint64) *catalog.TableDef {
	return tableDef(storeID, catalog.TableUser,
		col(1, "id", catalog.TypeBigInt, true),
		col(2, "name", catalog.TypeText, false),
		col(3, "qty", catalog.TypeBigInt, false),
		col(4, "price", catalog.TypeDouble, false),
		col(5, "ts", catalog.TypeTimestamp, false),
	)
}

// benchRecord builds rows [start, start+n) of benchTable.
func benchRecord(td *catalog.TableDef, start, n int) arrow.RecordBatch {
	rb := array.NewRecordBuilder(memory.DefaultAllocator, td.UserSchema())
	defer rb.Release()
	rb.Reserve(n)
	id := rb.Field(0).(*array.Int64Builder)
	name := rb.Field(1).(*array.StringBuilder)
	qty := rb.Field(2).(*array.Int64Builder)
	price := rb.Field(3).(*array.Float64Builder)
	ts := rb.Field(4).(*array.TimestampBuilder)
	for i := start; i < start+n; i++ {
		id.Append(int64(i))
		name.Append(fmt.Sprintf("customer-%07d", i))
		qty.Append(int64(i % 1000))
		price.Append(float64(i) * 0.25)
		ts.Append(arrow.Timestamp(1_700_000_000_000_000 + int64(i)*1000))
	}
	return rb.NewRecordBatch()
}

func BenchmarkScan(b *testing.B) {
	ctx := context.Background()
	s, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const rows, chunk = 1_000_000, 50_000
	td := benchTable(1)
	for start := 0; start < rows; start += chunk {
		rec := benchRecord(td, start, chunk)
		err := s.Insert(ctx, td, "user1", rec, seqRange(int64(start)+1, chunk))
		rec.Release()
		if err != nil {
			b.Fatal(err)
		}
	}
	if err := s.flush(); err != nil {
		b.Fatal(err)
	}
	b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
		b.ReportAllocs()
		var total int64
		for b.Loop() {
			var n int64
			err := s.Scan(ctx, td, "user1", ScanOptions{}, func(r arrow.RecordBatch) error {
				n += r.NumRows()
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			if n != rows {
				b.Fatalf("scanned %d rows, want %d", n, rows)
			}
			total += n
		}
		b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "rows/s")
	})
}

func BenchmarkInsertSingle(b *testing.B) {
	ctx := context.Background()
	s, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	td := benchTable(2)
	recs := make([]arrow.RecordBatch, 1024)
	for i := range recs {
		recs[i] = benchRecord(td, i, 1)
	}
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		// A new partition per 1024 rows keeps every key unique.
		user := catalog.UserID(fmt.Sprintf("u%d", i/len(recs)))
		if err := s.Insert(ctx, td, user, recs[i%len(recs)], []int64{int64(i)}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
