//go:build duckdb_arrow

package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-adbc/go/adbc"
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
)

// TestAddColumnDefaultFillsExistingRows: ALTER TABLE ADD COLUMN … DEFAULT
// gives every existing row the default, as DuckDB does, whether the row is
// hot (cached or not), flushed, compacted, updated afterwards, or read
// after a restart; rows written later hold what they were given.
func TestAddColumnDefaultFillsExistingRows(t *testing.T) {
	dir := t.TempDir()
	// A hot partition of 2 rows or more is cached in DuckDB between queries.
	args := []string{"--hot-cache-min-rows", "2"}
	ts := startServerWith(t, dir, args, nil)
	root := connect(t, ts.addr, "root", testRootPassword)
	root.mustExec("CREATE NAMESPACE fh")
	root.mustExec("USE fh")
	root.mustExec("CREATE SHARED TABLE t (id INT PRIMARY KEY, v TEXT)")
	ref := newDuckRef(t, "CREATE TABLE t (id INT PRIMARY KEY, v TEXT)")
	both := func(sql string, refSQL ...string) {
		t.Helper()
		root.mustExec(sql)
		if len(refSQL) == 0 {
			refSQL = []string{sql}
		}
		for _, s := range refSQL {
			require.NoError(t, ref.exec(s), s)
		}
	}
	const all = "SELECT id, v, n, label, price FROM t"
	both("INSERT INTO t VALUES (1, 'a'), (2, 'b')")
	flush(t, root, "fh.t")
	both("INSERT INTO t VALUES (3, 'c')")
	flush(t, root, "fh.t")
	both("INSERT INTO t VALUES (4, 'd'), (5, 'e')")
	for range 2 { // the second read caches the hot rows
		requireSameAsDuckDB(t, root, ref, "SELECT * FROM t")
	}

	// DuckDB refuses constraints in ADD COLUMN: its reference column is
	// nullable; ours is NOT NULL, which every row satisfies.
	both("ALTER TABLE t ADD COLUMN n INT NOT NULL DEFAULT 0", "ALTER TABLE t ADD COLUMN n INT DEFAULT 0")
	both("ALTER TABLE t ADD COLUMN label TEXT DEFAULT 'none'")
	both("ALTER TABLE t ADD COLUMN price DECIMAL(10,2) DEFAULT 9.5")
	both("ALTER TABLE t ADD COLUMN note TEXT")
	requireSameAsDuckDB(t, root, ref, all)
	requireSameAsDuckDB(t, root, ref, "SELECT * FROM t WHERE n = 0 AND label = 'none'")
	requireSameAsDuckDB(t, root, ref, "SELECT id, n FROM t WHERE id = 2") // point lookup
	requireSameAsDuckDB(t, root, ref, "SELECT id, n FROM t WHERE id = 5")

	// Rows written after the ALTER hold what they are given; the ones
	// not given the column get its default.
	both("INSERT INTO t (id, v) VALUES (6, 'f')")
	both("INSERT INTO t (id, v, n, label, price) VALUES (7, 'g', 7, NULL, NULL)")
	both("UPDATE t SET v = 'z' WHERE id IN (1, 4)")
	both("UPDATE t SET label = NULL WHERE id = 2")
	requireSameAsDuckDB(t, root, ref, all)
	_, err := root.exec("INSERT INTO t (id, v, n) VALUES (8, 'h', NULL)")
	requireCode(t, err, codes.InvalidArgument, "not-null")

	compact(t, root, "fh.t")
	requireSameAsDuckDB(t, root, ref, all)
	flush(t, root, "fh.t")
	requireSameAsDuckDB(t, root, ref, all)
	compact(t, root, "fh.t")
	requireSameAsDuckDB(t, root, ref, all)

	// NOW() is evaluated once: the same time in every existing row.
	// DuckDB cannot prepare this ALTER as one statement: the reference
	// runs the statements DuckDB itself turns it into.
	both("ALTER TABLE t ADD COLUMN at_ts TIMESTAMP DEFAULT NOW()", "BEGIN", "ALTER TABLE t ADD COLUMN at_ts TIMESTAMP",
		"UPDATE t SET at_ts = now()", "ALTER TABLE t ALTER at_ts SET DEFAULT now()", "COMMIT")
	requireSameAsDuckDB(t, root, ref, "SELECT count(DISTINCT at_ts), count(at_ts) FROM t")

	// Defaults DuckDB evaluates per row cannot be given to existing rows.
	for _, def := range []string{"UUID_V7()", "SNOWFLAKE_ID()", "ULID()", "CURRENT_USER()"} {
		typ := map[string]string{"UUID_V7()": "UUID", "SNOWFLAKE_ID()": "BIGINT"}[def]
		if typ == "" {
			typ = "TEXT"
		}
		_, err := root.exec("ALTER TABLE t ADD COLUMN g " + typ + " DEFAULT " + def)
		requireCode(t, err, codes.InvalidArgument, "existing rows")
	}
	// A default an INSERT could not store is refused.
	_, err = root.exec("ALTER TABLE t ADD COLUMN u UUID DEFAULT 'not-a-uuid'")
	requireCode(t, err, codes.InvalidArgument, "uuid")
	_, err = root.exec("ALTER TABLE t ADD COLUMN m INT NOT NULL DEFAULT NULL")
	requireCode(t, err, codes.InvalidArgument, "NOT NULL")

	// The fill is part of the table's definition: it survives a restart.
	ts.stop()
	ts = startServerWith(t, dir, args, nil)
	root = connect(t, ts.addr, "root", testRootPassword)
	root.mustExec("USE fh")
	both("INSERT INTO t (id, v) VALUES (9, 'i')")
	requireSameAsDuckDB(t, root, ref, all)
	requireSameAsDuckDB(t, root, ref, "SELECT count(DISTINCT at_ts), count(at_ts) FROM t WHERE id < 9")
}

