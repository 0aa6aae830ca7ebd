//go:build duckdb_arrow

package main

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"strings"
	"testing"

	"github.com/apache/arrow-adbc/go/adbc"
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"

	"github.com/kalamdb/kalamdb-go/engine/duck"
)

// refDB is a plain DuckDB in process: the reference every statement's
// outcome is compared with.
type refDB struct {
	t *testing.T
	c *duck.Conn
}

func newRefDB(t *testing.T) *refDB {
	t.Helper()
	d, err := duck.Open(duck.Options{Threads: 1, AllowedDirs: []string{t.TempDir()}})
	require.NoError(t, err)
	c, err := d.Connect()
	require.NoError(t, err)
	t.Cleanup(func() { c.Close(); _ = d.Close() })
	return &refDB{t: t, c: c}
}

func (r *refDB) exec(sql string, params ...any) error { return r.c.Exec(sql, params...) }

func (r *refDB) mustExec(sql string) {
	r.t.Helper()
	require.NoError(r.t, r.c.Exec(sql), sql)
}

// query returns the result's schema and its rows in canonical form.
func (r *refDB) query(sql string) (*arrow.Schema, [][]string, error) {
	rows, err := r.c.Query(sql)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	recs, err := rows.All()
	if err != nil {
		return nil, nil, err
	}
	defer func() {
		for _, rec := range recs {
			rec.Release()
		}
	}()
	return rows.Schema(), canonRows(recs), nil
}

func (r *refDB) mustQuery(sql string) [][]string {
	r.t.Helper()
	_, rows, err := r.query(sql)
	require.NoError(r.t, err, sql)
	return rows
}

// canonRows renders values exactly: floating-point numbers by their bits
// (so 0.0 and -0.0, or two neighbouring doubles, differ), timestamps by
// their integer value.
func canonRows(recs []arrow.RecordBatch) [][]string {
	var out [][]string
	for _, rec := range recs {
		for r := 0; r < int(rec.NumRows()); r++ {
			row := make([]string, rec.NumCols())
			for i, col := range rec.Columns() {
				row[i] = canonValue(col, r)
			}
			out = append(out, row)
		}
	}
	return out
}

func canonValue(col arrow.Array, r int) string {
	if col.IsNull(r) {
		return "NULL"
	}
	switch a := col.(type) {
	case *array.Float64:
		return fmt.Sprintf("%v (%016x)", a.Value(r), math.Float64bits(a.Value(r)))
	case *array.Float32:
		return fmt.Sprintf("%v (%08x)", a.Value(r), math.Float32bits(a.Value(r)))
	case *array.Timestamp:
		return fmt.Sprintf("%d", a.Value(r))
	case *array.String:
		return "'" + a.Value(r) + "'"
	}
	return col.ValueStr(r)
}

// canonQuery runs a query on the server and renders it as canonRows does.
func (c *client) canonQuery(sql string) ([][]string, *arrow.Schema, error) {
	stmt, err := c.conn.NewStatement()
	if err != nil {
		return nil, nil, err
	}
	defer stmt.Close()
	if err := stmt.SetSqlQuery(sql); err != nil {
		return nil, nil, err
	}
	rdr, _, err := stmt.ExecuteQuery(context.Background())
	if err != nil {
		return nil, nil, err
	}
	defer rdr.Release()
	var recs []arrow.RecordBatch
	for rdr.Next() {
		rec := rdr.RecordBatch()
		rec.Retain()
		recs = append(recs, rec)
	}
	defer func() {
		for _, rec := range recs {
			rec.Release()
		}
	}()
	if err := rdr.Err(); err != nil {
		return nil, nil, err
	}
	return canonRows(recs), rdr.Schema(), nil
}

func (c *client) mustCanon(sql string) [][]string {
	c.t.Helper()
	rows, _, err := c.canonQuery(sql)
	require.NoError(c.t, err, sql)
	return rows
}

// rowIDs finds the id that starts each row of a VALUES list.
var rowIDs = regexp.MustCompile(`\((\d+),`)

