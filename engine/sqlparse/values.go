package sqlparse

import (
	"strconv"
	"strings"

	"github.com/kalamdb/kalamdb-go/catalog"
)

// LiteralKind classifies a constant in a VALUES list.
type LiteralKind uint8

// Literal kinds.
const (
	LitNull LiteralKind = iota + 1
	LitString
	LitNumber
	LitBool
)

// Literal is one constant of a VALUES list. Text is the unescaped string for
// LitString, the number as written (with its sign) for LitNumber, and "true"
// or "false" for LitBool.
type Literal struct {
	Kind LiteralKind
	Text string
	// Type is the upper-case type of a typed string literal (TIMESTAMP '…',
	// DATE '…', TIME '…'), else "".
	Type string
}

// ValuesLiterals recognises an INSERT source of the form
// `VALUES (c, …), (c, …)` where every c is a plain constant: a string, a
// number with an optional sign, TRUE, FALSE or NULL. It returns the rows, or
// ok=false for anything else (expressions, casts, parameters, queries), which
// the caller then evaluates in full.
func ValuesLiterals(source string) (rows [][]Literal, ok bool) {
	toks, err := lex(source)
	if err != nil || len(toks) < 4 {
		return nil, false
	}
	i := 0
	at := func(kind tokKind, val string) bool {
		return i < len(toks) && toks[i].kind == kind && (val == "" || strings.EqualFold(toks[i].val, val))
	}
	if !at(tokIdent, "values") {
		return nil, false
	}
	i++
	for {
		if !at(tokOp, "(") {
			return nil, false
		}
		i++
		var row []Literal
		for {
			neg := false
			if at(tokOp, "-") || at(tokOp, "+") {
				neg = toks[i].val == "-"
				i++
				if !at(tokNumber, "") {
					return nil, false
				}
			}
			switch {
			case at(tokNumber, ""):
				txt := toks[i].val
				if neg {
					txt = "-" + txt
				}
				row = append(row, Literal{Kind: LitNumber, Text: txt})
			case at(tokString, ""):
				if toks[i].start < len(source) && (source[toks[i].start] == 'E' || source[toks[i].start] == 'e' || source[toks[i].start] == '$') {
					return nil, false
				}
				row = append(row, Literal{Kind: LitString, Text: toks[i].val})
			case (at(tokIdent, "timestamp") || at(tokIdent, "date") || at(tokIdent, "time")) &&
				i+1 < len(toks) && toks[i+1].kind == tokString && source[toks[i+1].start] == '\'':
				row = append(row, Literal{Kind: LitString, Text: toks[i+1].val, Type: strings.ToUpper(toks[i].val)})
				i++
			case at(tokIdent, "null"):
				row = append(row, Literal{Kind: LitNull})
			case at(tokIdent, "true"), at(tokIdent, "false"):
				row = append(row, Literal{Kind: LitBool, Text: strings.ToLower(toks[i].val)})
			default:
				return nil, false
			}
			i++
			if at(tokOp, ",") {
				i++
				continue
			}
			if at(tokOp, ")") {
				i++
				break
			}
			return nil, false
		}
		rows = append(rows, row)
		if at(tokOp, ",") {
			i++
			continue
		}
		if i == len(toks) || at(tokEOF, "") {
			return rows, true
		}
		return nil, false
	}
}

// ValuesItems splits an INSERT source of the form `VALUES (e, …), (e, …)`,
// whatever the expressions, into the source text of each item, row by row.
// ok is false for any other source (a query, or VALUES followed by more
// clauses). DuckDB's INSERT casts each item of such a list to its target
// column's type on its own, where a VALUES list read as a query first
// unifies each column's items to one type, so the caller rewrites the list
// with one cast per item.
func ValuesItems(source string) (rows [][]string, ok bool) {
	toks, err := lex(source)
	if err != nil || len(toks) < 4 || toks[0].kind != tokIdent || !strings.EqualFold(toks[0].val, "values") {
		return nil, false
	}
	isOp := func(t token, val string, depth int) bool {
		return t.kind == tokOp && t.val == val && t.depth == depth
	}
	i := 1
	for {
		if i >= len(toks) || !isOp(toks[i], "(", 0) {
			return nil, false
		}
		i++
		var row []string
		first := i
		for ; i < len(toks); i++ {
			t := toks[i]
			if t.kind == tokEOF {
				return nil, false
			}
			if !isOp(t, ",", 1) && !isOp(t, ")", 0) {
				continue
			}
			if i == first {
				return nil, false // an empty item
			}
			row = append(row, source[toks[first].start:toks[i-1].end])
			first = i + 1
			if t.val == ")" {
				break
			}
		}
		i++
		rows = append(rows, row)
		if i < len(toks) && isOp(toks[i], ",", 0) {
			i++
			continue
		}
		if i < len(toks) && toks[i].kind == tokEOF {
			return rows, true
		}
		return nil, false
	}
}

