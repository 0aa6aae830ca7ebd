package coldstore

import (
	"cmp"
	"encoding/json"
	"io/fs"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/kalamdb/kalamdb-go/catalog"
)

// ManifestVersion is the manifest format version Marshal writes.
const ManifestVersion = 1

// Segment describes one committed segment file. It is JSON-serialisable and
// stored in the partition manifest; values are immutable once committed.
type Segment struct {
	// ID is the file name without ".parquet": seg-<16 hex max _seq>-<8 hex>.
	ID string `json:"id"`
	// File is the path relative to the store's Dir, '/'-separated.
	File string `json:"file"`
	// Rows counts every row version in the file, tombstones included.
	Rows int64 `json:"rows"`
	// Bytes is the file size.
	Bytes int64 `json:"bytes"`
	// Tombstones counts rows with _deleted = true.
	Tombstones int64 `json:"tombstones"`
	// MinSeq and MaxSeq bound the _seq values in the file.
	MinSeq int64 `json:"min_seq"`
	MaxSeq int64 `json:"max_seq"`
	// PKType is the primary key's SQL type (catalog.DataType.String), ""
	// when the table has no primary key. Overlaps uses it to pick the
	// comparison of the text bounds.
	PKType string `json:"pk_type,omitempty"`
	// MinPK and MaxPK are the first and last primary keys of the file
	// rendered as text: integers in decimal, TEXT/JSON/UUID as is, BYTES in
	// lower-case hex, BOOLEAN as false/true, FLOAT/DOUBLE in the shortest
	// exact decimal form, DECIMAL with its scale, DATE as 2006-01-02,
	// TIMESTAMP as 2006-01-02 15:04:05.999999 (UTC) and TIME as
	// 15:04:05.999999. Both are "" when the table has no primary key.
	MinPK string `json:"min_pk"`
	MaxPK string `json:"max_pk"`
	// MinPKInt and MaxPKInt hold the bounds of integer keys (SMALLINT, INT,
	// BIGINT, and the integer-backed DATE in days, TIMESTAMP and TIME in
	// microseconds), for exact range-overlap checks; nil for other keys.
	MinPKInt *int64 `json:"min_pk_int,omitempty"`
	MaxPKInt *int64 `json:"max_pk_int,omitempty"`
	// SchemaVersion is the TableDef.Version the file was written with.
	SchemaVersion int `json:"schema_version"`
	// Columns are the user column names the file holds, in order.
	Columns []string `json:"columns,omitempty"`
	// ColumnIDs are those columns' catalog.Column IDs, parallel to Columns:
	// readers map a current column to the file's column with its ID
	// (whatever its name was when written) and read NULL when the file has
	// none, so renamed and dropped-then-re-added columns read right.
	// Segments written before IDs were recorded have none; readers then
	// match by name.
	ColumnIDs []uint32 `json:"column_ids,omitempty"`
	// CreatedAt is when the segment was committed (UTC).
	CreatedAt time.Time `json:"created_at"`
}

// Manifest is the ordered list of one partition's segments, oldest first.
type Manifest struct {
	// Version is the format version; Marshal sets ManifestVersion when zero.
	Version int `json:"version"`
	// Segments lists the partition's segments in commit order.
	Segments []Segment `json:"segments"`
}

// Marshal encodes m as JSON.
func (m Manifest) Marshal() ([]byte, error) {
	if m.Version == 0 {
		m.Version = ManifestVersion
	}
	if m.Segments == nil {
		m.Segments = []Segment{}
	}
	return json.Marshal(m)
}

// UnmarshalManifest decodes a manifest written by Marshal. It rejects
// unknown versions and segment paths that would leave the store's Dir;
// the error wraps ErrBadManifest.
func UnmarshalManifest(b []byte) (Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return Manifest{}, &catalog.Error{Kind: catalog.KindInternal, Msg: "decode manifest: " + err.Error(), Err: ErrBadManifest}
	}
	if m.Version < 1 || m.Version > ManifestVersion {
		return Manifest{}, wrapErr(catalog.KindInternal, ErrBadManifest, "manifest version %d not supported (want 1..%d)", m.Version, ManifestVersion)
	}
	for _, s := range m.Segments {
		if !validSegmentFile(s.File) {
			return Manifest{}, wrapErr(catalog.KindInternal, ErrBadManifest, "manifest segment %q has invalid file %q", s.ID, s.File)
		}
	}
	return m, nil
}

// validSegmentFile reports whether f is a clean relative '/'-separated path
// of a .parquet file inside the store.
func validSegmentFile(f string) bool {
	return fs.ValidPath(f) && f != "." && strings.HasSuffix(f, ".parquet")
}

