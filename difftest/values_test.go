//go:build duckdb_arrow

package difftest

import (
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/kalamdb/kalamdb-go/catalog"
)

// litKind is how a value is spelled in SQL. Multi-row VALUES keep one kind
// per column unless the mixed-values category is enabled (NULL mixes with
// any kind).
type litKind uint8

const (
	kindNull   litKind = iota
	kindNumber         // 42, -1.5, 1e3
	kindString         // '42'
	kindBool           // TRUE
	kindTyped          // TIMESTAMP '…', DATE '…', TIME '…'
	kindCast           // CAST(x AS T), x::T
	kindExpr           // an expression computing the value
)

// lit is one spelled value; param is the same value as a prepared
// statement parameter (int64, float64, string, bool, []byte or nil).
type lit struct {
	sql   string
	kind  litKind
	param any
}

var nullLit = lit{sql: "NULL", kind: kindNull}

// kindsFor lists the kinds a column type's values can be spelled in (NULL
// aside). Numbers into text-like columns belong to number-into-text.
func (g *generator) kindsFor(t catalog.DataType) []litKind {
	switch t.Kind {
	case catalog.TypeSmallInt, catalog.TypeInt, catalog.TypeBigInt, catalog.TypeFloat, catalog.TypeDouble, catalog.TypeDecimal:
		return []litKind{kindNumber, kindNumber, kindNumber, kindString, kindCast, kindExpr}
	case catalog.TypeBoolean:
		return []litKind{kindBool, kindBool, kindString, kindCast, kindExpr, kindNumber}
	case catalog.TypeText, catalog.TypeJSON, catalog.TypeUUID:
		if g.allow[catNumberIntoText] && t.Kind == catalog.TypeText {
			return []litKind{kindString, kindString, kindString, kindCast, kindExpr, kindNumber}
		}
		return []litKind{kindString, kindString, kindString, kindCast, kindExpr}
	case catalog.TypeBytes:
		return []litKind{kindString, kindCast, kindCast, kindExpr}
	case catalog.TypeTimestamp, catalog.TypeDate, catalog.TypeTime:
		return []litKind{kindString, kindString, kindTyped, kindTyped, kindCast, kindExpr}
	}
	return []litKind{kindString}
}

// value returns a value of column type t spelled in kind k.
func (g *generator) value(t catalog.DataType, k litKind) lit {
	switch t.Kind {
	case catalog.TypeSmallInt, catalog.TypeInt, catalog.TypeBigInt:
		return g.intValue(t, k)
	case catalog.TypeFloat, catalog.TypeDouble:
		return g.floatValue(t, k)
	case catalog.TypeDecimal:
		return g.decimalValue(t, k)
	case catalog.TypeBoolean:
		return g.boolValue(k)
	case catalog.TypeText:
		if k == kindNumber {
			n := []string{"5", "-12", "1.50", "0.1", "1e3", "123456789012"}[g.r.IntN(6)]
			return lit{sql: n, kind: kindNumber, param: n}
		}
		return g.textLike(t, g.text(), k)
	case catalog.TypeJSON:
		return g.textLike(t, g.json(), k)
	case catalog.TypeUUID:
		return g.textLike(t, g.uuid(), k)
	case catalog.TypeBytes:
		return g.bytesValue(k)
	case catalog.TypeTimestamp, catalog.TypeDate, catalog.TypeTime:
		return g.temporal(t, k)
	}
	return nullLit
}

func intBits(t catalog.DataType) int {
	switch t.Kind {
	case catalog.TypeSmallInt:
		return 16
	case catalog.TypeInt:
		return 32
	}
	return 64
}

func (g *generator) intText(t catalog.DataType) string {
	bits := intBits(t)
	maxV := int64(1)<<(bits-1) - 1
	minV := -maxV - 1
	switch g.r.IntN(12) {
	case 0:
		return strconv.FormatInt(maxV, 10)
	case 1:
		return strconv.FormatInt(minV, 10)
	case 2:
		return strconv.FormatInt(maxV-1, 10)
	case 3:
		return strconv.FormatInt(minV+1, 10)
	case 4:
		return []string{"0", "1", "-1"}[g.r.IntN(3)]
	case 5:
		if g.r.IntN(4) == 0 { // just out of range: both sides must refuse
			if g.r.IntN(2) == 0 {
				return strconv.FormatUint(uint64(maxV)+1, 10)
			}
			return "-" + strconv.FormatUint(uint64(maxV)+2, 10)
		}
		fallthrough
	case 6, 7:
		return strconv.FormatInt(minV+g.r.Int64N(maxV), 10)
	}
	return strconv.FormatInt(g.r.Int64N(2001)-1000, 10)
}

