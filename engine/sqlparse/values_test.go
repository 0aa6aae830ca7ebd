package sqlparse

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestValuesLiterals(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want [][]Literal
		ok   bool
	}{
		{"one row", "VALUES (1, 'a', NULL, TRUE)", [][]Literal{{{LitNumber, "1", ""}, {LitString, "a", ""}, {LitNull, "", ""}, {LitBool, "true", ""}}}, true},
		{"two rows signed", "values (-1.5, 'it''s'), (+2, 'b')", [][]Literal{{{LitNumber, "-1.5", ""}, {LitString, "it's", ""}}, {{LitNumber, "2", ""}, {LitString, "b", ""}}}, true},
		{"comment", "VALUES (1) -- done", [][]Literal{{{LitNumber, "1", ""}}}, true},
		{"expression", "VALUES (1 + 2)", nil, false},
		{"function", "VALUES (now())", nil, false},
		{"cast", "VALUES ('1'::INT)", nil, false},
		{"param", "VALUES ($1)", nil, false},
		{"escape string", `VALUES (E'\n')`, nil, false},
		{"select", "SELECT 1", nil, false},
		{"typed literal", "VALUES (DATE '2024-01-01', timestamp '2024-01-01 10:00:00')", [][]Literal{{{LitString, "2024-01-01", "DATE"}, {LitString, "2024-01-01 10:00:00", "TIMESTAMP"}}}, true},
		{"other typed literal", "VALUES (INTERVAL '1 day')", nil, false},
		{"trailing comma", "VALUES (1),", nil, false},
		{"empty", "VALUES ()", nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := ValuesLiterals(tc.src)
			require.Equal(t, tc.ok, ok)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestParsePointQuery(t *testing.T) {
	tests := []struct {
		sql  string
		want PointQuery
		ok   bool
	}{
		{"SELECT * FROM b.t WHERE id = 42", PointQuery{Table: TableRef{Namespace: "b", Name: "t"}, Column: "id", Value: Literal{Kind: LitNumber, Text: "42"}}, true},
		{"select a, B from T where k = 'x';", PointQuery{Columns: []string{"a", "B"}, Table: TableRef{Name: "t"}, Column: "k", Value: Literal{Kind: LitString, Text: "x"}}, true},
		{"SELECT * FROM t WHERE id = -7", PointQuery{Table: TableRef{Name: "t"}, Column: "id", Value: Literal{Kind: LitNumber, Text: "-7"}}, true},
		{"SELECT * FROM t WHERE id = 1 AND x = 2", PointQuery{}, false},
		{"SELECT * FROM t WHERE id = $1", PointQuery{}, false},
		{"SELECT * FROM t x WHERE id = 1", PointQuery{}, false},
		{"SELECT count(*) FROM t WHERE id = 1", PointQuery{}, false},
		{"SELECT * FROM t WHERE (id) = 1", PointQuery{}, false},
		{`SELECT * FROM "t" WHERE id = 1`, PointQuery{}, false},
		{"SELECT * FROM t WHERE id = 1; DROP TABLE t", PointQuery{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.sql, func(t *testing.T) {
			got, ok := ParsePointQuery(tc.sql)
			require.Equal(t, tc.ok, ok)
			if ok {
				require.Equal(t, tc.want, got)
			}
		})
	}
}

func TestParamRow(t *testing.T) {
	for src, want := range map[string]int{"VALUES (?, ?, ?)": 3, "values ($1,$2)": 2, "VALUES (?)": 1,
		"VALUES ($2, $1)": -1, "VALUES (?, 1)": -1, "VALUES (?), (?)": -1, "SELECT ?": -1} {
		n, ok := ParamRow(src)
		if want < 0 {
			require.False(t, ok, src)
			continue
		}
		require.True(t, ok, src)
		require.Equal(t, want, n, src)
	}
}

func TestValuesItems(t *testing.T) {
	tests := []struct {
		src  string
		want [][]string
	}{
		{"VALUES (1, '0.75')", [][]string{{"1", "'0.75'"}}},
		{"values (1, 0), (2, 'a,b')", [][]string{{"1", "0"}, {"2", "'a,b'"}}},
		{"VALUES ((SELECT max(x) FROM t), f(1, 2)), ($1, -?)", [][]string{{"(SELECT max(x) FROM t)", "f(1, 2)"}, {"$1", "-?"}}},
		{"VALUES (DATE '2024-01-02', 1 + 2 /* c */) -- done", [][]string{{"DATE '2024-01-02'", "1 + 2"}}},
		{"VALUES ([1, 2], {'a': 1}) ;", [][]string{{"[1, 2]", "{'a': 1}"}}},
		{"VALUES (1) ORDER BY 1", nil},
		{"VALUES (1),", nil},
		{"VALUES ()", nil},
		{"VALUES (1, )", nil},
		{"VALUES 1", nil},
		{"SELECT 1", nil},
		{"(VALUES (1))", nil},
	}
	for _, tc := range tests {
		t.Run(tc.src, func(t *testing.T) {
			got, ok := ValuesItems(tc.src)
			require.Equal(t, tc.want != nil, ok)
			require.Equal(t, tc.want, got)
		})
	}
}
