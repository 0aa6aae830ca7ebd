package catalog

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// TypeKind is a column's logical type.
type TypeKind uint8

// Column types of the dialect.
const (
	TypeBoolean TypeKind = iota + 1
	TypeSmallInt
	TypeInt
	TypeBigInt
	TypeFloat
	TypeDouble
	TypeDecimal
	TypeText
	TypeBytes
	TypeJSON
	TypeTimestamp
	TypeDate
	TypeTime
	TypeUUID
)

// DataType is a column type; Precision and Scale apply to TypeDecimal only.
type DataType struct {
	Kind      TypeKind
	Precision int
	Scale     int
}

// Default DECIMAL precision and scale when none are given.
const (
	DefaultDecimalPrecision = 38
	DefaultDecimalScale     = 10
)

// ParseDataType maps a type name (any case, with the dialect's aliases) to a
// DataType. Decimal precision/scale are passed separately (-1 = not given).
func ParseDataType(name string, precision, scale int) (DataType, error) {
	switch strings.ToUpper(name) {
	case "BOOLEAN", "BOOL":
		return DataType{Kind: TypeBoolean}, nil
	case "SMALLINT", "INT2":
		return DataType{Kind: TypeSmallInt}, nil
	case "INT", "INTEGER", "INT4":
		return DataType{Kind: TypeInt}, nil
	case "BIGINT", "INT8":
		return DataType{Kind: TypeBigInt}, nil
	case "FLOAT", "REAL", "FLOAT4":
		return DataType{Kind: TypeFloat}, nil
	case "DOUBLE", "FLOAT8":
		return DataType{Kind: TypeDouble}, nil
	case "DECIMAL", "NUMERIC":
		if precision < 0 {
			precision, scale = DefaultDecimalPrecision, DefaultDecimalScale
		}
		if scale < 0 {
			scale = 0
		}
		if precision < 1 || precision > 38 || scale > precision {
			return DataType{}, Errorf(KindInvalid, "DECIMAL(%d,%d): precision must be 1..38 and scale at most the precision", precision, scale)
		}
		return DataType{Kind: TypeDecimal, Precision: precision, Scale: scale}, nil
	case "TEXT", "VARCHAR", "STRING", "CHAR":
		return DataType{Kind: TypeText}, nil
	case "BYTES", "BYTEA", "BLOB", "BINARY", "VARBINARY":
		return DataType{Kind: TypeBytes}, nil
	case "JSON", "JSONB":
		return DataType{Kind: TypeJSON}, nil
	case "TIMESTAMP", "DATETIME":
		return DataType{Kind: TypeTimestamp}, nil
	case "DATE":
		return DataType{Kind: TypeDate}, nil
	case "TIME":
		return DataType{Kind: TypeTime}, nil
	case "UUID":
		return DataType{Kind: TypeUUID}, nil
	}
	return DataType{}, Errorf(KindInvalid, "unknown data type %s", name)
}

// String returns the type's SQL name as DESCRIBE shows it.
func (d DataType) String() string {
	switch d.Kind {
	case TypeBoolean:
		return "BOOLEAN"
	case TypeSmallInt:
		return "SMALLINT"
	case TypeInt:
		return "INT"
	case TypeBigInt:
		return "BIGINT"
	case TypeFloat:
		return "FLOAT"
	case TypeDouble:
		return "DOUBLE"
	case TypeDecimal:
		return fmt.Sprintf("DECIMAL(%d,%d)", d.Precision, d.Scale)
	case TypeText:
		return "TEXT"
	case TypeBytes:
		return "BYTES"
	case TypeJSON:
		return "JSON"
	case TypeTimestamp:
		return "TIMESTAMP"
	case TypeDate:
		return "DATE"
	case TypeTime:
		return "TIME"
	case TypeUUID:
		return "UUID"
	}
	return "UNKNOWN"
}

// DuckDBType is the DuckDB type a column is stored as when rows are handed to
// DuckDB. It matches ArrowType's conversion exactly (JSON and UUID travel as
// VARCHAR; UUIDs are validated on write).
func (d DataType) DuckDBType() string {
	switch d.Kind {
	case TypeBoolean:
		return "BOOLEAN"
	case TypeSmallInt:
		return "SMALLINT"
	case TypeInt:
		return "INTEGER"
	case TypeBigInt:
		return "BIGINT"
	case TypeFloat:
		return "FLOAT"
	case TypeDouble:
		return "DOUBLE"
	case TypeDecimal:
		return fmt.Sprintf("DECIMAL(%d,%d)", d.Precision, d.Scale)
	case TypeText, TypeJSON, TypeUUID:
		return "VARCHAR"
	case TypeBytes:
		return "BLOB"
	case TypeTimestamp:
		return "TIMESTAMP"
	case TypeDate:
		return "DATE"
	case TypeTime:
		return "TIME"
	}
	return "VARCHAR"
}

// ArrowType is the Arrow type of the column in results and in the hot tier's
// record batches.
func (d DataType) ArrowType() arrow.DataType {
	switch d.Kind {
	case TypeBoolean:
		return arrow.FixedWidthTypes.Boolean
	case TypeSmallInt:
		return arrow.PrimitiveTypes.Int16
	case TypeInt:
		return arrow.PrimitiveTypes.Int32
	case TypeBigInt:
		return arrow.PrimitiveTypes.Int64
	case TypeFloat:
		return arrow.PrimitiveTypes.Float32
	case TypeDouble:
		return arrow.PrimitiveTypes.Float64
	case TypeDecimal:
		return &arrow.Decimal128Type{Precision: int32(d.Precision), Scale: int32(d.Scale)}
	case TypeText, TypeJSON, TypeUUID:
		return arrow.BinaryTypes.String
	case TypeBytes:
		return arrow.BinaryTypes.Binary
	case TypeTimestamp:
		return &arrow.TimestampType{Unit: arrow.Microsecond}
	case TypeDate:
		return arrow.FixedWidthTypes.Date32
	case TypeTime:
		return arrow.FixedWidthTypes.Time64us
	}
	return arrow.BinaryTypes.String
}
