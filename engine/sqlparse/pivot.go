package sqlparse

import "strings"

// DynamicPivot is an ON expression of a simplified PIVOT statement that
// lists no values (PIVOT t ON col USING …): DuckDB takes them from the
// data, with a query it runs first (the distinct non-NULL values of the
// expression over the pivoted relation, cast to VARCHAR and sorted), so the
// statement cannot be handed to DuckDB as one query. Listing the values
// with ON col IN ('v1', …) makes it one, with the same result.
type DynamicPivot struct {
	// Source is the text of the pivoted relation.
	Source string
	// Expr is the text of the ON expression.
	Expr string
	// With is the WITH clause in scope of the PIVOT, with a trailing
	// space ("" when none), for the query of the values.
	With string
	// At is the byte offset in the statement right after Expr, where an
	// IN list goes.
	At int
}

// setOps may precede a PIVOT statement that is an operand of a set
// operation (… UNION ALL BY NAME PIVOT …).
var setOps = []string{"UNION", "EXCEPT", "INTERSECT", "ALL", "DISTINCT", "NAME"}

// pivotEnds end the ON list of a simplified PIVOT.
var pivotEnds = []string{"USING", "GROUP", "ORDER", "LIMIT", "OFFSET", "UNION", "EXCEPT", "INTERSECT", "QUALIFY", "HAVING", "WHERE"}

// DynamicPivots finds the ON expressions without IN list of the simplified
// PIVOT statements of a query, in order. It looks at the statement itself,
// the body of a top-level WITH and parenthesized subqueries; anything it
// does not recognise is left to DuckDB (which then refuses the statement).
func DynamicPivots(sql string) ([]DynamicPivot, error) {
	toks, err := lex(sql)
	if err != nil {
		return nil, err
	}
	ctes := topLevelCTEs(toks)
	var out []DynamicPivot
	for i, t := range toks {
		if !isKwTok(t, "PIVOT", "PIVOT_WIDER") || !pivotStatementAt(toks, i, ctes) {
			continue
		}
		d := t.depth
		// The group the statement sits in ends at the first token outside
		// it: a closing bracket of depth < d, or EOF.
		inGroup := func(k int) bool { return toks[k].kind != tokEOF && toks[k].depth >= d }
		on := -1
		for k := i + 1; inGroup(k); k++ {
			if toks[k].depth == d && isKwTok(toks[k], "ON") {
				on = k
				break
			}
			if toks[k].depth == d && isKwTok(toks[k], pivotEnds...) {
				break
			}
		}
		if on < 0 || on == i+1 {
			continue
		}
		source := sql[toks[i+1].start:toks[on-1].end]
		with := ctes.inScope(toks, i, sql)
		start := on + 1
		k := start
		caseDepth, hasIn := 0, false
		for ; ; k++ {
			tk := toks[k]
			end := !inGroup(k) || tk.depth == d && (isOpTok(tk, ",") || isKwTok(tk, pivotEnds...))
			if end {
				if k > start && !hasIn {
					out = append(out, DynamicPivot{Source: source, Expr: sql[toks[start].start:toks[k-1].end], With: with, At: toks[k-1].end})
				}
				if !inGroup(k) || !isOpTok(tk, ",") {
					break
				}
				start, caseDepth, hasIn = k+1, 0, false
				continue
			}
			if tk.depth != d {
				continue
			}
			switch {
			case isKwTok(tk, "CASE"):
				caseDepth++
			case isKwTok(tk, "END") && caseDepth > 0:
				caseDepth--
			case isKwTok(tk, "IN") && caseDepth == 0:
				hasIn = true
			}
		}
	}
	return out, nil
}

// pivotStatementAt reports whether the PIVOT keyword at i starts a
// simplified PIVOT statement rather than following a table reference
// (FROM t PIVOT (…)): it starts the statement, a parenthesized subquery,
// an operand of a set operation or the body of the top-level WITH.
func pivotStatementAt(toks []token, i int, ctes cteList) bool {
	if i == 0 {
		return true
	}
	prev := toks[i-1]
	return isOpTok(prev, "(") || isKwTok(prev, setOps...) || (ctes.body == i)
}

// cteList is the structure of a statement's top-level WITH clause.
type cteList struct {
	// with is the index of WITH (-1: none); recursive says WITH RECURSIVE.
	with      int
	recursive bool
	// defs are the token ranges [start, end) of the CTE definitions
	// (name through closing bracket).
	defs [][2]int
	// body is the index of the first token after the clause.
	body int
}

// topLevelCTEs reads the top-level WITH clause, if the statement starts
// with one.
func topLevelCTEs(toks []token) cteList {
	l := cteList{with: -1, body: -1}
	if !isKwTok(toks[0], "WITH") {
		return l
	}
	l.with = 0
	i := 1
	if isKwTok(toks[i], "RECURSIVE") {
		l.recursive = true
		i++
	}
	for {
		start := i
		// name [(cols)] AS [NOT] [MATERIALIZED] ( … )
		for toks[i].kind != tokEOF && !(toks[i].depth == 0 && isOpTok(toks[i], "(") && isKwTok(toks[i-1], "AS", "MATERIALIZED")) {
			i++
		}
		if toks[i].kind == tokEOF {
			return cteList{with: -1, body: -1}
		}
		for i++; toks[i].kind != tokEOF && !(toks[i].depth == 0 && isOpTok(toks[i], ")")); i++ {
		}
		if toks[i].kind == tokEOF {
			return cteList{with: -1, body: -1}
		}
		i++
		l.defs = append(l.defs, [2]int{start, i})
		if !isOpTok(toks[i], ",") {
			break
		}
		i++
	}
	l.body = i
	return l
}

// inScope returns the WITH clause whose CTEs are visible at token i: the
// whole clause in the statement's body, the CTEs defined before the one
// whose definition holds i, or "".
func (l cteList) inScope(toks []token, i int, sql string) string {
	if l.with < 0 {
		return ""
	}
	n := len(l.defs)
	for k, d := range l.defs {
		if i >= d[0] && i < d[1] {
			n = k
			break
		}
	}
	if n == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString("WITH ")
	if l.recursive {
		b.WriteString("RECURSIVE ")
	}
	b.WriteString(sql[toks[l.defs[0][0]].start:toks[l.defs[n-1][1]-1].end])
	b.WriteString(" ")
	return b.String()
}
