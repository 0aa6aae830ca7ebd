package coldstore

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/kalamdb/kalamdb-go/catalog"
)

// benchBatchRows is the batch size of the benchmark's input.
const benchBatchRows = 64 * 1024

// benchTable is a typical chat table: BIGINT key, TEXT, BIGINT, DOUBLE,
// TIMESTAMP.
func benchTable() *catalog.TableDef {
	return newTestTable(catalog.TableUser,
		pkCol("id", catalog.TypeBigInt),
		col("body", catalog.TypeText),
		col("room", catalog.TypeBigInt),
		col("score", catalog.TypeDouble),
		col("created_at", catalog.TypeTimestamp),
	)
}

// benchBatches builds rows of benchTable in batches: ascending keys, unique
// ~40-byte bodies, 1,000 rooms, random scores, ascending timestamps, 1% tombstones.
func benchBatches(tbl *catalog.TableDef, rows int) []arrow.RecordBatch {
	mem := memory.NewGoAllocator()
	rng := rand.New(rand.NewPCG(1, 2))
	b := array.NewRecordBuilder(mem, SegmentSchema(tbl))
	defer b.Release()
	var out []arrow.RecordBatch
	const baseTS = 1_767_225_600_000_000 // 2026-01-01 in µs
	for i := 0; i < rows; i++ {
		deleted := rng.IntN(100) == 0
		b.Field(0).(*array.Int64Builder).Append(int64(i) * 3)
		if deleted {
			for f := 1; f <= 4; f++ {
				b.Field(f).AppendNull()
			}
		} else {
			b.Field(1).(*array.StringBuilder).Append(fmt.Sprintf("message %d from user %x says hello", i, rng.Uint32()))
			b.Field(2).(*array.Int64Builder).Append(rng.Int64N(1000))
			b.Field(3).(*array.Float64Builder).Append(rng.Float64() * 100)
			b.Field(4).(*array.TimestampBuilder).Append(arrow.Timestamp(baseTS + int64(i)*1000 + rng.Int64N(1000)))
		}
		b.Field(5).(*array.Int64Builder).Append(int64(1)<<40 + int64(i))
		b.Field(6).(*array.BooleanBuilder).Append(deleted)
		if (i+1)%benchBatchRows == 0 || i == rows-1 {
			out = append(out, b.NewRecordBatch())
		}
	}
	return out
}

func BenchmarkWriteSegment(b *testing.B) {
	for _, rows := range []int{1_000_000} {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			tbl := benchTable()
			batches := benchBatches(tbl, rows)
			defer func() {
				for _, r := range batches {
					r.Release()
				}
			}()
			s, err := Open(Options{Dir: b.TempDir()})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			var n, bytes int64
			for b.Loop() {
				w, err := s.Create(tbl, "alice")
				if err != nil {
					b.Fatal(err)
				}
				for _, r := range batches {
					if err := w.Write(r); err != nil {
						b.Fatal(err)
					}
				}
				seg, err := w.Commit()
				if err != nil {
					b.Fatal(err)
				}
				n += seg.Rows
				bytes = seg.Bytes
				b.StopTimer()
				if err := s.Remove(seg); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(bytes), "file-bytes")
		})
	}
}
