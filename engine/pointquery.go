//go:build duckdb_arrow

package engine

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/kalamdb/kalamdb-go/catalog"
	"github.com/kalamdb/kalamdb-go/engine/sqlparse"
)

// pointQuery answers `SELECT * | cols FROM t WHERE pk = <literal>` from the
// hot tier without DuckDB, returning exactly the schema and rows DuckDB
// would. ok=false means the statement is not of that shape (or a detail
// such as the literal's type needs DuckDB's rules) and takes the general path.
func (e *Engine) pointQuery(ctx context.Context, sub subject, sql string) (*Result, bool, error) {
	pq, ok := sqlparse.ParsePointQuery(sql)
	if !ok {
		return nil, false, nil
	}
	id, err := e.resolveTable(sub, string(pq.Table.Namespace), string(pq.Table.Name))
	if err != nil || id.Namespace == catalog.SystemNamespace {
		return nil, false, nil
	}
	t, ok := e.reg.table(id)
	if !ok {
		return nil, false, nil
	}
	pk := t.PrimaryKeyIndex()
	if pk < 0 || t.Columns[pk].Name != pq.Column {
		return nil, false, nil
	}
	switch t.Columns[pk].Type.Kind {
	case catalog.TypeSmallInt, catalog.TypeInt, catalog.TypeBigInt:
		if pq.Value.Kind != sqlparse.LitNumber {
			return nil, false, nil
		}
	case catalog.TypeText:
		if pq.Value.Kind != sqlparse.LitString {
			return nil, false, nil
		}
	default:
		return nil, false, nil
	}
	// Projection: indices into the row (user columns, then _seq).
	var idx []int
	if pq.Columns == nil {
		// SELECT *: the user columns (_seq only when named).
		for i := 0; i < len(t.Columns); i++ {
			idx = append(idx, i)
		}
	} else {
		for _, name := range pq.Columns {
			j := -1
			for i, c := range t.Columns {
				if c.Name == name {
					j = i
				}
			}
			if name == catalog.SeqColumn {
				j = len(t.Columns)
			}
			if j < 0 {
				return nil, false, nil
			}
			idx = append(idx, j)
		}
	}
	if e.cold != nil {
		// Rows of a flushed partition may be in segments: DuckDB reads them.
		// The lock keeps a flush from committing between the manifest
		// check and the lookup (see Engine.load).
		lk := e.coldState.lock(partKey{t.StoreID, partition(sub, t)})
		lk.RLock()
		defer lk.RUnlock()
		if man, err := e.manifestAt(ctx, t, partition(sub, t)); err != nil || len(man.Segments) > 0 {
			return nil, false, nil
		}
	}
	keys, ok := keyArray(t, []string{pq.Value.Text})
	if !ok {
		return nil, false, nil
	}
	defer keys.Release()
	if err := checkRead(sub, t); err != nil {
		return nil, true, err
	}
	rec, err := e.hot.Lookup(ctx, t, partition(sub, t), keys, memory.DefaultAllocator)
	if err != nil {
		return nil, true, err
	}
	defer rec.Release()
	full := t.ArrowSchema()
	fields := make([]arrow.Field, len(idx))
	cols := make([]arrow.Array, len(idx))
	for k, j := range idx {
		f := full.Field(j)
		fields[k] = arrow.Field{Name: f.Name, Type: f.Type, Nullable: true}
		cols[k] = rec.Column(j)
	}
	schema := arrow.NewSchema(fields, nil)
	out := array.NewRecordBatch(schema, cols, rec.NumRows())
	return recordsResult(schema, []arrow.RecordBatch{out}), true, nil
}
