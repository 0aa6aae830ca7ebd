package hotstore

import (
	"bytes"
	"encoding/binary"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/kalamdb/kalamdb-go/catalog"
)

// Key space prefixes (first byte of every Pebble key).
const (
	prefixRow  byte = 'r'
	prefixMeta byte = 'm'
)

// Byte-string escaping used by the order-preserving encoding of strings and
// binary values: 0x00 becomes 0x00 0xFF and the value ends with 0x00 0x01.
const (
	escByte    byte = 0x00
	escEscaped byte = 0xFF
	escTerm    byte = 0x01
)

// tablePrefix appends 'r' | StoreID (8 bytes big-endian) to dst.
func tablePrefix(dst []byte, storeID uint64) []byte {
	dst = append(dst, prefixRow)
	return binary.BigEndian.AppendUint64(dst, storeID)
}

// tableBounds returns the [lower, upper) key range covering every row key
// of the table, all partitions included.
func tableBounds(storeID uint64) (lower, upper []byte) {
	lower = tablePrefix(nil, storeID)
	if storeID == math.MaxUint64 {
		return lower, []byte{prefixRow + 1}
	}
	return lower, tablePrefix(nil, storeID+1)
}

// validUser rejects user ids that would break the partition framing.
func validUser(user catalog.UserID) error {
	if bytes.IndexByte([]byte(user), 0) >= 0 {
		return catalog.Errorf(catalog.KindInvalid, "user id %q contains a NUL byte", string(user))
	}
	return nil
}

// partitionPrefix appends the key prefix of one partition of a table:
// 'r' | StoreID | user bytes | 0x00 for per-user tables and
// 'r' | StoreID | 0x00 for shared ones.
func partitionPrefix(dst []byte, t *catalog.TableDef, user catalog.UserID) []byte {
	dst = tablePrefix(dst, t.StoreID)
	if t.Type.PerUser() {
		dst = append(dst, user...)
	}
	return append(dst, 0x00)
}

// prefixSuccessor returns the smallest key greater than every key that has
// p as a prefix, or nil when there is none (p is all 0xFF).
func prefixSuccessor(p []byte) []byte {
	out := bytes.Clone(p)
	for i := len(out) - 1; i >= 0; i-- {
		if out[i] != 0xFF {
			out[i]++
			return out[:i+1]
		}
	}
	return nil
}

// Order-preserving scalar encodings. Each appends to dst and returns it.

func appendOrderedInt16(dst []byte, v int16) []byte {
	return binary.BigEndian.AppendUint16(dst, uint16(v)^(1<<15))
}

func appendOrderedInt32(dst []byte, v int32) []byte {
	return binary.BigEndian.AppendUint32(dst, uint32(v)^(1<<31))
}

func appendOrderedInt64(dst []byte, v int64) []byte {
	return binary.BigEndian.AppendUint64(dst, uint64(v)^(1<<63))
}

func appendOrderedBool(dst []byte, v bool) []byte {
	if v {
		return append(dst, 1)
	}
	return append(dst, 0)
}

// orderedFloatBits maps IEEE-754 bits to an unsigned integer with the same
// order as the float values: negative numbers get every bit flipped, the
// others only the sign bit. -0 is normalised to +0 so both are one key.
func orderedFloat64Bits(f float64) uint64 {
	if f == 0 {
		f = 0
	}
	b := math.Float64bits(f)
	if b&(1<<63) != 0 {
		return ^b
	}
	return b | 1<<63
}

func orderedFloat32Bits(f float32) uint32 {
	if f == 0 {
		f = 0
	}
	b := math.Float32bits(f)
	if b&(1<<31) != 0 {
		return ^b
	}
	return b | 1<<31
}

func appendOrderedFloat64(dst []byte, f float64) []byte {
	return binary.BigEndian.AppendUint64(dst, orderedFloat64Bits(f))
}

func appendOrderedFloat32(dst []byte, f float32) []byte {
	return binary.BigEndian.AppendUint32(dst, orderedFloat32Bits(f))
}

func appendOrderedDecimal128(dst []byte, n decimal128.Num) []byte {
	dst = binary.BigEndian.AppendUint64(dst, uint64(n.HighBits())^(1<<63))
	return binary.BigEndian.AppendUint64(dst, n.LowBits())
}

// appendOrderedBytes escapes 0x00 as 0x00 0xFF and terminates with 0x00 0x01,
// so that the encoding is prefix-free and sorts like the raw bytes.
func appendOrderedBytes(dst, v []byte) []byte {
	for {
		i := bytes.IndexByte(v, escByte)
		if i < 0 {
			break
		}
		dst = append(dst, v[:i+1]...)
		dst = append(dst, escEscaped)
		v = v[i+1:]
	}
	dst = append(dst, v...)
	return append(dst, escByte, escTerm)
}

func appendOrderedString(dst []byte, v string) []byte {
	for {
		i := indexByteString(v, escByte)
		if i < 0 {
			break
		}
		dst = append(dst, v[:i+1]...)
		dst = append(dst, escEscaped)
		v = v[i+1:]
	}
	dst = append(dst, v...)
	return append(dst, escByte, escTerm)
}