// valuesColumns are the columns of the tables the value tests write, in
// KalamDB's and DuckDB's spelling of the same types.
const (
	valuesColumnsKalam = "id BIGINT PRIMARY KEY, f DOUBLE, r FLOAT, t TEXT, ts TIMESTAMP, d DATE, tm TIME, n DECIMAL(10,3), i INT, si SMALLINT, b BOOLEAN"
	valuesColumnsDuck  = "id BIGINT PRIMARY KEY, f DOUBLE, r FLOAT, t VARCHAR, ts TIMESTAMP, d DATE, tm TIME, n DECIMAL(10,3), i INTEGER, si SMALLINT, b BOOLEAN"
)

// TestValuesMatchDuckDB runs statements on the server and on a plain DuckDB
// table of the same types and requires the same outcome: the values stored
// (bit for bit), the rows found, the rows changed, the columns returned,
// or an error where DuckDB gives one. One server for all its parts (a
// server start costs seconds under -race).
func TestValuesMatchDuckDB(t *testing.T) {
	ts := startServer(t, t.TempDir())
	root := connect(t, ts.addr, "root", testRootPassword)
	// root's rows of a USER table are its own partition, like any user's
	// (another user would cost seconds of bcrypt under -race).
	t.Run("insert values", func(t *testing.T) { testInsertValues(t, root.with(t)) })
	t.Run("prepared insert and update", func(t *testing.T) { testWrites(t, root.with(t)) })
	t.Run("bulk ingest", func(t *testing.T) { testIngest(t, root.with(t)) })
	t.Run("key predicates", func(t *testing.T) { testKeyPredicates(t, root.with(t)) })
	t.Run("returning", func(t *testing.T) { testReturning(t, root.with(t)) })
}

// with is c reporting failures to t (a subtest).
func (c *client) with(t testing.TB) *client {
	cc := *c
	cc.t = t
	return &cc
}

