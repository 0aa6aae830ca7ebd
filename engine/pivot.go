//go:build duckdb_arrow

package engine

import (
	"context"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/kalamdb/kalamdb-go/catalog"
	"github.com/kalamdb/kalamdb-go/engine/sqlparse"
)

// pivotLimit is DuckDB's default pivot_limit: the most values one PIVOT
// column may take from the data.
const pivotLimit = 100000

// expandPivots lists the values of each simplified PIVOT of sql that takes
// them from the data (PIVOT t ON col …), as DuckDB does before running such
// a statement: the distinct non-NULL values of the ON expression over the
// pivoted relation, cast to VARCHAR and sorted, queried under the same
// scope as the statement. The result, with ON col IN ('v1', …), is one
// query DuckDB runs as it would the original. sql is returned unchanged
// when it has no such PIVOT.
func (e *Engine) expandPivots(ctx context.Context, sub subject, sql string) (string, error) {
	if !containsFold(sql, "pivot") {
		return sql, nil
	}
	pivots, err := sqlparse.DynamicPivots(sql)
	if err != nil || len(pivots) == 0 {
		return sql, nil // DuckDB's parser reports what is wrong
	}
	lists := make([]string, len(pivots))
	for i, p := range pivots {
		q := p.With + "SELECT DISTINCT CAST((" + p.Expr + ") AS VARCHAR) FROM " + p.Source + " WHERE (" + p.Expr + ") IS NOT NULL ORDER BY 1"
		_, recs, err := e.queryAll(ctx, sub, q, nil, nil)
		if err != nil {
			return "", err
		}
		var b strings.Builder
		n := 0
		for _, r := range recs {
			col, ok := r.Column(0).(*array.String)
			for k := 0; ok && k < col.Len(); k++ {
				if n++; n > pivotLimit {
					releaseAll(recs)
					return "", catalog.Errorf(catalog.KindInvalid, "Pivot column limit of %d exceeded: PIVOT ON %s takes more values from the data", pivotLimit, p.Expr)
				}
				if n > 1 {
					b.WriteString(", ")
				}
				b.WriteString("'" + strings.ReplaceAll(col.Value(k), "'", "''") + "'")
			}
		}
		releaseAll(recs)
		if n == 0 {
			return "", catalog.Errorf(catalog.KindInvalid, "PIVOT ON %s found no values to pivot on in the data: list them with ON %s IN (…)", p.Expr, p.Expr)
		}
		lists[i] = " IN (" + b.String() + ")"
	}
	// Insert from the end, so that earlier offsets stay valid (a PIVOT
	// nested in another's source ends before the other's ON list).
	order := make([]int, len(pivots))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return pivots[b].At - pivots[a].At })
	out := sql
	for _, i := range order {
		at := pivots[i].At
		out = out[:at] + lists[i] + out[at:]
	}
	return out, nil
}

// containsFold reports whether s contains the lower-case ASCII word sub in
// any case.
func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}
