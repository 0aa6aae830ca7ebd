//go:build duckdb_arrow

package engine

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/kalamdb/kalamdb-go/catalog"
	"github.com/kalamdb/kalamdb-go/engine/sqlparse"
)

// IngestMode says what bulk ingest does with a missing or existing table.
type IngestMode struct {
	// CreateIfMissing creates the table from the data's schema; otherwise a
	// missing table is NotFound.
	CreateIfMissing bool
	// IfExists: "fail" (AlreadyExists), "append" or "replace" (drop, then
	// create from the data's schema).
	IfExists string
}

// IngestRequest names the target of a bulk ingest.
type IngestRequest struct {
	Namespace catalog.NamespaceID // "" = the session's namespace
	Table     string
	Mode      IngestMode
	// Options: "kalamdb.table_type" = USER|SHARED|STREAM (default SHARED),
	// "kalamdb.primary_key" = column name (default: a column "id" if the
	// data has one, else an added id BIGINT DEFAULT SNOWFLAKE_ID()).
	Options map[string]string
}

// Ingest loads record batches into a table (Flight SQL bulk ingest), each
// batch converted to the table's columns, checked and written durably as
// INSERT would. next returns nil at the end. It returns the rows written.
func (e *Engine) Ingest(ctx context.Context, s *Session, req IngestRequest, schema *arrow.Schema, next func() (arrow.RecordBatch, error)) (int64, error) {
	start := time.Now()
	sub := subject{user: s.User, role: s.Role, actor: s.User, ns: s.Namespace()}
	ns := req.Namespace
	if ns == "" {
		ns = sub.ns
	}
	if ns == "" {
		return 0, catalog.Errorf(catalog.KindInvalid, "bulk ingest needs a namespace: set the target schema or USE one")
	}
	name, err := catalog.ParseTableName(req.Table)
	if err != nil {
		return 0, err
	}
	ref := sqlparse.TableRef{Namespace: ns, Name: name}
	t, err := e.tableRef(sub, ref)
	switch {
	case err == nil && req.Mode.IfExists == "replace":
		if _, err := e.admin(ctx, sub, &sqlparse.DropTable{Table: ref}); err != nil {
			return 0, err
		}
		t = nil
	case err == nil && req.Mode.IfExists != "append":
		return 0, catalog.Errorf(catalog.KindAlreadyExists, "table %s already exists", t.ID)
	case err != nil && catalog.KindOf(err) != catalog.KindNotFound:
		return 0, err
	case err != nil && !req.Mode.CreateIfMissing:
		return 0, err
	}
	if t == nil {
		if schema == nil {
			return 0, catalog.Errorf(catalog.KindInvalid, "bulk ingest into a new table needs the data's schema")
		}
		ct, err := ingestTableDef(ref, schema, req.Options)
		if err != nil {
			return 0, err
		}
		if _, err := e.createTable(sub, ct); err != nil {
			return 0, err
		}
		e.Audit(AuditEntry{Actor: sub.actor, Action: "CREATE TABLE", Target: string(ns) + "." + string(name), Details: "bulk ingest", IP: s.RemoteAddr})
		if t, err = e.tableRef(sub, ref); err != nil {
			return 0, err
		}
	}
	if err := checkWrite(sub, t); err != nil {
		return 0, err
	}
	var total int64
	for {
		rec, err := next()
		if err != nil {
			return total, catalog.WrapKind(catalog.KindInvalid, err, "read ingest stream")
		}
		if rec == nil {
			break
		}
		n, err := e.ingestBatch(ctx, sub, t, rec)
		if err != nil {
			return total, err
		}
		total += n
	}
	if d := time.Since(start); total > 0 {
		e.log.Info("bulk ingest", "table", t.ID, "rows", total, "took", d, "rows_per_sec", int64(float64(total)/d.Seconds()))
	}
	return total, nil
}

// ingestBatch converts one batch to the table's columns and inserts it.
func (e *Engine) ingestBatch(ctx context.Context, sub subject, t *catalog.TableDef, rec arrow.RecordBatch) (int64, error) {
	n := rec.NumRows()
	if n == 0 {
		return 0, nil
	}
	byName := map[string]int{}
	for i, f := range rec.Schema().Fields() {
		if t.ColumnIndex(f.Name) < 0 {
			return 0, catalog.Errorf(catalog.KindInvalid, "column %s of the data does not exist in table %s", f.Name, t.ID)
		}
		byName[strings.ToLower(f.Name)] = i
	}
	schema := t.UserSchema()
	cols := make([]arrow.Array, len(t.Columns))
	given := make([]int, len(t.Columns))
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	for i, c := range t.Columns {
		want := schema.Field(i).Type
		j, ok := byName[strings.ToLower(c.Name)]
		if !ok {
			given[i] = -1
			cols[i] = array.MakeArrayOfNull(memory.DefaultAllocator, want, int(n))
			if c.Default.Kind == catalog.DefaultLiteral {
				return 0, catalog.Errorf(catalog.KindInvalid, "bulk ingest must supply column %s (its default is a literal)", c.Name)
			}
			continue
		}
		given[i] = j
		col, err := convertColumn(ctx, rec.Column(j), want)
		if err != nil {
			return 0, catalog.Errorf(catalog.KindInvalid, "column %s: cannot convert %s to %s: %v", c.Name, rec.Column(j).DataType(), c.Type, err)
		}
		cols[i] = col
	}
	out := array.NewRecordBatch(schema, cols, n)
	defer out.Release()
	filled, err := e.fillDefaults(sub, t, out, given)
	if err != nil {
		return 0, err
	}
	defer filled.Release()
	if err := checkConstraints(t, filled); err != nil {
		return 0, err
	}
	seqs := e.seq.NextN(int(n), nil)
	if err := e.insertRows(ctx, t, partition(sub, t), filled, seqs); err != nil {
		return 0, err
	}
	return n, nil
}