// TestJSONColumnsRefuseInvalidJSON: a JSON column takes what DuckDB's JSON
// type takes (NaN, trailing commas included) and refuses the rest with
// InvalidArgument naming the column and the row, on every way in: literal
// and evaluated INSERT, INSERT … SELECT, UPDATE, prepared statements, bulk
// ingest and column defaults.
func TestJSONColumnsRefuseInvalidJSON(t *testing.T) {
	ts := startServer(t, t.TempDir())
	root := connect(t, ts.addr, "root", testRootPassword)
	root.mustExec("CREATE NAMESPACE js")
	root.mustExec("USE js")
	root.mustExec("CREATE SHARED TABLE j (id INT PRIMARY KEY, data JSON)")
	ref := newDuckRef(t, "CREATE TABLE j (id INT PRIMARY KEY, data JSON)")
	values := []string{`{"a":1}`, `{not json`, `[1,2,]`, `NaN`, `{"a":1} x`, `'single'`, ``, ` 7 `, `"\ud800"`, `{"a":[1,{"b":null}],}`}
	for i, v := range values {
		for k, form := range []string{"%d, '%s'", "%d, '' || '%s'"} { // literal, then evaluated by DuckDB
			id := 100*k + i
			sql := "INSERT INTO j VALUES (" + fmt.Sprintf(form, id, strings.ReplaceAll(v, "'", "''")) + ")"
			refErr := ref.exec(sql)
			_, err := root.exec(sql)
			if refErr != nil {
				requireCode(t, err, codes.InvalidArgument, "invalid JSON in column data of row 1 (primary key "+strconv.Itoa(id)+")")
			} else {
				require.NoError(t, err, sql)
			}
		}
	}
	requireSameAsDuckDB(t, root, ref, "SELECT * FROM j")

	_, err := root.exec(`INSERT INTO j VALUES (500, '{}'), (501, '[1,')`)
	requireCode(t, err, codes.InvalidArgument, "column data of row 2 (primary key 501)")
	_, err = root.exec(`INSERT INTO j SELECT id + 1000, '{' || data FROM j WHERE id = 0`)
	requireCode(t, err, codes.InvalidArgument, "column data of row 1 (primary key 1000)")
	_, err = root.exec(`UPDATE j SET data = '{bad' WHERE id = 0`)
	requireCode(t, err, codes.InvalidArgument, "column data of row 1 (primary key 0)")
	_, err = root.exec(`UPDATE j SET data = data || ',' WHERE id IN (0, 2)`)
	requireCode(t, err, codes.InvalidArgument, "invalid JSON in column data")
	requireSameAsDuckDB(t, root, ref, "SELECT * FROM j")

	ctx := context.Background()
	schema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int32}, {Name: "data", Type: arrow.BinaryTypes.String}}, nil)
	batch := func(rows ...any) arrow.RecordBatch {
		b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
		defer b.Release()
		for i := 0; i < len(rows); i += 2 {
			b.Field(0).(*array.Int32Builder).Append(int32(rows[i].(int)))
			b.Field(1).(*array.StringBuilder).Append(rows[i+1].(string))
		}
		return b.NewRecordBatch()
	}
	// A prepared INSERT bound to parameter rows.
	st, err := root.conn.NewStatement()
	require.NoError(t, err)
	defer st.Close()
	require.NoError(t, st.SetSqlQuery("INSERT INTO j VALUES (?, ?)"))
	require.NoError(t, st.Prepare(ctx))
	rec := batch(600, `{"ok":true}`, 601, `{"ok":tru}`)
	require.NoError(t, st.Bind(ctx, rec))
	rec.Release()
	_, err = st.ExecuteUpdate(ctx)
	requireCode(t, err, codes.InvalidArgument, "parameter row 2: invalid JSON in column data of row 1 (primary key 601)")

	// Bulk ingest: rows are numbered over the whole stream.
	ing, err := root.conn.NewStatement()
	require.NoError(t, err)
	defer ing.Close()
	require.NoError(t, ing.SetOption(adbc.OptionKeyIngestTargetTable, "j"))
	require.NoError(t, ing.SetOption(adbc.OptionValueIngestTargetDBSchema, "js"))
	require.NoError(t, ing.SetOption(adbc.OptionKeyIngestMode, adbc.OptionValueIngestModeAppend))
	b1, b2 := batch(700, `[]`, 701, `{}`), batch(702, `"x"`, 703, `{"a" 1}`)
	defer b1.Release()
	defer b2.Release()
	rdr, err := array.NewRecordReader(schema, []arrow.RecordBatch{b1, b2})
	require.NoError(t, err)
	defer rdr.Release()
	require.NoError(t, ing.BindStream(ctx, rdr))
	_, err = ing.ExecuteUpdate(ctx)
	requireCode(t, err, codes.InvalidArgument, "column data of row 4 (primary key 703)")

	// A default that is not JSON is refused when the table is made.
	_, err = root.exec(`CREATE SHARED TABLE j2 (id INT PRIMARY KEY, data JSON DEFAULT '{bad')`)
	requireCode(t, err, codes.InvalidArgument, "invalid JSON")
	_, err = root.exec(`ALTER TABLE j ADD COLUMN more JSON DEFAULT '[1'`)
	requireCode(t, err, codes.InvalidArgument, "invalid JSON")
}

