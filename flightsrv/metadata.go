//go:build duckdb_arrow

package flightsrv

import (
	"context"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql/schema_ref"

	"github.com/kalamdb/kalamdb-go/catalog"
	"github.com/kalamdb/kalamdb-go/engine"
)

// CatalogName is the single catalog the server exposes; namespaces are its
// schemas.
const CatalogName = "kalamdb"

// Catalog lists what metadata calls describe (implemented by *engine.Engine).
type Catalog interface {
	Namespaces(s *engine.Session) []catalog.NamespaceID
	Tables(s *engine.Session) []*catalog.TableDef
}

// tableTypes are the table types the server reports.
var tableTypes = []string{"SHARED", "STREAM", "SYSTEM", "USER"}

func (s *Server) infoFor(desc *flight.FlightDescriptor, schema *arrow.Schema) *flight.FlightInfo {
	return &flight.FlightInfo{
		Endpoint:         []*flight.FlightEndpoint{{Ticket: &flight.Ticket{Ticket: desc.Cmd}}},
		FlightDescriptor: desc,
		Schema:           flight.SerializeSchema(schema, s.alloc),
		TotalRecords:     -1,
		TotalBytes:       -1,
	}
}

func oneBatch(rec arrow.RecordBatch) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	ch := make(chan flight.StreamChunk, 1)
	ch <- flight.StreamChunk{Data: rec}
	close(ch)
	return rec.Schema(), ch, nil
}

// likeMatch matches s against a SQL LIKE pattern (% and _, backslash
// escapes); a nil pattern matches everything.
func likeMatch(pattern *string, s string) bool {
	if pattern == nil {
		return true
	}
	return like(*pattern, s)
}

// like is likeMatch for a pattern. It runs in O(len(p)·len(s)) time: on a
// mismatch it backtracks only to the last %, which is enough for % and _
// (a recursive matcher is exponential in the number of %).
func like(p, s string) bool {
	pi, si := 0, 0
	starP, starS := -1, 0 // after the last %: pattern and string positions
	for si < len(s) {
		if pi < len(p) {
			switch c := p[pi]; c {
			case '%':
				pi++
				starP, starS = pi, si
				continue
			case '_':
				pi, si = pi+1, si+1
				continue
			default:
				n := 1
				if c == '\\' && pi+1 < len(p) {
					c, n = p[pi+1], 2
				}
				if foldByte(c) == foldByte(s[si]) {
					pi, si = pi+n, si+1
					continue
				}
			}
		}
		if starP < 0 {
			return false
		}
		starS++
		pi, si = starP, starS
	}
	for pi < len(p) && p[pi] == '%' {
		pi++
	}
	return pi == len(p)
}

// foldByte lower-cases an ASCII letter.
func foldByte(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func catalogMatches(c *string) bool { return c == nil || *c == "" || *c == CatalogName }

// GetFlightInfoCatalogs implements flightsql.Server.
func (s *Server) GetFlightInfoCatalogs(_ context.Context, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	return s.infoFor(desc, schema_ref.Catalogs), nil
}

// DoGetCatalogs returns the one catalog.
func (s *Server) DoGetCatalogs(context.Context) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	b := array.NewRecordBuilder(s.alloc, schema_ref.Catalogs)
	defer b.Release()
	b.Field(0).(*array.StringBuilder).Append(CatalogName)
	return oneBatch(b.NewRecordBatch())
}

// GetFlightInfoSchemas implements flightsql.Server.
func (s *Server) GetFlightInfoSchemas(_ context.Context, _ flightsql.GetDBSchemas, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	return s.infoFor(desc, schema_ref.DBSchemas), nil
}

// DoGetDBSchemas lists namespaces.
func (s *Server) DoGetDBSchemas(ctx context.Context, cmd flightsql.GetDBSchemas) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	sess, err := session(ctx)
	if err != nil {
		return nil, nil, err
	}
	b := array.NewRecordBuilder(s.alloc, schema_ref.DBSchemas)
	defer b.Release()
	if catalogMatches(cmd.GetCatalog()) {
		for _, ns := range s.catalog.Namespaces(sess) {
			if likeMatch(cmd.GetDBSchemaFilterPattern(), string(ns)) {
				b.Field(0).(*array.StringBuilder).Append(CatalogName)
				b.Field(1).(*array.StringBuilder).Append(string(ns))
			}
		}
	}
	return oneBatch(b.NewRecordBatch())
}

// GetFlightInfoTables implements flightsql.Server.
func (s *Server) GetFlightInfoTables(_ context.Context, cmd flightsql.GetTables, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	if cmd.GetIncludeSchema() {
		return s.infoFor(desc, schema_ref.TablesWithIncludedSchema), nil
	}
	return s.infoFor(desc, schema_ref.Tables), nil
}

// TableSchema is the Arrow schema of a table's columns as `SELECT *`
// returns them (the _seq system column is selectable by name only), with
// Flight SQL column metadata.
func TableSchema(t *catalog.TableDef) *arrow.Schema {
	fields := make([]arrow.Field, 0, len(t.Columns)+1)
	pk := t.PrimaryKeyIndex()
	for i, c := range t.Columns {
		md := flightsql.NewColumnMetadataBuilder().CatalogName(CatalogName).SchemaName(string(t.ID.Namespace)).
			TableName(string(t.ID.Name)).TypeName(c.Type.String()).IsSearchable(true).IsCaseSensitive(false).
			IsReadOnly(t.Type == catalog.TableSystem).IsAutoIncrement(c.Default.Kind == catalog.DefaultSnowflakeID)
		if c.Type.Kind == catalog.TypeDecimal {
			md = md.Precision(int32(c.Type.Precision)).Scale(int32(c.Type.Scale))
		}
		fields = append(fields, arrow.Field{Name: c.Name, Type: c.Type.ArrowType(), Nullable: !c.NotNull && i != pk, Metadata: md.Metadata()})
	}
	return arrow.NewSchema(fields, nil)
}

