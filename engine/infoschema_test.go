//go:build duckdb_arrow

package engine

import (
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/stretchr/testify/require"

	"github.com/kalamdb/kalamdb-go/catalog"
	"github.com/kalamdb/kalamdb-go/engine/duck"
)

// duckRows runs sql on c and returns every value as DuckDB's text, NULL as
// "NULL".
func duckRows(t *testing.T, c *duck.Conn, sql string) [][]string {
	t.Helper()
	rows, err := c.Query(sql)
	require.NoError(t, err, sql)
	defer rows.Close()
	var out [][]string
	for rec := rows.Next(); rec != nil; rec = rows.Next() {
		out = append(out, recordText(rec)...)
		rec.Release()
	}
	require.NoError(t, rows.Err())
	return out
}

func recordText(rec arrow.RecordBatch) [][]string {
	var out [][]string
	for r := 0; r < int(rec.NumRows()); r++ {
		row := make([]string, rec.NumCols())
		for i, col := range rec.Columns() {
			row[i] = "NULL"
			if !col.IsNull(r) {
				row[i] = strings.Clone(col.ValueStr(r)) // the batch's memory is reused
			}
		}
		out = append(out, row)
	}
	return out
}

// TestInfoSchemaMatchesDuckDB: the information_schema views have DuckDB's
// own columns (names, order and types), and a table's rows in
// information_schema.columns are the ones DuckDB shows for a table of the
// same column types, nullability and (literal) defaults; only the catalog
// and schema names are ours.
func TestInfoSchemaMatchesDuckDB(t *testing.T) {
	d, err := duck.Open(duck.Options{Threads: 1})
	require.NoError(t, err)
	t.Cleanup(func() { _ = d.Close() })
	c, err := d.Connect()
	require.NoError(t, err)
	t.Cleanup(c.Close)

	for name, st := range infoSchemaTables {
		want := duckRows(t, c, "SELECT column_name, column_type FROM (DESCRIBE information_schema."+string(name)+")")
		var got [][]string
		for _, col := range st.columns {
			got = append(got, []string{col.Name, col.Type.DuckDBType()})
		}
		require.Equal(t, want, got, "information_schema.%s", name)
	}

	lit := func(s string) catalog.Default { return catalog.Default{Kind: catalog.DefaultLiteral, Literal: s} }
	td := &catalog.TableDef{ID: catalog.TableID{Namespace: "app", Name: "every"}, Columns: []catalog.Column{
		{Name: "id", Type: catalog.DataType{Kind: catalog.TypeBigInt}, NotNull: true, PrimaryKey: true},
		{Name: "b", Type: catalog.DataType{Kind: catalog.TypeBoolean}},
		{Name: "si", Type: catalog.DataType{Kind: catalog.TypeSmallInt}, Default: lit("-1")},
		{Name: "i", Type: catalog.DataType{Kind: catalog.TypeInt}, NotNull: true, Default: lit("42")},
		{Name: "f", Type: catalog.DataType{Kind: catalog.TypeFloat}},
		{Name: "d", Type: catalog.DataType{Kind: catalog.TypeDouble}, Default: lit("NULL")},
		{Name: "dec", Type: catalog.DataType{Kind: catalog.TypeDecimal, Precision: 10, Scale: 2}},
		{Name: "dec_default", Type: catalog.DataType{Kind: catalog.TypeDecimal, Precision: 38, Scale: 10}},
		{Name: "txt", Type: catalog.DataType{Kind: catalog.TypeText}, NotNull: true, Default: lit("'it''s'")},
		{Name: "bytes", Type: catalog.DataType{Kind: catalog.TypeBytes}},
		{Name: "doc", Type: catalog.DataType{Kind: catalog.TypeJSON}},
		{Name: "ts", Type: catalog.DataType{Kind: catalog.TypeTimestamp}},
		{Name: "day", Type: catalog.DataType{Kind: catalog.TypeDate}},
		{Name: "tod", Type: catalog.DataType{Kind: catalog.TypeTime}},
		{Name: "uid", Type: catalog.DataType{Kind: catalog.TypeUUID}},
	}}
	var ddl strings.Builder
	require.NoError(t, c.Exec("CREATE SCHEMA app"))
	ddl.WriteString("CREATE TABLE app.every (")
	for i, col := range td.Columns {
		if i > 0 {
			ddl.WriteString(", ")
		}
		ddl.WriteString(duck.QuoteIdent(col.Name) + " " + col.Type.DuckDBType())
		if col.NotNull {
			ddl.WriteString(" NOT NULL")
		}
		if col.PrimaryKey {
			ddl.WriteString(" PRIMARY KEY")
		}
		if col.Default.Kind != catalog.DefaultNone {
			ddl.WriteString(" DEFAULT " + col.Default.String())
		}
	}
	ddl.WriteString(")")
	require.NoError(t, c.Exec(ddl.String()))
	want := duckRows(t, c, "SELECT * FROM information_schema.columns WHERE table_name = 'every' ORDER BY ordinal_position")
	require.Len(t, want, len(td.Columns))
	row := make([]any, len(infoSchemaTables["columns"].columns))
	for i := range td.Columns {
		columnsRow(row, td, i)
		got := anyText(row)
		require.Equal(t, []string{catalogName, "app"}, got[:2])
		require.Equal(t, want[i][2:], got[2:], "column %s", td.Columns[i].Name)
	}

	// A table its reader may write is a base table, insertable into.
	want = duckRows(t, c, "SELECT * FROM information_schema.tables WHERE table_name = 'every'")
	require.Len(t, want, 1)
	td.Type = catalog.TableUser
	got := anyText(tablesRow(subject{user: "alice", role: catalog.RoleUser}, td))
	require.Equal(t, []string{catalogName, "app"}, got[:2])
	require.Equal(t, want[0][2:], got[2:])
}

func anyText(row []any) []string {
	out := make([]string, len(row))
	for j, v := range row {
		out[j] = "NULL"
		if v != nil {
			out[j] = fmt.Sprint(v)
		}
	}
	return out
}
