//go:build duckdb_arrow

package main

import (
	"context"
	"errors"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/apache/arrow-adbc/go/adbc"
	adbcflight "github.com/apache/arrow-adbc/go/adbc/driver/flightsql"
	"github.com/apache/arrow-adbc/go/adbc/validation"
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/suite"

	"github.com/kalamdb/kalamdb-go/flightsrv"
)

// validationNS is the namespace the suite's unqualified table names live
// in; the connections select it with the kalamdb-namespace call header.
const validationNS = "adbcval"

// kalamQuirks describes the server to the ADBC validation suite. Every
// capability it claims is exercised by the suite; the ones it does not
// claim are explained where they are answered.
type kalamQuirks struct {
	addr  string
	admin *client
	mem   *memory.CheckedAllocator
}

func (q *kalamQuirks) SetupDriver(t *testing.T) adbc.Driver {
	q.mem = memory.NewCheckedAllocator(memory.DefaultAllocator)
	return adbcflight.NewDriver(q.mem)
}

func (q *kalamQuirks) TearDownDriver(t *testing.T, _ adbc.Driver) {
	q.mem.AssertSize(t, 0)
}

func (q *kalamQuirks) DatabaseOptions() map[string]string {
	return map[string]string{
		adbc.OptionKeyURI:      "grpc+tcp://" + q.addr,
		adbc.OptionKeyUsername: "root",
		adbc.OptionKeyPassword: testRootPassword,
		adbcflight.OptionRPCCallHeaderPrefix + flightsrv.NamespaceHeader: validationNS,
	}
}

func (q *kalamQuirks) BindParameter(int) string { return "?" }

// SupportsBulkIngest is false for this suite only: ingest into a new table
// adds the primary key every SHARED table needs (`id BIGINT DEFAULT
// SNOWFLAKE_ID()`, as the issue specifies), so the suite's exact-schema
// read-back cannot match. Bulk ingest is tested in ingest tests here and
// in compat/python/test_ingest.py.
func (q *kalamQuirks) SupportsBulkIngest(string) bool                 { return false }
func (q *kalamQuirks) SupportsConcurrentStatements() bool             { return true }
func (q *kalamQuirks) SupportsCurrentCatalogSchema() bool             { return true }
func (q *kalamQuirks) SupportsGetSetOptions() bool                    { return true }
func (q *kalamQuirks) SupportsExecuteSchema() bool                    { return true }
func (q *kalamQuirks) SupportsPartitionedData() bool                  { return true }
func (q *kalamQuirks) SupportsStatistics() bool                       { return false } // no GetStatistics
func (q *kalamQuirks) SupportsTransactions() bool                     { return true }
func (q *kalamQuirks) SupportsGetParameterSchema() bool               { return true }
func (q *kalamQuirks) SupportsDynamicParameterBinding() bool          { return true }
func (q *kalamQuirks) SupportsErrorIngestIncompatibleSchema() bool    { return true }
func (q *kalamQuirks) Catalog() string                                { return flightsrv.CatalogName }
func (q *kalamQuirks) DBSchema() string                               { return validationNS }
func (q *kalamQuirks) Alloc() memory.Allocator                        { return q.mem }
func (q *kalamQuirks) DropTable(c adbc.Connection, name string) error { return dropTable(c, name) }

func (q *kalamQuirks) GetMetadata(code adbc.InfoCode) interface{} {
	switch code {
	case adbc.InfoDriverName:
		return "ADBC Flight SQL Driver - Go"
	case adbc.InfoDriverVersion:
		return "(unknown or development build)" // the driver is not the main module
	case adbc.InfoDriverArrowVersion:
		return moduleVersion("github.com/apache/arrow-go/v18")
	case adbc.InfoDriverADBCVersion:
		return adbc.AdbcVersion1_1_0
	case adbc.InfoVendorName:
		return "KalamDB"
	case adbc.InfoVendorVersion:
		return flightsrv.Version
	case adbc.InfoVendorArrowVersion:
		return "18.8.0"
	}
	return nil
}

// CreateSampleTable makes a table with exactly the record's columns: a
// STREAM table, the one table type whose primary key is optional.
func (q *kalamQuirks) CreateSampleTable(name string, r arrow.RecordBatch) error {
	if err := dropTable(q.admin.conn, name); err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("CREATE STREAM TABLE " + validationNS + "." + name + " (")
	marks := make([]string, r.NumCols())
	for i, f := range r.Schema().Fields() {
		if i > 0 {
			b.WriteString(", ")
		}
		typ := map[arrow.Type]string{arrow.INT64: "BIGINT", arrow.STRING: "TEXT", arrow.FLOAT64: "DOUBLE", arrow.BOOL: "BOOLEAN"}[f.Type.ID()]
		if typ == "" {
			return errors.New("sample table: unsupported type " + f.Type.String())
		}
		b.WriteString(f.Name + " " + typ)
		marks[i] = "?"
	}
	b.WriteString(") WITH (TTL_SECONDS = 86400)")
	if _, err := q.admin.exec(b.String()); err != nil {
		return err
	}
	stmt, err := q.admin.conn.NewStatement()
	if err != nil {
		return err
	}
	defer stmt.Close()
	ctx := context.Background()
	if err := stmt.SetSqlQuery("INSERT INTO " + validationNS + "." + name + " VALUES (" + strings.Join(marks, ", ") + ")"); err != nil {
		return err
	}
	if err := stmt.Prepare(ctx); err != nil {
		return err
	}
	if err := stmt.Bind(ctx, r); err != nil {
		return err
	}
	_, err = stmt.ExecuteUpdate(ctx)
	return err
}

// SampleTableSchemaMetadata is the Flight SQL column metadata the server
// sends with a table's schema.
func (q *kalamQuirks) SampleTableSchemaMetadata(table string, dt arrow.DataType) arrow.Metadata {
	typeName := map[arrow.Type]string{arrow.INT64: "BIGINT", arrow.STRING: "TEXT"}[dt.ID()]
	return flightsql.NewColumnMetadataBuilder().CatalogName(flightsrv.CatalogName).SchemaName(validationNS).
		TableName(table).TypeName(typeName).IsSearchable(true).IsCaseSensitive(false).
		IsReadOnly(false).IsAutoIncrement(false).Metadata()
}

// moduleVersion is the version of a dependency linked into the test binary.
func moduleVersion(path string) string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, m := range bi.Deps {
			if m.Path == path {
				return m.Version
			}
		}
	}
	return "(unknown or development build)"
}

func dropTable(c adbc.Connection, name string) error {
	stmt, err := c.NewStatement()
	if err != nil {
		return err
	}
	defer stmt.Close()
	if err := stmt.SetSqlQuery("DROP TABLE IF EXISTS " + validationNS + "." + name); err != nil {
		return err
	}
	_, err = stmt.ExecuteUpdate(context.Background())
	return err
}

// TestADBCValidation runs the ADBC driver-agnostic validation suites
// (database, connection, statement) against the real server.
func TestADBCValidation(t *testing.T) {
	ts := startServer(t, t.TempDir())
	admin := connect(t, ts.addr, "root", testRootPassword)
	admin.mustExec("CREATE NAMESPACE " + validationNS)
	q := &kalamQuirks{addr: ts.addr, admin: admin}
	suite.Run(t, &validation.DatabaseTests{Quirks: q})
	suite.Run(t, &validation.ConnectionTests{Quirks: q})
	suite.Run(t, &validation.StatementTests{Quirks: q})
}
