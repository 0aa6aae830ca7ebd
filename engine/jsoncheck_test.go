//go:build duckdb_arrow

package engine

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/stretchr/testify/require"

	"github.com/kalamdb/kalamdb-go/engine/duck"
)

// jsonCorpus is hand-picked text around every rule of jsonSyntaxError.
var jsonCorpus = []string{
	`{"a":1}`, `1`, ` {"a":1} `, `"s"`, `null`, `true`, `false`, `NaN`, `nan`, `nAn`, `-nan`, `-NaN`,
	`Infinity`, `-Infinity`, `inf`, `Inf`, `INFINITY`, `infINITY`, `-inf`, `+inf`, `+1`, `infinit`, `infinityx`,
	`[1,2,]`, `{"a":1,}`, `{"a":1, }`, `[true ,` + "\n" + `]`, `[1,,]`, `{,}`, `[,1]`, `[,]`, `{"a":1,,}`, `[1 2]`,
	`{"a":1} x`, ``, `  `, `{'a':1}`, `{"a":1,"a":2}`, `/*c*/ {}`, `{} // c`, `1e400`, `-1e400`, `-0`, `01`, `-01`,
	`0.5`, `1.`, `.5`, `1.e5`, `1E5`, `1e+`, `1e+5`, `-0.0e-0`, `-`, `- 1`, `-i`, `0x10`, `1_000`, `[1] [2]`,
	`"\x"`, "\"\t\"", "\"\x7f\"", "\x7f", "\"a\x00b\"", "1\x00", "\x00", "\x0b1", "\x0c1", "1\x0c",
	`"\/"`, `"\u00e9"`, `"\u00G9"`, `"\u00e"`, `"\ud800"`, `"\udc00"`, `"\ud800\udc00"`, `"\ud800\u0041"`, `"\ud800x"`,
	`"\uD83D\uDE00"`, "\"\u2028\"", "\"é\"", "é", "\ufeff{}", "\r\n1\r\n", `{"a" : 1 , "b":[ ] }`, `{"a"}`, `{1:2}`,
	`{"a":}`, `{"a"`, `{"a":1`, `[`, `]`, `{`, `}`, `"abc`, `truefalse`, `[true,]`, `nul`, `tru`, `NULL`, `True`,
	`{"a":NaN}`, `{"a":-inf,}`, `[nan]`, `[-Infinity, 1]`, `{"a":{"b":[{"c":null}]}}`, `[[[]]]`, `[{}]`, `[{},]`,
	strings.Repeat("[", 5000) + strings.Repeat("]", 5000), strings.Repeat("[", 5000) + strings.Repeat("]", 4999),
	`{"not json`, `{not json`,
}

// jsonAtoms are the pieces random candidates are made of.
var jsonAtoms = []string{
	"{", "}", "[", "]", ",", ":", `"`, `\`, `\u`, "d800", "dc00", "00e9", "0", "1", "9", "-", "+", ".", "e", "E",
	"nan", "NaN", "inf", "Infinity", "true", "fals", "null", "x", " ", "\t", "\n", "\r", "\x01", "é", `"a"`, `"k":`,
	"\x00", "'", "/",
}

// TestJSONSyntaxMatchesDuckDB holds jsonSyntaxError to DuckDB: a value is
// accepted exactly when DuckDB's json_valid accepts it and a cast to its
// JSON type succeeds, over the corpus, random strings of JSON pieces and
// one-byte mutations of valid documents.
func TestJSONSyntaxMatchesDuckDB(t *testing.T) {
	db, err := duck.Open(duck.Options{Threads: 1})
	require.NoError(t, err)
	defer func() { _ = db.Close() }()
	c, err := db.Connect()
	require.NoError(t, err)
	defer c.Close()
	p, err := c.Prepare("SELECT json_valid($1), TRY_CAST($1 AS JSON) IS NOT NULL")
	require.NoError(t, err)
	defer p.Close()
	duckValid := func(s string) bool {
		rows, err := p.Query(s)
		require.NoError(t, err)
		defer rows.Close()
		rec := rows.Next()
		require.NotNil(t, rec, "%q", s)
		defer rec.Release()
		valid := rec.Column(0).(*array.Boolean).Value(0)
		require.Equal(t, valid, rec.Column(1).(*array.Boolean).Value(0), "json_valid and the JSON cast disagree on %q", s)
		return valid
	}
	check := func(s string) {
		t.Helper()
		if !utf8.ValidString(s) {
			return // DuckDB's VARCHAR cannot hold it
		}
		reason := jsonSyntaxError(s)
		require.Equal(t, duckValid(s), reason == "", "%q: ours says %q", s, reason)
	}
	for _, s := range jsonCorpus {
		check(s)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var valid []string
	for range 3000 {
		var b strings.Builder
		for range 1 + rng.IntN(10) {
			b.WriteString(jsonAtoms[rng.IntN(len(jsonAtoms))])
		}
		s := b.String()
		check(s)
		if jsonSyntaxError(s) == "" {
			valid = append(valid, s)
		}
	}
	for _, s := range jsonCorpus {
		if jsonSyntaxError(s) == "" && len(s) < 100 {
			valid = append(valid, s)
		}
	}
	require.NotEmpty(t, valid)
	for range 3000 {
		s := []byte(valid[rng.IntN(len(valid))])
		i := rng.IntN(len(s) + 1)
		a := jsonAtoms[rng.IntN(len(jsonAtoms))]
		switch rng.IntN(3) {
		case 0: // insert
			s = append(s[:i:i], append([]byte(a), s[i:]...)...)
		case 1: // delete
			if i < len(s) {
				s = append(s[:i:i], s[i+1:]...)
			}
		default: // replace
			if i < len(s) {
				s = append(s[:i:i], append([]byte(a), s[i+1:]...)...)
			}
		}
		check(string(s))
	}
}

// TestJSONSyntaxInvalidUTF8: DuckDB cannot even hold such text; the JSON
// reader (yyjson) refuses it inside strings, and so do we.
func TestJSONSyntaxInvalidUTF8(t *testing.T) {
	for _, s := range []string{"\"\xff\"", "\"\xed\xa0\x80\"", "\"\xc0\xaf\"", "\xff", "\"\xe2\x82\""} {
		require.NotEqual(t, "", jsonSyntaxError(s), "%q", s)
	}
}
