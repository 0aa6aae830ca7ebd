package hotstore

import (
	"bytes"
	"cmp"
	"math"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/kalamdb/kalamdb-go/catalog"
)

func sign(c int) int { return cmp.Compare(c, 0) }

// FuzzKeyRoundTrip checks that the primary-key encodings decode to their
// input and that comparing encodings orders like comparing values, also
// inside full row keys (partition prefix + pk).
func FuzzKeyRoundTrip(f *testing.F) {
	f.Add([]byte("a"), []byte("a\x00"), int64(-1), int64(1), 0.0, -0.0, "alice", "al")
	f.Add([]byte{}, []byte{0, 0xff}, int64(math.MinInt64), int64(math.MaxInt64), math.Inf(-1), 1e-308, "", "b")
	f.Add([]byte{0, 1}, []byte{0}, int64(0), int64(256), -1.5, -2.5, "x\x00", "x")
	f.Fuzz(func(t *testing.T, a, b []byte, x, y int64, fx, fy float64, ua, ub string) {
		// bytes
		ea, eb := appendOrderedBytes(nil, a), appendOrderedBytes(nil, b)
		if got, want := sign(bytes.Compare(ea, eb)), sign(bytes.Compare(a, b)); got != want {
			t.Fatalf("bytes order %q %q: got %d want %d", a, b, got, want)
		}
		if !bytes.Equal(appendOrderedString(nil, string(a)), ea) {
			t.Fatalf("string and bytes encodings differ for %q", a)
		}
		da, rest, err := decodeOrderedBytes(append(ea, 0x42))
		if err != nil || !bytes.Equal(da, a) || !bytes.Equal(rest, []byte{0x42}) {
			t.Fatalf("bytes round trip %q: %q %q %v", a, da, rest, err)
		}
		// ints of every width
		if got, want := sign(bytes.Compare(appendOrderedInt64(nil, x), appendOrderedInt64(nil, y))), cmp.Compare(x, y); got != want {
			t.Fatalf("int64 order %d %d", x, y)
		}
		if v, _, _ := decodeOrderedInt64(appendOrderedInt64(nil, x)); v != x {
			t.Fatalf("int64 round trip %d -> %d", x, v)
		}
		x32, y32 := int32(x), int32(y)
		if got, want := sign(bytes.Compare(appendOrderedInt32(nil, x32), appendOrderedInt32(nil, y32))), cmp.Compare(x32, y32); got != want {
			t.Fatalf("int32 order %d %d", x32, y32)
		}
		if v, _, _ := decodeOrderedInt32(appendOrderedInt32(nil, x32)); v != x32 {
			t.Fatalf("int32 round trip")
		}
		x16, y16 := int16(x), int16(y)
		if got, want := sign(bytes.Compare(appendOrderedInt16(nil, x16), appendOrderedInt16(nil, y16))), cmp.Compare(x16, y16); got != want {
			t.Fatalf("int16 order %d %d", x16, y16)
		}
		if v, _, _ := decodeOrderedInt16(appendOrderedInt16(nil, x16)); v != x16 {
			t.Fatalf("int16 round trip")
		}
		// floats (NaN has no order; -0 == +0)
		if !math.IsNaN(fx) && !math.IsNaN(fy) {
			if got, want := sign(bytes.Compare(appendOrderedFloat64(nil, fx), appendOrderedFloat64(nil, fy))), cmp.Compare(fx, fy); got != want {
				t.Fatalf("float64 order %v %v", fx, fy)
			}
			if v, _, _ := decodeOrderedFloat64(appendOrderedFloat64(nil, fx)); v != fx {
				t.Fatalf("float64 round trip %v -> %v", fx, v)
			}
			f32x, f32y := float32(fx), float32(fy)
			if got, want := sign(bytes.Compare(appendOrderedFloat32(nil, f32x), appendOrderedFloat32(nil, f32y))), cmp.Compare(f32x, f32y); got != want {
				t.Fatalf("float32 order %v %v", f32x, f32y)
			}
			if v, _, _ := decodeOrderedFloat32(appendOrderedFloat32(nil, f32x)); v != f32x {
				t.Fatalf("float32 round trip")
			}
		}
		// decimal128 (hi = x or y, lo from the other)
		dx, dy := decimal128.New(x, uint64(y)), decimal128.New(y, uint64(x))
		if got, want := sign(bytes.Compare(appendOrderedDecimal128(nil, dx), appendOrderedDecimal128(nil, dy))), dx.Cmp(dy); got != want {
			t.Fatalf("decimal order %v %v", dx, dy)
		}
		if v, _, _ := decodeOrderedDecimal128(appendOrderedDecimal128(nil, dx)); v != dx {
			t.Fatalf("decimal round trip")
		}
		// full row keys: partitions of different users never interleave and
		// within a partition keys order by pk.
		if bytes.IndexByte([]byte(ua), 0) >= 0 || bytes.IndexByte([]byte(ub), 0) >= 0 {
			return
		}
		td := &catalog.TableDef{StoreID: uint64(x), Type: catalog.TableUser}
		ka := appendOrderedBytes(partitionPrefix(nil, td, catalog.UserID(ua)), a)
		kb := appendOrderedBytes(partitionPrefix(nil, td, catalog.UserID(ub)), b)
		want := cmp.Compare(ua, ub)
		if want == 0 {
			want = sign(bytes.Compare(a, b))
		}
		if got := sign(bytes.Compare(ka, kb)); got != want {
			t.Fatalf("row key order (%q,%q) vs (%q,%q): got %d want %d", ua, a, ub, b, got, want)
		}
		pa := partitionPrefix(nil, td, catalog.UserID(ua))
		if !bytes.HasPrefix(ka, pa) || (ua != ub && bytes.HasPrefix(kb, pa)) {
			t.Fatalf("partition prefix leak %q %q", ua, ub)
		}
		lo, hi := tableBounds(td.StoreID)
		if bytes.Compare(ka, lo) < 0 || bytes.Compare(ka, hi) >= 0 {
			t.Fatalf("key outside table bounds")
		}
		user, err := userOfKey(ka, td.StoreID)
		if err != nil || string(user) != ua {
			t.Fatalf("user of key: %q %v", user, err)
		}
		pk, rest, err := decodeOrderedBytes(ka[len(pa):])
		if err != nil || len(rest) != 0 || !bytes.Equal(pk, a) {
			t.Fatalf("pk of key: %q %q %v", pk, rest, err)
		}
	})
}

func TestPrefixSuccessor(t *testing.T) {
	cases := []struct{ in, want []byte }{
		{[]byte{1, 2}, []byte{1, 3}},
		{[]byte{1, 0xff}, []byte{2}},
		{[]byte{0xff, 0xff}, nil},
		{[]byte{'m'}, []byte{'n'}},
	}
	for _, c := range cases {
		if got := prefixSuccessor(c.in); !bytes.Equal(got, c.want) {
			t.Errorf("prefixSuccessor(%x) = %x, want %x", c.in, got, c.want)
		}
	}
}
