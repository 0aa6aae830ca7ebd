//go:build duckdb_arrow

package duck

import (
	"math"
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

// widthString marks a VARCHAR or BLOB column: DuckDB's 16-byte string_t
// values are copied into Arrow offsets and data.
const widthString = -2

// directWidths returns the per-column copy widths when every column can be
// copied directly, else nil. duckTypes are the columns' DuckDB type ids.
func directWidths(s *arrow.Schema, duckTypes []ddb.Type) []int {
	w := make([]int, s.NumFields())
	for i, f := range s.Fields() {
		switch {
		case duckTypes[i] == ddb.TypeVarchar && f.Type.ID() == arrow.STRING,
			duckTypes[i] == ddb.TypeBlob && f.Type.ID() == arrow.BINARY:
			w[i] = widthString
		default:
			if w[i] = copyWidth(f.Type); w[i] == 0 {
				return nil
			}
		}
	}
	return w
}

// stringColumn accumulates one VARCHAR/BLOB column of a direct batch.
type stringColumn struct {
	offsets *memory.Buffer // int32 offsets, maxRows+1
	data    *memory.Buffer // value bytes; len(data.Bytes()) is capacity
	size    int            // bytes used in data
}

// appendVector copies rows [off, off+k) of a DuckDB string_t vector of sz
// values as the batch's rows [n, n+k). A string_t is a uint32 length then
// either the value inline (length ≤ 12) or a 4-byte prefix and a pointer to
// the value.
func (sc *stringColumn) appendVector(src unsafe.Pointer, validity unsafe.Pointer, off, k, n, sz int) error {
	offs := arrow.Int32Traits.CastFromBytes(sc.offsets.Bytes())
	vals := unsafe.Slice((*[16]byte)(src), sz)
	var mask []byte
	if validity != nil {
		mask = unsafe.Slice((*byte)(validity), (sz+7)/8)
	}
	for j := off; j < off+k; j++ {
		offs[n+j-off] = int32(sc.size)
		if mask != nil && !bitutil.BitIsSet(mask, j) {
			continue
		}
		v := &vals[j]
		l := int(*(*uint32)(unsafe.Pointer(&v[0])))
		if sc.size+l > math.MaxInt32 {
			return &Error{Msg: "a result batch's string values exceed 2 GiB"}
		}
		if need := sc.size + l; need > sc.data.Len() {
			sc.data.Resize(max(need, 2*sc.data.Len()))
		}
		dst := sc.data.Bytes()[sc.size : sc.size+l]
		if l <= 12 {
			copy(dst, v[4:4+l])
		} else {
			copy(dst, unsafe.Slice(*(**byte)(unsafe.Pointer(&v[8])), l))
		}
		sc.size += l
	}
	offs[n+k] = int32(sc.size)
	return nil
}

// fitRows returns how many rows of chunk from row off (at most k) fit in
// budget bytes of string values; at least one when atLeastOne. It sums
// each row's string lengths column by column into scratch memory kept on r
// (this runs for every chunk: a row-by-row walk over the columns cost 15%
// of streaming short strings).
func (r *Rows) fitRows(chunk ddb.DataChunk, off, k int, budget int64, atLeastOne bool) int {
	sz := int(ddb.DataChunkGetSize(chunk))
	if cap(r.rowBytes) < sz {
		r.rowBytes = make([]int64, sz)
	}
	rb := r.rowBytes[off : off+k]
	clear(rb)
	strings := false
	for i, w := range r.direct {
		if w != widthString {
			continue
		}
		strings = true
		vec := ddb.DataChunkGetVector(chunk, ddb.IdxT(i))
		vals := unsafe.Slice((*[16]byte)(ddb.VectorGetData(vec)), sz)[off : off+k]
		m := ddb.VectorGetValidity(vec)
		if m == nil {
			for j := range vals {
				rb[j] += int64(*(*uint32)(unsafe.Pointer(&vals[j][0])))
			}
			continue
		}
		// DuckDB's validity mask: 64-bit words, bit j for row j.
		mask := unsafe.Slice((*uint64)(m), (sz+63)/64)
		for j := range vals {
			if row := off + j; mask[row>>6]&(1<<(row&63)) != 0 {
				rb[j] += int64(*(*uint32)(unsafe.Pointer(&vals[j][0])))
			}
		}
	}
	if !strings {
		return k
	}
	var used int64
	for j, n := range rb {
		if used += n; used > budget {
			if j == 0 && atLeastOne {
				return 1
			}
			return j
		}
	}
	return k
}

// nextDirect fills one batch of up to maxRows rows (and, with string
// columns, about maxBytes of string data) by copying DuckDB's vectors
// straight into Arrow buffers: one copy, no per-chunk Arrow import.
func (r *Rows) nextDirect(maxRows int, maxBytes int64) arrow.RecordBatch {
	vsize := int(ddb.VectorSize())
	if maxRows < vsize {
		maxRows = vsize
	}
	ncols := len(r.direct)
	data := make([]*memory.Buffer, ncols)
	valid := make([]*memory.Buffer, ncols)
	bitmapBytes := int(bitutil.BytesForBits(int64(maxRows)))
	strs := make([]*stringColumn, ncols)
	for i, w := range r.direct {
		// Pooled memory is not zeroed: bitmaps are cleared, values are
		// fully overwritten for the rows the batch holds.
		data[i] = memory.NewResizableBuffer(r.alloc)
		switch {
		case w == widthString:
			strs[i] = &stringColumn{offsets: memory.NewResizableBuffer(r.alloc), data: data[i]}
			strs[i].offsets.Resize((maxRows + 1) * 4)
			data[i].Resize(maxRows * 16)
		case w < 0:
			data[i].Resize(bitmapBytes)
			clear(data[i].Bytes())
		default:
			data[i].Resize(maxRows * w)
		}
		valid[i] = memory.NewResizableBuffer(r.alloc)
		valid[i].Resize(bitmapBytes)
		clear(valid[i].Bytes())
	}
	release := func() {
		for i := range data {
			data[i].Release()
			valid[i].Release()
			if strs[i] != nil {
				strs[i].offsets.Release()
			}
		}
	}
	strBytes := func() int64 {
		var b int64
		for _, sc := range strs {
			if sc != nil {
				b += int64(sc.size)
			}
		}
		return b
	}
	if err := r.memoryErr(); err != nil {
		release()
		r.err, r.done = err, true
		return nil
	}
	n := 0
	for n < maxRows && (n == 0 || strBytes() < maxBytes) {
		chunk, off := r.chunk, r.chunkOff
		if chunk.Ptr == nil {
			if r.done {
				break
			}
			chunk, off = ddb.FetchChunk(r.res), 0
			if chunk.Ptr == nil {
				r.done = true
				if msg := ddb.ResultError(&r.res); msg != "" {
					r.err = &Error{Msg: msg}
				}
				break
			}
		}
		r.chunk, r.chunkOff = ddb.DataChunk{}, 0
		sz := int(ddb.DataChunkGetSize(chunk))
		if sz == 0 {
			ddb.DestroyDataChunk(&chunk)
			r.done = true
			break
		}
		// The rows that fit, by count and by string bytes: a batch of huge
		// values stops mid-chunk, and the rest waits for the next call.
		k := r.fitRows(chunk, off, min(sz-off, maxRows-n), maxBytes-strBytes(), n == 0)
		if k == 0 {
			r.chunk, r.chunkOff = chunk, off
			break
		}
		for i, w := range r.direct {
			vec := ddb.DataChunkGetVector(chunk, ddb.IdxT(i))
			src := ddb.VectorGetData(vec)
			if w == widthString {
				if err := strs[i].appendVector(src, ddb.VectorGetValidity(vec), off, k, n, sz); err != nil {
					r.err, r.done = err, true
				}
			} else if w > 0 {
				copy(data[i].Bytes()[n*w:], unsafe.Slice((*byte)(src), (off+k)*w)[off*w:])
			} else {
				bits := data[i].Bytes()
				for j, b := range unsafe.Slice((*byte)(src), off+k)[off:] {
					if b != 0 {
						bitutil.SetBit(bits, n+j)
					}
				}
			}
			copyValidity(valid[i].Bytes(), n, ddb.VectorGetValidity(vec), off, k)
		}
		n += k
		if off+k < sz {
			r.chunk, r.chunkOff = chunk, off+k
			break
		}
		ddb.DestroyDataChunk(&chunk)
	}
	if n == 0 || r.err != nil {
		release()
		return nil
	}
	cols := make([]arrow.Array, ncols)
	for i, f := range r.schema.Fields() {
		nulls := n - bitutil.CountSetBits(valid[i].Bytes(), 0, n)
		bufs := []*memory.Buffer{valid[i], data[i]}
		if sc := strs[i]; sc != nil {
			sc.offsets.Resize((n + 1) * 4)
			data[i].Resize(sc.size)
			bufs = []*memory.Buffer{valid[i], sc.offsets, data[i]}
		}
		d := array.NewData(f.Type, n, bufs, nil, nulls, 0)
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

// copyValidity sets bits [off, off+n) of dst from bits [from, from+n) of
// DuckDB's validity mask (nil = all valid). DuckDB's mask is little-endian
// 64-bit words with bit i for row i, which is Arrow's bitmap layout, so
// byte-aligned runs copy as bytes.
func copyValidity(dst []byte, off int, mask unsafe.Pointer, from, n int) {
	if mask == nil {
		bitutil.SetBitsTo(dst, int64(off), int64(n), true)
		return
	}
	src := unsafe.Slice((*byte)(mask), (from+n+7)/8)
	if off%8 == 0 && from%8 == 0 {
		whole := n / 8
		copy(dst[off/8:], src[from/8:from/8+whole])
		for j := whole * 8; j < n; j++ {
			bitutil.SetBitTo(dst, off+j, bitutil.BitIsSet(src, from+j))
		}
		return
	}
	for j := 0; j < n; j++ {
		bitutil.SetBitTo(dst, off+j, bitutil.BitIsSet(src, from+j))
	}
}
