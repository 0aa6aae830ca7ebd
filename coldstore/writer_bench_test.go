package coldstore

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
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

// wideTable is a TPC-H lineitem-like table: 16 columns of integers,
// DECIMAL(15,2), short and long strings and dates (issue 15's wide flush).
func wideTable() *catalog.TableDef {
	dec := catalog.DataType{Kind: catalog.TypeDecimal, Precision: 15, Scale: 2}
	return newTestTable(catalog.TableShared,
		pkCol("l_id", catalog.TypeBigInt),
		col("l_orderkey", catalog.TypeBigInt), col("l_partkey", catalog.TypeBigInt), col("l_suppkey", catalog.TypeBigInt),
		col("l_linenumber", catalog.TypeInt),
		decCol("l_quantity", dec), decCol("l_extendedprice", dec), decCol("l_discount", dec), decCol("l_tax", dec),
		col("l_returnflag", catalog.TypeText), col("l_linestatus", catalog.TypeText),
		col("l_shipdate", catalog.TypeDate), col("l_commitdate", catalog.TypeDate), col("l_receiptdate", catalog.TypeDate),
		col("l_shipinstruct", catalog.TypeText), col("l_comment", catalog.TypeText),
	)
}

// decCol is a column of type dt.
func decCol(name string, dt catalog.DataType) catalog.Column {
	return catalog.Column{Name: name, Type: dt}
}

// wideBatches builds rows of wideTable, with _seq and _deleted.
func wideBatches(tbl *catalog.TableDef, rows int) []arrow.RecordBatch {
	mem := memory.NewGoAllocator()
	rng := rand.New(rand.NewPCG(1, 2))
	b := array.NewRecordBuilder(mem, SegmentSchema(tbl))
	defer b.Release()
	flags, status := []string{"A", "N", "R"}, []string{"O", "F"}
	instr := []string{"DELIVER IN PERSON", "COLLECT COD", "NONE", "TAKE BACK RETURN"}
	var out []arrow.RecordBatch
	for i := 0; i < rows; i++ {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		b.Field(1).(*array.Int64Builder).Append(rng.Int64N(1_500_000))
		b.Field(2).(*array.Int64Builder).Append(rng.Int64N(200_000))
		b.Field(3).(*array.Int64Builder).Append(rng.Int64N(10_000))
		b.Field(4).(*array.Int32Builder).Append(int32(1 + rng.IntN(7)))
		for f, hi := range []int64{5000, 10_000_000, 10, 8} {
			b.Field(5 + f).(*array.Decimal128Builder).Append(decimal128.FromI64(rng.Int64N(hi)))
		}
		b.Field(9).(*array.StringBuilder).Append(flags[rng.IntN(3)])
		b.Field(10).(*array.StringBuilder).Append(status[rng.IntN(2)])
		for f := 11; f <= 13; f++ {
			b.Field(f).(*array.Date32Builder).Append(arrow.Date32(8035 + rng.IntN(2500)))
		}
		b.Field(14).(*array.StringBuilder).Append(instr[rng.IntN(4)])
		b.Field(15).(*array.StringBuilder).Append(fmt.Sprintf("carefully final deposits %d haggle slyly", i%9973))
		b.Field(16).(*array.Int64Builder).Append(int64(1)<<40 + int64(i))
		b.Field(17).(*array.BooleanBuilder).Append(false)
		if (i+1)%benchBatchRows == 0 || i == rows-1 {
			out = append(out, b.NewRecordBatch())
		}
	}
	return out
}

func BenchmarkWriteWideSegment(b *testing.B) {
	tbl := wideTable()
	batches := wideBatches(tbl, 1_000_000)
	defer func() {
		for _, r := range batches {
			r.Release()
		}
	}()
	s, err := Open(Options{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	var n int64
	for b.Loop() {
		w, err := s.Create(tbl, "")
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
		b.StopTimer()
		if err := s.Remove(seg); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "rows/s")
}