// testInsertValues writes VALUES lists mixing literal kinds, and numbers
// spelled every way, into a SHARED and a USER table, and requires each
// table to hold exactly what DuckDB's own INSERT of the same statement
// stores, and to refuse what DuckDB refuses.
func testInsertValues(t *testing.T, root *client) {
	root.mustExec("CREATE NAMESPACE vals")
	root.mustExec("CREATE SHARED TABLE vals.s (" + valuesColumnsKalam + ")")
	root.mustExec("CREATE USER TABLE vals.u (" + valuesColumnsKalam + ")")
	ref := newRefDB(t)
	ref.mustExec("CREATE TABLE v (" + valuesColumnsDuck + ")")

	tests := []struct{ cols, values string }{
		// One column, literals of several kinds (the cases).
		{"id, f", "(1, 0), (2, '0.75')"},
		{"id, f", "(3, 2.5), (4, '1e-3')"},
		{"id, f", "(5, 'NaN'), (6, 1.5)"},
		{"id, f", "(7, true), (8, 1.5)"},
		{"id, t", "(10, 2), (11, 1.5)"},
		{"id, t", "(12, 2.00), (13, 1.0), (14, 1e3), (15, true), (16, DATE '2024-01-02'), (17, 'x')"},
		{"id, ts", "(20, DATE '2024-01-02'), (21, '2024-01-02 10:11:12')"},
		{"id, ts", "(22, 'x'), (23, TIMESTAMP '2024-03-04 05:06:07')"},
		{"id, ts", "(24, '2024-03-04 05:06:07.25'), (25, TIMESTAMP '2024-03-04 05:06:07')"},
		// DOUBLE spellings: more than 15 significant digits, zeros, range.
		{"id, f", "(30, 0.86688874127962938)"},
		{"id, f", "(31, -51.200694488441858), (32, 9736241775966517.3), (33, 0.1365221118245472606), (34, 0.30000000000000004)"},
		{"id, f", "(35, 0.86688874127962938), (36, '0.86688874127962938')"},
		{"id, f", "(37, -0.0), (38, -0), (39, -0e0), (40, -0.000), (41, 0.0)"},
		{"id, f", "(42, '-0.0'), (43, -0.0)"},
		{"id, f", "(44, 9007199254740993), (45, 123456789012345678901234567890), (46, 1.5e-310), (47, 12345678901234567890123456789012345678901.5)"},
		{"id, f", "(49, 0.1), (50, 'x')"},
		// FLOAT: DuckDB's DECIMAL → FLOAT cast is not correctly rounded.
		{"id, r", "(60, 40.646822), (61, 5.8853557), (62, 0.182286022), (63, 16777217), (64, 0.1), (65, -0.0)"},
		{"id, r", "(66, 1e39)"},
		{"id, r", "(67, 3.4e38), (68, 1.5e-45), (69, 1.5e-3)"},
		// DECIMAL(10,3): exact, rounded, out of range.
		{"id, n", "(70, 1.5), (71, -0.001), (72, 12345), (73, '2.25')"},
		{"id, n", "(74, 1.23456)"},
		{"id, n", "(75, 12345678)"},
		{"id, n", "(76, 1e2), (77, -0.0)"},
		// Temporal strings: fast-path shapes and the others.
		{"id, ts", "(80, '2024-01-02 10:11:12.1234567'), (81, '2024-01-02 1:02:03'), (82, '2024-01-02T10:11:12'), (83, '2024-01-02')"},
		{"id, ts", "(84, '1969-12-31 23:59:59.999999'), (85, '0001-01-01 00:00:00')"},
		{"id, ts", "(86, '2024-01-02 10:11:12+02')"},
		{"id, d, tm", "(90, '2024-02-29', '10:11:12.5'), (91, DATE '2024-03-01', '23:59:59.999999')"},
		{"id, d, tm", "(92, TIMESTAMP '2024-01-02 10:11:12', TIME '01:02:03'), (93, '2024-1-2', '1:2:3')"},
		{"id, d", "(94, '2023-02-29')"},
		// Integers and booleans.
		{"id, i, si, b", "(100, 3.7, 2, true), (101, '42', -0, 'false')"},
		{"id, i, si, b", "(102, 2147483648, 1, 1)"},
		{"id, i, si, b", "(103, 2.5, -1.5, 0)"},
		// Every column at once, and rows of different kinds.
		{"id, f, r, t, ts, d, tm, n, i, si, b", "(110, 1, 2, 3, '2024-01-02', '2024-01-02', '10:00:00', 4, 5, 6, true), " +
			"(111, '1.5', '2.5', 3.5, DATE '2024-01-02', TIMESTAMP '2024-01-02 03:04:05', '10:00:00.5', '4.5', '5', '6', 'yes')"},
	}
	targets := []struct {
		name  string
		c     *client
		table string
	}{{"shared", root, "vals.s"}, {"user", root, "vals.u"}}
	for _, tc := range tests {
		t.Run(tc.values, func(t *testing.T) {
			refErr := ref.exec("INSERT INTO v (" + tc.cols + ") VALUES " + tc.values)
			var idList []string
			for _, m := range rowIDs.FindAllStringSubmatch(tc.values, -1) {
				idList = append(idList, m[1])
			}
			ids := strings.Join(idList, ", ")
			want := ref.mustQuery("SELECT * FROM v WHERE id IN (" + ids + ") ORDER BY id")
			for _, tg := range targets {
				_, err := tg.c.exec("INSERT INTO " + tg.table + " (" + tc.cols + ") VALUES " + tc.values)
				if refErr != nil {
					require.Error(t, err, "%s: DuckDB refuses it: %v", tg.name, refErr)
				} else {
					require.NoError(t, err, tg.name)
				}
				got, _, err := tg.c.canonQuery("SELECT * FROM " + tg.table + " WHERE id IN (" + ids + ") ORDER BY id")
				require.NoError(t, err)
				require.Equal(t, want, got, tg.name)
			}
		})
	}
	want := ref.mustQuery("SELECT * FROM v ORDER BY id")
	require.Greater(t, len(want), 60)
	for _, tg := range targets {
		require.Equal(t, want, tg.c.mustCanon("SELECT * FROM "+tg.table+" ORDER BY id"), tg.name)
	}

	// A value is found again by the same literal that wrote it.
	for _, where := range []string{"f = 0.86688874127962938", "f = -51.200694488441858", "r = 40.646822", "f = 0", "ts = '2024-01-02 10:11:12'"} {
		want := ref.mustQuery("SELECT id FROM v WHERE " + where + " ORDER BY id")
		require.NotEmpty(t, want, where)
		for _, tg := range targets {
			require.Equal(t, want, tg.c.mustCanon("SELECT id FROM "+tg.table+" WHERE "+where+" ORDER BY id"), "%s: %s", tg.name, where)
		}
	}
}

