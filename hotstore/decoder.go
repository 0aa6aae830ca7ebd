package hotstore

import (
	"encoding/binary"
	"math"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/kalamdb/kalamdb-go/catalog"
)

// outCol accumulates one output column of a batch directly in Arrow
// buffers obtained from the allocator. Fixed-width values are written as
// native little-endian words into data (Arrow's layout, including
// Decimal128's low-then-high words); BOOLEAN values are written as bits;
// strings and binary use int32 offsets plus a growable data buffer.
type outCol struct {
	name   string
	dtype  arrow.DataType
	wire   byte
	isBool bool

	valid *memory.Buffer // validity bitmap
	data  *memory.Buffer // values (fixed width / bool bits) or string bytes
	offs  *memory.Buffer // int32 offsets (variable width only)

	bits  []byte   // valid.Buf()
	vals  []byte   // data.Buf() for fixed-width and bool columns
	u16   []uint16 // typed views of vals
	u32   []uint32
	u64   []uint64
	off   []int32 // offs.Buf() as int32
	sdata []byte  // data.Buf() for variable-width columns
	slen  int     // bytes used in sdata
	nulls int
	// dataHint is the string data size of the previous batch.
	dataHint int
	// fill is the value that row versions with _seq below fillBefore read
	// when they have none (catalog.ColumnFill); nil for NULL.
	fill       []byte
	fillBefore int64
}

// rowDecoder decodes stored values into Arrow batches with the schema
// t.ArrowSchema() (user columns then _seq).
type rowDecoder struct {
	alloc     memory.Allocator
	schema    *arrow.Schema
	cols      []outCol // user columns by position
	seq       outCol   // the _seq column
	idToPos   []int32  // column ID -> position, -1 if absent
	idMap     map[uint32]int32
	monotonic bool // column IDs strictly increase with position
	// keepDeleted makes decode append tombstones as rows of NULLs (the
	// caller tracks which rows are tombstones and their keys).
	keepDeleted bool
	rows        int // rows appended to the current batch
	capacity    int // rows the buffers can hold
	// scratch for the generic (non-monotonic) decode path
	offsets []int32
	wires   []byte
}

const maxDenseColumnID = 1 << 16

func newRowDecoder(t *catalog.TableDef, schema *arrow.Schema, alloc memory.Allocator) (*rowDecoder, error) {
	if alloc == nil {
		alloc = memory.DefaultAllocator
	}
	if schema.NumFields() != len(t.Columns)+1 {
		return nil, catalog.Errorf(catalog.KindInternal, "hotstore: schema does not match table %s", t.ID)
	}
	d := &rowDecoder{
		alloc:     alloc,
		schema:    schema,
		cols:      make([]outCol, len(t.Columns)),
		monotonic: true,
	}
	var maxID uint32
	for i := range t.Columns {
		maxID = max(maxID, t.Columns[i].ID)
		if i > 0 && t.Columns[i].ID <= t.Columns[i-1].ID {
			d.monotonic = false
		}
	}
	if maxID < maxDenseColumnID {
		d.idToPos = make([]int32, maxID+1)
		for i := range d.idToPos {
			d.idToPos[i] = -1
		}
	} else {
		d.idMap = make(map[uint32]int32, len(t.Columns))
	}
	for i := range t.Columns {
		if d.idToPos != nil {
			d.idToPos[t.Columns[i].ID] = int32(i)
		} else {
			d.idMap[t.Columns[i].ID] = int32(i)
		}
		dt := schema.Field(i).Type
		k, ok := kindOf(dt)
		if !ok {
			return nil, catalog.Errorf(catalog.KindInvalid, "hotstore: column %s: unsupported type %s", t.Columns[i].Name, dt)
		}
		d.cols[i] = outCol{name: t.Columns[i].Name, dtype: dt, wire: wireOf(k), isBool: k == kBool}
		if f := t.Columns[i].Fill; f != nil && len(f.Value) > 0 {
			if p := skipValue(f.Value, 0, d.cols[i].wire); p != len(f.Value) {
				return nil, errCorrupt("hotstore: column %s: bad fill value", t.Columns[i].Name)
			}
			d.cols[i].fill, d.cols[i].fillBefore = f.Value, f.Before
		}
	}
	d.seq = outCol{name: catalog.SeqColumn, dtype: arrow.PrimitiveTypes.Int64, wire: wire8}
	if !d.monotonic {
		d.offsets = make([]int32, len(t.Columns))
		d.wires = make([]byte, len(t.Columns))
	}
	return d, nil
}