func indexByteString(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

// Decoders for the ordered encodings; each returns the value and the rest of
// the input. They are used by tests and by Partitions-style key inspection.

func decodeOrderedInt64(b []byte) (int64, []byte, error) {
	if len(b) < 8 {
		return 0, nil, errCorrupt("short int64 key")
	}
	return int64(binary.BigEndian.Uint64(b) ^ (1 << 63)), b[8:], nil
}

func decodeOrderedInt32(b []byte) (int32, []byte, error) {
	if len(b) < 4 {
		return 0, nil, errCorrupt("short int32 key")
	}
	return int32(binary.BigEndian.Uint32(b) ^ (1 << 31)), b[4:], nil
}

func decodeOrderedInt16(b []byte) (int16, []byte, error) {
	if len(b) < 2 {
		return 0, nil, errCorrupt("short int16 key")
	}
	return int16(binary.BigEndian.Uint16(b) ^ (1 << 15)), b[2:], nil
}

func decodeOrderedFloat64(b []byte) (float64, []byte, error) {
	if len(b) < 8 {
		return 0, nil, errCorrupt("short float64 key")
	}
	u := binary.BigEndian.Uint64(b)
	if u&(1<<63) != 0 {
		u &^= 1 << 63
	} else {
		u = ^u
	}
	return math.Float64frombits(u), b[8:], nil
}

func decodeOrderedFloat32(b []byte) (float32, []byte, error) {
	if len(b) < 4 {
		return 0, nil, errCorrupt("short float32 key")
	}
	u := binary.BigEndian.Uint32(b)
	if u&(1<<31) != 0 {
		u &^= 1 << 31
	} else {
		u = ^u
	}
	return math.Float32frombits(u), b[4:], nil
}

func decodeOrderedDecimal128(b []byte) (decimal128.Num, []byte, error) {
	if len(b) < 16 {
		return decimal128.Num{}, nil, errCorrupt("short decimal key")
	}
	hi := int64(binary.BigEndian.Uint64(b) ^ (1 << 63))
	lo := binary.BigEndian.Uint64(b[8:])
	return decimal128.New(hi, lo), b[16:], nil
}

func decodeOrderedBytes(b []byte) ([]byte, []byte, error) {
	var out []byte
	for {
		i := bytes.IndexByte(b, escByte)
		if i < 0 || i+1 >= len(b) {
			return nil, nil, errCorrupt("unterminated bytes key")
		}
		out = append(out, b[:i]...)
		switch b[i+1] {
		case escTerm:
			if out == nil {
				out = []byte{}
			}
			return out, b[i+2:], nil
		case escEscaped:
			out = append(out, escByte)
			b = b[i+2:]
		default:
			return nil, nil, errCorrupt("bad escape in bytes key")
		}
	}
}

// appendPK appends the order-preserving encoding of arr[i] (a primary-key
// value) to dst. arr must not be null at i.
func appendPK(dst []byte, arr arrow.Array, i int) ([]byte, error) {
	if arr.IsNull(i) {
		return nil, catalog.Errorf(catalog.KindInvalid, "primary key may not be NULL")
	}
	switch a := arr.(type) {
	case *array.Int64:
		return appendOrderedInt64(dst, a.Value(i)), nil
	case *array.Int32:
		return appendOrderedInt32(dst, a.Value(i)), nil
	case *array.Int16:
		return appendOrderedInt16(dst, a.Value(i)), nil
	case *array.String:
		return appendOrderedString(dst, a.Value(i)), nil
	case *array.Binary:
		return appendOrderedBytes(dst, a.Value(i)), nil
	case *array.Boolean:
		return appendOrderedBool(dst, a.Value(i)), nil
	case *array.Float64:
		return appendOrderedFloat64(dst, a.Value(i)), nil
	case *array.Float32:
		return appendOrderedFloat32(dst, a.Value(i)), nil
	case *array.Decimal128:
		return appendOrderedDecimal128(dst, a.Value(i)), nil
	case *array.Timestamp:
		return appendOrderedInt64(dst, int64(a.Value(i))), nil
	case *array.Date32:
		return appendOrderedInt32(dst, int32(a.Value(i))), nil
	case *array.Time64:
		return appendOrderedInt64(dst, int64(a.Value(i))), nil
	}
	return nil, catalog.Errorf(catalog.KindInvalid, "unsupported primary key type %s", arr.DataType())
}

// keyType returns the Arrow type a Delete/Lookup key array must have for t:
// the primary-key column's type, or Int64 (_seq) when there is no primary key.
func keyType(t *catalog.TableDef) (arrow.DataType, int) {
	pk := t.PrimaryKeyIndex()
	if pk < 0 {
		return arrow.PrimitiveTypes.Int64, -1
	}
	return t.Columns[pk].Type.ArrowType(), pk
}

// userOfKey extracts the partition (user id bytes) of a row key of a
// per-user table. The returned slice aliases key.
func userOfKey(key []byte, storeID uint64) ([]byte, error) {
	if len(key) < 9 || key[0] != prefixRow || binary.BigEndian.Uint64(key[1:9]) != storeID {
		return nil, errCorrupt("hotstore: key is not a row key of table %d", storeID)
	}
	rest := key[9:]
	end := bytes.IndexByte(rest, 0)
	if end < 0 {
		return nil, errCorrupt("hotstore: row key without partition terminator")
	}
	return rest[:end], nil
}
