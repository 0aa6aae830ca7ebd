package sqlparse

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDynamicPivots(t *testing.T) {
	type piv struct{ Source, Expr, With, After string }
	for _, tc := range []struct {
		name string
		sql  string
		want []piv
	}{
		{"simple", "PIVOT t ON v USING sum(n)", []piv{{"t", "v", "", " USING sum(n)"}}},
		{"no using", "PIVOT ns.t ON v", []piv{{"ns.t", "v", "", ""}}},
		{"listed values", "PIVOT t ON v IN ('a', 'b') USING sum(n)", nil},
		{"two columns, one listed", "PIVOT t ON v, b IN (1, 2), v || '_' || n USING sum(n) GROUP BY id",
			[]piv{{"t", "v", "", ", b IN (1, 2), v || '_' || n USING sum(n) GROUP BY id"}, {"t", "v || '_' || n", "", " USING sum(n) GROUP BY id"}}},
		{"case with in", "PIVOT t ON CASE WHEN n IN (1, 2) THEN 'x' END USING count(*)",
			[]piv{{"t", "CASE WHEN n IN (1, 2) THEN 'x' END", "", " USING count(*)"}}},
		{"subquery source", "PIVOT (SELECT * FROM t WHERE n > 1) s ON v", []piv{{"(SELECT * FROM t WHERE n > 1) s", "v", "", ""}}},
		{"in a subquery", "SELECT * FROM (PIVOT t ON v USING sum(n)) p",
			[]piv{{"t", "v", "", " USING sum(n)) p"}}},
		{"with body", "WITH c AS (SELECT * FROM t), d AS (SELECT 1) PIVOT c ON v",
			[]piv{{"c", "v", "WITH c AS (SELECT * FROM t), d AS (SELECT 1) ", ""}}},
		{"in a cte", "WITH c AS (SELECT * FROM t), p AS (PIVOT c ON v) SELECT * FROM p",
			[]piv{{"c", "v", "WITH c AS (SELECT * FROM t) ", ") SELECT * FROM p"}}},
		{"set operation", "PIVOT t ON v UNION ALL BY NAME PIVOT t ON n",
			[]piv{{"t", "v", "", " UNION ALL BY NAME PIVOT t ON n"}, {"t", "n", "", ""}}},
		{"standard form", "SELECT * FROM t PIVOT (sum(n) FOR v IN ('a'))", nil},
		{"standard form after a subquery", "SELECT * FROM (SELECT * FROM t) PIVOT (sum(n) FOR v IN ('a')) JOIN u ON true", nil},
		{"no pivot", "SELECT 1", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DynamicPivots(tc.sql)
			require.NoError(t, err)
			var gotP []piv
			for _, p := range got {
				gotP = append(gotP, piv{p.Source, p.Expr, p.With, tc.sql[p.At:]})
			}
			require.Equal(t, tc.want, gotP)
		})
	}
}