// newBuf allocates a buffer of at least n bytes, zeroed when clearIt.
func newBuf(alloc memory.Allocator, n int, clearIt bool) *memory.Buffer {
	b := memory.NewResizableBuffer(alloc)
	b.Reserve(max(n, 1))
	if clearIt {
		clear(b.Buf())
	}
	return b
}

func castSlice[T any](b []byte) []T {
	var z T
	n := len(b) / int(unsafe.Sizeof(z))
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), n)
}

// start allocates the buffers of one batch of up to n rows.
func (c *outCol) start(alloc memory.Allocator, n int) {
	c.nulls = 0
	c.valid = newBuf(alloc, (n+7)/8, true)
	c.bits = c.valid.Buf()
	switch {
	case c.wire == wireBytes:
		c.offs = newBuf(alloc, (n+1)*4, false)
		c.off = castSlice[int32](c.offs.Buf())
		c.off[0] = 0
		c.data = newBuf(alloc, max(c.dataHint, 64), false)
		c.sdata = c.data.Buf()
		c.slen = 0
	case c.isBool:
		c.data = newBuf(alloc, (n+7)/8, true)
		c.vals = c.data.Buf()
	default:
		c.data = newBuf(alloc, n*wireSize(c.wire), false)
		c.vals = c.data.Buf()
		switch c.wire {
		case wire2:
			c.u16 = castSlice[uint16](c.vals)
		case wire4:
			c.u32 = castSlice[uint32](c.vals)
		default: // wire8, wire16
			c.u64 = castSlice[uint64](c.vals)
		}
	}
}

// appendNull appends a NULL at row.
func (c *outCol) appendNull(row int) {
	c.nulls++
	switch c.wire {
	case wireBytes:
		c.off[row+1] = int32(c.slen)
	case wire1:
		if !c.isBool {
			c.vals[row] = 0
		}
	case wire2:
		c.u16[row] = 0
	case wire4:
		c.u32[row] = 0
	case wire8:
		c.u64[row] = 0
	case wire16:
		c.u64[2*row], c.u64[2*row+1] = 0, 0
	}
}

// appendAbsent appends the value of a row version of the given _seq that
// stores none in this column: the fill for versions older than the
// column, else NULL.
func (c *outCol) appendAbsent(row int, seq int64) {
	if c.fill != nil && seq < c.fillBefore {
		// Checked in newRowDecoder: the fill is one whole value.
		_, _ = c.appendValue(row, c.fill, 0, c.wire)
		return
	}
	c.appendNull(row)
}

