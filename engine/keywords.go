//go:build duckdb_arrow

package engine

import (
	"fmt"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/kalamdb/kalamdb-go/catalog"
)

// loadKeywords reads the keywords DuckDB's parser takes for syntax, not
// names, wherever they stand unquoted: its reserved and type_function
// keywords (order, select, at, join, …). DuckDB's own CREATE TABLE refuses
// them as column names unless quoted, and so does ours (see
// checkColumnName): a table with such a column would otherwise be created
// and then fail every query that names it with a bare syntax error.
func (e *Engine) loadKeywords() error {
	c, err := e.conn()
	if err != nil {
		return err
	}
	rows, err := c.Query("SELECT keyword_name FROM duckdb_keywords() WHERE keyword_category IN ('reserved', 'type_function')")
	if err != nil {
		e.release(c, false)
		return fmt.Errorf("read duckdb keywords: %w", err)
	}
	recs, err := rows.All()
	rows.Close()
	e.release(c, false)
	if err != nil {
		return fmt.Errorf("read duckdb keywords: %w", err)
	}
	defer releaseAll(recs)
	e.keywords = map[string]bool{}
	for _, r := range recs {
		col := r.Column(0).(*array.String)
		for i := 0; i < col.Len(); i++ {
			// Cloned: the batch's memory is DuckDB's.
			e.keywords[strings.ToLower(strings.Clone(col.Value(i)))] = true
		}
	}
	return nil
}

// checkColumnName refuses an unquoted column name that is a keyword.
func (e *Engine) checkColumnName(name string, quoted bool) error {
	if quoted || !e.keywords[strings.ToLower(name)] {
		return nil
	}
	return catalog.Errorf(catalog.KindInvalid,
		"column name %s is an SQL keyword: write it quoted, \"%s\", here and in every query that names it (as DuckDB and PostgreSQL require), or choose another name",
		name, name)
}

// keywordHint adds to a query's syntax error advice to quote the columns
// it names unquoted that are keywords, of the tables it names that the
// subject may read.
func (e *Engine) keywordHint(sub subject, sql string, err error) error {
	words := unquotedWords(sql)
	var hints []string
	seen := map[string]bool{}
	for _, t := range e.reg.tables("") {
		if !words[strings.ToLower(string(t.ID.Name))] || checkRead(sub, t) != nil {
			continue
		}
		for _, c := range t.Columns {
			n := strings.ToLower(c.Name)
			if e.keywords[n] && words[n] && !seen[c.Name] {
				seen[c.Name] = true
				hints = append(hints, fmt.Sprintf("\"%s\"", c.Name))
			}
		}
	}
	if len(hints) == 0 {
		return err
	}
	sort.Strings(hints)
	return catalog.Errorf(catalog.KindOf(err), "%s (column names that are SQL keywords must be quoted: write %s)", err.Error(), strings.Join(hints, ", "))
}

// unquotedWords returns the lower-cased identifier-like words of sql that
// are outside string literals, quoted identifiers and comments.
func unquotedWords(sql string) map[string]bool {
	words := map[string]bool{}
	for i := 0; i < len(sql); {
		c := sql[i]
		switch {
		case c == '\'' || c == '"':
			j := i + 1
			for j < len(sql) {
				if sql[j] == c {
					if j+1 < len(sql) && sql[j+1] == c {
						j += 2
						continue
					}
					break
				}
				j++
			}
			i = j + 1
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-':
			for i < len(sql) && sql[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			end := strings.Index(sql[i+2:], "*/")
			if end < 0 {
				return words
			}
			i += end + 4
		case c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z'):
			j := i
			for j < len(sql) && (sql[j] == '_' || (sql[j]|0x20 >= 'a' && sql[j]|0x20 <= 'z') || (sql[j] >= '0' && sql[j] <= '9')) {
				j++
			}
			words[strings.ToLower(sql[i:j])] = true
			i = j
		case c >= '0' && c <= '9':
			for i < len(sql) && (sql[i] == '_' || sql[i] == '.' || (sql[i]|0x20 >= 'a' && sql[i]|0x20 <= 'z') || (sql[i] >= '0' && sql[i] <= '9')) {
				i++
			}
		default:
			i++
		}
	}
	return words
}
