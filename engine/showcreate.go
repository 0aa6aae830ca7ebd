//go:build duckdb_arrow

package engine

import (
	"fmt"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/kalamdb/kalamdb-go/catalog"
	"github.com/kalamdb/kalamdb-go/engine/duck"
)

var showCreateSchema = arrow.NewSchema([]arrow.Field{
	{Name: "table_name", Type: arrow.BinaryTypes.String},
	{Name: "create_statement", Type: arrow.BinaryTypes.String},
}, nil)

// showCreateTable answers SHOW CREATE TABLE: the statement that creates the
// table as it is now (columns after every ALTER, the WITH options given).
func (e *Engine) showCreateTable(t *catalog.TableDef) *Result {
	rb := newRowsBuilder(showCreateSchema)
	rb.add(t.ID.String(), createStatement(t, e.keywords))
	rec := rb.record()
	return recordsResult(rec.Schema(), []arrow.RecordBatch{rec})
}

// createStatement renders t as CREATE <type> TABLE ns.t (…) [WITH (…)];
// names are quoted where they need it (keywords: DuckDB's, lower case).
func createStatement(t *catalog.TableDef, keywords map[string]bool) string {
	sqlName := func(s string) string { return sqlName(s, keywords) }
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE %s TABLE %s.%s (", t.Type, sqlName(string(t.ID.Namespace)), sqlName(string(t.ID.Name)))
	for i, c := range t.Columns {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "\n  %s %s", sqlName(c.Name), c.Type)
		if c.PrimaryKey {
			b.WriteString(" PRIMARY KEY")
		} else if c.NotNull {
			b.WriteString(" NOT NULL")
		}
		if d := c.Default.String(); d != "" {
			b.WriteString(" DEFAULT " + d)
		}
	}
	b.WriteString("\n)")
	if len(t.Options) > 0 {
		keys := slices.Sorted(func(yield func(string) bool) {
			for k := range t.Options {
				if !yield(k) {
					return
				}
			}
		})
		parts := make([]string, len(keys))
		for i, k := range keys {
			v := t.Options[k]
			if _, err := fmt.Sscan(v, new(int64)); err == nil && !strings.ContainsAny(v, " ,:") {
				parts[i] = k + "=" + v
			} else {
				parts[i] = k + "='" + strings.ReplaceAll(v, "'", "''") + "'"
			}
		}
		b.WriteString(" WITH (" + strings.Join(parts, ", ") + ")")
	}
	return b.String() + ";"
}

// sqlName is an identifier as SQL text: bare when it is a plain lower-case
// name that is no keyword, else quoted.
func sqlName(s string, keywords map[string]bool) string {
	if keywords[s] {
		return duck.QuoteIdent(s)
	}
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || i > 0 && r >= '0' && r <= '9') {
			return duck.QuoteIdent(s)
		}
	}
	if s == "" {
		return duck.QuoteIdent(s)
	}
	return s
}
