package coldstore

import (
	"encoding/binary"
	"encoding/hex"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// pkBound is one rendered primary-key bound.
type pkBound struct {
	text   string
	intVal int64
	isInt  bool
}

// pkValue renders row i of a primary-key column as Segment documents it.
// Strings are cloned: the batch's buffers are released after Write.
func pkValue(col arrow.Array, i int) pkBound {
	switch a := col.(type) {
	case *array.Int16:
		v := int64(a.Value(i))
		return pkBound{text: strconv.FormatInt(v, 10), intVal: v, isInt: true}
	case *array.Int32:
		v := int64(a.Value(i))
		return pkBound{text: strconv.FormatInt(v, 10), intVal: v, isInt: true}
	case *array.Int64:
		v := a.Value(i)
		return pkBound{text: strconv.FormatInt(v, 10), intVal: v, isInt: true}
	case *array.Timestamp:
		v := int64(a.Value(i))
		return pkBound{text: time.UnixMicro(v).UTC().Format("2006-01-02 15:04:05.999999"), intVal: v, isInt: true}
	case *array.Date32:
		v := int64(a.Value(i))
		return pkBound{text: a.Value(i).ToTime().Format("2006-01-02"), intVal: v, isInt: true}
	case *array.Time64:
		v := int64(a.Value(i))
		return pkBound{text: time.UnixMicro(v).UTC().Format("15:04:05.999999"), intVal: v, isInt: true}
	case *array.Boolean:
		return pkBound{text: strconv.FormatBool(a.Value(i))}
	case *array.Float32:
		return pkBound{text: strconv.FormatFloat(float64(a.Value(i)), 'g', -1, 32)}
	case *array.Float64:
		return pkBound{text: strconv.FormatFloat(a.Value(i), 'g', -1, 64)}
	case *array.Decimal128:
		return pkBound{text: a.Value(i).ToString(a.DataType().(*arrow.Decimal128Type).Scale)}
	case *array.String:
		return pkBound{text: strings.Clone(a.Value(i))}
	case *array.Binary:
		return pkBound{text: hex.EncodeToString(a.Value(i))}
	}
	return pkBound{text: col.ValueStr(i)}
}

// appendOrderedKey appends an encoding of row i of a primary-key column whose
// bytewise order is the key order of the hot tier. Only the invariant check
// uses it; values are compared one at a time, so strings need no escaping.
func appendOrderedKey(dst []byte, col arrow.Array, i int) []byte {
	switch a := col.(type) {
	case *array.Int16:
		return binary.BigEndian.AppendUint16(dst, uint16(a.Value(i))^(1<<15))
	case *array.Int32:
		return binary.BigEndian.AppendUint32(dst, uint32(a.Value(i))^(1<<31))
	case *array.Int64:
		return binary.BigEndian.AppendUint64(dst, uint64(a.Value(i))^(1<<63))
	case *array.Timestamp:
		return binary.BigEndian.AppendUint64(dst, uint64(a.Value(i))^(1<<63))
	case *array.Date32:
		return binary.BigEndian.AppendUint32(dst, uint32(a.Value(i))^(1<<31))
	case *array.Time64:
		return binary.BigEndian.AppendUint64(dst, uint64(a.Value(i))^(1<<63))
	case *array.Boolean:
		if a.Value(i) {
			return append(dst, 1)
		}
		return append(dst, 0)
	case *array.Float32:
		return binary.BigEndian.AppendUint64(dst, orderedFloatBits(float64(a.Value(i))))
	case *array.Float64:
		return binary.BigEndian.AppendUint64(dst, orderedFloatBits(a.Value(i)))
	case *array.Decimal128:
		n := a.Value(i)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n.HighBits())^(1<<63))
		return binary.BigEndian.AppendUint64(dst, n.LowBits())
	case *array.String:
		return append(dst, a.Value(i)...)
	case *array.Binary:
		return append(dst, a.Value(i)...)
	}
	return append(dst, col.ValueStr(i)...)
}

// orderedFloatBits maps a float to an unsigned integer of the same order.
func orderedFloatBits(f float64) uint64 {
	if f == 0 {
		f = 0 // -0 sorts as +0
	}
	b := math.Float64bits(f)
	if b&(1<<63) != 0 {
		return ^b
	}
	return b | 1<<63
}