// TestKeywordColumnNames: as in DuckDB (and PostgreSQL), a column named by
// a keyword (order, at, select, …) must be quoted. CREATE and ALTER refuse
// it unquoted, saying so, rather than making a table whose every query
// fails; quoted, it works everywhere, as in DuckDB, and a query naming it
// unquoted fails with advice to quote it.
func TestKeywordColumnNames(t *testing.T) {
	ts := startServer(t, t.TempDir())
	root := connect(t, ts.addr, "root", testRootPassword)
	root.mustExec("CREATE NAMESPACE kw")
	root.mustExec("USE kw")
	for _, col := range []string{"at", "order", "select", "from", "join"} {
		_, err := root.exec("CREATE SHARED TABLE bad (id INT PRIMARY KEY, " + col + " TEXT)")
		requireCode(t, err, codes.InvalidArgument, `write it quoted, "`+col+`"`)
	}

	const ddl = `CREATE TABLE k ("order" INT PRIMARY KEY, "at" TEXT, "select" INT, "from" JSON, time TIME)`
	root.mustExec(strings.Replace(ddl, "CREATE TABLE", "CREATE SHARED TABLE", 1))
	ref := newDuckRef(t, ddl)
	both := func(sql string) {
		t.Helper()
		root.mustExec(sql)
		require.NoError(t, ref.exec(sql), sql)
	}
	const all = "SELECT * FROM k"
	both(`INSERT INTO k VALUES (1, 'a', 10, '{}', '10:00'), (2, 'b', 20, '[1]', NULL)`)
	both(`INSERT INTO k ("order", "at") VALUES (3, 'c')`)
	requireSameAsDuckDB(t, root, ref, all)
	requireSameAsDuckDB(t, root, ref, `SELECT "at", "order" FROM k WHERE "order" = 2`)
	requireSameAsDuckDB(t, root, ref, `INSERT INTO k ("order", "at", "select") VALUES (4, 'd', 40) RETURNING "order", "at", "select" + 1 AS s`)
	both(`UPDATE k SET "at" = 'z' WHERE "order" = 1`)
	both(`UPDATE k SET "select" = "select" + 1 WHERE "order" = 2`)
	both(`DELETE FROM k WHERE "order" = 3`)
	requireSameAsDuckDB(t, root, ref, all)

	flush(t, root, "kw.k")
	both(`INSERT INTO k VALUES (5, 'e', 50, 'null', '11:00')`)
	flush(t, root, "kw.k")
	requireSameAsDuckDB(t, root, ref, `SELECT "from", "select" FROM k WHERE "order" = 1`)
	_, err := root.exec(`INSERT INTO k ("order") VALUES (2)`)
	requireCode(t, err, codes.AlreadyExists, "duplicate")
	both(`UPDATE k SET "select" = "select" * 2 WHERE "order" IN (1, 5)`)
	compact(t, root, "kw.k")
	requireSameAsDuckDB(t, root, ref, all)

	// A query naming such a column unquoted fails, with advice.
	_, _, err = root.query(`SELECT at, "order" FROM k`)
	requireCode(t, err, codes.InvalidArgument, `quoted: write "at"`)

	// ALTER follows the same rule.
	_, err = root.exec("ALTER TABLE k ADD COLUMN limit INT")
	requireCode(t, err, codes.InvalidArgument, `write it quoted, "limit"`)
	_, err = root.exec(`ALTER TABLE k RENAME COLUMN "at" TO where`)
	requireCode(t, err, codes.InvalidArgument, `write it quoted, "where"`)
	both(`ALTER TABLE k ADD COLUMN "limit" INT DEFAULT 5`)
	both(`ALTER TABLE k RENAME COLUMN "at" TO "where"`)
	requireSameAsDuckDB(t, root, ref, all)
	requireSameAsDuckDB(t, root, ref, `SELECT "where", "limit" FROM k WHERE "order" = 5`)

	// Bulk ingest creating a table takes keyword column names as given.
	ctx := context.Background()
	schema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}, {Name: "order", Type: arrow.BinaryTypes.String}}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	b.Field(0).(*array.Int64Builder).Append(1)
	b.Field(1).(*array.StringBuilder).Append("first")
	rec := b.NewRecordBatch()
	b.Release()
	defer rec.Release()
	ing, err := root.conn.NewStatement()
	require.NoError(t, err)
	defer ing.Close()
	require.NoError(t, ing.SetOption(adbc.OptionKeyIngestTargetTable, "ki"))
	require.NoError(t, ing.SetOption(adbc.OptionValueIngestTargetDBSchema, "kw"))
	require.NoError(t, ing.SetOption(adbc.OptionKeyIngestMode, adbc.OptionValueIngestModeCreate))
	rdr, err := array.NewRecordReader(schema, []arrow.RecordBatch{rec})
	require.NoError(t, err)
	defer rdr.Release()
	require.NoError(t, ing.BindStream(ctx, rdr))
	_, err = ing.ExecuteUpdate(ctx)
	require.NoError(t, err)
	require.Equal(t, [][]string{{"first"}}, root.mustQuery(`SELECT "order" FROM ki WHERE id = 1`))
}