// PointQuery is a recognised `SELECT * | c1, c2 FROM [ns.]t WHERE col = <literal>`.
type PointQuery struct {
	// Columns are the selected names as written; nil means `*`.
	Columns []string
	Table   TableRef
	Column  string
	Value   Literal
}

// ParsePointQuery recognises the simplest primary-key lookup shape, which
// the engine may answer without DuckDB. ok=false for anything else.
func ParsePointQuery(sql string) (q PointQuery, ok bool) {
	toks, err := lex(sql)
	if err != nil {
		return q, false
	}
	i := 0
	kw := func(val string) bool {
		if i < len(toks) && toks[i].kind == tokIdent && strings.EqualFold(toks[i].val, val) {
			i++
			return true
		}
		return false
	}
	op := func(val string) bool {
		if i < len(toks) && toks[i].kind == tokOp && toks[i].val == val {
			i++
			return true
		}
		return false
	}
	ident := func() (string, bool) {
		if i < len(toks) && toks[i].kind == tokIdent && !reservedInPoint[strings.ToLower(toks[i].val)] {
			i++
			return toks[i-1].val, true
		}
		return "", false
	}
	if !kw("select") {
		return q, false
	}
	if !op("*") {
		for {
			c, ok := ident()
			if !ok {
				return q, false
			}
			q.Columns = append(q.Columns, c)
			if !op(",") {
				break
			}
		}
	}
	if !kw("from") {
		return q, false
	}
	first, ok := ident()
	if !ok {
		return q, false
	}
	name := first
	if op(".") {
		if name, ok = ident(); !ok {
			return q, false
		}
		ns, err := catalog.ParseNamespaceID(first)
		if err != nil {
			return q, false
		}
		q.Table.Namespace = ns
	}
	tn, err := catalog.ParseTableName(name)
	if err != nil {
		return q, false
	}
	q.Table.Name = tn
	if !kw("where") {
		return q, false
	}
	if q.Column, ok = ident(); !ok || !op("=") {
		return q, false
	}
	neg := op("-")
	switch {
	case i < len(toks) && toks[i].kind == tokNumber:
		q.Value = Literal{Kind: LitNumber, Text: toks[i].val}
		if neg {
			q.Value.Text = "-" + q.Value.Text
		}
	case !neg && i < len(toks) && toks[i].kind == tokString && sql[toks[i].start] == '\'':
		q.Value = Literal{Kind: LitString, Text: toks[i].val}
	default:
		return q, false
	}
	i++
	op(";")
	if i < len(toks) && toks[i].kind != tokEOF {
		return q, false
	}
	return q, true
}

// reservedInPoint are words that end the simple shape (so `FROM t WHERE`
// never reads WHERE as a table or alias).
var reservedInPoint = map[string]bool{
	"select": true, "from": true, "where": true, "and": true, "or": true, "not": true, "as": true,
	"distinct": true, "limit": true, "order": true, "group": true, "join": true, "on": true, "using": true,
	"exclude": true, "replace": true, "columns": true, "null": true, "true": true, "false": true,
}

// ParamRow recognises an INSERT source of the form `VALUES (p1, …, pn)`
// where every item is a parameter ($1… in order, or ?), and returns n. The
// caller then knows parameter i fills the i-th target column.
func ParamRow(source string) (int, bool) {
	toks, err := lex(source)
	if err != nil || len(toks) < 4 || toks[0].kind != tokIdent || !strings.EqualFold(toks[0].val, "values") ||
		toks[1].kind != tokOp || toks[1].val != "(" {
		return 0, false
	}
	n := 0
	for i := 2; i < len(toks); i += 2 {
		if toks[i].kind != tokParam {
			return 0, false
		}
		if v := toks[i].val; v != "?" && v != "$"+strconv.Itoa(n+1) {
			return 0, false
		}
		n++
		if i+1 >= len(toks) || toks[i+1].kind != tokOp {
			return 0, false
		}
		if toks[i+1].val == ")" {
			if i+2 < len(toks) && toks[i+2].kind != tokEOF {
				return 0, false
			}
			return n, true
		}
		if toks[i+1].val != "," {
			return 0, false
		}
	}
	return 0, false
}