func (g *generator) intValue(t catalog.DataType, k litKind) lit {
	s := g.intText(t)
	v, err := strconv.ParseInt(s, 10, 64)
	var param any = s
	if err == nil {
		param = v
	}
	switch k {
	case kindNumber:
		if g.r.IntN(8) == 0 {
			return lit{sql: s + ".0", kind: kindNumber, param: param}
		}
		return lit{sql: s, kind: kindNumber, param: param}
	case kindString:
		return lit{sql: quote(s), kind: kindString, param: param}
	case kindCast:
		return lit{sql: g.cast(s, []string{"BIGINT", "INTEGER", "SMALLINT", "HUGEINT", "DECIMAL(20,0)"}[g.r.IntN(5)]), kind: kindCast, param: param}
	case kindExpr:
		if err == nil && v > math.MinInt64+10 && v < math.MaxInt64-10 {
			d := g.r.Int64N(7) + 1
			return lit{sql: fmt.Sprintf("(%d + %d)", v-d, d), kind: kindExpr, param: param}
		}
		return lit{sql: g.expr(quote(s) + "::HUGEINT"), kind: kindExpr, param: param}
	}
	return lit{sql: s, kind: kindNumber, param: param}
}

// floatText is a finite value's spelling with at most 15 significant
// digits (more only with long-double), and whether it is a negative zero.
func (g *generator) floatText(t catalog.DataType) string {
	double := t.Kind == catalog.TypeDouble
	if g.allow[catLongDouble] && g.r.IntN(3) == 0 {
		// 16 or 17 digits: DuckDB reads them as DECIMAL(18+, …) and
		// rounds that to DOUBLE inexactly about once in forty.
		x := g.r.NormFloat64() * math.Pow(10, float64(g.r.IntN(20)-10))
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	switch g.r.IntN(14) {
	case 0:
		if double {
			return "1.79769313486231e308"
		}
		return "3.40282e38"
	case 1:
		if double {
			return "2.2250738585072e-308"
		}
		return "1.17549e-38"
	case 2:
		if double {
			return "4.9e-324" // the smallest denormal
		}
		return "1e39" // out of FLOAT's range
	case 3:
		return []string{"0", "1", "-1", "0.5", "1.5", "-2.25", "100"}[g.r.IntN(7)]
	case 4:
		return []string{"0.1", "0.2", "0.3", "3.14159", "2.718281828459045", "1e10", "1.5e-7", "-123456.789"}[g.r.IntN(8)]
	case 6:
		if g.allow[catNegativeZero] {
			return []string{"-0.0", "-0", "-0e0"}[g.r.IntN(3)]
		}
	}
	x := g.r.NormFloat64() * math.Pow(10, float64(g.r.IntN(12)-4))
	return strconv.FormatFloat(x, 'g', 1+g.r.IntN(15), 64)
}

func (g *generator) floatValue(t catalog.DataType, k litKind) lit {
	typ := map[catalog.TypeKind]string{catalog.TypeFloat: "FLOAT", catalog.TypeDouble: "DOUBLE"}[t.Kind]
	if k != kindNumber && g.r.IntN(5) == 0 {
		s := []string{"NaN", "Infinity", "-Infinity", "inf", "-inf", "nan"}[g.r.IntN(6)]
		var p float64
		switch strings.TrimPrefix(strings.ToLower(s), "-") {
		case "nan":
			p = math.NaN()
		default:
			p = math.Inf(1)
			if strings.HasPrefix(s, "-") {
				p = math.Inf(-1)
			}
		}
		switch k {
		case kindString:
			return lit{sql: quote(s), kind: k, param: p}
		case kindCast:
			return lit{sql: g.cast(quote(s), typ), kind: k, param: p}
		default:
			return lit{sql: g.expr(g.cast(quote(s), typ)), kind: k, param: p}
		}
	}
	s := g.floatText(t)
	p, _ := strconv.ParseFloat(s, 64)
	switch k {
	case kindNumber:
		return lit{sql: s, kind: k, param: p}
	case kindString:
		return lit{sql: quote(s), kind: k, param: p}
	case kindCast:
		return lit{sql: g.cast(s, []string{typ, "DOUBLE", "DECIMAL(38,10)", "FLOAT"}[g.r.IntN(4)]), kind: k, param: p}
	}
	return lit{sql: g.expr(s), kind: k, param: p}
}

func (g *generator) decimalValue(t catalog.DataType, k litKind) lit {
	intDigits, frac := t.Precision-t.Scale, t.Scale
	switch g.r.IntN(10) {
	case 0:
		intDigits++ // overflow: both sides must refuse
	case 1:
		frac += 1 + g.r.IntN(3) // more digits than the scale: rounded
	}
	var b strings.Builder
	if g.r.IntN(3) == 0 {
		b.WriteByte('-')
	}
	n := g.r.IntN(intDigits + 1)
	if g.r.IntN(4) == 0 {
		n = intDigits
	}
	if n == 0 {
		b.WriteByte('0')
	}
	for i := 0; i < n; i++ {
		d := byte('0' + g.r.IntN(10))
		if i == 0 && d == '0' {
			d = '9'
		}
		b.WriteByte(d)
	}
	if f := g.r.IntN(frac + 1); f > 0 {
		b.WriteByte('.')
		for i := 0; i < f; i++ {
			b.WriteByte(byte('0' + g.r.IntN(10)))
		}
	}
	s := b.String()
	if !g.allow[catNegativeZero] && strings.Trim(s, "-0.") == "" {
		s = strings.TrimPrefix(s, "-")
	}
	switch k {
	case kindNumber:
		return lit{sql: s, kind: k, param: s}
	case kindString:
		return lit{sql: quote(s), kind: k, param: s}
	case kindCast:
		return lit{sql: g.cast(quote(s), t.String()), kind: k, param: s}
	}
	return lit{sql: g.expr(g.cast(quote(s), "DECIMAL(38,10)")), kind: k, param: s}
}

func (g *generator) boolValue(k litKind) lit {
	v := g.r.IntN(2) == 0
	switch k {
	case kindString:
		s := map[bool][]string{true: {"true", "t", "TRUE", "1", "yes"}, false: {"false", "f", "0", "no"}}[v]
		return lit{sql: quote(s[g.r.IntN(len(s))]), kind: k, param: v}
	case kindCast:
		return lit{sql: g.cast(quote(strconv.FormatBool(v)), "BOOLEAN"), kind: k, param: v}
	case kindExpr:
		return lit{sql: map[bool]string{true: "(1 < 2)", false: "(1 > 2)"}[v], kind: k, param: v}
	case kindNumber:
		return lit{sql: map[bool]string{true: "1", false: "0"}[v], kind: k, param: v}
	}
	return lit{sql: strings.ToUpper(strconv.FormatBool(v)), kind: kindBool, param: v}
}

// text returns a string value: empty, quotes, unicode, long, look-alikes.
func (g *generator) text() string {
	pool := []string{"", "a", "hello world", "it's", "héllo", "日本語テキスト", "emoji 🙂🚀", "e\u0301", "line\nbreak", "tab\tx",
		"  padded  ", "NULL", "null", "%_\\", "Ünïcödé", "ключ", "0", "-0.0", "NaN", "{}", "[1,2]", "a,b", `"quoted"`}
	switch g.r.IntN(6) {
	case 0:
		return strings.Repeat("xyz", 50+g.r.IntN(100))
	case 1:
		var b strings.Builder
		alphabet := []rune("abcXYZ019 _-'éß漢字😀ñ")
		for i := 0; i < 1+g.r.IntN(12); i++ {
			b.WriteRune(alphabet[g.r.IntN(len(alphabet))])
		}
		return b.String()
	}
	return pool[g.r.IntN(len(pool))]
}

func (g *generator) json() string {
	pool := []string{`{"a": 1}`, `[1, 2, 3]`, `null`, `"text"`, `{"k": "日本", "n": [true, false, null]}`, `1.5`, `{}`, `[]`,
		`{"nested": {"deep": {"x": -1e10}}}`, `true`}
	return pool[g.r.IntN(len(pool))]
}

func (g *generator) uuid() string {
	switch g.r.IntN(8) {
	case 0:
		return "00000000-0000-0000-0000-000000000000"
	case 1:
		return "ffffffff-ffff-ffff-ffff-ffffffffffff"
	}
	b := make([]byte, 16)
	for i := range b {
		b[i] = byte(g.r.IntN(256))
	}
	h := hex.EncodeToString(b)
	s := h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
	if g.r.IntN(5) == 0 {
		s = strings.ToUpper(s)
	}
	return s
}

func (g *generator) textLike(t catalog.DataType, s string, k litKind) lit {
	switch k {
	case kindCast:
		typ := "VARCHAR"
		if t.Kind == catalog.TypeUUID && g.r.IntN(2) == 0 {
			typ = "UUID"
		}
		return lit{sql: g.cast(quote(s), typ), kind: k, param: s}
	case kindExpr:
		if r := []rune(s); len(r) > 1 {
			i := 1 + g.r.IntN(len(r)-1)
			return lit{sql: "(" + quote(string(r[:i])) + " || " + quote(string(r[i:])) + ")", kind: k, param: s}
		}
		return lit{sql: g.expr(quote(s)), kind: k, param: s}
	}
	return lit{sql: quote(s), kind: kindString, param: s}
}

func (g *generator) bytesValue(k litKind) lit {
	b := make([]byte, g.r.IntN(9))
	for i := range b {
		b[i] = byte(g.r.IntN(256))
	}
	var esc strings.Builder
	for _, c := range b {
		fmt.Fprintf(&esc, `\x%02X`, c)
	}
	switch k {
	case kindString:
		return lit{sql: quote(esc.String()), kind: k, param: b}
	case kindExpr:
		return lit{sql: "unhex(" + quote(hex.EncodeToString(b)) + ")", kind: k, param: b}
	}
	return lit{sql: g.cast(quote(esc.String()), "BLOB"), kind: kindCast, param: b}
}

// temporal returns a TIMESTAMP, DATE or TIME value: both ends of the
// range, infinities, leap days, the epoch, 24:00:00, random ones.
func (g *generator) temporal(t catalog.DataType, k litKind) lit {
	randDate := func() string {
		return fmt.Sprintf("%04d-%02d-%02d", 1900+g.r.IntN(200), 1+g.r.IntN(12), 1+g.r.IntN(28))
	}
	randTime := func() string {
		s := fmt.Sprintf("%02d:%02d:%02d", g.r.IntN(24), g.r.IntN(60), g.r.IntN(60))
		switch g.r.IntN(3) {
		case 0:
			s += fmt.Sprintf(".%06d", g.r.IntN(1000000))
		case 1:
			s += fmt.Sprintf(".%d", g.r.IntN(1000))
		}
		return s
	}
	var s, typ string
	dateOnly := false
	switch t.Kind {
	case catalog.TypeTimestamp:
		typ = "TIMESTAMP"
		switch g.r.IntN(10) {
		case 0:
			s = []string{"0001-01-01 00:00:00", "9999-12-31 23:59:59.999999", "1970-01-01 00:00:00", "1969-12-31 23:59:59.999999"}[g.r.IntN(4)]
		case 1:
			s = []string{"infinity", "-infinity", "2024-02-29 12:00:00", "1677-09-21 00:12:43.145224", "2262-04-11 23:47:16.854775"}[g.r.IntN(5)]
		case 2:
			s, dateOnly = randDate(), true
		case 3:
			s = randDate() + "T" + randTime()
		default:
			s = randDate() + " " + randTime()
		}
	case catalog.TypeDate:
		typ, dateOnly = "DATE", true
		switch g.r.IntN(6) {
		case 0:
			s = []string{"0001-01-01", "9999-12-31", "1970-01-01", "2024-02-29", "infinity", "-infinity"}[g.r.IntN(6)]
		default:
			s = randDate()
		}
	case catalog.TypeTime:
		typ = "TIME"
		switch g.r.IntN(5) {
		case 0:
			s = []string{"00:00:00", "23:59:59.999999", "24:00:00", "12:00:00.5"}[g.r.IntN(4)]
		default:
			s = randTime()
		}
	}
	switch k {
	case kindTyped:
		if dateOnly && t.Kind == catalog.TypeTimestamp && g.r.IntN(2) == 0 {
			return lit{sql: "DATE " + quote(s), kind: k, param: s}
		}
		return lit{sql: typ + " " + quote(s), kind: k, param: s}
	case kindCast:
		return lit{sql: g.cast(quote(s), typ), kind: k, param: s}
	case kindExpr:
		return lit{sql: "(" + typ + " " + quote(s) + " + INTERVAL 0 SECOND)", kind: k, param: s}
	}
	return lit{sql: quote(s), kind: kindString, param: s}
}

func (g *generator) cast(x, typ string) string {
	if g.r.IntN(2) == 0 {
		return "CAST(" + x + " AS " + typ + ")"
	}
	if strings.HasPrefix(x, "-") {
		x = "(" + x + ")"
	}
	return x + "::" + typ
}

// expr wraps x in an expression that yields it unchanged.
func (g *generator) expr(x string) string {
	switch g.r.IntN(3) {
	case 0:
		return "coalesce(NULL, " + x + ")"
	case 1:
		return "CASE WHEN 1 = 1 THEN " + x + " END"
	}
	return "(SELECT " + x + ")"
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
