package coldstore

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/kalamdb/kalamdb-go/catalog"
)

// SegmentSchema is the Arrow schema of a segment of t: the fields of
// t.ArrowSchema() (user columns, then _seq) followed by _deleted (boolean,
// not null).
//
// Every user column other than the primary key is nullable, whatever the
// table declares, because a tombstone row carries only its key. A caller
// converting hot-tier batches (t.ArrowSchema()) therefore rebuilds the batch
// with this schema; the column arrays are reused unchanged.
//
// The schema is built on each call (a few allocations); callers that need
// it per batch should keep it.
func SegmentSchema(t *catalog.TableDef) *arrow.Schema {
	base := t.ArrowSchema().Fields()
	pk := t.PrimaryKeyIndex()
	fields := make([]arrow.Field, 0, len(base)+1)
	for i, f := range base {
		if i < len(t.Columns) && i != pk {
			f.Nullable = true
		}
		fields = append(fields, f)
	}
	fields = append(fields, arrow.Field{Name: catalog.DeletedColumn, Type: arrow.FixedWidthTypes.Boolean})
	return arrow.NewSchema(fields, nil)
}