// Overlaps reports whether the primary-key ranges of any two segments
// intersect (bounds are inclusive, so a key shared by two segments is an
// overlap). When it returns false, every key lives in at most one segment
// and a reader may skip the newest-version-per-key merge across segments.
//
// When every segment has MinPKInt/MaxPKInt those are compared. Otherwise
// SMALLINT, INT, BIGINT, FLOAT, DOUBLE and DECIMAL keys compare their text
// bounds exactly as decimal numbers, and TEXT, JSON, UUID, BYTES (hex) and
// BOOLEAN keys, as well as segments without PKType, compare them bytewise,
// which is the hot tier's key order. Overlaps is conservative: it returns
// true for tables without a primary key, for segments with differing key
// types, for TIMESTAMP, DATE and TIME keys lacking integer bounds, and for
// bounds it cannot parse. Fewer than two segments never overlap.
func (m Manifest) Overlaps() bool {
	segs := m.Segments
	if len(segs) < 2 {
		return false
	}
	allInt := true
	for _, s := range segs {
		if s.MinPKInt == nil || s.MaxPKInt == nil {
			allInt = false
		}
		if s.PKType != segs[0].PKType {
			return true
		}
	}
	if allInt {
		return overlapping(segs, func(a, b Segment) int { return cmp.Compare(*a.MinPKInt, *b.MinPKInt) },
			func(s Segment) (int64, int64) { return *s.MinPKInt, *s.MaxPKInt }, cmp.Compare[int64])
	}
	switch pkOrder(segs[0].PKType) {
	case orderNumeric:
		return overlapsNumeric(segs)
	case orderText:
		for _, s := range segs {
			if s.PKType == "" && s.MinPK == "" && s.MaxPK == "" {
				return true // no primary key: nothing proves disjointness
			}
		}
	default:
		return true
	}
	return overlapping(segs, func(a, b Segment) int { return strings.Compare(a.MinPK, b.MinPK) },
		func(s Segment) (string, string) { return s.MinPK, s.MaxPK },
		strings.Compare)
}

// overlapping sorts a copy of segs by lower bound and reports whether any
// lower bound is at or below the largest upper bound seen before it.
func overlapping[T any](segs []Segment, byMin func(a, b Segment) int, bounds func(Segment) (T, T), compare func(x, y T) int) bool {
	sorted := slices.Clone(segs)
	slices.SortFunc(sorted, byMin)
	_, maxHi := bounds(sorted[0])
	for _, s := range sorted[1:] {
		lo, hi := bounds(s)
		if compare(lo, maxHi) <= 0 {
			return true
		}
		if compare(hi, maxHi) > 0 {
			maxHi = hi
		}
	}
	return false
}

// overlapsNumeric is Overlaps for keys whose text bounds are decimal
// numbers, compared exactly as rationals.
func overlapsNumeric(segs []Segment) bool {
	type bounds struct{ lo, hi *big.Rat }
	bs := make([]bounds, len(segs))
	for i, s := range segs {
		lo, ok1 := new(big.Rat).SetString(s.MinPK)
		hi, ok2 := new(big.Rat).SetString(s.MaxPK)
		if !ok1 || !ok2 {
			return true
		}
		bs[i] = bounds{lo, hi}
	}
	slices.SortFunc(bs, func(a, b bounds) int { return a.lo.Cmp(b.lo) })
	maxHi := bs[0].hi
	for _, b := range bs[1:] {
		if b.lo.Cmp(maxHi) <= 0 {
			return true
		}
		if b.hi.Cmp(maxHi) > 0 {
			maxHi = b.hi
		}
	}
	return false
}

// keyOrder is how the text bounds of a key type compare.
type keyOrder uint8

const (
	orderText    keyOrder = iota // bytewise
	orderNumeric                 // as decimal numbers
	orderUnknown                 // not comparable as text: assume overlap
)

// pkOrder returns the order of the text bounds of keys of SQL type typ
// ("" for segments that do not record it: bytewise, as for strings).
func pkOrder(typ string) keyOrder {
	switch {
	case typ == "SMALLINT" || typ == "INT" || typ == "BIGINT" || typ == "FLOAT" || typ == "DOUBLE" || strings.HasPrefix(typ, "DECIMAL"):
		return orderNumeric
	case typ == "TIMESTAMP" || typ == "DATE" || typ == "TIME":
		return orderUnknown // ordered by their integer bounds only
	}
	return orderText
}
