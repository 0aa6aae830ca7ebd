//go:build duckdb_arrow

package engine

import (
	"errors"
	"maps"
	"slices"
	"strings"

	"github.com/kalamdb/kalamdb-go/catalog"
	"github.com/kalamdb/kalamdb-go/engine/duck"
)

// duckError classifies an error from DuckDB and replaces the names of scoped
// temporary tables with the tables they stand for.
func duckError(err error, q *scopedQuery) error {
	if errors.Is(err, duck.ErrResultMemory) {
		return catalog.WrapKind(catalog.KindResourceExhausted, err, "result too large for the server's --result-memory-limit now: fetch fewer or smaller values, or retry")
	}
	var de *duck.Error
	if !errors.As(err, &de) {
		return err
	}
	msg := de.Msg
	if q != nil {
		for i := len(q.loads) - 1; i >= 0; i-- {
			msg = strings.ReplaceAll(msg, q.loads[i].temp, q.loads[i].id.String())
		}
		// Longest first: a name made by the scoper may prefix another.
		renamed := slices.SortedFunc(maps.Keys(q.ctes), func(a, b string) int { return len(b) - len(a) })
		for _, r := range renamed {
			msg = strings.ReplaceAll(msg, r, q.ctes[r])
		}
	}
	// The LINE context quotes the SQL DuckDB ran, which is the scoper's
	// rewrite (temporary names, projections), not what the client sent.
	if i := strings.Index(msg, "\n\nLINE "); i >= 0 {
		msg = msg[:i]
	} else if i := strings.Index(msg, "\nLINE "); i >= 0 {
		msg = msg[:i]
	}
	kind := catalog.KindInvalid
	switch {
	case strings.HasPrefix(msg, "INTERRUPT"), strings.Contains(msg, "Interrupted"):
		kind = catalog.KindCancelled
		msg = "query cancelled"
	case strings.HasPrefix(msg, "Out of Memory"):
		kind = catalog.KindResourceExhausted
	case strings.HasPrefix(msg, "Permission Error"):
		kind = catalog.KindPermission
	case strings.HasPrefix(msg, "Catalog Error"):
		kind = catalog.KindNotFound
		if strings.Contains(msg, "Scalar Function") || strings.Contains(msg, "Table Function") || strings.Contains(msg, "Function with name") {
			kind = catalog.KindInvalid
		}
	case strings.HasPrefix(msg, "INTERNAL Error"), strings.HasPrefix(msg, "FATAL Error"):
		kind = catalog.KindInternal
	}
	return &catalog.Error{Kind: kind, Msg: msg}
}
