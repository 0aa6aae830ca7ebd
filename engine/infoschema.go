//go:build duckdb_arrow

package engine

import (
	"github.com/apache/arrow-go/v18/arrow"

	"github.com/kalamdb/kalamdb-go/catalog"
)

// infoSchemaNamespace is the schema of the standard information_schema
// views that BI tools (DBeaver, Superset, Metabase, Grafana) query. It is
// never DuckDB's own information_schema: its rows are computed per caller
// from the catalog, like the system tables, and list only what the caller
// may read (visibleTables), so that they show neither DuckDB's catalog (its
// temporary relations, duckdb_* objects) nor another user's tables.
const infoSchemaNamespace catalog.NamespaceID = "information_schema"

// catalogName is the catalog the information_schema rows name, the one the
// Flight SQL metadata calls report (flightsrv.CatalogName).
const catalogName = "kalamdb"

// infoSchemaTables are the views of information_schema with DuckDB 1.5's
// columns: the same names (TABLE_COMMENT and COLUMN_COMMENT upper case, as
// DuckDB spells them), order and types.
var infoSchemaTables = map[catalog.TableName]systemTable{
	"schemata": sysCols("catalog_name", catalog.TypeText, "schema_name", catalog.TypeText, "schema_owner", catalog.TypeText,
		"default_character_set_catalog", catalog.TypeText, "default_character_set_schema", catalog.TypeText,
		"default_character_set_name", catalog.TypeText, "sql_path", catalog.TypeText),
	"tables": sysCols("table_catalog", catalog.TypeText, "table_schema", catalog.TypeText, "table_name", catalog.TypeText,
		"table_type", catalog.TypeText, "self_referencing_column_name", catalog.TypeText, "reference_generation", catalog.TypeText,
		"user_defined_type_catalog", catalog.TypeText, "user_defined_type_schema", catalog.TypeText,
		"user_defined_type_name", catalog.TypeText, "is_insertable_into", catalog.TypeText, "is_typed", catalog.TypeText,
		"commit_action", catalog.TypeText, "TABLE_COMMENT", catalog.TypeText),
	"columns": sysCols("table_catalog", catalog.TypeText, "table_schema", catalog.TypeText, "table_name", catalog.TypeText,
		"column_name", catalog.TypeText, "ordinal_position", catalog.TypeInt, "column_default", catalog.TypeText,
		"is_nullable", catalog.TypeText, "data_type", catalog.TypeText, "character_maximum_length", catalog.TypeInt,
		"character_octet_length", catalog.TypeInt, "numeric_precision", catalog.TypeInt, "numeric_precision_radix", catalog.TypeInt,
		"numeric_scale", catalog.TypeInt, "datetime_precision", catalog.TypeInt, "interval_type", catalog.TypeText,
		"interval_precision", catalog.TypeInt, "character_set_catalog", catalog.TypeText, "character_set_schema", catalog.TypeText,
		"character_set_name", catalog.TypeText, "collation_catalog", catalog.TypeText, "collation_schema", catalog.TypeText,
		"collation_name", catalog.TypeText, "domain_catalog", catalog.TypeText, "domain_schema", catalog.TypeText,
		"domain_name", catalog.TypeText, "udt_catalog", catalog.TypeText, "udt_schema", catalog.TypeText,
		"udt_name", catalog.TypeText, "scope_catalog", catalog.TypeText, "scope_schema", catalog.TypeText,
		"scope_name", catalog.TypeText, "maximum_cardinality", catalog.TypeBigInt, "dtd_identifier", catalog.TypeText,
		"is_self_referencing", catalog.TypeBoolean, "is_identity", catalog.TypeBoolean, "identity_generation", catalog.TypeText,
		"identity_start", catalog.TypeText, "identity_increment", catalog.TypeText, "identity_maximum", catalog.TypeText,
		"identity_minimum", catalog.TypeText, "identity_cycle", catalog.TypeBoolean, "is_generated", catalog.TypeText,
		"generation_expression", catalog.TypeText, "is_updatable", catalog.TypeBoolean, "COLUMN_COMMENT", catalog.TypeText),
	"views": sysCols("table_catalog", catalog.TypeText, "table_schema", catalog.TypeText, "table_name", catalog.TypeText,
		"view_definition", catalog.TypeText, "check_option", catalog.TypeText, "is_updatable", catalog.TypeText,
		"is_insertable_into", catalog.TypeText, "is_trigger_updatable", catalog.TypeText,
		"is_trigger_deletable", catalog.TypeText, "is_trigger_insertable_into", catalog.TypeText),
}

