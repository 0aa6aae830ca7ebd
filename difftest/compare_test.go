//go:build duckdb_arrow

package difftest

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"
)

// mode is how a step reaches the server (and what is compared).
type mode uint8

const (
	// modeExec is ExecuteUpdate (DoPut): DDL, DML without RETURNING,
	// BEGIN/COMMIT/ROLLBACK. The row count is compared for DML.
	modeExec mode = iota
	// modeQuery is ExecuteQuery: SELECT and DML … RETURNING. Schema and
	// rows are compared.
	modeQuery
	// modeFlush, modeCompact and modeFold are STORAGE FLUSH TABLE,
	// STORAGE COMPACT TABLE and both in turn (what a fold job does) on the
	// step's table, waiting for the job; DuckDB does nothing.
	modeFlush
	modeCompact
	modeFold
)

// nsToken stands for the run's namespace in a step's SQL: each run (and each
// replay while shrinking) uses a namespace of its own on the shared server.
// The generator never produces "{" in a value.
const nsToken = "{ns}"

// step is one statement of a workload.
type step struct {
	// id is the step's position in the generated workload, kept while
	// shrinking removes other steps.
	id   int
	mode mode
	// sql is the server's statement (the table for flush/compact/fold).
	sql string
	// ref is DuckDB's statement when it differs (CREATE TABLE's dialect).
	ref string
	// prepared sends sql as a Flight SQL prepared statement, run once per
	// row of params (once, unbound, when params is empty).
	prepared bool
	params   [][]any
	// ordered means ORDER BY gives the result a total order: rows are
	// compared in order; otherwise as multisets.
	ordered bool
	// dml compares the affected-row count of a modeExec step.
	dml bool
	// values is the statement in parts when it is an INSERT … VALUES
	// (sql is then values.String()).
	values *insertValues
	// create is the statement in parts when it is a CREATE TABLE.
	create *createTable
	// signlessZero compares 0.0 and -0.0 as equal: for grouped, distinct
	// and min/max results over floats, where DuckDB keeps whichever zero it
	// meets first (an order no two plans share).
	signlessZero bool
}

func (s *step) serverSQL(ns string) string { return strings.ReplaceAll(s.sql, nsToken, ns) }

func (s *step) refSQL(ns string) string {
	if s.ref != "" {
		return strings.ReplaceAll(s.ref, nsToken, ns)
	}
	return s.serverSQL(ns)
}

// String renders the step as SQL for a reproduction (namespace fz).
func (s *step) String() string {
	sql := s.serverSQL("fz")
	switch s.mode {
	case modeFlush:
		return "STORAGE FLUSH TABLE " + sql + ";  -- and wait for the job"
	case modeCompact:
		return "STORAGE COMPACT TABLE " + sql + ";  -- and wait for the job"
	case modeFold:
		return "STORAGE FLUSH TABLE " + sql + "; STORAGE COMPACT TABLE " + sql + ";  -- fold: flush, then compact"
	}
	out := sql + ";"
	if s.prepared {
		var runs []string
		for _, p := range s.params {
			runs = append(runs, paramsString(p))
		}
		out += "  -- prepared"
		if len(runs) > 0 {
			out += ", run with " + strings.Join(runs, ", then ")
		}
	}
	if s.ref != "" {
		out += "\n    -- DuckDB: " + s.refSQL("fz") + ";"
	}
	return out
}

