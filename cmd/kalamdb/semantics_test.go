//go:build duckdb_arrow

package main

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-adbc/go/adbc"
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	"github.com/kalamdb/kalamdb-go/engine/duck"
)

// duckRef is an in-process DuckDB holding tables of the same types and
// rows as the server's, the reference for what statements mean.
type duckRef struct {
	t testing.TB
	c *duck.Conn
}

func newDuckRef(t testing.TB, setup ...string) *duckRef {
	t.Helper()
	db, err := duck.Open(duck.Options{Threads: 1})
	require.NoError(t, err)
	c, err := db.Connect()
	require.NoError(t, err)
	t.Cleanup(func() { c.Close(); _ = db.Close() })
	r := &duckRef{t: t, c: c}
	for _, s := range setup {
		require.NoError(t, c.Exec(s), s)
	}
	return r
}

// query runs sql and returns its column names and rows as the test client
// formats them.
func (r *duckRef) query(sql string) ([]string, [][]string, error) {
	rows, err := r.c.Query(sql)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var names []string
	for _, f := range rows.Schema().Fields() {
		names = append(names, f.Name)
	}
	var out [][]string
	for rec := rows.Next(); rec != nil; rec = rows.Next() {
		for i := 0; i < int(rec.NumRows()); i++ {
			row := make([]string, rec.NumCols())
			for j, col := range rec.Columns() {
				row[j] = strings.Clone(valueString(col, i)) // the batch's memory is DuckDB's
			}
			out = append(out, row)
		}
		rec.Release()
	}
	return names, out, rows.Err()
}

// exec runs a statement and reports its error.
func (r *duckRef) exec(sql string) error { return r.c.Exec(sql) }

// querier runs a query on the server.
type querier interface {
	query(sql string) ([][]string, *arrow.Schema, error)
}

// asUser runs queries as a user through root's EXECUTE AS USER, which
// scopes them exactly as the user's own session would (and spares the
// test the bcrypt cost of logins).
type asUser struct {
	root *client
	user string
}

func (a asUser) query(sql string) ([][]string, *arrow.Schema, error) {
	return a.root.query("EXECUTE AS USER '" + a.user + "' (" + sql + ")")
}

func (a asUser) exec(sql string) {
	a.root.mustExec("EXECUTE AS USER '" + a.user + "' (" + sql + ")")
}

func (a asUser) mustQuery(t testing.TB, sql string) [][]string {
	t.Helper()
	rows, _, err := a.query(sql)
	require.NoError(t, err, sql)
	return rows
}

// requireSameAsDuckDB runs sql on the server (as c) and on the reference
// and requires the same column names and the same rows (in any order).
// refSQL, when given, is what the reference runs instead: the statements
// DuckDB itself turns sql into where it cannot prepare sql as one.
func requireSameAsDuckDB(t testing.TB, c querier, ref *duckRef, sql string, refSQL ...string) {
	t.Helper()
	if len(refSQL) == 0 {
		refSQL = []string{sql}
	}
	for _, s := range refSQL[:len(refSQL)-1] {
		require.NoError(t, ref.exec(s), s)
	}
	wantNames, want, err := ref.query(refSQL[len(refSQL)-1])
	require.NoError(t, err, "reference DuckDB: %s", sql)
	got, schema, err := c.query(sql)
	require.NoError(t, err, sql)
	var gotNames []string
	for _, f := range schema.Fields() {
		gotNames = append(gotNames, f.Name)
	}
	require.Equal(t, wantNames, gotNames, "columns of %s", sql)
	sortRows(want)
	sortRows(got)
	require.Equal(t, want, got, "rows of %s", sql)
}

func sortRows(rows [][]string) {
	slices.SortFunc(rows, func(a, b []string) int { return strings.Compare(strings.Join(a, "\x00"), strings.Join(b, "\x00")) })
}

