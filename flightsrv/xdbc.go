//go:build duckdb_arrow

package flightsrv

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql/schema_ref"
)

// xdbcType is one row of GetXdbcTypeInfo: a dialect type and its JDBC/ODBC
// type code.
type xdbcType struct {
	name      string
	code      int32 // java.sql.Types
	size      int32 // column size (precision), 0 = none
	quoted    bool  // literals are quoted
	params    []string
	minScale  int32
	maxScale  int32
	precision bool
}

var xdbcTypes = []xdbcType{
	{name: "BOOLEAN", code: 16, size: 1},
	{name: "SMALLINT", code: 5, size: 5},
	{name: "INT", code: 4, size: 10},
	{name: "BIGINT", code: -5, size: 19},
	{name: "FLOAT", code: 7, size: 7},
	{name: "DOUBLE", code: 8, size: 15},
	{name: "DECIMAL", code: 3, size: 38, params: []string{"precision", "scale"}, maxScale: 38, precision: true},
	{name: "TEXT", code: 12, size: 2147483647, quoted: true},
	{name: "VARCHAR", code: 12, size: 2147483647, quoted: true},
	{name: "JSON", code: 12, size: 2147483647, quoted: true},
	{name: "UUID", code: 12, size: 36, quoted: true},
	{name: "BYTES", code: -3, size: 2147483647, quoted: true},
	{name: "DATE", code: 91, size: 10, quoted: true},
	{name: "TIME", code: 92, size: 15, quoted: true},
	{name: "TIMESTAMP", code: 93, size: 26, quoted: true},
}

func (s *Server) typeInfo(filter *int32) arrow.RecordBatch {
	b := array.NewRecordBuilder(s.alloc, schema_ref.XdbcTypeInfo)
	defer b.Release()
	str := func(i int) *array.StringBuilder { return b.Field(i).(*array.StringBuilder) }
	i32 := func(i int) *array.Int32Builder { return b.Field(i).(*array.Int32Builder) }
	boolean := func(i int) *array.BooleanBuilder { return b.Field(i).(*array.BooleanBuilder) }
	for _, t := range xdbcTypes {
		if filter != nil && *filter != t.code {
			continue
		}
		str(0).Append(t.name)
		i32(1).Append(t.code)
		i32(2).Append(t.size)
		if t.quoted {
			str(3).Append("'")
			str(4).Append("'")
		} else {
			str(3).AppendNull()
			str(4).AppendNull()
		}
		lb := b.Field(5).(*array.ListBuilder)
		lb.Append(true)
		for _, p := range t.params {
			lb.ValueBuilder().(*array.StringBuilder).Append(p)
		}
		i32(6).Append(1) // nullable
		boolean(7).Append(t.quoted && t.code == 12)
		i32(8).Append(3) // searchable
		boolean(9).Append(false)
		boolean(10).Append(t.precision)
		boolean(11).Append(false)
		str(12).Append(t.name)
		i32(13).Append(t.minScale)
		i32(14).Append(t.maxScale)
		i32(15).Append(t.code)
		i32(16).AppendNull()
		if t.code == 3 || (t.code >= 4 && t.code <= 8) || t.code == -5 {
			i32(17).Append(10)
		} else {
			i32(17).AppendNull()
		}
		i32(18).AppendNull()
	}
	return b.NewRecordBatch()
}

// GetFlightInfoXdbcTypeInfo implements flightsql.Server.
func (s *Server) GetFlightInfoXdbcTypeInfo(_ context.Context, _ flightsql.GetXdbcTypeInfo, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	return s.infoFor(desc, schema_ref.XdbcTypeInfo), nil
}

// DoGetXdbcTypeInfo lists the dialect's types.
func (s *Server) DoGetXdbcTypeInfo(_ context.Context, cmd flightsql.GetXdbcTypeInfo) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	return oneBatch(s.typeInfo(cmd.GetDataType()))
}