// testWrites covers the other writers: a prepared INSERT, and UPDATE … SET,
// with values of other types than their columns.
func testWrites(t *testing.T, root *client) {
	root.mustExec("CREATE NAMESPACE wv")
	root.mustExec("CREATE SHARED TABLE wv.s (" + valuesColumnsKalam + ")")
	ref := newRefDB(t)
	ref.mustExec("CREATE TABLE v (" + valuesColumnsDuck + ")")

	// A prepared INSERT of two rows mixing parameters and literals of
	// other kinds than the columns, bound to several parameter rows.
	ctx := context.Background()
	st, err := root.conn.NewStatement()
	require.NoError(t, err)
	defer st.Close()
	const values = " VALUES (?, ?, 2, DATE '2024-01-02'), (? + 100, '0.75', 1.5, ?)"
	require.NoError(t, st.SetSqlQuery("INSERT INTO wv.s (id, f, t, ts)"+values))
	require.NoError(t, st.Prepare(ctx))
	schema := arrow.NewSchema([]arrow.Field{{Name: "a", Type: arrow.PrimitiveTypes.Int64}, {Name: "b", Type: arrow.BinaryTypes.String},
		{Name: "c", Type: arrow.PrimitiveTypes.Int64}, {Name: "d", Type: arrow.BinaryTypes.String}}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	params := [][]any{
		{int64(1), "0.86688874127962938", int64(1), "2024-01-02 10:11:12.5"},
		{int64(2), "-0.0", int64(2), "2024-01-02T01:02:03"},
		{int64(3), "1e-3", int64(3), "2024-01-02"},
	}
	for _, p := range params {
		b.Field(0).(*array.Int64Builder).Append(p[0].(int64))
		b.Field(1).(*array.StringBuilder).Append(p[1].(string))
		b.Field(2).(*array.Int64Builder).Append(p[2].(int64))
		b.Field(3).(*array.StringBuilder).Append(p[3].(string))
		require.NoError(t, ref.exec("INSERT INTO v (id, f, t, ts) VALUES ($1, $2, 2, DATE '2024-01-02'), ($3 + 100, '0.75', 1.5, $4)", p...))
	}
	rec := b.NewRecordBatch()
	b.Release()
	require.NoError(t, st.Bind(ctx, rec))
	rec.Release()
	_, err = st.ExecuteUpdate(ctx)
	require.NoError(t, err)
	require.Equal(t, ref.mustQuery("SELECT * FROM v ORDER BY id"), root.mustCanon("SELECT * FROM wv.s ORDER BY id"))

	// UPDATE … SET with literals of other kinds than the column.
	for _, set := range []string{
		"f = '1e-3', t = 2.50, n = '7.25' WHERE id = 1",
		"f = -0.0, r = 40.646822, ts = DATE '2024-05-06' WHERE id = 2",
		"f = 0.86688874127962938, i = 2.5, b = 'true' WHERE id = 3",
	} {
		require.NoError(t, ref.exec("UPDATE v SET "+set), set)
		root.mustExec("UPDATE wv.s SET " + set)
	}
	require.Equal(t, ref.mustQuery("SELECT * FROM v ORDER BY id"), root.mustCanon("SELECT * FROM wv.s ORDER BY id"))
}

// testIngest bulk-loads columns of other Arrow types than the table's and
// requires what DuckDB's INSERT … SELECT from a table of the data's own
// types stores.
func testIngest(t *testing.T, root *client) {
	root.mustExec("CREATE NAMESPACE ing")
	root.mustExec("CREATE SHARED TABLE ing.t (id BIGINT PRIMARY KEY, t TEXT, f DOUBLE, r FLOAT, ts TIMESTAMP, i INT)")
	ref := newRefDB(t)
	ref.mustExec("CREATE TABLE v (id BIGINT PRIMARY KEY, t VARCHAR, f DOUBLE, r FLOAT, ts TIMESTAMP, i INTEGER)")
	ref.mustExec("CREATE TABLE src (id INTEGER, t DOUBLE, f DECIMAL(38,20), r BIGINT, ts TIMESTAMP_NS, i DOUBLE)")

	dec := &arrow.Decimal128Type{Precision: 38, Scale: 20}
	schema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int32}, {Name: "t", Type: arrow.PrimitiveTypes.Float64},
		{Name: "f", Type: dec}, {Name: "r", Type: arrow.PrimitiveTypes.Int64},
		{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Nanosecond}}, {Name: "i", Type: arrow.PrimitiveTypes.Float64}}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for k, row := range []struct {
		t  float64
		f  string
		r  int64
		ts int64
		i  float64
	}{
		{100.0, "0.86688874127962938", 16777217, 1_700_000_000_123_456_789, 2.5},
		{0.1, "123456.78901234567890123456", -3, -1, -2.5},
		{1e20, "-0.5", 9007199254740993, 0, 7},
	} {
		b.Field(0).(*array.Int32Builder).Append(int32(k + 1))
		b.Field(1).(*array.Float64Builder).Append(row.t)
		d, err := decimal128.FromString(row.f, dec.Precision, dec.Scale)
		require.NoError(t, err)
		b.Field(2).(*array.Decimal128Builder).Append(d)
		b.Field(3).(*array.Int64Builder).Append(row.r)
		b.Field(4).(*array.TimestampBuilder).Append(arrow.Timestamp(row.ts))
		b.Field(5).(*array.Float64Builder).Append(row.i)
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	require.NoError(t, ref.c.AppendRecord("src", false, rec))
	ref.mustExec("INSERT INTO v SELECT * FROM src")

	ctx := context.Background()
	stmt, err := root.conn.NewStatement()
	require.NoError(t, err)
	defer stmt.Close()
	require.NoError(t, stmt.SetOption(adbc.OptionKeyIngestTargetTable, "t"))
	require.NoError(t, stmt.SetOption(adbc.OptionValueIngestTargetDBSchema, "ing"))
	require.NoError(t, stmt.SetOption(adbc.OptionKeyIngestMode, adbc.OptionValueIngestModeAppend))
	rdr, err := array.NewRecordReader(schema, []arrow.RecordBatch{rec})
	require.NoError(t, err)
	defer rdr.Release()
	require.NoError(t, stmt.BindStream(ctx, rdr))
	n, err := stmt.ExecuteUpdate(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 3, n)
	require.Equal(t, ref.mustQuery("SELECT * FROM v ORDER BY id"), root.mustCanon("SELECT * FROM ing.t ORDER BY id"))
}