// virtualTable returns the shape of a table whose rows are computed per
// caller: a system table or an information_schema view.
func virtualTable(id catalog.TableID) (systemTable, bool) {
	var st systemTable
	var ok bool
	switch id.Namespace {
	case catalog.SystemNamespace:
		st, ok = systemTables[id.Name]
	case infoSchemaNamespace:
		st, ok = infoSchemaTables[id.Name]
	}
	return st, ok
}

// virtualRows computes the rows of a system table or information_schema
// view for sub now.
func (e *Engine) virtualRows(id catalog.TableID, sub subject) (arrow.RecordBatch, error) {
	if id.Namespace == infoSchemaNamespace {
		return e.infoSchemaRows(id.Name, sub)
	}
	return e.systemRows(id.Name, sub)
}

// infoSchemaRows computes an information_schema view for sub: the
// namespaces and tables the metadata calls show it (visibleNamespaces,
// visibleTables), with the values DuckDB's information_schema shows for a
// table of the same column types. views is always empty: there are none.
func (e *Engine) infoSchemaRows(name catalog.TableName, sub subject) (arrow.RecordBatch, error) {
	st, ok := infoSchemaTables[name]
	if !ok {
		return nil, catalog.Errorf(catalog.KindNotFound, "table %s.%s does not exist", infoSchemaNamespace, name)
	}
	rb := newRowsBuilder(st.schema)
	switch name {
	case "schemata":
		for _, ns := range e.visibleNamespaces(sub.role) {
			rb.add(catalogName, string(ns), catalogName, nil, nil, nil, nil)
		}
	case "tables":
		for _, t := range e.visibleTables(sub) {
			rb.add(tablesRow(sub, t)...)
		}
	case "columns":
		row := make([]any, len(st.columns))
		for _, t := range e.visibleTables(sub) {
			for i := range t.Columns {
				columnsRow(row, t, i)
				rb.add(row...)
			}
		}
	}
	return rb.record(), nil
}

// tablesRow is t's row of information_schema.tables for sub: a base
// table, into which sub may insert unless it is a system table or its
// access level forbids sub to write.
func tablesRow(sub subject, t *catalog.TableDef) []any {
	insertable := "NO"
	if t.Type != catalog.TableSystem && checkWrite(sub, t) == nil {
		insertable = "YES"
	}
	return []any{catalogName, string(t.ID.Namespace), string(t.ID.Name), "BASE TABLE", nil, nil, nil, nil, nil,
		insertable, "NO", nil, nil}
}

// columnsRow sets row to the information_schema.columns row of t's i-th
// column: what DuckDB shows for a column of its DuckDB type (the type its
// values have in query results).
func columnsRow(row []any, t *catalog.TableDef, i int) {
	c := t.Columns[i]
	clear(row)
	row[0], row[1], row[2], row[3], row[4] = catalogName, string(t.ID.Namespace), string(t.ID.Name), c.Name, i+1
	if c.Default.Kind != catalog.DefaultNone {
		row[5] = c.Default.String()
	}
	row[6] = "YES"
	if c.NotNull || c.PrimaryKey {
		row[6] = "NO"
	}
	row[7] = c.Type.DuckDBType()
	if p, radix, scale, ok := numericPrecision(c.Type); ok {
		row[10], row[11], row[12] = p, radix, scale
	}
}

// numericPrecision is what DuckDB's information_schema.columns shows as
// numeric_precision, numeric_precision_radix and numeric_scale for a
// column of type d (ok is false where it shows NULLs).
func numericPrecision(d catalog.DataType) (precision, radix, scale int, ok bool) {
	switch d.Kind {
	case catalog.TypeSmallInt:
		return 16, 2, 0, true
	case catalog.TypeInt:
		return 32, 2, 0, true
	case catalog.TypeBigInt:
		return 64, 2, 0, true
	case catalog.TypeFloat:
		return 24, 2, 0, true
	case catalog.TypeDouble:
		return 53, 2, 0, true
	case catalog.TypeDecimal:
		return d.Precision, 10, d.Scale, true
	}
	return 0, 0, 0, false
}
