package hotstore

import (
	"encoding/binary"
	"math"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/kalamdb/kalamdb-go/catalog"
)

// Value layout constants (see doc.go).
const (
	valueVersion byte = 1
	flagDeleted  byte = 1 << 0
	// headerLen is version(1) + _seq(8) + flags(1); the uvarint column count
	// follows.
	headerLen = 10
)

// Wire types: the low 3 bits of every column tag. They make values
// self-describing so that columns dropped from the table definition can be
// skipped without knowing their type.
const (
	wire1     byte = 0 // 1 byte
	wire2     byte = 1 // 2 bytes little-endian
	wire4     byte = 2 // 4 bytes little-endian
	wire8     byte = 3 // 8 bytes little-endian
	wire16    byte = 4 // 16 bytes: low uint64 LE, high int64 LE
	wireBytes byte = 5 // uvarint length + bytes
)

// colKind is the internal physical kind of a column.
type colKind uint8

const (
	kBool colKind = iota + 1
	kInt16
	kInt32
	kInt64
	kFloat32
	kFloat64
	kDecimal
	kString
	kBinary
	kTimestamp
	kDate32
	kTime64
)

func kindOf(dt arrow.DataType) (colKind, bool) {
	switch dt.ID() {
	case arrow.BOOL:
		return kBool, true
	case arrow.INT16:
		return kInt16, true
	case arrow.INT32:
		return kInt32, true
	case arrow.INT64:
		return kInt64, true
	case arrow.FLOAT32:
		return kFloat32, true
	case arrow.FLOAT64:
		return kFloat64, true
	case arrow.DECIMAL128:
		return kDecimal, true
	case arrow.STRING:
		return kString, true
	case arrow.BINARY:
		return kBinary, true
	case arrow.TIMESTAMP:
		return kTimestamp, true
	case arrow.DATE32:
		return kDate32, true
	case arrow.TIME64:
		return kTime64, true
	}
	return 0, false
}

func wireOf(k colKind) byte {
	switch k {
	case kBool:
		return wire1
	case kInt16:
		return wire2
	case kInt32, kFloat32, kDate32:
		return wire4
	case kInt64, kFloat64, kTimestamp, kTime64:
		return wire8
	case kDecimal:
		return wire16
	}
	return wireBytes
}

// wireSize returns the fixed size of a wire type, or -1 for wireBytes and
// unknown wire types.
func wireSize(wt byte) int {
	switch wt {
	case wire1:
		return 1
	case wire2:
		return 2
	case wire4:
		return 4
	case wire8:
		return 8
	case wire16:
		return 16
	}
	return -1
}

// checkRecord verifies that rec has exactly the table's user columns.
func checkRecord(t *catalog.TableDef, rec arrow.RecordBatch, seqs []int64) error {
	if rec == nil {
		return catalog.Errorf(catalog.KindInvalid, "hotstore: nil record batch")
	}
	if int(rec.NumCols()) != len(t.Columns) {
		return catalog.Errorf(catalog.KindInvalid, "hotstore: %s: record has %d columns, table has %d", t.ID, rec.NumCols(), len(t.Columns))
	}
	if int64(len(seqs)) != rec.NumRows() {
		return catalog.Errorf(catalog.KindInvalid, "hotstore: %s: %d rows but %d _seq values", t.ID, rec.NumRows(), len(seqs))
	}
	for i := range t.Columns {
		want := t.Columns[i].Type.ArrowType()
		got := rec.Column(i).DataType()
		if !arrow.TypeEqual(want, got) {
			return catalog.Errorf(catalog.KindInvalid, "hotstore: %s: column %s has type %s, want %s", t.ID, t.Columns[i].Name, got, want)
		}
		if _, ok := kindOf(got); !ok {
			return catalog.Errorf(catalog.KindInvalid, "hotstore: %s: column %s: unsupported type %s", t.ID, t.Columns[i].Name, got)
		}
	}
	return nil
}

// encCol is one column of a record being encoded, with its typed view.
type encCol struct {
	tag  []byte // uvarint(id<<3 | wire type)
	kind colKind
	arr  arrow.Array
	b    *array.Boolean
	i16  []int16
	i32  []int32
	i64  []int64
	f32  []float32
	f64  []float64
	dec  *array.Decimal128
	str  *array.String
	bin  *array.Binary
	ts   []arrow.Timestamp
	d32  []arrow.Date32
	t64  []arrow.Time64
}

// init sets up the column's typed view of arr.
func (c *encCol) init(arr arrow.Array) {
	c.kind, _ = kindOf(arr.DataType())
	c.arr = arr
	switch a := arr.(type) {
	case *array.Boolean:
		c.b = a
	case *array.Int16:
		c.i16 = a.Int16Values()
	case *array.Int32:
		c.i32 = a.Int32Values()
	case *array.Int64:
		c.i64 = a.Int64Values()
	case *array.Float32:
		c.f32 = a.Float32Values()
	case *array.Float64:
		c.f64 = a.Float64Values()
	case *array.Decimal128:
		c.dec = a
	case *array.String:
		c.str = a
	case *array.Binary:
		c.bin = a
	case *array.Timestamp:
		c.ts = a.TimestampValues()
	case *array.Date32:
		c.d32 = a.Date32Values()
	case *array.Time64:
		c.t64 = a.Time64Values()
	}
}

