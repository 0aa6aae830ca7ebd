package hotstore

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/kalamdb/kalamdb-go/catalog"
)

// fuzzTable is a table with a column of every type the row codec stores.
// With reversed IDs its column IDs decrease with position, which sends
// decoding down the generic (non-monotonic) path.
func fuzzTable(reversed bool) *catalog.TableDef {
	kinds := []catalog.DataType{
		{Kind: catalog.TypeBigInt}, {Kind: catalog.TypeBoolean}, {Kind: catalog.TypeSmallInt},
		{Kind: catalog.TypeInt}, {Kind: catalog.TypeFloat}, {Kind: catalog.TypeDouble},
		{Kind: catalog.TypeDecimal, Precision: 10, Scale: 2}, {Kind: catalog.TypeText},
		{Kind: catalog.TypeBytes}, {Kind: catalog.TypeTimestamp}, {Kind: catalog.TypeDate},
		{Kind: catalog.TypeTime},
	}
	names := []string{"id", "b", "i16", "i32", "f32", "f64", "dec", "s", "bin", "ts", "d", "t"}
	t := &catalog.TableDef{ID: catalog.TableID{Namespace: "app", Name: "fuzz"}, Type: catalog.TableShared}
	for i, k := range kinds {
		id := uint32(i + 1)
		if reversed {
			id = uint32(len(kinds) - i)
		}
		t.Columns = append(t.Columns, catalog.Column{ID: id, Name: names[i], Type: k, PrimaryKey: i == 0, NotNull: i == 0})
	}
	return t.Seal()
}

// FuzzRowDecode decodes arbitrary bytes as a stored row value: decoding
// must fail cleanly or produce a structurally valid batch whose every
// value reads, and never panic or leak.
func FuzzRowDecode(f *testing.F) {
	mem := memory.NewGoAllocator()
	t := fuzzTable(false)
	rec, _, err := array.RecordFromJSON(mem, t.UserSchema(), strings.NewReader(`[
		{"id": 1, "b": true, "i16": -2, "i32": 3, "f32": 1.5, "f64": -2.25, "dec": "12.34", "s": "héllo", "bin": "AQI=", "ts": 1700000000000000, "d": 19000, "t": 3600000000},
		{"id": 2, "b": null, "i16": null, "i32": null, "f32": null, "f64": null, "dec": null, "s": "", "bin": null, "ts": null, "d": null, "t": null}
	]`))
	if err != nil {
		f.Fatal(err)
	}
	defer rec.Release()
	if err := checkRecord(t, rec, []int64{1, 2}); err != nil {
		f.Fatal(err)
	}
	enc := newRowEncoder(t, rec)
	for i := range int(rec.NumRows()) {
		v := enc.encode(nil, i, int64(i+1))
		f.Add(v, false, false)
		f.Add(v, true, true)
		f.Add(v[:len(v)-1], false, true)
	}
	f.Add(appendTombstone(nil, 7), true, false)
	f.Add([]byte{}, false, false)
	f.Fuzz(func(tt *testing.T, v []byte, keepDeleted, reversed bool) {
		alloc := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer alloc.AssertSize(tt, 0)
		td := fuzzTable(reversed)
		d, err := newRowDecoder(td, td.ArrowSchema(), alloc)
		if err != nil {
			tt.Fatal(err)
		}
		d.keepDeleted = keepDeleted
		d.reserve(2)
		// Twice, so that a second row lands after whatever the first left.
		for range 2 {
			if _, err := d.decode(v); err != nil {
				d.release()
				return
			}
		}
		out := d.finish()
		defer out.Release()
		// Structure only: corrupt stored bytes may decode to text that is
		// not UTF-8 (the decoder does not check, for speed), which full
		// validation would report.
		if err := array.ValidateRecord(out); err != nil {
			tt.Fatalf("decoded batch is invalid: %v", err)
		}
		for _, col := range out.Columns() {
			for i := range col.Len() {
				_ = col.ValueStr(i)
			}
		}
	})
}
