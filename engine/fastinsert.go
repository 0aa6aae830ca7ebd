//go:build duckdb_arrow

package engine

import (
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/kalamdb/kalamdb-go/catalog"
	"github.com/kalamdb/kalamdb-go/engine/sqlparse"
)

// literalRecord builds the rows of `INSERT … VALUES` whose values are all
// plain constants directly, without a round trip through DuckDB. It handles
// the conversions that are exact and unambiguous (numbers into numeric
// columns, strings into text-like columns, booleans, NULL) and reports
// ok=false for anything else, which then takes the general path so that
// DuckDB's casting rules and error messages apply.
func literalRecord(t *catalog.TableDef, given []int, rows [][]sqlparse.Literal, width int) (arrow.RecordBatch, bool) {
	defaults := make([]*sqlparse.Literal, len(t.Columns))
	for i, c := range t.Columns {
		if given[i] >= 0 || c.Default.Kind != catalog.DefaultLiteral {
			continue
		}
		lits, ok := sqlparse.ValuesLiterals("VALUES (" + c.Default.Literal + ")")
		if !ok || len(lits) != 1 || len(lits[0]) != 1 {
			return nil, false
		}
		defaults[i] = &lits[0][0]
	}
	schema := t.UserSchema()
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	b.Reserve(len(rows))
	for _, row := range rows {
		if len(row) != width {
			return nil, false
		}
		for i, c := range t.Columns {
			var lit *sqlparse.Literal
			switch {
			case given[i] >= 0:
				lit = &row[given[i]]
			case defaults[i] != nil:
				lit = defaults[i]
			}
			if !appendLiteral(b.Field(i), c.Type.Kind, lit) {
				return nil, false
			}
		}
	}
	return b.NewRecordBatch(), true
}

func appendLiteral(f array.Builder, kind catalog.TypeKind, lit *sqlparse.Literal) bool {
	if lit == nil || lit.Kind == sqlparse.LitNull {
		f.AppendNull()
		return true
	}
	isInt := lit.Kind == sqlparse.LitNumber && !strings.ContainsAny(lit.Text, ".eE")
	if lit.Type != "" {
		want := map[catalog.TypeKind]string{catalog.TypeTimestamp: "TIMESTAMP", catalog.TypeDate: "DATE", catalog.TypeTime: "TIME"}[kind]
		if lit.Type != want {
			return false
		}
	}
	switch kind {
	case catalog.TypeTimestamp, catalog.TypeDate, catalog.TypeTime:
		if lit.Kind != sqlparse.LitString {
			return false
		}
		return appendTemporal(f, kind, lit.Text)
	case catalog.TypeDecimal:
		if lit.Kind != sqlparse.LitNumber {
			return false
		}
		dt := f.Type().(*arrow.Decimal128Type)
		v, ok := literalDecimal(lit.Text, dt.Precision, dt.Scale)
		if !ok {
			return false
		}
		f.(*array.Decimal128Builder).Append(v)
	case catalog.TypeBoolean:
		if lit.Kind != sqlparse.LitBool {
			return false
		}
		f.(*array.BooleanBuilder).Append(lit.Text == "true")
	case catalog.TypeSmallInt, catalog.TypeInt, catalog.TypeBigInt:
		if !isInt {
			return false
		}
		bits := map[catalog.TypeKind]int{catalog.TypeSmallInt: 16, catalog.TypeInt: 32, catalog.TypeBigInt: 64}[kind]
		v, err := strconv.ParseInt(lit.Text, 10, bits)
		if err != nil {
			return false
		}
		switch bb := f.(type) {
		case *array.Int16Builder:
			bb.Append(int16(v))
		case *array.Int32Builder:
			bb.Append(int32(v))
		case *array.Int64Builder:
			bb.Append(v)
		}
	case catalog.TypeFloat:
		if lit.Kind != sqlparse.LitNumber {
			return false
		}
		v, ok := literalFloat32(lit.Text)
		if !ok {
			return false
		}
		f.(*array.Float32Builder).Append(v)
	case catalog.TypeDouble:
		if lit.Kind != sqlparse.LitNumber {
			return false
		}
		v, ok := literalFloat64(lit.Text)
		if !ok {
			return false
		}
		f.(*array.Float64Builder).Append(v)
	case catalog.TypeText, catalog.TypeJSON, catalog.TypeUUID:
		if lit.Kind != sqlparse.LitString {
			return false
		}
		f.(*array.StringBuilder).Append(lit.Text)
	default:
		return false
	}
	return true
}

// Layouts accepted on the fast path; anything else goes through DuckDB.
var (
	timestampLayouts = []string{"2006-01-02 15:04:05.999999", "2006-01-02T15:04:05.999999", "2006-01-02"}
	timeLayouts      = []string{"15:04:05.999999"}
)

// appendTemporal parses a date/time string strictly (no zone: TIMESTAMP is
// zone-less) into the column's Arrow type.
func appendTemporal(f array.Builder, kind catalog.TypeKind, s string) bool {
	if !temporalShape(kind, s) {
		return false
	}
	switch kind {
	case catalog.TypeTimestamp:
		for _, l := range timestampLayouts {
			if t, err := time.Parse(l, s); err == nil {
				f.(*array.TimestampBuilder).Append(arrow.Timestamp(t.UnixMicro()))
				return true
			}
		}
	case catalog.TypeDate:
		if t, err := time.Parse("2006-01-02", s); err == nil {
			f.(*array.Date32Builder).Append(arrow.Date32FromTime(t))
			return true
		}
	case catalog.TypeTime:
		for _, l := range timeLayouts {
			if t, err := time.Parse(l, s); err == nil {
				d := t.Sub(time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC))
				f.(*array.Time64Builder).Append(arrow.Time64(d.Microseconds()))
				return true
			}
		}
	}
	return false
}

// temporalShape reports whether s is spelled exactly as the fast path
// parses it the way DuckDB does: YYYY-MM-DD (year 0001 on), hh:mm:ss with at
// most six fractional digits, or a date, a space or T, and such a time.
// Go's layouts alone also take one-digit hours and longer fractions.
func temporalShape(kind catalog.TypeKind, s string) bool {
	digits := func(s string) bool {
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return false
			}
		}
		return s != ""
	}
	date := func(s string) bool {
		return len(s) == 10 && digits(s[0:4]) && s[0:4] != "0000" && s[4] == '-' && digits(s[5:7]) && s[7] == '-' && digits(s[8:10])
	}
	clock := func(s string) bool {
		if len(s) < 8 || !digits(s[0:2]) || s[2] != ':' || !digits(s[3:5]) || s[5] != ':' || !digits(s[6:8]) {
			return false
		}
		frac := s[8:]
		return frac == "" || (frac[0] == '.' && len(frac) <= 7 && digits(frac[1:]))
	}
	switch kind {
	case catalog.TypeDate:
		return date(s)
	case catalog.TypeTime:
		return clock(s)
	case catalog.TypeTimestamp:
		if len(s) == 10 {
			return date(s)
		}
		return len(s) > 11 && date(s[:10]) && (s[10] == ' ' || s[10] == 'T') && clock(s[11:])
	}
	return false
}