// appendValue decodes the value of wire type wt at v[p:] into row and
// returns the position after it.
func (c *outCol) appendValue(row int, v []byte, p int, wt byte) (int, error) {
	if wt != c.wire {
		return -1, errCorrupt("hotstore: column %s: stored wire type %d does not match %d", c.name, wt, c.wire)
	}
	switch wt {
	case wire8:
		if p+8 > len(v) {
			break
		}
		c.u64[row] = binary.LittleEndian.Uint64(v[p:])
		c.bits[row>>3] |= 1 << (row & 7)
		return p + 8, nil
	case wireBytes:
		l, q := uvarint(v, p)
		if q < 0 || l > uint64(len(v)-q) {
			break
		}
		n := int(l)
		if c.slen+n > len(c.sdata) {
			c.growData(c.slen + n)
		}
		copy(c.sdata[c.slen:], v[q:q+n])
		c.slen += n
		if c.slen > math.MaxInt32 {
			return -1, catalog.Errorf(catalog.KindResourceExhausted, "hotstore: column %s: batch exceeds 2 GiB of data; use smaller batches", c.name)
		}
		c.off[row+1] = int32(c.slen)
		c.bits[row>>3] |= 1 << (row & 7)
		return q + n, nil
	case wire4:
		if p+4 > len(v) {
			break
		}
		c.u32[row] = binary.LittleEndian.Uint32(v[p:])
		c.bits[row>>3] |= 1 << (row & 7)
		return p + 4, nil
	case wire1:
		if p+1 > len(v) {
			break
		}
		if c.isBool {
			if v[p] != 0 {
				c.vals[row>>3] |= 1 << (row & 7)
			}
		} else {
			c.vals[row] = v[p]
		}
		c.bits[row>>3] |= 1 << (row & 7)
		return p + 1, nil
	case wire2:
		if p+2 > len(v) {
			break
		}
		c.u16[row] = binary.LittleEndian.Uint16(v[p:])
		c.bits[row>>3] |= 1 << (row & 7)
		return p + 2, nil
	case wire16:
		if p+16 > len(v) {
			break
		}
		c.u64[2*row] = binary.LittleEndian.Uint64(v[p:])
		c.u64[2*row+1] = binary.LittleEndian.Uint64(v[p+8:])
		c.bits[row>>3] |= 1 << (row & 7)
		return p + 16, nil
	}
	return -1, errCorrupt("hotstore: column %s: truncated value", c.name)
}

func (c *outCol) growData(need int) {
	c.data.Reserve(max(need, 2*len(c.sdata)))
	c.sdata = c.data.Buf()
}

// finish turns the accumulated rows into an array and drops the buffers.
func (c *outCol) finish(rows int) arrow.Array {
	var buffers []*memory.Buffer
	valid := c.valid
	if c.nulls == 0 {
		valid = nil
	} else {
		valid.ResizeNoShrink((rows + 7) / 8)
	}
	switch {
	case c.wire == wireBytes:
		c.offs.ResizeNoShrink((rows + 1) * 4)
		c.data.ResizeNoShrink(c.slen)
		c.dataHint = c.slen
		buffers = []*memory.Buffer{valid, c.offs, c.data}
	case c.isBool:
		c.data.ResizeNoShrink((rows + 7) / 8)
		buffers = []*memory.Buffer{valid, c.data}
	default:
		c.data.ResizeNoShrink(rows * wireSize(c.wire))
		buffers = []*memory.Buffer{valid, c.data}
	}
	data := array.NewData(c.dtype, rows, buffers, nil, c.nulls, 0)
	arr := array.MakeFromData(data)
	data.Release()
	c.releaseBuffers()
	return arr
}

func (c *outCol) releaseBuffers() {
	for _, b := range []*memory.Buffer{c.valid, c.data, c.offs} {
		if b != nil {
			b.Release()
		}
	}
	c.valid, c.data, c.offs = nil, nil, nil
	c.bits, c.vals, c.u16, c.u32, c.u64, c.off, c.sdata = nil, nil, nil, nil, nil, nil, nil
}

// release frees the buffers of an unfinished batch.
func (d *rowDecoder) release() {
	for i := range d.cols {
		d.cols[i].releaseBuffers()
	}
	d.seq.releaseBuffers()
}

// reserve starts a batch that can hold n rows. It must only be called when
// no batch is in progress (initially or after finish).
func (d *rowDecoder) reserve(n int) {
	for i := range d.cols {
		d.cols[i].start(d.alloc, n)
	}
	d.seq.start(d.alloc, n)
	d.rows, d.capacity = 0, n
}

