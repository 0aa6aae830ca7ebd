//go:build duckdb_arrow

package duck

import (
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
	ddb "github.com/duckdb/duckdb-go-bindings"
)

// copyWidth is the byte width of a column whose DuckDB vector layout is the
// Arrow layout of t (so a chunk's values can be copied as bytes), -1 for
// BOOLEAN (DuckDB bytes → Arrow bits), or 0 when the column needs DuckDB's
// Arrow conversion (strings, decimals, nested types…).
func copyWidth(t arrow.DataType) int {
	switch t.ID() {
	case arrow.INT8, arrow.UINT8:
		return 1
	case arrow.INT16, arrow.UINT16:
		return 2
	case arrow.INT32, arrow.UINT32, arrow.FLOAT32, arrow.DATE32:
		return 4
	case arrow.INT64, arrow.UINT64, arrow.FLOAT64, arrow.TIMESTAMP:
		return 8
	case arrow.TIME64:
		if t.(*arrow.Time64Type).Unit == arrow.Microsecond {
			return 8
		}
	case arrow.BOOL:
		return -1
	}
	return 0
}

// directWidths returns the per-column copy widths when every column can be
// copied directly, else nil.
func directWidths(s *arrow.Schema) []int {
	w := make([]int, s.NumFields())
	for i, f := range s.Fields() {
		if w[i] = copyWidth(f.Type); w[i] == 0 {
			return nil
		}
	}
	return w
}

// nextDirect fills one batch of up to maxRows rows by copying DuckDB's
// vectors straight into Arrow buffers: one copy, no per-chunk Arrow import.
func (r *Rows) nextDirect(maxRows int) arrow.RecordBatch {
	vsize := int(ddb.VectorSize())
	if maxRows < vsize {
		maxRows = vsize
	}
	ncols := len(r.direct)
	data := make([]*memory.Buffer, ncols)
	valid := make([]*memory.Buffer, ncols)
	bitmapBytes := int(bitutil.BytesForBits(int64(maxRows)))
	for i, w := range r.direct {
		// Pooled memory is not zeroed: bitmaps are cleared, values are
		// fully overwritten for the rows the batch holds.
		data[i] = memory.NewResizableBuffer(r.c.alloc)
		if w < 0 {
			data[i].Resize(bitmapBytes)
			clear(data[i].Bytes())
		} else {
			data[i].Resize(maxRows * w)
		}
		valid[i] = memory.NewResizableBuffer(r.c.alloc)
		valid[i].Resize(bitmapBytes)
		clear(valid[i].Bytes())
	}
	release := func() {
		for i := range data {
			data[i].Release()
			valid[i].Release()
		}
	}
	n := 0
	for !r.done && n+vsize <= maxRows {
		chunk := ddb.FetchChunk(r.res)
		if chunk.Ptr == nil {
			r.done = true
			if msg := ddb.ResultError(&r.res); msg != "" {
				r.err = &Error{Msg: msg}
			}
			break
		}
		sz := int(ddb.DataChunkGetSize(chunk))
		if sz == 0 {
			ddb.DestroyDataChunk(&chunk)
			r.done = true
			break
		}
		for i, w := range r.direct {
			vec := ddb.DataChunkGetVector(chunk, ddb.IdxT(i))
			src := ddb.VectorGetData(vec)
			if w > 0 {
				copy(data[i].Bytes()[n*w:], unsafe.Slice((*byte)(src), sz*w))
			} else {
				bits := data[i].Bytes()
				for j, b := range unsafe.Slice((*byte)(src), sz) {
					if b != 0 {
						bitutil.SetBit(bits, n+j)
					}
				}
			}
			copyValidity(valid[i].Bytes(), n, ddb.VectorGetValidity(vec), sz)
		}
		ddb.DestroyDataChunk(&chunk)
		n += sz
	}
	if n == 0 || r.err != nil {
		release()
		return nil
	}
	cols := make([]arrow.Array, ncols)
	for i, f := range r.schema.Fields() {
		nulls := n - bitutil.CountSetBits(valid[i].Bytes(), 0, n)
		d := array.NewData(f.Type, n, []*memory.Buffer{valid[i], data[i]}, nil, nulls, 0)
		cols[i] = array.MakeFromData(d)
		d.Release()
	}
	release()
	rec := array.NewRecordBatch(r.schema, cols, int64(n))
	for _, c := range cols {
		c.Release()
	}
	return rec
}

// copyValidity sets bits [off, off+n) of dst from DuckDB's validity mask
// (nil = all valid). DuckDB's mask is little-endian 64-bit words with bit i
// for row i, which is Arrow's bitmap layout, so byte-aligned runs copy as
// bytes.
func copyValidity(dst []byte, off int, mask unsafe.Pointer, n int) {
	if mask == nil {
		bitutil.SetBitsTo(dst, int64(off), int64(n), true)
		return
	}
	src := unsafe.Slice((*byte)(mask), (n+7)/8)
	if off%8 == 0 {
		whole := n / 8
		copy(dst[off/8:], src[:whole])
		for j := whole * 8; j < n; j++ {
			bitutil.SetBitTo(dst, off+j, bitutil.BitIsSet(src, j))
		}
		return
	}
	for j := 0; j < n; j++ {
		bitutil.SetBitTo(dst, off+j, bitutil.BitIsSet(src, j))
	}
}