// testKeyPredicates runs SELECT, UPDATE and DELETE with primary-key
// predicates of every literal kind on USER and SHARED tables whose rows are
// hot, then flushed, and requires the rows DuckDB selects: a predicate that
// matches (id = 3.0, id = '3') must never find nothing, and one that
// matches nothing must not find a row.
func testKeyPredicates(t *testing.T, root *client) {
	root.mustExec("CREATE NAMESPACE kp")
	ref := newRefDB(t)
	type table struct {
		name, kalam, duck string
		c                 *client
		preds             []string
	}
	intPreds := []string{"id = 3", "id = 3.0", "id = 3.5", "id = -0.0", "id = '3'", "id = '+03'", "id = ' 3'", "id IN (3.0, 2)",
		"id IN ('4', 5)", "id = 99999999999999999999", "id = 2147483648", "id = 4.0 AND v > 0"}
	textPreds := []string{"k = 'a'", "k = '03'", "k = 3", "k IN ('a', 'b')", "k IN ('03', 3)", "k = '-0'"}
	tables := []table{
		{"kp.sb", "CREATE SHARED TABLE kp.sb (id BIGINT PRIMARY KEY, v INT)", "CREATE TABLE sb (id BIGINT PRIMARY KEY, v INTEGER)", root, intPreds},
		{"kp.ui", "CREATE USER TABLE kp.ui (id INT PRIMARY KEY, v INT)", "CREATE TABLE ui (id INTEGER PRIMARY KEY, v INTEGER)", root, intPreds},
		{"kp.st", "CREATE SHARED TABLE kp.st (k TEXT PRIMARY KEY, v INT)", "CREATE TABLE st (k VARCHAR PRIMARY KEY, v INTEGER)", root, textPreds},
		{"kp.ut", "CREATE USER TABLE kp.ut (k TEXT PRIMARY KEY, v INT)", "CREATE TABLE ut (k VARCHAR PRIMARY KEY, v INTEGER)", root, textPreds},
	}
	refName := func(tb table) string { return strings.TrimPrefix(tb.name, "kp.") }
	for _, tb := range tables {
		root.mustExec(tb.kalam)
		ref.mustExec(tb.duck)
		rows := "(0, 0), (1, 10), (2, 20), (3, 30), (4, 40), (5, 50)"
		if strings.Contains(tb.kalam, "k TEXT") {
			rows = "('a', 1), ('b', 2), ('03', 3), ('3', 4), ('-0', 5)"
		}
		tb.c.mustExec("INSERT INTO " + tb.name + " VALUES " + rows)
		ref.mustExec("INSERT INTO " + refName(tb) + " VALUES " + rows)
	}
	// check runs every predicate through SELECT and UPDATE and compares
	// rows, counts and errors with DuckDB's.
	check := func(phase string) {
		for _, tb := range tables {
			order := "id"
			if strings.Contains(tb.kalam, "k TEXT") {
				order = "k"
			}
			for _, p := range tb.preds {
				what := fmt.Sprintf("%s %s WHERE %s", phase, tb.name, p)
				_, want, refErr := ref.query("SELECT * FROM " + refName(tb) + " WHERE " + p + " ORDER BY " + order)
				got, _, err := tb.c.canonQuery("SELECT * FROM " + tb.name + " WHERE " + p + " ORDER BY " + order)
				if refErr != nil {
					require.Error(t, err, what)
					continue
				}
				require.NoError(t, err, what)
				require.Equal(t, want, got, what)
				// Without ORDER BY, `SELECT * … WHERE pk = <literal>` is the
				// shape the point-query fast path answers.
				got, _, err = tb.c.canonQuery("SELECT * FROM " + tb.name + " WHERE " + p)
				require.NoError(t, err, what)
				require.ElementsMatch(t, want, got, what)

				require.NoError(t, ref.exec("UPDATE "+refName(tb)+" SET v = v + 1 WHERE "+p), what)
				n, err := tb.c.exec("UPDATE " + tb.name + " SET v = v + 1 WHERE " + p)
				require.NoError(t, err, what)
				require.EqualValues(t, len(want), n, "rows updated: %s", what)
			}
			require.Equal(t, ref.mustQuery("SELECT * FROM "+refName(tb)+" ORDER BY "+order),
				tb.c.mustCanon("SELECT * FROM "+tb.name+" ORDER BY "+order), "%s %s", phase, tb.name)
		}
	}
	check("hot")
	for _, tb := range tables {
		flush(t, root, tb.name)
	}
	check("cold")

	// DELETE by a key spelled as another type finds the row, cold and hot.
	for _, tb := range tables {
		cold, key, hot := "id = 2.0", "9", "id = 9.0"
		if strings.Contains(tb.kalam, "k TEXT") {
			cold, key, hot = "k = 'b'", "'z'", "k = 'z'"
		}
		require.NoError(t, ref.exec("DELETE FROM "+refName(tb)+" WHERE "+cold))
		require.EqualValues(t, 1, tb.c.mustExec("DELETE FROM "+tb.name+" WHERE "+cold), "%s cold row: %s", tb.name, cold)
		tb.c.mustExec("INSERT INTO " + tb.name + " VALUES (" + key + ", 1)")
		ref.mustExec("INSERT INTO " + refName(tb) + " VALUES (" + key + ", 1)")
		require.NoError(t, ref.exec("DELETE FROM "+refName(tb)+" WHERE "+hot))
		require.EqualValues(t, 1, tb.c.mustExec("DELETE FROM "+tb.name+" WHERE "+hot), "%s hot row: %s", tb.name, hot)
		order := "id"
		if strings.Contains(tb.kalam, "k TEXT") {
			order = "k"
		}
		require.Equal(t, ref.mustQuery("SELECT * FROM "+refName(tb)+" ORDER BY "+order),
			tb.c.mustCanon("SELECT * FROM "+tb.name+" ORDER BY "+order), tb.name)
	}
}