// finish returns the batch built so far.
func (d *rowDecoder) finish() arrow.RecordBatch {
	arrs := make([]arrow.Array, len(d.cols)+1)
	for i := range d.cols {
		arrs[i] = d.cols[i].finish(d.rows)
	}
	arrs[len(d.cols)] = d.seq.finish(d.rows)
	rec := array.NewRecordBatch(d.schema, arrs, int64(d.rows))
	for _, a := range arrs {
		a.Release()
	}
	d.rows, d.capacity = 0, 0
	return rec
}

func (d *rowDecoder) position(id uint64) int {
	if d.idToPos != nil {
		if id < uint64(len(d.idToPos)) {
			return int(d.idToPos[id])
		}
		return -1
	}
	if id > math.MaxUint32 {
		return -1
	}
	if p, ok := d.idMap[uint32(id)]; ok {
		return int(p)
	}
	return -1
}

// decode appends the row stored in v unless it is a tombstone, and reports
// whether a row was appended. The batch must have room (rows < capacity).
func (d *rowDecoder) decode(v []byte) (bool, error) {
	if len(v) < headerLen+1 || v[0] != valueVersion {
		return false, errCorrupt("hotstore: bad row value header")
	}
	row := d.rows
	if v[9]&flagDeleted != 0 {
		if !d.keepDeleted {
			return false, nil
		}
		if row >= d.capacity {
			return false, catalog.Errorf(catalog.KindInternal, "hotstore: decoder overflow")
		}
		for i := range d.cols {
			d.cols[i].appendNull(row)
		}
		d.seq.u64[row] = binary.LittleEndian.Uint64(v[1:9])
		d.rows++
		return true, nil
	}
	if row >= d.capacity {
		return false, catalog.Errorf(catalog.KindInternal, "hotstore: decoder overflow")
	}
	n, p := uvarint(v, headerLen)
	if p < 0 {
		return false, errCorrupt("hotstore: bad column count")
	}
	seq := int64(binary.LittleEndian.Uint64(v[1:9]))
	if !d.monotonic {
		if err := d.decodeGeneric(row, v, p, n, seq); err != nil {
			return false, err
		}
	} else {
		next := 0
		cols := d.cols
		for ; n > 0; n-- {
			var tag uint64
			tag, p = uvarint(v, p)
			if p < 0 {
				return false, errCorrupt("hotstore: bad column tag")
			}
			wt := byte(tag & 7)
			pos := d.position(tag >> 3)
			if pos < next {
				// Dropped column (pos < 0); out-of-order columns cannot
				// occur in values written by this package.
				if p = skipValue(v, p, wt); p < 0 {
					return false, errCorrupt("hotstore: truncated value")
				}
				continue
			}
			for ; next < pos; next++ {
				cols[next].appendAbsent(row, seq)
			}
			var err error
			if p, err = cols[pos].appendValue(row, v, p, wt); err != nil {
				return false, err
			}
			next = pos + 1
		}
		for ; next < len(cols); next++ {
			cols[next].appendAbsent(row, seq)
		}
	}
	d.seq.u64[row] = uint64(seq)
	d.rows++
	return true, nil
}

// decodeGeneric handles table definitions whose column IDs are not in
// position order: it first locates every column, then appends in order.
func (d *rowDecoder) decodeGeneric(row int, v []byte, p int, n uint64, seq int64) error {
	for i := range d.offsets {
		d.offsets[i] = -1
	}
	for ; n > 0; n-- {
		var tag uint64
		tag, p = uvarint(v, p)
		if p < 0 {
			return errCorrupt("hotstore: bad column tag")
		}
		wt := byte(tag & 7)
		if pos := d.position(tag >> 3); pos >= 0 {
			d.offsets[pos] = int32(p)
			d.wires[pos] = wt
		}
		if p = skipValue(v, p, wt); p < 0 {
			return errCorrupt("hotstore: truncated value")
		}
	}
	for i := range d.cols {
		if d.offsets[i] < 0 {
			d.cols[i].appendAbsent(row, seq)
			continue
		}
		if _, err := d.cols[i].appendValue(row, v, int(d.offsets[i]), d.wires[i]); err != nil {
			return err
		}
	}
	return nil
}