// TestFailedStatementAbortsTransaction: as in DuckDB (and PostgreSQL), a
// statement that fails inside BEGIN … COMMIT aborts the transaction: the
// statements after it are refused, and COMMIT applies nothing. DuckDB's
// COMMIT of an aborted transaction rolls back silently; ours rolls back
// and fails with Aborted, so that no client takes it for a commit.
func TestFailedStatementAbortsTransaction(t *testing.T) {
	ts := startServer(t, t.TempDir())
	t.Run("sql", func(t *testing.T) { testAbortSQLTransaction(t, ts) })
	t.Run("flight", func(t *testing.T) { testAbortFlightTransaction(t, ts) })
}

func testAbortSQLTransaction(t *testing.T, ts *testServer) {
	root := connect(t, ts.addr, "root", testRootPassword)
	other := connect(t, ts.addr, "root", testRootPassword)
	root.mustExec("CREATE NAMESPACE ab")
	root.mustExec("CREATE SHARED TABLE ab.t (id INT PRIMARY KEY, v TEXT)")
	root.mustExec("INSERT INTO ab.t VALUES (1, 'a')")
	ref := newDuckRef(t, "CREATE SCHEMA ab", "CREATE TABLE ab.t (id INTEGER PRIMARY KEY, v VARCHAR)", "INSERT INTO ab.t VALUES (1, 'a')")
	ids := "SELECT id, v FROM ab.t ORDER BY id"

	// Each statement fails on the server exactly when it fails in DuckDB.
	script := []string{
		"BEGIN",
		"INSERT INTO ab.t VALUES (2, 'b')",
		"INSERT INTO ab.t VALUES (1, 'dup')", // the error
		"INSERT INTO ab.t VALUES (3, 'c')",
		"UPDATE ab.t SET v = 'x' WHERE id = 1",
		"SELECT count(*) FROM ab.t",
	}
	for i, s := range script {
		refErr := ref.exec(s)
		_, err := root.exec(s)
		require.Equal(t, refErr != nil, err != nil, "%s: server %v, DuckDB %v", s, err, refErr)
		if i > 2 {
			requireCode(t, err, codes.FailedPrecondition, "current transaction is aborted")
		}
	}
	requireCode(t, func() error { _, err := root.exec("SELECT 1"); return err }(), codes.FailedPrecondition, "duplicate primary key")
	require.NoError(t, ref.exec("COMMIT"))
	_, err := root.exec("COMMIT")
	requireCode(t, err, codes.Aborted, "nothing was committed")
	_, want, err := ref.query(ids)
	require.NoError(t, err)
	require.Equal(t, want, other.mustQuery(ids))
	require.Equal(t, [][]string{{"1", "a"}}, want)
	// The transaction has ended: statements run on their own again.
	root.mustExec("INSERT INTO ab.t VALUES (4, 'd')")
	_, err = root.exec("COMMIT")
	requireCode(t, err, codes.FailedPrecondition, "no transaction in progress")

	// An error of a query (here a cast failing as the rows are read)
	// aborts too, and ROLLBACK ends the aborted transaction quietly.
	root.mustExec("BEGIN")
	root.mustExec("INSERT INTO ab.t VALUES (5, 'e')")
	_, _, err = root.query("SELECT CAST(v AS INT) FROM ab.t")
	requireCode(t, err, codes.InvalidArgument, "conversion error")
	_, err = root.exec("INSERT INTO ab.t VALUES (6, 'f')")
	requireCode(t, err, codes.FailedPrecondition, "current transaction is aborted")
	root.mustExec("ROLLBACK")
	require.Equal(t, [][]string{{"1", "a"}, {"4", "d"}}, other.mustQuery(ids))

	// So does a statement refused inside a transaction.
	root.mustExec("BEGIN")
	root.mustExec("INSERT INTO ab.t VALUES (7, 'g')")
	_, err = root.exec("CREATE SHARED TABLE ab.u (id INT PRIMARY KEY)")
	requireCode(t, err, codes.FailedPrecondition, "cannot run inside a transaction")
	_, err = root.exec("COMMIT")
	requireCode(t, err, codes.Aborted, "nothing was committed")
	require.Equal(t, [][]string{{"1", "a"}, {"4", "d"}}, other.mustQuery(ids))
}