// testReturning: INSERT, UPDATE and DELETE … RETURNING return the rows
// and columns DuckDB's RETURNING gives, names and types included; one
// that writes no row returns those columns, empty, not a count.
func testReturning(t *testing.T, root *client) {
	root.mustExec("CREATE NAMESPACE rn")
	root.mustExec("CREATE SHARED TABLE rn.t (id BIGINT PRIMARY KEY, name TEXT, x DOUBLE)")
	root.mustExec("INSERT INTO rn.t VALUES (1, 'a', 1.5)")
	ref := newRefDB(t)
	ref.mustExec("CREATE TABLE t (id BIGINT PRIMARY KEY, name VARCHAR, x DOUBLE)")
	ref.mustExec("INSERT INTO t VALUES (1, 'a', 1.5)")
	for _, stmt := range []string{
		"UPDATE %s SET name = 'b' WHERE id = 42 RETURNING *",
		"UPDATE %s SET x = x * 2 WHERE id = 42 RETURNING id, upper(name) AS up, x + 1, id * 2",
		"DELETE FROM %s WHERE id = 42 RETURNING name, x > 1",
		"DELETE FROM %s WHERE id > 100 RETURNING *",
		"INSERT INTO %s SELECT * FROM %[1]s WHERE id > 100 RETURNING id * 2 AS twice, x + 1",
		// With rows: the same names, and the same values.
		"INSERT INTO %s VALUES (2, 'b', 2.5), (3, 'c', -1) RETURNING *, x + 1, id * 2",
		"UPDATE %s SET x = x * 2 WHERE id = 2 RETURNING id, x + 1, upper(name)",
		"DELETE FROM %s WHERE id = 3 RETURNING id * 2, name || 'z'",
	} {
		wantSchema, want, err := ref.query(fmt.Sprintf(stmt, "t"))
		require.NoError(t, err, stmt)
		got, schema, err := root.canonQuery(fmt.Sprintf(stmt, "rn.t"))
		require.NoError(t, err, stmt)
		require.ElementsMatch(t, want, got, stmt)
		require.Equal(t, fieldNames(wantSchema), fieldNames(schema), stmt)
		for i, f := range wantSchema.Fields() {
			require.True(t, arrow.TypeEqual(f.Type, schema.Field(i).Type), "%s: column %s is %s, DuckDB's is %s", stmt, f.Name, schema.Field(i).Type, f.Type)
		}
	}
	require.Equal(t, ref.mustQuery("SELECT * FROM t ORDER BY id"), root.mustCanon("SELECT * FROM rn.t ORDER BY id"))

	// A prepared statement declares the columns it then returns.
	const upd = "UPDATE %s SET x = x + 1 WHERE id = 1 RETURNING id, x + 1, upper(name) AS up"
	es, err := root.conn.NewStatement()
	require.NoError(t, err)
	defer es.Close()
	require.NoError(t, es.SetSqlQuery(fmt.Sprintf(upd, "rn.t")))
	declared, err := es.(adbc.StatementExecuteSchema).ExecuteSchema(context.Background())
	require.NoError(t, err)
	wantSchema, _, err := ref.query(fmt.Sprintf(upd, "t"))
	require.NoError(t, err)
	require.Equal(t, fieldNames(wantSchema), fieldNames(declared))
}
