//go:build duckdb_arrow

package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/kalamdb/kalamdb-go/catalog"
	"github.com/kalamdb/kalamdb-go/engine/duck"
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
		ct, err := ingestTableDef(ref, schema, req.Options, sub.role)
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
			// Rows are numbered over the whole stream.
			if je := (*JSONError)(nil); errors.As(err, &je) {
				je.Row += total
			}
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
	src, err := e.castIngested(t, rec)
	if err != nil {
		return 0, err
	}
	defer src.Release()
	for i, c := range t.Columns {
		j, ok := byName[strings.ToLower(c.Name)]
		if !ok {
			given[i] = -1
			cols[i] = array.MakeArrayOfNull(memory.DefaultAllocator, schema.Field(i).Type, int(n))
			if c.Default.Kind == catalog.DefaultLiteral {
				return 0, catalog.Errorf(catalog.KindInvalid, "bulk ingest must supply column %s (its default is a literal)", c.Name)
			}
			continue
		}
		given[i] = j
		cols[i] = src.Column(j)
		cols[i].Retain()
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

// castIngested returns the batch with each column of the table's Arrow
// type for it (a new reference either way). Columns of another type are
// converted by DuckDB, which casts them on appending to a table of the
// target types exactly as its own bulk ingest does, so that an ingested
// value is the one DuckDB stores (Arrow's casts differ: 100.0 to text is
// "100" there and "100.0" in DuckDB, decimals to doubles round otherwise).
func (e *Engine) castIngested(t *catalog.TableDef, rec arrow.RecordBatch) (arrow.RecordBatch, error) {
	cols := make([]catalog.Column, rec.NumCols())
	fields := make([]arrow.Field, rec.NumCols())
	same := true
	for i, f := range rec.Schema().Fields() {
		c := t.Columns[t.ColumnIndex(f.Name)]
		cols[i] = catalog.Column{Name: fmt.Sprintf("c%d", i), Type: c.Type}
		fields[i] = arrow.Field{Name: f.Name, Type: c.Type.ArrowType(), Nullable: true}
		same = same && arrow.TypeEqual(f.Type, fields[i].Type)
	}
	if same {
		rec.Retain()
		return rec, nil
	}
	c, err := e.conn()
	if err != nil {
		return nil, err
	}
	name := "__kdb_ingest_" + randomToken()
	if err := c.Exec(createTempSQL(name, cols, false)); err != nil {
		e.release(c, true)
		return nil, fmt.Errorf("create conversion table for %s: %w", t.ID, err)
	}
	out, err := func() (arrow.RecordBatch, error) {
		if err := c.AppendRecord(name, true, rec); err != nil {
			return nil, catalog.WrapKind(catalog.KindInvalid, err, "convert ingested data to the columns of %s", t.ID)
		}
		rows, err := c.Query("SELECT * FROM temp.main." + duck.QuoteIdent(name))
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		recs, err := rows.All()
		if err != nil {
			return nil, err
		}
		defer releaseAll(recs)
		schema := arrow.NewSchema(fields, nil)
		for _, r := range recs {
			for i := range fields {
				if !arrow.TypeEqual(r.Column(i).DataType(), fields[i].Type) {
					return nil, fmt.Errorf("convert ingested column %s: DuckDB produced %s, want %s", fields[i].Name, r.Column(i).DataType(), fields[i].Type)
				}
			}
		}
		return duck.ConcatRecords(schema, recs)
	}()
	e.release(c, c.Exec("DROP TABLE IF EXISTS temp.main."+duck.QuoteIdent(name)) != nil)
	return out, err
}

// ingestTableDef designs a table for ingested data.
// Without kalamdb.table_type the table is SHARED, except for a user-role
// account, which may create USER tables only and so gets one.
func ingestTableDef(ref sqlparse.TableRef, schema *arrow.Schema, opts map[string]string, role catalog.Role) (*sqlparse.CreateTable, error) {
	ct := &sqlparse.CreateTable{Table: ref, Type: catalog.TableShared}
	kind := strings.ToUpper(strings.TrimSpace(opts["kalamdb.table_type"]))
	if kind == "" && role == catalog.RoleUser {
		kind = "USER"
	}
	switch kind {
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
		cd := sqlparse.ColumnDef{Name: strings.ToLower(f.Name), Quoted: true, Type: dt, NotNull: !f.Nullable}
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
