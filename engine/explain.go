//go:build duckdb_arrow

package engine

import (
	"context"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/kalamdb/kalamdb-go/engine/sqlparse"
)

// explainSchema is EXPLAIN's result: DuckDB's (explain_key, explain_value).
var explainSchema = arrow.NewSchema([]arrow.Field{
	{Name: "explain_key", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "explain_value", Type: arrow.BinaryTypes.String, Nullable: true},
}, nil)

// internalName matches the names the scoper makes that a plan may still
// show after the known ones are replaced.
var internalName = regexp.MustCompile(`"?__kdb_[A-Za-z0-9_]+"?`)

// Parts of made names and file names the plan's boxes wrap onto the next
// line: the hex of the random tokens, and segment file names.
var (
	hexRun      = regexp.MustCompile(`\b[0-9a-f]{16,}\b`)
	segmentFile = regexp.MustCompile(`seg-[0-9a-f]+-[0-9a-f]+\.parquet`)
)

// explain runs EXPLAIN [ANALYZE] of a query: DuckDB's plan of the query as
// the caller's scope runs it (the same relations as a SELECT, so the same
// rows), with the scoper's names replaced by the tables they stand for and
// the storage directory by <storage>. ANALYZE runs the query.
func (e *Engine) explain(ctx context.Context, sub subject, st *sqlparse.Explain, params []any) (*Result, error) {
	var scoped *scopedQuery
	prefix := "EXPLAIN "
	if st.Analyze {
		prefix = "EXPLAIN ANALYZE "
	}
	res, err := e.queryAs(ctx, sub, st.Query, params, nil, func(q *scopedQuery) string {
		scoped = q
		return prefix + q.sql
	})
	if err != nil {
		return nil, err
	}
	defer res.Close()
	res.Watch(ctx)
	b := array.NewRecordBuilder(memory.DefaultAllocator, explainSchema)
	defer b.Release()
	for rec := res.Next(); rec != nil; rec = res.Next() {
		for r := 0; r < int(rec.NumRows()); r++ {
			for c := 0; c < 2 && c < int(rec.NumCols()); c++ {
				col := rec.Column(c)
				if col.IsNull(r) {
					b.Field(c).AppendNull()
					continue
				}
				b.Field(c).(*array.StringBuilder).Append(e.scrubPlan(scoped, col.ValueStr(r)))
			}
		}
		rec.Release()
	}
	if err := res.Err(); err != nil {
		return nil, err
	}
	out := b.NewRecordBatch()
	return recordsResult(explainSchema, []arrow.RecordBatch{out}), nil
}

// scrubPlan replaces, in a plan's text, the scoped relations by the tables
// they stand for, renamed CTEs by their names, the storage directory by
// <storage>, and any other name of the scoper's by <internal>.
func (e *Engine) scrubPlan(q *scopedQuery, text string) string {
	if q != nil {
		// Longest first: a made name may prefix another.
		loads := slices.Clone(q.loads)
		slices.SortFunc(loads, func(a, b *tableLoad) int { return len(b.temp) - len(a.temp) })
		for _, l := range loads {
			text = strings.ReplaceAll(text, l.temp, padTo(l.id.String(), len(l.temp)))
		}
		renamed := slices.SortedFunc(maps.Keys(q.ctes), func(a, b string) int { return len(b) - len(a) })
		for _, r := range renamed {
			text = strings.ReplaceAll(text, r, padTo(q.ctes[r], len(r)))
		}
	}
	text = blankFilenames(text)
	if e.opts.ColdDir != "" {
		text = strings.ReplaceAll(text, e.opts.ColdDir, padTo("<storage>", len(e.opts.ColdDir)))
	}
	for _, r := range []struct {
		re   *regexp.Regexp
		with string
	}{{internalName, "<internal>"}, {segmentFile, "<segment>"}, {hexRun, "<internal>"}} {
		text = r.re.ReplaceAllStringFunc(text, func(m string) string { return padTo(r.with, len(m)) })
	}
	return text
}

// padTo pads s with spaces to n bytes, so that a plan's boxes stay aligned
// where a shorter name replaces a longer one.
func padTo(s string, n int) string {
	if len(s) >= n {
		return s
	}
	return s + strings.Repeat(" ", n-len(s))
}

// blankFilenames empties the "Filename(s):" entries of EXPLAIN ANALYZE's
// boxes, whose file paths the renderer wraps over many lines (so no
// replacement of the storage directory could catch them): the lines below
// the entry, within its box, are blanked until the box's next empty line,
// and the first says <segments>.
func blankFilenames(text string) string {
	lines := strings.Split(text, "\n")
	rs := make([][]rune, len(lines))
	for i, l := range lines {
		rs[i] = []rune(l)
	}
	for i, l := range rs {
		at := runeIndex(l, []rune("Filename(s):"))
		if at < 0 {
			continue
		}
		left, right := at, at
		for left > 0 && l[left-1] != '│' {
			left--
		}
		for right < len(l) && l[right] != '│' {
			right++
		}
		for j := i + 1; j < len(rs); j++ {
			row := rs[j]
			if right > len(row) || strings.TrimSpace(string(row[left:right])) == "" {
				break
			}
			fill := []rune(strings.Repeat(" ", right-left))
			if j == i+1 {
				label := []rune("<segments>")
				pad := (right - left - len(label)) / 2
				if pad >= 0 {
					copy(fill[pad:], label)
				}
			}
			copy(row[left:right], fill)
		}
	}
	for i := range lines {
		lines[i] = string(rs[i])
	}
	return strings.Join(lines, "\n")
}

// runeIndex is strings.Index over runes.
func runeIndex(s, sub []rune) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if string(s[i:i+len(sub)]) == string(sub) {
			return i
		}
	}
	return -1
}