// objectTables lists "namespace.table" for every table ADBC's GetObjects
// shows c.
func objectTables(t *testing.T, c *client) []string {
	t.Helper()
	objs, err := c.conn.GetObjects(context.Background(), adbc.ObjectDepthAll, nil, nil, nil, nil, nil)
	require.NoError(t, err)
	defer objs.Release()
	var out []string
	for objs.Next() {
		r := objs.RecordBatch()
		schemas := r.Column(1).(*array.List)
		st := schemas.ListValues().(*array.Struct)
		for i := 0; i < r.Column(0).Len(); i++ {
			start, end := schemas.ValueOffsets(i)
			for j := int(start); j < int(end); j++ {
				tables := st.Field(1).(*array.List)
				tt := tables.ListValues().(*array.Struct)
				t0, t1 := tables.ValueOffsets(j)
				for k := int(t0); k < int(t1); k++ {
					out = append(out, st.Field(0).(*array.String).Value(j)+"."+tt.Field(0).(*array.String).Value(k))
				}
			}
		}
	}
	require.NoError(t, objs.Err())
	return out
}

// TestMetadataListsOnlyReadableTables: metadata calls (ADBC GetObjects,
// GetTableSchema, Flight SQL GetTables), SHOW TABLES and DESCRIBE show an
// account only the tables it may read: a user-role account never learns
// the names or columns of PRIVATE, RESTRICTED or DBA SHARED tables.
func TestMetadataListsOnlyReadableTables(t *testing.T) {
	ts := startServer(t, t.TempDir())
	root := connect(t, ts.addr, "root", testRootPassword)
	root.mustExec("CREATE NAMESPACE md")
	root.mustExec("CREATE SHARED TABLE md.pub (id INT PRIMARY KEY, v TEXT) WITH (ACCESS_LEVEL='PUBLIC')")
	root.mustExec("CREATE SHARED TABLE md.secret_plans (id INT PRIMARY KEY, v TEXT)") // PRIVATE
	root.mustExec("CREATE SHARED TABLE md.restricted_t (id INT PRIMARY KEY, v TEXT) WITH (ACCESS_LEVEL='RESTRICTED')")
	root.mustExec("CREATE SHARED TABLE md.dba_only (id INT PRIMARY KEY, v TEXT) WITH (ACCESS_LEVEL='DBA')")
	root.mustExec("CREATE USER TABLE md.notes (id INT PRIMARY KEY, body TEXT)")
	root.mustExec("CREATE STREAM TABLE md.events (id INT, body TEXT) WITH (TTL_SECONDS=60)")
	alice := newUser(t, ts.addr, root, "alice")
	root.mustExec("CREATE USER svc WITH PASSWORD 'svc-password' ROLE service")
	svc := connect(t, ts.addr, "svc", "svc-password")

	userTables := []string{"md.events", "md.notes", "md.pub"}
	require.ElementsMatch(t, userTables, objectTables(t, alice))
	require.ElementsMatch(t, append(userTables, "md.restricted_t", "md.secret_plans"), objectTables(t, svc))
	require.Subset(t, objectTables(t, root), append(userTables, "md.restricted_t", "md.secret_plans", "md.dba_only", "system.users"))

	ctx := context.Background()
	ns := "md"
	for _, name := range []string{"secret_plans", "restricted_t", "dba_only"} {
		_, err := alice.conn.GetTableSchema(ctx, nil, &ns, name)
		require.Error(t, err, name)
		require.NotContains(t, err.Error(), "id", name)
	}
	sch, err := alice.conn.GetTableSchema(ctx, nil, &ns, "pub")
	require.NoError(t, err)
	require.Equal(t, []string{"id", "v"}, fieldNames(sch))

	var names []string
	for _, r := range alice.mustQuery("SHOW TABLES IN md") {
		names = append(names, r[0]+"."+r[1])
	}
	require.ElementsMatch(t, userTables, names)
	_, _, err = alice.query("DESCRIBE TABLE md.secret_plans")
	requireCode(t, err, codes.PermissionDenied, "")
	require.Len(t, alice.mustQuery("DESCRIBE TABLE md.pub"), 2)
	require.Len(t, svc.mustQuery("DESCRIBE TABLE md.secret_plans"), 2)
}