// testAbortFlightTransaction: the same through ADBC with autocommit off
// (Flight SQL BeginTransaction / EndTransaction).
func testAbortFlightTransaction(t *testing.T, ts *testServer) {
	root := connect(t, ts.addr, "root", testRootPassword)
	root.mustExec("CREATE NAMESPACE fb")
	root.mustExec("CREATE SHARED TABLE fb.t (id BIGINT PRIMARY KEY, v TEXT)")
	root.mustExec("INSERT INTO fb.t VALUES (1, 'a')")
	ref := newDuckRef(t, "CREATE SCHEMA fb", "CREATE TABLE fb.t (id BIGINT PRIMARY KEY, v VARCHAR)", "INSERT INTO fb.t VALUES (1, 'a')", "BEGIN")
	ids := "SELECT id FROM fb.t ORDER BY id"

	tx := connect(t, ts.addr, "root", testRootPassword)
	require.NoError(t, tx.conn.(adbc.PostInitOptions).SetOption(adbc.OptionKeyAutoCommit, adbc.OptionValueDisabled))
	ctx := context.Background()
	for i, s := range []string{
		"INSERT INTO fb.t VALUES (2, 'b')",
		"INSERT INTO fb.t VALUES (1, 'dup')",
		"INSERT INTO fb.t VALUES (3, 'c')",
		"SELECT count(*) FROM fb.t",
	} {
		refErr := ref.exec(s)
		_, err := tx.exec(s)
		require.Equal(t, refErr != nil, err != nil, "%s: server %v, DuckDB %v", s, err, refErr)
		if i > 1 {
			requireCode(t, err, codes.FailedPrecondition, "current transaction is aborted")
		}
	}
	require.NoError(t, ref.exec("COMMIT"))
	requireCode(t, tx.conn.Commit(ctx), codes.Aborted, "nothing was committed")
	_, want, err := ref.query(ids)
	require.NoError(t, err)
	require.Equal(t, want, root.mustQuery(ids))
	require.Equal(t, [][]string{{"1"}}, want)
}

// TestReadStatements: on ns.t, a USER table holding alice's and bob's rows,
// ns.s, a PUBLIC shared table, and ns.priv, a PRIVATE one, read statements
// mean what they mean in DuckDB and keep the security wall.
func TestReadStatements(t *testing.T) {
	alice, bob, ref := semanticsSetup(t)
	t.Run("keep the wall", func(t *testing.T) { testReadStatementsKeepTheWall(t, bob) })
	t.Run("match DuckDB", func(t *testing.T) { testReadSemanticsMatchDuckDB(t, alice, ref) })
}

// semanticsSetup makes the tables of TestReadStatements; it returns
// alice's and bob's connections and a reference DuckDB holding alice's
// view of the tables.
func semanticsSetup(t *testing.T) (alice, bob asUser, ref *duckRef) {
	ts := startServer(t, t.TempDir())
	root := connect(t, ts.addr, "root", testRootPassword)
	root.mustExec("CREATE USER alice WITH INTERNAL ROLE user")
	root.mustExec("CREATE USER bob WITH INTERNAL ROLE user")
	alice, bob = asUser{root, "alice"}, asUser{root, "bob"}
	root.mustExec("CREATE NAMESPACE ns")
	root.mustExec("CREATE USER TABLE ns.t (id INT PRIMARY KEY, v TEXT, n INT)")
	root.mustExec("CREATE SHARED TABLE ns.s (id INT PRIMARY KEY, w TEXT) WITH (ACCESS_LEVEL='PUBLIC')")
	root.mustExec("CREATE SHARED TABLE ns.priv (id INT PRIMARY KEY, secret TEXT)")
	root.mustExec("INSERT INTO ns.s VALUES (1, 'one'), (3, 'three')")
	root.mustExec("INSERT INTO ns.priv VALUES (1, 'root-only')")
	aliceRows := "(1, 'a', 10), (2, 'b''q', 20), (3, 'a', 5), (4, NULL, 7)"
	alice.exec("INSERT INTO ns.t VALUES " + aliceRows)
	bob.exec("INSERT INTO ns.t VALUES (9, 'bob-secret', 99)")
	ref = newDuckRef(t,
		"CREATE SCHEMA ns",
		"CREATE TABLE ns.t (id INTEGER PRIMARY KEY, v VARCHAR, n INTEGER)",
		"CREATE TABLE ns.s (id INTEGER PRIMARY KEY, w VARCHAR)",
		"INSERT INTO ns.t VALUES "+aliceRows,
		"INSERT INTO ns.s VALUES (1, 'one'), (3, 'three')")
	return alice, bob, ref
}