// EncodeValue returns the stored encoding of the non-null value a[i], as
// the value layout holds a column's value after its tag (see the package
// documentation). catalog.ColumnFill.Value holds such an encoding.
func EncodeValue(a arrow.Array, i int) ([]byte, error) {
	if _, ok := kindOf(a.DataType()); !ok {
		return nil, catalog.Errorf(catalog.KindInvalid, "hotstore: unsupported type %s", a.DataType())
	}
	if i < 0 || i >= a.Len() || a.IsNull(i) {
		return nil, catalog.Errorf(catalog.KindInvalid, "hotstore: no value to encode at %d", i)
	}
	var c encCol
	c.init(a)
	return c.appendValue(nil, i), nil
}

// rowEncoder encodes the rows of one record batch into value bytes.
type rowEncoder struct {
	cols    []encCol // ascending column ID
	noNulls bool     // no column has any null
}

// newRowEncoder prepares an encoder for rec, which must have passed
// checkRecord against t.
func newRowEncoder(t *catalog.TableDef, rec arrow.RecordBatch) *rowEncoder {
	order := make([]int, len(t.Columns))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		ia, ib := t.Columns[a].ID, t.Columns[b].ID
		if ia < ib {
			return -1
		}
		if ia > ib {
			return 1
		}
		return 0
	})
	e := &rowEncoder{cols: make([]encCol, len(order)), noNulls: true}
	for j, pos := range order {
		arr := rec.Column(pos)
		c := &e.cols[j]
		c.init(arr)
		c.tag = binary.AppendUvarint(nil, uint64(t.Columns[pos].ID)<<3|uint64(wireOf(c.kind)))
		if arr.NullN() > 0 {
			e.noNulls = false
		}
	}
	return e
}

// appendHeader appends version | _seq | flags | uvarint ncols.
func appendHeader(dst []byte, seq int64, flags byte, ncols int) []byte {
	dst = append(dst, valueVersion)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(seq))
	dst = append(dst, flags)
	return binary.AppendUvarint(dst, uint64(ncols))
}

// appendTombstone appends the value of a deleted row version.
func appendTombstone(dst []byte, seq int64) []byte {
	return appendHeader(dst, seq, flagDeleted, 0)
}

// encode appends the value encoding of row i with the given _seq to dst.
func (e *rowEncoder) encode(dst []byte, i int, seq int64) []byte {
	n := len(e.cols)
	if !e.noNulls {
		n = 0
		for j := range e.cols {
			if e.cols[j].arr.IsValid(i) {
				n++
			}
		}
	}
	dst = appendHeader(dst, seq, 0, n)
	for j := range e.cols {
		c := &e.cols[j]
		if !e.noNulls && c.arr.IsNull(i) {
			continue
		}
		dst = append(dst, c.tag...)
		dst = c.appendValue(dst, i)
	}
	return dst
}

// appendValue appends the encoding of the non-null value at row i.
func (c *encCol) appendValue(dst []byte, i int) []byte {
	switch c.kind {
	case kBool:
		if c.b.Value(i) {
			dst = append(dst, 1)
		} else {
			dst = append(dst, 0)
		}
	case kInt16:
		dst = binary.LittleEndian.AppendUint16(dst, uint16(c.i16[i]))
	case kInt32:
		dst = binary.LittleEndian.AppendUint32(dst, uint32(c.i32[i]))
	case kInt64:
		dst = binary.LittleEndian.AppendUint64(dst, uint64(c.i64[i]))
	case kFloat32:
		dst = binary.LittleEndian.AppendUint32(dst, math.Float32bits(c.f32[i]))
	case kFloat64:
		dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(c.f64[i]))
	case kDecimal:
		v := c.dec.Value(i)
		dst = binary.LittleEndian.AppendUint64(dst, v.LowBits())
		dst = binary.LittleEndian.AppendUint64(dst, uint64(v.HighBits()))
	case kString:
		s := c.str.Value(i)
		dst = binary.AppendUvarint(dst, uint64(len(s)))
		dst = append(dst, s...)
	case kBinary:
		s := c.bin.Value(i)
		dst = binary.AppendUvarint(dst, uint64(len(s)))
		dst = append(dst, s...)
	case kTimestamp:
		dst = binary.LittleEndian.AppendUint64(dst, uint64(c.ts[i]))
	case kDate32:
		dst = binary.LittleEndian.AppendUint32(dst, uint32(c.d32[i]))
	case kTime64:
		dst = binary.LittleEndian.AppendUint64(dst, uint64(c.t64[i]))
	}
	return dst
}

// isTombstone reports whether a stored value is a deleted row version.
// Values too short to hold a header are reported as corrupt by the decoder;
// here they count as not live.
func isTombstone(v []byte) bool {
	return len(v) < headerLen || v[9]&flagDeleted != 0
}

// uvarint is a fast-path binary.Uvarint reading at v[p:]; it returns the new
// position, or -1 when the input is malformed.
func uvarint(v []byte, p int) (uint64, int) {
	if p < len(v) && v[p] < 0x80 {
		return uint64(v[p]), p + 1
	}
	if p >= len(v) {
		return 0, -1
	}
	x, n := binary.Uvarint(v[p:])
	if n <= 0 {
		return 0, -1
	}
	return x, p + n
}

// skipValue returns the position after a value of wire type wt at v[p:],
// or -1 when the value is truncated or the wire type unknown.
func skipValue(v []byte, p int, wt byte) int {
	if sz := wireSize(wt); sz > 0 {
		if p+sz > len(v) {
			return -1
		}
		return p + sz
	}
	if wt != wireBytes {
		return -1
	}
	n, p := uvarint(v, p)
	if p < 0 || n > uint64(len(v)-p) {
		return -1
	}
	return p + int(n)
}
