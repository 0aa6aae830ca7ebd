//go:build duckdb_arrow

package engine

import (
	"fmt"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/kalamdb/kalamdb-go/catalog"
	"github.com/kalamdb/kalamdb-go/engine/duck"
	"github.com/kalamdb/kalamdb-go/hotstore"
)

// columnFill evaluates, for ALTER TABLE ADD COLUMN, the value that the
// table's existing rows read in the new column c: its default, evaluated
// once, as DuckDB's and PostgreSQL's ADD COLUMN … DEFAULT give every
// existing row (NOW() is the time of the ALTER for all of them). It is nil
// when the default is none or NULL. before is the first _seq drawn after
// the ALTER began: row versions below it predate the column.
//
// Defaults that DuckDB evaluates once per row (as it does uuid() or
// random()) would need a distinct value for each existing row, which an
// ALTER that rewrites no row cannot give: SNOWFLAKE_ID(), UUID_V7() and
// ULID() are refused, and so is CURRENT_USER(), which would stamp every
// user's existing rows with the name of whoever ran the ALTER.
func (e *Engine) columnFill(c catalog.Column, now time.Time, before int64) (*catalog.ColumnFill, error) {
	var (
		arr arrow.Array
		sql string
		err error
	)
	switch c.Default.Kind {
	case catalog.DefaultNone:
		return nil, nil
	case catalog.DefaultLiteral:
		sql = fmt.Sprintf("CAST(%s AS %s)", c.Default.Literal, c.Type.DuckDBType())
		if arr, err = e.evalConstant(c, sql); err != nil {
			return nil, err
		}
	case catalog.DefaultNow:
		b := array.NewBuilder(memory.DefaultAllocator, c.Type.ArrowType())
		err = appendNow(b, now)
		arr = b.NewArray()
		b.Release()
		if err != nil {
			arr.Release()
			return nil, catalog.Errorf(catalog.KindInvalid, "default of column %s: %v", c.Name, err)
		}
		sql = nowSQL(arr, c.Type)
	default:
		return nil, catalog.Errorf(catalog.KindInvalid,
			"ADD COLUMN %s … DEFAULT %s: the table's existing rows would each need their own value, which ALTER TABLE does not generate; add the column without this default (existing rows read NULL) and set their values with UPDATE, or create the table anew with the column",
			c.Name, c.Default)
	}
	defer arr.Release()
	if arr.IsNull(0) {
		if c.NotNull {
			return nil, catalog.Errorf(catalog.KindInvalid, "column %s is NOT NULL, but its default is NULL", c.Name)
		}
		return nil, nil
	}
	// The value must be one an INSERT could store (UUID and JSON syntax).
	one := (&catalog.TableDef{Columns: []catalog.Column{c}}).Seal()
	rec := array.NewRecordBatch(one.UserSchema(), []arrow.Array{arr}, 1)
	err = checkConstraints(one, rec)
	rec.Release()
	if err != nil {
		return nil, err
	}
	v, err := hotstore.EncodeValue(arr, 0)
	if err != nil {
		return nil, err
	}
	return &catalog.ColumnFill{Before: before, SQL: sql, Value: v}, nil
}

// evalConstant evaluates a constant expression of column c's type in
// DuckDB, as INSERT stores it: one value of the column's Arrow type.
func (e *Engine) evalConstant(c catalog.Column, sql string) (arrow.Array, error) {
	conn, err := e.conn()
	if err != nil {
		return nil, err
	}
	rows, err := conn.Query("SELECT " + sql + " AS " + duck.QuoteIdent(c.Name))
	if err != nil {
		e.release(conn, false)
		return nil, catalog.Errorf(catalog.KindInvalid, "default %s does not fit column %s %s: %v", c.Default, c.Name, c.Type, err)
	}
	recs, err := rows.All()
	rows.Close()
	e.release(conn, false)
	if err != nil {
		return nil, catalog.Errorf(catalog.KindInvalid, "default %s does not fit column %s %s: %v", c.Default, c.Name, c.Type, err)
	}
	defer releaseAll(recs)
	rec, err := e.tableRecord((&catalog.TableDef{Columns: []catalog.Column{c}}).Seal(), recs)
	if err != nil {
		return nil, err
	}
	defer rec.Release()
	if rec.NumRows() != 1 {
		return nil, fmt.Errorf("default of column %s: %d values", c.Name, rec.NumRows())
	}
	a := rec.Column(0)
	a.Retain()
	return a, nil
}

// nowSQL renders the NOW() value in arr (TIMESTAMP, DATE or TEXT, as
// appendNow builds it) as a DuckDB constant of the column's type.
func nowSQL(arr arrow.Array, t catalog.DataType) string {
	var text string
	switch a := arr.(type) {
	case *array.Timestamp:
		text = time.UnixMicro(int64(a.Value(0))).UTC().Format("2006-01-02 15:04:05.000000")
	case *array.Date32:
		text = a.Value(0).ToTime().UTC().Format("2006-01-02")
	case *array.String:
		text = a.Value(0)
	}
	return fmt.Sprintf("CAST(%s AS %s)", duck.QuoteString(text), t.DuckDBType())
}

// fillColumnSQL is how a segment written without column c reads it: the
// column's fill in rows older than the column, else NULL.
func fillColumnSQL(c catalog.Column) string {
	if c.Fill == nil {
		return fmt.Sprintf("CAST(NULL AS %s)", c.Type.DuckDBType())
	}
	return fmt.Sprintf("CAST(CASE WHEN _seq < %d THEN %s END AS %s)", c.Fill.Before, c.Fill.SQL, c.Type.DuckDBType())
}
