package engine

import (
	"fmt"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/kalamdb/kalamdb-go/catalog"
)

// JSONError reports a value of a JSON column that is not JSON. Row is the
// 1-based row of the statement's (or the ingest stream's) rows; Key is the
// row's primary key as text, when the table has one.
type JSONError struct {
	Column string
	Row    int64
	Key    string
	Reason string
}

func (e *JSONError) Error() string {
	key := ""
	if e.Key != "" {
		key = " (primary key " + e.Key + ")"
	}
	return fmt.Sprintf("invalid JSON in column %s of row %d%s: %s", e.Column, e.Row, key, e.Reason)
}

// checkJSON refuses rows whose JSON columns hold text that DuckDB's JSON
// type would not accept (see jsonSyntaxError), with a KindInvalid error
// wrapping a *JSONError.
func checkJSON(t *catalog.TableDef, rec arrow.RecordBatch) error {
	for i, c := range t.Columns {
		if c.Type.Kind != catalog.TypeJSON {
			continue
		}
		s, ok := rec.Column(i).(*array.String)
		if !ok {
			continue
		}
		for r := 0; r < s.Len(); r++ {
			if s.IsNull(r) {
				continue
			}
			if reason := jsonSyntaxError(s.Value(r)); reason != "" {
				e := &JSONError{Column: c.Name, Row: int64(r) + 1, Reason: reason}
				if pk := t.PrimaryKeyIndex(); pk >= 0 && rec.Column(pk).IsValid(r) {
					e.Key = rec.Column(pk).ValueStr(r)
				}
				return &catalog.Error{Kind: catalog.KindInvalid, Err: e}
			}
		}
	}
	return nil
}

// jsonSyntaxError returns why s is not a JSON document as DuckDB's JSON
// type reads it, or "" when it is one. DuckDB parses JSON with yyjson,
// allowing NaN and Infinity (any case, "inf" too, signed with '-') and a
// trailing comma in arrays and objects; otherwise it is RFC 8259: one value
// with optional whitespace (space, tab, LF, CR) around it, strings of valid
// UTF-8 without control characters, \u escapes of surrogates only in
// pairs, numbers without leading zeros or '+'. Duplicate keys and any
// nesting depth are accepted. A differential test holds this to DuckDB.
func jsonSyntaxError(s string) string {
	var stack []byte // open containers: '[' or '{'
	i := skipJSONSpace(s, 0)
	if i == len(s) {
		return "empty input"
	}
	for {
		// A value starts at i.
		if i >= len(s) {
			return "unexpected end of data"
		}
		switch c := s[i]; {
		case c == '{':
			i = skipJSONSpace(s, i+1)
			if i < len(s) && s[i] == '}' {
				i++
				break
			}
			stack = append(stack, '{')
			var msg string
			if i, msg = jsonKey(s, i); msg != "" {
				return msg
			}
			continue
		case c == '[':
			i = skipJSONSpace(s, i+1)
			if i < len(s) && s[i] == ']' {
				i++
				break
			}
			stack = append(stack, '[')
			continue
		case c == '"':
			var msg string
			if i, msg = jsonString(s, i); msg != "" {
				return msg
			}
		case c == '-' || (c >= '0' && c <= '9'):
			var msg string
			if i, msg = jsonNumber(s, i); msg != "" {
				return msg
			}
		default:
			n := jsonLiteral(s[i:])
			if n == 0 {
				return fmt.Sprintf("unexpected character at byte %d", i)
			}
			i += n
		}
		// After a value: close containers or go on to the next value.
		for {
			i = skipJSONSpace(s, i)
			if len(stack) == 0 {
				if i < len(s) {
					return fmt.Sprintf("unexpected content after the document at byte %d", i)
				}
				return ""
			}
			if i >= len(s) {
				return "unexpected end of data"
			}
			top := stack[len(stack)-1]
			if (top == '[' && s[i] == ']') || (top == '{' && s[i] == '}') {
				stack = stack[:len(stack)-1]
				i++
				continue
			}
			if s[i] != ',' {
				return fmt.Sprintf("unexpected character at byte %d", i)
			}
			i = skipJSONSpace(s, i+1)
			// A trailing comma.
			if i < len(s) && ((top == '[' && s[i] == ']') || (top == '{' && s[i] == '}')) {
				stack = stack[:len(stack)-1]
				i++
				continue
			}
			if top == '{' {
				var msg string
				if i, msg = jsonKey(s, i); msg != "" {
					return msg
				}
			}
			break
		}
	}
}

func skipJSONSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// jsonKey reads an object's key and its colon at i and returns the position
// of the value.
func jsonKey(s string, i int) (int, string) {
	if i >= len(s) {
		return i, "unexpected end of data"
	}
	if s[i] != '"' {
		return i, fmt.Sprintf("expected a string key at byte %d", i)
	}
	i, msg := jsonString(s, i)
	if msg != "" {
		return i, msg
	}
	i = skipJSONSpace(s, i)
	if i >= len(s) {
		return i, "unexpected end of data"
	}
	if s[i] != ':' {
		return i, fmt.Sprintf("expected ':' at byte %d", i)
	}
	return skipJSONSpace(s, i+1), ""
}

// jsonString reads the string starting with the quote at i.
func jsonString(s string, i int) (int, string) {
	start := i
	i++
	for i < len(s) {
		c := s[i]
		switch {
		case c == '"':
			return i + 1, ""
		case c == '\\':
			if i+1 >= len(s) {
				return i, "unexpected end of data"
			}
			switch s[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				hi, ok := jsonHex4(s, i+2)
				if !ok {
					return i, fmt.Sprintf("invalid escaped character in string at byte %d", i)
				}
				i += 6
				if hi&0xF800 != 0xD800 {
					continue
				}
				if hi&0xFC00 != 0xD800 {
					return i, fmt.Sprintf("invalid high surrogate in string at byte %d", i-6)
				}
				if i+1 >= len(s) || s[i] != '\\' || s[i+1] != 'u' {
					return i, fmt.Sprintf("no low surrogate in string at byte %d", i)
				}
				lo, ok := jsonHex4(s, i+2)
				if !ok {
					return i, fmt.Sprintf("invalid escaped character in string at byte %d", i)
				}
				if lo&0xFC00 != 0xDC00 {
					return i, fmt.Sprintf("invalid low surrogate in string at byte %d", i)
				}
				i += 6
			default:
				return i, fmt.Sprintf("invalid escaped character in string at byte %d", i)
			}
		case c < 0x20:
			return i, fmt.Sprintf("unexpected control character in string at byte %d", i)
		case c < utf8.RuneSelf:
			i++
		default:
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n <= 1 {
				return i, fmt.Sprintf("invalid UTF-8 in string at byte %d", i)
			}
			i += n
		}
	}
	return start, "unexpected end of data: unterminated string"
}

func jsonHex4(s string, i int) (uint16, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var v uint16
	for _, c := range []byte(s[i : i+4]) {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		v = v<<4 | uint16(d)
	}
	return v, true
}

// jsonNumber reads a number (or a '-' signed NaN or Infinity) at i.
func jsonNumber(s string, i int) (int, string) {
	start := i
	if s[i] == '-' {
		i++
		if i < len(s) && (s[i] < '0' || s[i] > '9') {
			if n := jsonNonFinite(s[i:]); n > 0 {
				return i + n, ""
			}
		}
	}
	digits := func() int {
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i - j
	}
	if i >= len(s) {
		return i, "unexpected end of data in number"
	}
	if s[i] == '0' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9' {
		return i, fmt.Sprintf("number with a leading zero at byte %d", start)
	}
	if digits() == 0 {
		return i, fmt.Sprintf("no digit in number at byte %d", start)
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return i, fmt.Sprintf("no digit after the decimal point at byte %d", start)
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return i, fmt.Sprintf("no digit in exponent at byte %d", start)
		}
	}
	return i, ""
}

// jsonLiteral returns the length of the literal that s starts with (true,
// false, null, NaN or Infinity), or 0.
func jsonLiteral(s string) int {
	for _, lit := range [...]string{"true", "false", "null"} {
		if len(s) >= len(lit) && s[:len(lit)] == lit {
			return len(lit)
		}
	}
	return jsonNonFinite(s)
}

// jsonNonFinite matches, ignoring case, "nan", "infinity" or "inf".
func jsonNonFinite(s string) int {
	for _, lit := range [...]string{"nan", "infinity", "inf"} {
		if len(s) >= len(lit) && equalFoldASCII(s[:len(lit)], lit) {
			return len(lit)
		}
	}
	return 0
}

func equalFoldASCII(a, b string) bool {
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