// testReadSemanticsMatchDuckDB: star forms, three-part column references,
// PIVOT, UNPIVOT, SUMMARIZE, DESCRIBE and current_schema() give what DuckDB
// gives on tables of the same types and rows: the hidden _seq column shows
// nowhere, and stays selectable by name.
func testReadSemanticsMatchDuckDB(t *testing.T, alice asUser, ref *duckRef) {
	// A PIVOT taking its values from the data is, in DuckDB, two
	// statements (see its transform_pivot_stmt.cpp): an ENUM type of the
	// distinct non-NULL values of the ON expression cast to VARCHAR,
	// sorted, then the PIVOT with ON … IN that type. The reference runs
	// those.
	enum := func(name, with, expr, from string) string {
		return "CREATE OR REPLACE TYPE " + name + " AS ENUM (" + with + "SELECT DISTINCT CAST(" + expr + " AS VARCHAR) FROM " + from + " WHERE " + expr + " IS NOT NULL ORDER BY 1)"
	}
	with := "WITH c AS (SELECT v, n FROM ns.t WHERE n > 5) "
	for _, tc := range []struct {
		sql string
		ref []string
	}{
		{"PIVOT ns.t ON v USING sum(n)", []string{enum("e_v", "", "v", "ns.t"), "PIVOT ns.t ON v IN e_v USING sum(n)"}},
		{"PIVOT ns.t ON v USING sum(n) GROUP BY id ORDER BY id", []string{enum("e_v", "", "v", "ns.t"), "PIVOT ns.t ON v IN e_v USING sum(n) GROUP BY id ORDER BY id"}},
		{"PIVOT ns.t ON v, n > 6 USING count(*)", []string{enum("e_v", "", "v", "ns.t"), enum("e_b", "", "(n > 6)", "ns.t"), "PIVOT ns.t ON v IN e_v, n > 6 IN e_b USING count(*)"}},
		{"SELECT * FROM (PIVOT ns.t ON v USING max(n)) p", []string{enum("e_v", "", "v", "ns.t"), "SELECT * FROM (PIVOT ns.t ON v IN e_v USING max(n)) p"}},
		{with + "PIVOT c ON v USING sum(n)", []string{enum("e_c", with, "v", "c"), with + "PIVOT c ON v IN e_c USING sum(n)"}},
	} {
		t.Run(tc.sql, func(t *testing.T) { requireSameAsDuckDB(t, alice, ref, tc.sql, tc.ref...) })
	}
	for _, sql := range []string{
		"SELECT * FROM ns.t",
		"SELECT * REPLACE (v || '!' AS v) FROM ns.t",
		"FROM ns.t SELECT * REPLACE (n * 2 AS n)",
		"SELECT * EXCLUDE (v) FROM ns.t",
		"SELECT t.* EXCLUDE (n) FROM ns.t",
		"SELECT * RENAME (v AS w) FROM ns.t",
		"SELECT COLUMNS(*) FROM ns.t",
		"SELECT max(COLUMNS(*)) FROM ns.t",
		"SELECT COLUMNS(c -> c LIKE '%') FROM ns.t",
		"SELECT COLUMNS('.*') FROM ns.t",
		"SELECT t FROM ns.t",
		"SELECT * FROM ns.t NATURAL JOIN ns.s",
		"SELECT * FROM ns.t JOIN ns.s USING (id)",
		"SELECT ns.t.v, ns.t.n FROM ns.t WHERE ns.t.n > 5 ORDER BY ns.t.id",
		"SELECT ns.t.v, ns.s.w FROM ns.t, ns.s WHERE ns.t.id = ns.s.id",
		"PIVOT ns.t ON v IN ('a') USING count(*)",
		"FROM ns.t PIVOT (sum(n) FOR v IN ('a', 'b''q'))",
		"UNPIVOT (SELECT id, n, id * 2 AS m FROM ns.t) ON n, m INTO NAME k VALUE val",
		"UNPIVOT ns.t ON COLUMNS(* EXCLUDE (id, v)) INTO NAME k VALUE val",
		"SUMMARIZE ns.t",
		"SUMMARIZE SELECT v, n FROM ns.t",
		"DESCRIBE SELECT * FROM ns.t",
		"DESCRIBE SELECT * REPLACE (n::TEXT AS n) FROM ns.t",
	} {
		t.Run(sql, func(t *testing.T) { requireSameAsDuckDB(t, alice, ref, sql) })
	}
	// After USE, current_schema() and unqualified tables follow it.
	alice.root.mustExec("USE ns") // EXECUTE AS runs in the session's namespace
	require.NoError(t, ref.exec("USE ns"))
	requireSameAsDuckDB(t, alice, ref, "SELECT current_schema(), ns.t.v FROM t")

	// _seq is selectable by name, and then still out of the stars.
	got, schema, err := alice.query("SELECT * REPLACE (v || '!' AS v), _seq > 0 AS has_seq FROM ns.t WHERE id = 1")
	require.NoError(t, err)
	require.Equal(t, [][]string{{"1", "a!", "10", "true"}}, got)
	require.Equal(t, 4, schema.NumFields())
}

