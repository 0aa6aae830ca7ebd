package sqlparse

import (
	"errors"
	"strings"
	"testing"
)

// fuzzSeeds are statements that reach every token kind, quoting style and
// fast path.
var fuzzSeeds = []string{
	"SELECT 1", "SELECT 'it''s', \"q\"\"id\", E'\\n', $$dollar$$, $tag$x$tag$, $1, ?, :name",
	"SELECT a->>'k', b::INT, c || d FROM t WHERE x <> 1 AND y >= 2 -- comment\n",
	"/* block /* nested */ */ SELECT [1, 2], {'a': 1}", "SELECT 1.5e-3, .5, 0x1F",
	"INSERT INTO app.t (a, b) VALUES (1, 'x'), (-2.5, NULL) RETURNING *",
	"INSERT INTO t VALUES ($1, $2)", "SELECT * FROM app.t WHERE id = 42",
	"VALUES (DATE '2024-01-01', TRUE)", "SELECT 'pct %s %d'", "SELECT \"pct %s %d\"",
	"SELECT ((((((((1))))))))", "SELECT 'unterminated", "SELECT 1; SELECT 2", "SELECT \x00",
	"SELECT 'héllo', ünïcode", "SELECT a$$ ; DROP TABLE x; $$",
}

// FuzzLex checks the lexer's invariants on arbitrary input: tokens are in
// order, inside the source and non-overlapping, and end with one tokEOF.
func FuzzLex(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		toks, err := lex(src)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error is %T, want *SyntaxError: %v", err, err)
			}
			return
		}
		if len(toks) == 0 || toks[len(toks)-1].kind != tokEOF {
			t.Fatalf("tokens of %q do not end with EOF", src)
		}
		prev := 0
		for i, tok := range toks {
			if tok.start < prev || tok.end < tok.start || tok.end > len(src) {
				t.Fatalf("token %d of %q at [%d,%d) after %d", i, src, tok.start, tok.end, prev)
			}
			if tok.kind == tokEOF && i != len(toks)-1 {
				t.Fatalf("EOF token %d of %q is not last", i, src)
			}
			if tok.depth < 0 {
				t.Fatalf("token %d of %q at negative depth", i, src)
			}
			prev = tok.end
		}
	})
}

// FuzzLiteralFastPaths feeds arbitrary statements to the fast paths that
// bypass DuckDB (literal VALUES rows, point queries, parameter rows): they
// must not panic, and an accepted VALUES list has rows.
func FuzzLiteralFastPaths(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		if rows, ok := ValuesLiterals(src); ok && len(rows) == 0 {
			t.Fatalf("ValuesLiterals(%q) accepted no rows", src)
		}
		if rows, ok := ValuesItems(src); ok {
			for _, row := range rows {
				for _, item := range row {
					if strings.TrimSpace(item) == "" {
						t.Fatalf("ValuesItems(%q) gave an empty item", src)
					}
				}
			}
		}
		_, _ = ParsePointQuery(src)
		_, _ = ParamRow(src)
	})
}
