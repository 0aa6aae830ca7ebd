package coldstore

import (
	"strconv"
	"testing"
	"time"

	"github.com/kalamdb/kalamdb-go/catalog"
	"github.com/stretchr/testify/require"
)

func TestManifestRoundTrip(t *testing.T) {
	lo, hi := int64(-3), int64(99)
	m := Manifest{Segments: []Segment{
		{
			ID: "seg-0000000000000063-0a1b2c3d", File: "chat/messages/alice/seg-0000000000000063-0a1b2c3d.parquet",
			Rows: 10, Bytes: 4096, Tombstones: 2, MinSeq: 7, MaxSeq: 99, PKType: "BIGINT",
			MinPK: "-3", MaxPK: "99", MinPKInt: &lo, MaxPKInt: &hi, SchemaVersion: 2,
			CreatedAt: time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC),
		},
		{ID: "seg-0000000000000064-ffffffff", File: "chat/messages/alice/seg-0000000000000064-ffffffff.parquet", PKType: "TEXT", MinPK: "a\x00\"é", MaxPK: "z"},
	}}
	b, err := m.Marshal()
	require.NoError(t, err)
	got, err := UnmarshalManifest(b)
	require.NoError(t, err)
	m.Version = ManifestVersion
	require.Equal(t, m, got)

	empty, err := Manifest{}.Marshal()
	require.NoError(t, err)
	require.JSONEq(t, `{"version":1,"segments":[]}`, string(empty))
}

func TestUnmarshalManifestErrors(t *testing.T) {
	for name, in := range map[string]string{
		"not json":         `{`,
		"no version":       `{"segments":[]}`,
		"future version":   `{"version":2,"segments":[]}`,
		"absolute path":    `{"version":1,"segments":[{"id":"x","file":"/etc/x.parquet"}]}`,
		"escaping path":    `{"version":1,"segments":[{"id":"x","file":"../x.parquet"}]}`,
		"not parquet":      `{"version":1,"segments":[{"id":"x","file":"a/x.txt"}]}`,
		"backslash path":   `{"version":1,"segments":[{"id":"x","file":"a\\..\\..\\x.parquet/"}]}`,
		"wrong field type": `{"version":"1"}`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := UnmarshalManifest([]byte(in))
			require.ErrorIs(t, err, ErrBadManifest)
			require.Equal(t, catalog.KindInternal, catalog.KindOf(err))
		})
	}
}

func TestManifestOverlaps(t *testing.T) {
	intSeg := func(lo, hi int64) Segment {
		return Segment{PKType: "BIGINT", MinPK: strconv.FormatInt(lo, 10), MaxPK: strconv.FormatInt(hi, 10), MinPKInt: &lo, MaxPKInt: &hi}
	}
	typed := func(typ, lo, hi string) Segment { return Segment{PKType: typ, MinPK: lo, MaxPK: hi} }
	text := func(lo, hi string) Segment { return typed("TEXT", lo, hi) }
	tests := []struct {
		name string
		segs []Segment
		want bool
	}{
		{"none", nil, false},
		{"one", []Segment{intSeg(1, 5)}, false},
		{"one without pk", []Segment{{}}, false},
		{"int disjoint", []Segment{intSeg(1, 5), intSeg(6, 9)}, false},
		{"int disjoint unordered", []Segment{intSeg(20, 30), intSeg(1, 5), intSeg(6, 9)}, false},
		{"int shared bound", []Segment{intSeg(1, 5), intSeg(5, 9)}, true},
		{"int nested", []Segment{intSeg(1, 100), intSeg(6, 9)}, true},
		{"int overlap beyond neighbour", []Segment{intSeg(1, 100), intSeg(10, 20), intSeg(30, 40)}, true},
		{"int negative", []Segment{intSeg(-10, -1), intSeg(0, 3)}, false},
		{"int bounds win over text", []Segment{
			{PKType: "BIGINT", MinPK: "9", MaxPK: "10", MinPKInt: ptr(9), MaxPKInt: ptr(10)},
			{PKType: "BIGINT", MinPK: "100", MaxPK: "200", MinPKInt: ptr(100), MaxPKInt: ptr(200)},
		}, false},
		{"text disjoint", []Segment{text("a", "c"), text("d", "f")}, false},
		{"text overlap", []Segment{text("a", "m"), text("d", "f")}, true},
		{"text prefix", []Segment{text("a", "ab"), text("abc", "b")}, false},
		{"text shared bound", []Segment{text("a", "d"), text("d", "f")}, true},
		{"double numeric not lexicographic", []Segment{typed("DOUBLE", "2", "9.5"), typed("DOUBLE", "10", "1e+21")}, false},
		{"double overlap", []Segment{typed("DOUBLE", "-1.5", "10"), typed("DOUBLE", "9.5", "11")}, true},
		{"decimal numeric", []Segment{typed("DECIMAL(12,3)", "-2.500", "9.000"), typed("DECIMAL(12,3)", "10.000", "100.000")}, false},
		{"double unparsable", []Segment{typed("DOUBLE", "NaN", "1"), typed("DOUBLE", "2", "3")}, true},
		{"no primary key", []Segment{{}, {}}, true},
		{"mixed key types", []Segment{text("a", "b"), intSeg(1, 2)}, true},
		{"int bounds missing: numeric text", []Segment{intSeg(1, 9), typed("BIGINT", "10", "20")}, false},
		{"int bounds missing: numeric text overlap", []Segment{intSeg(1, 20), typed("BIGINT", "10", "30")}, true},
		{"timestamp without int bounds", []Segment{typed("TIMESTAMP", "2020-01-01", "2020-01-02"), typed("TIMESTAMP", "2021-01-01", "2021-01-02")}, true},
		{"timestamp int bounds", []Segment{
			{PKType: "TIMESTAMP", MinPKInt: ptr(1), MaxPKInt: ptr(2)}, {PKType: "TIMESTAMP", MinPKInt: ptr(3), MaxPKInt: ptr(4)},
		}, false},
		{"bytes hex", []Segment{typed("BYTES", "00ab", "0f"), typed("BYTES", "ff", "ff01")}, false},
		{"legacy untyped text", []Segment{{MinPK: "a", MaxPK: "b"}, {MinPK: "c", MaxPK: "d"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, Manifest{Segments: tt.segs}.Overlaps())
		})
	}
}

func ptr(v int64) *int64 { return &v }