// testReadStatementsKeepTheWall: PIVOT, UNPIVOT, SUMMARIZE and DESCRIBE run
// under the same scoping as SELECT: a user sees only its own rows of a USER
// table (even as PIVOT column names), no table it may not read, no file,
// DuckDB catalog object or internal relation.
func testReadStatementsKeepTheWall(t *testing.T, bob asUser) {
	// Only bob's row: counts, values and PIVOT columns.
	require.Equal(t, [][]string{{"v", "VARCHAR", "bob-secret", "bob-secret", "1"}},
		bob.mustQuery(t, "SELECT column_name, column_type, min, max, count FROM (SUMMARIZE ns.t) WHERE column_name = 'v'"))
	rows, schema, err := bob.query("PIVOT ns.t ON v USING sum(n)")
	require.NoError(t, err)
	require.Equal(t, [][]string{{"9", "99"}}, rows)
	require.Equal(t, "bob-secret", schema.Field(1).Name)
	require.Equal(t, [][]string{{"9", "n", "99"}}, bob.mustQuery(t, "UNPIVOT (SELECT id, n FROM ns.t) ON n INTO NAME k VALUE val"))
	require.Equal(t, [][]string{{"bob-secret"}}, bob.mustQuery(t, "SELECT ns.t.v FROM ns.t"))
	require.Equal(t, [][]string{{"bob", "bob", "1"}}, bob.mustQuery(t, "SELECT min, max, count FROM (SUMMARIZE system.users) WHERE column_name = 'user_id'"), "its own row of system.users only")

	for _, tc := range []struct {
		sql  string
		code codes.Code
		msg  string
	}{
		{"SUMMARIZE ns.priv", codes.PermissionDenied, "permission denied"},
		{"DESCRIBE SELECT * FROM ns.priv", codes.PermissionDenied, "permission denied"},
		{"PIVOT ns.priv ON secret", codes.PermissionDenied, "permission denied"},
		{"PIVOT ns.t ON (SELECT max(secret) FROM ns.priv)", codes.PermissionDenied, "permission denied"},
		{"UNPIVOT ns.priv ON secret INTO NAME k VALUE v", codes.PermissionDenied, "permission denied"},
		{"SUMMARIZE system.jobs", codes.PermissionDenied, "system tables"},
		{"SUMMARIZE SELECT * FROM system.jobs", codes.PermissionDenied, "system tables"},
		{"PIVOT read_csv('/etc/passwd') ON column0", codes.PermissionDenied, "read_csv"},
		{"PIVOT (SELECT * FROM read_text('/etc/passwd')) ON content", codes.PermissionDenied, "read_text"},
		{"PIVOT ns.t ON (SELECT content FROM read_text('/etc/passwd'))", codes.PermissionDenied, "read_text"},
		{"PIVOT 'data.csv' ON a", codes.PermissionDenied, "files"},
		{"PIVOT ns.t ON v IN some_enum USING count(*)", codes.PermissionDenied, "some_enum"},
		{"SUMMARIZE FROM read_parquet('/tmp/x.parquet')", codes.PermissionDenied, "read_parquet"},
		{"SUMMARIZE SELECT * FROM duckdb_settings()", codes.PermissionDenied, "duckdb_settings"},
		{"DESCRIBE SELECT * FROM duckdb_tables()", codes.PermissionDenied, "duckdb_tables"},
		{"SUMMARIZE pg_catalog.pg_tables", codes.PermissionDenied, "pg_catalog"},
		{"SUMMARIZE main.t", codes.PermissionDenied, "main"},
		{"SUMMARIZE memory.ns.t", codes.PermissionDenied, "catalog-qualified"},
		{"DESCRIBE SELECT * FROM __kdb_t0", codes.PermissionDenied, "internal relation"},
		{"WITH x AS (SELECT 1) SUMMARIZE x", codes.InvalidArgument, ""},
		{"SELECT current_setting('temp_directory')", codes.PermissionDenied, "current_setting"},
		{"SUMMARIZE SELECT * FROM ns.t; SELECT 1", codes.InvalidArgument, ""},
	} {
		rows, _, err := bob.query(tc.sql)
		require.Error(t, err, "%s gave %v", tc.sql, rows)
		requireCode(t, err, tc.code, tc.msg)
	}
	require.Equal(t, [][]string{{"NULL"}}, bob.mustQuery(t, "SELECT current_schema()"), "no DuckDB schema shows")
}