func paramsString(p []any) string {
	parts := make([]string, len(p))
	for i, v := range p {
		switch x := v.(type) {
		case nil:
			parts[i] = "NULL"
		case string:
			parts[i] = "'" + strings.ReplaceAll(x, "'", "''") + "'"
		case []byte:
			parts[i] = "x'" + hex.EncodeToString(x) + "'"
		case float64:
			parts[i] = strconv.FormatFloat(x, 'g', -1, 64) + "::DOUBLE"
		default:
			parts[i] = fmt.Sprint(v)
		}
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// outcome is what one side answered.
type outcome struct {
	err      error
	count    int64
	hasCount bool
	schema   *arrow.Schema
	rows     [][]string
}

// recordRows renders a batch's rows as canonical cell text: exact for
// integers, decimals, strings, bytes and temporal values; floats are their
// shortest round-trip spelling (bit-exact, -0 kept, every NaN one "NaN").
func recordRows(rec arrow.RecordBatch, signlessZero bool) [][]string {
	out := make([][]string, rec.NumRows())
	for r := range out {
		row := make([]string, rec.NumCols())
		for c, col := range rec.Columns() {
			row[c] = cell(col, r, signlessZero)
		}
		out[r] = row
	}
	return out
}

func cell(col arrow.Array, r int, signlessZero bool) string {
	if col.IsNull(r) {
		return "NULL"
	}
	float := func(f float64, bits int) string {
		switch {
		case math.IsNaN(f):
			return "NaN"
		case f == 0 && signlessZero:
			return "0"
		}
		return strconv.FormatFloat(f, 'g', -1, bits)
	}
	switch a := col.(type) {
	case *array.Float64:
		return float(a.Value(r), 64)
	case *array.Float32:
		return float(float64(a.Value(r)), 32)
	case *array.String:
		return strconv.Quote(a.Value(r))
	case *array.LargeString:
		return strconv.Quote(a.Value(r))
	case *array.StringView:
		return strconv.Quote(a.Value(r))
	case *array.Binary:
		return `x'` + hex.EncodeToString(a.Value(r)) + `'`
	case *array.LargeBinary:
		return `x'` + hex.EncodeToString(a.Value(r)) + `'`
	case *array.BinaryView:
		return `x'` + hex.EncodeToString(a.Value(r)) + `'`
	case *array.Timestamp:
		unit := a.DataType().(*arrow.TimestampType).Unit
		v := a.Value(r)
		if t := v.ToTime(unit); t.Year() >= 1 && t.Year() <= 9999 {
			return t.UTC().Format("2006-01-02 15:04:05.999999999")
		}
		return fmt.Sprintf("timestamp(%d %s)", v, unit)
	case *array.List:
		return nested(a.ListValues(), a.ValueOffsets, r, signlessZero)
	case *array.LargeList:
		return nested(a.ListValues(), func(i int) (int64, int64) { return a.ValueOffsets(i) }, r, signlessZero)
	case *array.FixedSizeList:
		return nested(a.ListValues(), func(i int) (int64, int64) { return a.ValueOffsets(i) }, r, signlessZero)
	case *array.Struct:
		st := a.DataType().(*arrow.StructType)
		parts := make([]string, a.NumField())
		for i := range parts {
			parts[i] = st.Field(i).Name + ": " + cell(a.Field(i), r, signlessZero)
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case *array.Date32:
		if t := a.Value(r).ToTime(); t.Year() >= 1 && t.Year() <= 9999 {
			return t.Format("2006-01-02")
		}
		return fmt.Sprintf("date32(%d)", a.Value(r))
	}
	return col.ValueStr(r)
}

// nested renders a list's elements with cell (Arrow's ValueStr prints an
// empty binary value as null once it has crossed IPC without a data buffer).
func nested(values arrow.Array, offsets func(int) (int64, int64), r int, signlessZero bool) string {
	start, end := offsets(r)
	parts := make([]string, 0, end-start)
	for i := start; i < end; i++ {
		parts = append(parts, cell(values, int(i), signlessZero))
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// difference describes how the two sides disagreed on a step.
type difference struct {
	// kind classifies the disagreement; shrinking keeps it.
	kind   string
	detail string
	// errClass is the class of the failing side's error ("Conversion
	// Error", "TransactionContext Error", …): shrinking keeps it too, so
	// that a reproduction does not drift from one defect to another.
	errClass string
}

// errorClass is the DuckDB error class an error message starts with, past
// the Flight and ADBC prefixes ("Invalid Argument: [FlightSQL] …").
func errorClass(err error) string {
	msg := err.Error()
	if _, rest, ok := strings.Cut(msg, "[FlightSQL] "); ok {
		msg = rest
	}
	class, _, _ := strings.Cut(msg, ":")
	return class
}

// compare returns nil when the server's answer matches DuckDB's.
func compare(st *step, ref, srv outcome) *difference {
	switch {
	case ref.err != nil && srv.err != nil:
		return nil // both fail: messages and codes are the server's own
	case ref.err != nil:
		return &difference{"DuckDB fails, the server does not", fmt.Sprintf("DuckDB: %v\nserver: %s", ref.err, srv.summary()), errorClass(ref.err)}
	case orderDependentOverflow(st.sql, ref.err) || orderDependentOverflow(st.sql, srv.err):
		// DuckDB sums DECIMAL(38, s) in a HUGEINT: whether a running
		// total overflows depends on the order of the rows, which the
		// server's tiers change. DuckDB itself answers either way.
		return nil
	case srv.err != nil && isCommit(st.sql) && strings.Contains(srv.err.Error(), "nothing was committed"):
		// COMMIT of a transaction a failed statement aborted: DuckDB
		// answers it as a success and rolls back; the server rolls back
		// and says so (issue 13, as PostgreSQL does). Later reads compare
		// what either kept.
		return nil
	case srv.err != nil:
		return &difference{"the server fails, DuckDB does not", fmt.Sprintf("server: %v\nDuckDB: %s", srv.err, ref.summary()), errorClass(srv.err)}
	}
	if st.mode != modeQuery {
		if st.dml && ref.count != srv.count {
			return &difference{"row counts differ", fmt.Sprintf("DuckDB: %d rows affected\nserver: %d rows affected", ref.count, srv.count), ""}
		}
		return nil
	}
	if d := compareSchemas(ref.schema, srv.schema); d != "" {
		return &difference{"result schemas differ", d, ""}
	}
	rr, sr := ref.rows, srv.rows
	if !st.ordered {
		rr, sr = sortedRows(rr), sortedRows(sr)
	}
	if len(rr) != len(sr) {
		return &difference{"row counts differ", fmt.Sprintf("DuckDB: %d rows\n%s\nserver: %d rows\n%s", len(rr), rowsString(rr), len(sr), rowsString(sr)), ""}
	}
	for i := range rr {
		if !slices.Equal(rr[i], sr[i]) {
			return &difference{"rows differ", fmt.Sprintf("first differing row %d\nDuckDB: %s\nserver: %s\nDuckDB rows:\n%s\nserver rows:\n%s",
				i, strings.Join(rr[i], " | "), strings.Join(sr[i], " | "), rowsString(rr), rowsString(sr)), ""}
		}
	}
	return nil
}

// compareSchemas compares column names and Arrow types (not nullability or
// metadata, which Flight adds).
func compareSchemas(ref, srv *arrow.Schema) string {
	names := func(s *arrow.Schema) string {
		if s == nil {
			return "<none>"
		}
		parts := make([]string, s.NumFields())
		for i, f := range s.Fields() {
			parts[i] = f.Name + " " + f.Type.String()
		}
		return strings.Join(parts, ", ")
	}
	if a, b := names(ref), names(srv); a != b {
		return "DuckDB: " + a + "\nserver: " + b
	}
	return ""
}

func sortedRows(rows [][]string) [][]string {
	out := slices.Clone(rows)
	slices.SortFunc(out, func(a, b []string) int { return slices.Compare(a, b) })
	return out
}

func rowsString(rows [][]string) string {
	const max = 20
	var b strings.Builder
	for i, r := range rows {
		if i == max {
			fmt.Fprintf(&b, "  … %d more\n", len(rows)-max)
			break
		}
		b.WriteString("  " + strings.Join(r, " | ") + "\n")
	}
	return b.String()
}

func (o outcome) summary() string {
	if o.err != nil {
		return "error: " + o.err.Error()
	}
	if o.schema == nil || o.hasCount {
		return fmt.Sprintf("ok (%d rows affected)", o.count)
	}
	return fmt.Sprintf("%d rows\n%s", len(o.rows), rowsString(o.rows))
}

// TestCompare pins what counts as a difference.
func TestCompare(t *testing.T) {
	bad := errors.New("boom")
	q := func(rows ...[]string) outcome { return outcome{rows: rows} }
	cases := []struct {
		name string
		st   step
		ref  outcome
		srv  outcome
		kind string // "" = no difference
	}{
		{"both fail", step{mode: modeQuery}, outcome{err: bad}, outcome{err: errors.New("other message")}, ""},
		{"server fails", step{mode: modeQuery}, q(), outcome{err: bad}, "the server fails, DuckDB does not"},
		{"DuckDB fails", step{mode: modeExec}, outcome{err: bad}, outcome{}, "DuckDB fails, the server does not"},
		{"counts", step{mode: modeExec, dml: true}, outcome{count: 2}, outcome{count: 3}, "row counts differ"},
		{"DDL counts ignored", step{mode: modeExec}, outcome{count: 0}, outcome{count: 1}, ""},
		{"unordered", step{mode: modeQuery}, q([]string{"1"}, []string{"2"}), q([]string{"2"}, []string{"1"}), ""},
		{"ordered", step{mode: modeQuery, ordered: true}, q([]string{"1"}, []string{"2"}), q([]string{"2"}, []string{"1"}), "rows differ"},
		{"multiset", step{mode: modeQuery}, q([]string{"1"}, []string{"1"}), q([]string{"1"}), "row counts differ"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := compare(&c.st, c.ref, c.srv)
			if c.kind == "" {
				require.Nil(t, d)
				return
			}
			require.NotNil(t, d)
			require.Equal(t, c.kind, d.kind)
		})
	}
}

// TestCell pins the canonical rendering: floats bit for bit (one NaN,
// signed zeros apart unless asked), empty bytes inside lists not null.
func TestCell(t *testing.T) {
	b := array.NewFloat64Builder(memory.DefaultAllocator)
	defer b.Release()
	x, y := 0.1, 0.2
	b.AppendValues([]float64{math.Copysign(0, -1), 0, math.NaN(), -math.NaN(), x + y, math.Inf(-1)}, nil)
	b.AppendNull()
	a := b.NewFloat64Array()
	defer a.Release()
	var got, signless []string
	for i := 0; i < a.Len(); i++ {
		got = append(got, cell(a, i, false))
		signless = append(signless, cell(a, i, true))
	}
	require.Equal(t, []string{"-0", "0", "NaN", "NaN", "0.30000000000000004", "-Inf", "NULL"}, got)
	require.Equal(t, []string{"0", "0", "NaN", "NaN", "0.30000000000000004", "-Inf", "NULL"}, signless)

	lb := array.NewListBuilder(memory.DefaultAllocator, arrow.BinaryTypes.Binary)
	defer lb.Release()
	lb.Append(true)
	lb.ValueBuilder().(*array.BinaryBuilder).Append([]byte{})
	lb.ValueBuilder().(*array.BinaryBuilder).AppendNull()
	l := lb.NewListArray()
	defer l.Release()
	require.Equal(t, "[x'', NULL]", cell(l, 0, false))
}

// isCommit reports whether sql is a COMMIT (or END) statement.
func isCommit(sql string) bool {
	w := strings.ToUpper(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(sql), ";")))
	return w == "COMMIT" || w == "END" || w == "COMMIT TRANSACTION" || w == "END TRANSACTION"
}

// orderDependentOverflow reports an overflow of a sum or average's running
// total, which depends on the order rows arrive in.
func orderDependentOverflow(sql string, err error) bool {
	if err == nil || !strings.Contains(err.Error(), "Overflow in HUGEINT addition") {
		return false
	}
	low := strings.ToLower(sql)
	return strings.Contains(low, "sum(") || strings.Contains(low, "avg(")
}