// convertColumn casts an ingested column to the table column's Arrow type
// (returning a new reference either way).
func convertColumn(ctx context.Context, col arrow.Array, want arrow.DataType) (arrow.Array, error) {
	if arrow.TypeEqual(col.DataType(), want) {
		col.Retain()
		return col, nil
	}
	return compute.CastArray(ctx, col, compute.SafeCastOptions(want))
}

// ingestTableDef designs a table for ingested data.
func ingestTableDef(ref sqlparse.TableRef, schema *arrow.Schema, opts map[string]string) (*sqlparse.CreateTable, error) {
	ct := &sqlparse.CreateTable{Table: ref, Type: catalog.TableShared}
	switch strings.ToUpper(opts["kalamdb.table_type"]) {
	case "", "SHARED":
	case "USER":
		ct.Type = catalog.TableUser
	default:
		return nil, catalog.Errorf(catalog.KindInvalid, "kalamdb.table_type must be USER or SHARED for bulk ingest")
	}
	pk := opts["kalamdb.primary_key"]
	if pk == "" && schema.HasField("id") {
		pk = "id"
	}
	if pk == "" {
		ct.Columns = append(ct.Columns, sqlparse.ColumnDef{Name: "id", Type: catalog.DataType{Kind: catalog.TypeBigInt},
			PrimaryKey: true, NotNull: true, Default: catalog.Default{Kind: catalog.DefaultSnowflakeID}})
	}
	found := pk == ""
	for _, f := range schema.Fields() {
		if err := catalog.ValidIdentifier(f.Name); err != nil {
			return nil, catalog.Errorf(catalog.KindInvalid, "column name %q: %v", f.Name, err)
		}
		dt, err := dataTypeOf(f.Type)
		if err != nil {
			return nil, catalog.Errorf(catalog.KindInvalid, "column %s: %v", f.Name, err)
		}
		cd := sqlparse.ColumnDef{Name: strings.ToLower(f.Name), Type: dt, NotNull: !f.Nullable}
		if strings.EqualFold(f.Name, pk) {
			cd.PrimaryKey, cd.NotNull, found = true, true, true
		}
		ct.Columns = append(ct.Columns, cd)
	}
	if !found {
		return nil, catalog.Errorf(catalog.KindInvalid, "primary key column %s is not in the data", pk)
	}
	return ct, nil
}

// dataTypeOf maps an Arrow type to the closest column type.
func dataTypeOf(t arrow.DataType) (catalog.DataType, error) {
	switch t.ID() {
	case arrow.BOOL:
		return catalog.DataType{Kind: catalog.TypeBoolean}, nil
	case arrow.INT8, arrow.INT16, arrow.UINT8:
		return catalog.DataType{Kind: catalog.TypeSmallInt}, nil
	case arrow.INT32, arrow.UINT16:
		return catalog.DataType{Kind: catalog.TypeInt}, nil
	case arrow.INT64, arrow.UINT32, arrow.UINT64:
		return catalog.DataType{Kind: catalog.TypeBigInt}, nil
	case arrow.FLOAT16, arrow.FLOAT32:
		return catalog.DataType{Kind: catalog.TypeFloat}, nil
	case arrow.FLOAT64:
		return catalog.DataType{Kind: catalog.TypeDouble}, nil
	case arrow.DECIMAL128:
		d := t.(*arrow.Decimal128Type)
		return catalog.DataType{Kind: catalog.TypeDecimal, Precision: int(d.Precision), Scale: int(d.Scale)}, nil
	case arrow.STRING, arrow.LARGE_STRING, arrow.STRING_VIEW:
		return catalog.DataType{Kind: catalog.TypeText}, nil
	case arrow.BINARY, arrow.LARGE_BINARY, arrow.BINARY_VIEW, arrow.FIXED_SIZE_BINARY:
		return catalog.DataType{Kind: catalog.TypeBytes}, nil
	case arrow.TIMESTAMP:
		return catalog.DataType{Kind: catalog.TypeTimestamp}, nil
	case arrow.DATE32, arrow.DATE64:
		return catalog.DataType{Kind: catalog.TypeDate}, nil
	case arrow.TIME32, arrow.TIME64:
		return catalog.DataType{Kind: catalog.TypeTime}, nil
	}
	return catalog.DataType{}, fmt.Errorf("unsupported Arrow type %s", t)
}