// TestPrepareErrorsKeepTransaction: as in DuckDB, a statement that fails
// before it runs (syntax, binder and catalog errors) leaves the transaction
// usable, and COMMIT applies the rest; one failing as it runs aborts it.
func TestPrepareErrorsKeepTransaction(t *testing.T) {
	ts := startServer(t, t.TempDir())
	root := connect(t, ts.addr, "root", testRootPassword)
	root.mustExec("CREATE NAMESPACE pk")
	root.mustExec("CREATE SHARED TABLE pk.t (id INT PRIMARY KEY)")
	ref := newDuckRef(t, "CREATE SCHEMA pk", "CREATE TABLE pk.t (id INTEGER PRIMARY KEY)")
	script := []string{
		"BEGIN",
		"INSERT INTO pk.t VALUES (1)",
		"SELECT nosuch FROM pk.t", // binder error
		"SELEC 1",                 // parser error
		"SELECT * FROM pk.nosuch", // catalog error
		"SELECT nosuchfn(1)",      // catalog error
		"INSERT INTO pk.t VALUES (2)",
		"COMMIT",
	}
	for _, s := range script {
		refErr := ref.exec(s)
		_, err := root.exec(s)
		require.Equal(t, refErr != nil, err != nil, "%s: server %v, DuckDB %v", s, err, refErr)
	}
	_, want, err := ref.query("SELECT id FROM pk.t ORDER BY id")
	require.NoError(t, err)
	require.Equal(t, [][]string{{"1"}, {"2"}}, want)
	require.Equal(t, want, root.mustQuery("SELECT id FROM pk.t ORDER BY id"))
}