// DoGetTables lists tables, with their schemas when asked.
func (s *Server) DoGetTables(ctx context.Context, cmd flightsql.GetTables) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	sess, err := session(ctx)
	if err != nil {
		return nil, nil, err
	}
	schema := schema_ref.Tables
	if cmd.GetIncludeSchema() {
		schema = schema_ref.TablesWithIncludedSchema
	}
	types := map[string]bool{}
	for _, t := range cmd.GetTableTypes() {
		types[strings.ToUpper(t)] = true
	}
	b := array.NewRecordBuilder(s.alloc, schema)
	defer b.Release()
	if catalogMatches(cmd.GetCatalog()) {
		for _, t := range s.catalog.Tables(sess) {
			if !likeMatch(cmd.GetDBSchemaFilterPattern(), string(t.ID.Namespace)) ||
				!likeMatch(cmd.GetTableNameFilterPattern(), string(t.ID.Name)) ||
				(len(types) > 0 && !types[t.Type.String()] && !(types["TABLE"] || types["BASE TABLE"])) {
				continue
			}
			b.Field(0).(*array.StringBuilder).Append(CatalogName)
			b.Field(1).(*array.StringBuilder).Append(string(t.ID.Namespace))
			b.Field(2).(*array.StringBuilder).Append(string(t.ID.Name))
			b.Field(3).(*array.StringBuilder).Append(t.Type.String())
			if cmd.GetIncludeSchema() {
				b.Field(4).(*array.BinaryBuilder).Append(flight.SerializeSchema(TableSchema(t), s.alloc))
			}
		}
	}
	return oneBatch(b.NewRecordBatch())
}

// GetFlightInfoTableTypes implements flightsql.Server.
func (s *Server) GetFlightInfoTableTypes(_ context.Context, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	return s.infoFor(desc, schema_ref.TableTypes), nil
}

// DoGetTableTypes lists USER, SHARED, STREAM and SYSTEM.
func (s *Server) DoGetTableTypes(context.Context) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	b := array.NewRecordBuilder(s.alloc, schema_ref.TableTypes)
	defer b.Release()
	for _, t := range tableTypes {
		b.Field(0).(*array.StringBuilder).Append(t)
	}
	return oneBatch(b.NewRecordBatch())
}

// GetFlightInfoPrimaryKeys implements flightsql.Server.
func (s *Server) GetFlightInfoPrimaryKeys(_ context.Context, _ flightsql.TableRef, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	return s.infoFor(desc, schema_ref.PrimaryKeys), nil
}

// DoGetPrimaryKeys returns a table's primary-key column.
func (s *Server) DoGetPrimaryKeys(ctx context.Context, ref flightsql.TableRef) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	sess, err := session(ctx)
	if err != nil {
		return nil, nil, err
	}
	b := array.NewRecordBuilder(s.alloc, schema_ref.PrimaryKeys)
	defer b.Release()
	if catalogMatches(ref.Catalog) {
		for _, t := range s.catalog.Tables(sess) {
			if !strings.EqualFold(string(t.ID.Name), ref.Table) || (ref.DBSchema != nil && !strings.EqualFold(*ref.DBSchema, string(t.ID.Namespace))) {
				continue
			}
			pk := t.PrimaryKeyIndex()
			if pk < 0 {
				continue
			}
			b.Field(0).(*array.StringBuilder).Append(CatalogName)
			b.Field(1).(*array.StringBuilder).Append(string(t.ID.Namespace))
			b.Field(2).(*array.StringBuilder).Append(string(t.ID.Name))
			b.Field(3).(*array.StringBuilder).Append(t.Columns[pk].Name)
			b.Field(4).(*array.Int32Builder).Append(1)
			b.Field(5).(*array.StringBuilder).Append("pk_" + string(t.ID.Name))
		}
	}
	return oneBatch(b.NewRecordBatch())
}

func (s *Server) emptyKeys() (*arrow.Schema, <-chan flight.StreamChunk, error) {
	b := array.NewRecordBuilder(s.alloc, schema_ref.ImportedExportedKeysAndCrossReference)
	defer b.Release()
	return oneBatch(b.NewRecordBatch())
}

// GetFlightInfoImportedKeys implements flightsql.Server (no foreign keys).
func (s *Server) GetFlightInfoImportedKeys(_ context.Context, _ flightsql.TableRef, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	return s.infoFor(desc, schema_ref.ImportedExportedKeysAndCrossReference), nil
}

// DoGetImportedKeys returns no rows: tables have no foreign keys.
func (s *Server) DoGetImportedKeys(context.Context, flightsql.TableRef) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	return s.emptyKeys()
}

// GetFlightInfoExportedKeys implements flightsql.Server.
func (s *Server) GetFlightInfoExportedKeys(_ context.Context, _ flightsql.TableRef, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	return s.infoFor(desc, schema_ref.ImportedExportedKeysAndCrossReference), nil
}

// DoGetExportedKeys returns no rows.
func (s *Server) DoGetExportedKeys(context.Context, flightsql.TableRef) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	return s.emptyKeys()
}

// GetFlightInfoCrossReference implements flightsql.Server.
func (s *Server) GetFlightInfoCrossReference(_ context.Context, _ flightsql.CrossTableRef, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	return s.infoFor(desc, schema_ref.ImportedExportedKeysAndCrossReference), nil
}

// DoGetCrossReference returns no rows.
func (s *Server) DoGetCrossReference(context.Context, flightsql.CrossTableRef) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	return s.emptyKeys()
}
