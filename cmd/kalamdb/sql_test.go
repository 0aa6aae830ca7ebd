//go:build duckdb_arrow

package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
)

func TestNamespacesAndTables(t *testing.T) {
	ts := startServer(t, t.TempDir())
	root := connect(t, ts.addr, "root", testRootPassword)

	root.mustExec("CREATE NAMESPACE chat")
	_, err := root.exec("CREATE NAMESPACE chat")
	requireCode(t, err, codes.AlreadyExists, "namespace chat already exists")
	root.mustExec("CREATE NAMESPACE IF NOT EXISTS chat")
	_, err = root.exec("CREATE NAMESPACE system")
	requireCode(t, err, codes.InvalidArgument, "reserved")
	require.Contains(t, root.mustQuery("SHOW NAMESPACES"), []string{"chat", "chat", root.mustQuery("SELECT created_at FROM system.namespaces")[0][0], "{}", "0"})

	root.mustExec(`CREATE USER TABLE chat.messages (
		id BIGINT PRIMARY KEY DEFAULT SNOWFLAKE_ID(), room TEXT NOT NULL, body TEXT,
		author TEXT DEFAULT CURRENT_USER(), created_at TIMESTAMP DEFAULT NOW()
	) WITH (FLUSH_POLICY='rows:1000,interval:60')`)
	_, err = root.exec("CREATE USER TABLE chat.messages (id BIGINT PRIMARY KEY)")
	requireCode(t, err, codes.AlreadyExists, "table chat.messages already exists")
	_, err = root.exec("CREATE TABLE nope.t (id BIGINT PRIMARY KEY)")
	requireCode(t, err, codes.NotFound, "namespace nope does not exist")
	_, err = root.exec("CREATE USER TABLE chat.nopk (a TEXT)")
	requireCode(t, err, codes.InvalidArgument, "primary key")
	root.mustExec("CREATE SHARED TABLE chat.rooms (name TEXT PRIMARY KEY, topic TEXT DEFAULT 'general', max_members INT DEFAULT 50) WITH (ACCESS_LEVEL='PUBLIC')")
	root.mustExec("CREATE STREAM TABLE chat.typing (room TEXT, who TEXT DEFAULT CURRENT_USER()) WITH (TTL_SECONDS=30)")
	_, err = root.exec("CREATE STREAM TABLE chat.bad (room TEXT)")
	requireCode(t, err, codes.InvalidArgument, "TTL_SECONDS")

	tables := root.mustQuery("SHOW TABLES IN chat")
	require.Len(t, tables, 3)
	require.Equal(t, []string{"chat", "messages", "USER", "local", "1"}, tables[0][:5])
	require.Contains(t, tables[0][5], `"FLUSH_POLICY":"rows:1000,interval:60"`)
	require.Equal(t, []string{"chat", "rooms", "SHARED"}, tables[1][:3])
	require.Equal(t, []string{"chat", "typing", "STREAM"}, tables[2][:3])

	root.mustExec("USE chat")
	desc := root.mustQuery("DESCRIBE TABLE messages")
	require.Equal(t, []string{"id", "1", "BIGINT", "false", "true", "SNOWFLAKE_ID()"}, desc[0])
	require.Equal(t, []string{"room", "2", "TEXT", "false", "false", "NULL"}, desc[1])
	require.Equal(t, []string{"created_at", "5", "TIMESTAMP", "true", "false", "NOW()"}, desc[4])

	// ALTER TABLE keeps existing rows readable.
	root.mustExec("INSERT INTO messages (room, body) VALUES ('r1', 'before alter')")
	root.mustExec("ALTER TABLE messages ADD COLUMN score INT")
	root.mustExec("ALTER TABLE messages RENAME COLUMN body TO text")
	root.mustExec("ALTER TABLE messages DROP COLUMN author")
	require.Equal(t, [][]string{{"r1", "before alter", "NULL"}}, root.mustQuery("SELECT room, text, score FROM messages"))
	root.mustExec("INSERT INTO messages (room, text, score) VALUES ('r2', 'after', 7)")
	require.Equal(t, [][]string{{"r2", "after", "7"}}, root.mustQuery("SELECT room, text, score FROM messages WHERE score IS NOT NULL"))
	_, _, err = root.query("SELECT author FROM messages")
	requireCode(t, err, codes.InvalidArgument, "author")
	require.Equal(t, "4", root.mustQuery("SELECT version FROM system.tables WHERE table_name = 'messages'")[0][0])

	_, err = root.exec("DROP NAMESPACE chat")
	requireCode(t, err, codes.InvalidArgument, "not empty")
	root.mustExec("DROP TABLE chat.typing")
	_, _, err = root.query("SELECT * FROM chat.typing")
	requireCode(t, err, codes.NotFound, "chat.typing does not exist")
	root.mustExec("DROP TABLE IF EXISTS chat.typing")
	_, err = root.exec("DROP TABLE chat.typing")
	requireCode(t, err, codes.NotFound, "")
	// A re-created table does not see the dropped table's rows.
	root.mustExec("DROP TABLE messages")
	root.mustExec("CREATE USER TABLE messages (id BIGINT PRIMARY KEY DEFAULT SNOWFLAKE_ID(), room TEXT)")
	require.Equal(t, [][]string{{"0"}}, root.mustQuery("SELECT count(*) FROM messages"))
	root.mustExec("DROP NAMESPACE chat CASCADE")
	require.Empty(t, root.mustQuery("SELECT * FROM system.tables"))
	_, err = root.exec("USE chat")
	requireCode(t, err, codes.NotFound, "namespace chat does not exist")
}

func TestDML(t *testing.T) {
	ts := startServer(t, t.TempDir())
	root := connect(t, ts.addr, "root", testRootPassword)
	root.mustExec("CREATE NAMESPACE app")
	root.mustExec("USE app")
	root.mustExec(`CREATE SHARED TABLE items (id BIGINT PRIMARY KEY, name TEXT NOT NULL, price DECIMAL(10,2),
		qty INT DEFAULT 1, tags JSON, uid UUID DEFAULT UUID_V7(), ulid TEXT DEFAULT ULID(), made DATE, tm TIME, data BYTES,
		ok BOOLEAN DEFAULT TRUE, f FLOAT, d DOUBLE, s SMALLINT)`)

	require.EqualValues(t, 3, root.mustExec(`INSERT INTO items (id, name, price, tags, made, tm, data, f, d, s) VALUES
		(1, 'apple', 1.25, '{"c":"red"}', DATE '2024-01-02', TIME '10:11:12', '\xAA'::BLOB, 1.5, 2.25, 3),
		(2, 'pear', 2.50, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
		(3, 'fig', 9.99, '[1,2]', '2024-03-04', NULL, NULL, NULL, NULL, NULL)`))
	rows := root.mustQuery("SELECT id, name, price::VARCHAR, qty, tags, made, tm, ok, f, d, s, length(uid), length(ulid) FROM items ORDER BY id")
	require.Equal(t, []string{"1", "apple", "1.25", "1", `{"c":"red"}`, "2024-01-02", "10:11:12.000000", "true", "1.5", "2.25", "3", "36", "26"}, rows[0])
	require.Equal(t, []string{"2", "pear", "2.50", "1", "NULL", "NULL", "NULL", "true", "NULL", "NULL", "NULL", "36", "26"}, rows[1])

	// RETURNING gives the written rows, _seq included.
	ret, schema, err := root.query("INSERT INTO items (id, name) VALUES (4, 'kiwi'), (5, 'lime') RETURNING id, upper(name) AS up, _seq")
	require.NoError(t, err)
	require.Equal(t, "up", schema.Field(1).Name)
	require.Len(t, ret, 2)
	require.Equal(t, []string{"4", "KIWI"}, ret[0][:2])
	require.NotEqual(t, ret[0][2], ret[1][2])

	// INSERT … SELECT, from a table function and from the table itself.
	require.EqualValues(t, 10, root.mustExec("INSERT INTO items (id, name) SELECT 100 + i, 'gen' || i FROM range(10) t(i)"))
	require.EqualValues(t, 3, root.mustExec("INSERT INTO items (id, name, price) SELECT id + 1000, name || '-copy', price FROM items WHERE id <= 3"))
	require.Equal(t, [][]string{{"18"}}, root.mustQuery("SELECT count(*) FROM items"))

	// UPDATE writes new versions; _seq grows.
	before := root.mustQuery("SELECT _seq FROM items WHERE id = 2")[0][0]
	require.EqualValues(t, 2, root.mustExec("UPDATE items SET price = price * 2, qty = qty + 1 WHERE id IN (1, 2)"))
	require.Equal(t, [][]string{{"1", "2.50", "2"}, {"2", "5.00", "2"}}, root.mustQuery("SELECT id, price::VARCHAR, qty FROM items WHERE id < 3 ORDER BY id"))
	require.Greater(t, root.mustQuery("SELECT _seq FROM items WHERE id = 2")[0][0], before)
	upd, _, err := root.query("UPDATE items SET name = 'Pear' WHERE id = 2 RETURNING name")
	require.NoError(t, err)
	require.Equal(t, [][]string{{"Pear"}}, upd)
	require.EqualValues(t, 0, root.mustExec("UPDATE items SET qty = 0 WHERE id = 999"))

	// DELETE hides rows; re-inserting the key works.
	require.EqualValues(t, 10, root.mustExec("DELETE FROM items WHERE id >= 100 AND id < 1000"))
	require.Equal(t, [][]string{{"8"}}, root.mustQuery("SELECT count(*) FROM items"))
	del, _, err := root.query("DELETE FROM items WHERE id = 1001 RETURNING id, name")
	require.NoError(t, err)
	require.Equal(t, [][]string{{"1001", "apple-copy"}}, del)
	require.Empty(t, root.mustQuery("SELECT * FROM items WHERE id = 1001"))
	root.mustExec("INSERT INTO items (id, name) VALUES (1001, 'again')")
	require.Equal(t, [][]string{{"again"}}, root.mustQuery("SELECT name FROM items WHERE id = 1001"))

	// Constraint errors write nothing of the statement.
	count := func() string { return root.mustQuery("SELECT count(*) FROM items")[0][0] }
	n := count()
	_, err = root.exec("INSERT INTO items (id, name) VALUES (50, 'ok'), (51, NULL)")
	requireCode(t, err, codes.InvalidArgument, "null value in column name")
	_, err = root.exec("INSERT INTO items (id, name) VALUES (60, 'a'), (1, 'dup of existing')")
	requireCode(t, err, codes.AlreadyExists, "duplicate primary key")
	_, err = root.exec("INSERT INTO items (id, name) VALUES (70, 'a'), (70, 'dup within')")
	requireCode(t, err, codes.AlreadyExists, "duplicate primary key")
	_, err = root.exec("INSERT INTO items (id, name, qty) VALUES (80, 'x', 'not a number')")
	requireCode(t, err, codes.InvalidArgument, "conver")
	_, err = root.exec("INSERT INTO items (id, name, uid) VALUES (81, 'x', 'not-a-uuid')")
	requireCode(t, err, codes.InvalidArgument, "uuid")
	_, err = root.exec("INSERT INTO items (id, nosuch) VALUES (82, 1)")
	requireCode(t, err, codes.InvalidArgument, "column nosuch does not exist")
	_, err = root.exec("UPDATE items SET id = 5 WHERE id = 4") // 5 is taken
	requireCode(t, err, codes.AlreadyExists, "duplicate primary key 5")
	_, err = root.exec("UPDATE items SET name = NULL WHERE id = 4")
	requireCode(t, err, codes.InvalidArgument, "null value")
	require.Equal(t, n, count())
	require.Empty(t, root.mustQuery("SELECT * FROM items WHERE id IN (50, 60, 70, 80, 81)"))
}

func TestSelects(t *testing.T) {
	ts := startServer(t, t.TempDir())
	root := connect(t, ts.addr, "root", testRootPassword)
	root.mustExec("CREATE NAMESPACE shop")
	root.mustExec("CREATE SHARED TABLE shop.customers (id INT PRIMARY KEY, name TEXT)")
	root.mustExec("CREATE USER TABLE shop.orders (id INT PRIMARY KEY, customer INT, amount DOUBLE)")
	root.mustExec("INSERT INTO shop.customers VALUES (1, 'ann'), (2, 'bo'), (3, 'cy')")
	root.mustExec("INSERT INTO shop.orders VALUES (10, 1, 5.0), (11, 1, 7.0), (12, 2, 1.0), (13, 3, 4.0), (14, 3, 6.0)")

	join := root.mustQuery(`SELECT c.name, sum(o.amount) AS total FROM shop.orders o JOIN shop.customers c ON c.id = o.customer
		GROUP BY c.name HAVING sum(o.amount) > 2 ORDER BY total DESC`)
	require.Equal(t, [][]string{{"ann", "12"}, {"cy", "10"}}, join)
	win := root.mustQuery(`SELECT id, row_number() OVER (PARTITION BY customer ORDER BY amount DESC) AS rn,
		sum(amount) OVER (ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running FROM shop.orders ORDER BY id`)
	require.Equal(t, [][]string{{"10", "2", "5"}, {"11", "1", "12"}, {"12", "1", "13"}, {"13", "2", "17"}, {"14", "1", "23"}}, win)
	cte := root.mustQuery(`WITH big AS (SELECT * FROM shop.orders WHERE amount >= 5), names AS (SELECT id, name FROM shop.customers)
		SELECT n.name, count(*) FROM big JOIN names n ON n.id = big.customer GROUP BY ALL ORDER BY 1`)
	require.Equal(t, [][]string{{"ann", "2"}, {"cy", "1"}}, cte)
	sub := root.mustQuery("SELECT name FROM shop.customers WHERE id IN (SELECT customer FROM shop.orders WHERE amount < 2)")
	require.Equal(t, [][]string{{"bo"}}, sub)
	self := root.mustQuery("SELECT a.id, b.id FROM shop.orders a JOIN shop.orders b ON a.customer = b.customer AND a.id < b.id ORDER BY 1")
	require.Equal(t, [][]string{{"10", "11"}, {"13", "14"}}, self)
	require.Equal(t, [][]string{{"5.0"}}, root.mustQuery("SELECT amount::VARCHAR FROM shop.orders WHERE id = 10"))
	require.Equal(t, [][]string{{"1"}, {"2"}}, root.mustQuery("SELECT customer FROM shop.orders WHERE id IN (12, 10) ORDER BY 1"))
	qual := root.mustQuery("SELECT orders.id FROM shop.orders WHERE orders.id = 12")
	require.Equal(t, [][]string{{"12"}}, qual)
	// A CTE may shadow a table name; it is the CTE that is read.
	require.Equal(t, [][]string{{"42"}}, root.mustQuery("WITH orders AS (SELECT 42 AS id) SELECT id FROM orders"))
}

func TestUserIsolation(t *testing.T) {
	ts := startServer(t, t.TempDir())
	root := connect(t, ts.addr, "root", testRootPassword)
	root.mustExec("CREATE NAMESPACE notes")
	root.mustExec("CREATE USER TABLE notes.n (id INT PRIMARY KEY, body TEXT, owner TEXT DEFAULT CURRENT_USER())")
	root.mustExec("CREATE USER alice WITH PASSWORD 'alice-pass' ROLE user")
	root.mustExec("CREATE USER bob WITH PASSWORD 'bob-pass1' ROLE user EMAIL 'bob@example.com'")
	_, err := root.exec("CREATE USER alice WITH PASSWORD 'whatever1' ROLE user")
	requireCode(t, err, codes.AlreadyExists, "")
	alice := connect(t, ts.addr, "alice", "alice-pass")
	bob := connect(t, ts.addr, "bob", "bob-pass1")

	// The same primary key may exist once per user.
	root.mustExec("INSERT INTO notes.n (id, body) VALUES (1, 'root note')")
	alice.mustExec("INSERT INTO notes.n (id, body) VALUES (1, 'alice 1'), (2, 'alice 2')")
	bob.mustExec("INSERT INTO notes.n (id, body) VALUES (1, 'bob 1')")
	require.Equal(t, [][]string{{"1", "alice 1", "alice"}, {"2", "alice 2", "alice"}}, alice.mustQuery("SELECT * EXCLUDE (_seq) FROM notes.n ORDER BY id"))
	require.Equal(t, [][]string{{"1", "bob 1", "bob"}}, bob.mustQuery("SELECT id, body, owner FROM notes.n"))
	require.Equal(t, [][]string{{"1", "root note", "root"}}, root.mustQuery("SELECT id, body, owner FROM notes.n"))
	require.Equal(t, [][]string{{"bob 1"}}, bob.mustQuery("SELECT body FROM notes.n WHERE id = 1"))

	// Changes touch only the caller's rows.
	require.EqualValues(t, 1, bob.mustExec("UPDATE notes.n SET body = 'bob edited' WHERE id = 1"))
	require.EqualValues(t, 0, bob.mustExec("UPDATE notes.n SET body = 'hijack' WHERE id = 2"))
	require.EqualValues(t, 0, bob.mustExec("DELETE FROM notes.n WHERE id = 2"))
	require.Equal(t, [][]string{{"alice 1"}, {"alice 2"}}, alice.mustQuery("SELECT body FROM notes.n ORDER BY id"))
	require.EqualValues(t, 1, alice.mustExec("DELETE FROM notes.n WHERE id = 1"))
	require.Equal(t, [][]string{{"bob edited"}}, bob.mustQuery("SELECT body FROM notes.n"))
	require.Equal(t, [][]string{{"root note"}}, root.mustQuery("SELECT body FROM notes.n"))

	// Spellings of the same table all resolve to the caller's partition.
	for _, q := range []string{
		`SELECT count(*) FROM "notes"."n"`, `SELECT count(*) FROM NOTES.N`, `SELECT count(*) FROM (SELECT * FROM notes.n) s`,
		`WITH x AS (SELECT * FROM notes.n) SELECT count(*) FROM x`, `SELECT (SELECT count(*) FROM notes.n)`,
	} {
		require.Equal(t, [][]string{{"1"}}, alice.mustQuery(q), q)
	}
	_, _, err = alice.query("SELECT * FROM pg_catalog.pg_tables")
	requireCode(t, err, codes.PermissionDenied, "pg_catalog")
	_, _, err = alice.query("SELECT * FROM information_schema.duckdb_tables")
	requireCode(t, err, codes.NotFound, "information_schema.duckdb_tables")

	// EXECUTE AS: root reaches alice's rows; alice cannot reach bob's.
	require.Equal(t, [][]string{{"alice 2"}}, root.mustQuery("EXECUTE AS USER 'alice' (SELECT body FROM notes.n)"))
	root.mustExec("EXECUTE AS USER alice (INSERT INTO notes.n (id, body) VALUES (3, 'by root for alice'))")
	require.Equal(t, [][]string{{"2", "alice"}, {"3", "alice"}}, alice.mustQuery("SELECT id, owner FROM notes.n ORDER BY id"))
	_, _, err = alice.query("EXECUTE AS USER 'bob' (SELECT * FROM notes.n)")
	requireCode(t, err, codes.PermissionDenied, "")

	// Roles: a user cannot create namespaces, users, or read system tables.
	_, err = alice.exec("CREATE NAMESPACE mine")
	requireCode(t, err, codes.PermissionDenied, "")
	_, err = alice.exec("CREATE USER eve WITH PASSWORD 'evepass1' ROLE system")
	requireCode(t, err, codes.PermissionDenied, "")
	require.Equal(t, [][]string{{"alice"}}, alice.mustQuery("SELECT user_id FROM system.users"), "a user sees only its own row")
	_, _, err = alice.query("SELECT * FROM system.namespaces")
	requireCode(t, err, codes.PermissionDenied, "")
	_, err = alice.exec("CREATE SHARED TABLE notes.s (id INT PRIMARY KEY)")
	requireCode(t, err, codes.PermissionDenied, "")

	// system.users lists users without any password material.
	users, schema, err := root.query("SELECT * FROM system.users ORDER BY user_id")
	require.NoError(t, err)
	for _, f := range schema.Fields() {
		require.NotContains(t, f.Name, "password")
		require.NotContains(t, f.Name, "hash")
	}
	require.Equal(t, []string{"alice", "user", "NULL", "password"}, users[0][:4])
	require.Equal(t, []string{"bob", "user", "bob@example.com"}, users[1][:3])
	require.Equal(t, []string{"root", "system"}, users[2][:2])
	require.NotContains(t, fmt.Sprint(users), "$2a$")

	// Passwords: a user may change its own; a dropped user cannot log in.
	alice.mustExec("ALTER USER alice SET PASSWORD 'alice-new-pass'")
	_, err = tryConnect(ts.addr, "alice", "alice-pass")
	requireCode(t, err, codes.Unauthenticated, "")
	connect(t, ts.addr, "alice", "alice-new-pass")
	_, err = bob.exec("ALTER USER alice SET PASSWORD 'bob-owns-you'")
	requireCode(t, err, codes.PermissionDenied, "")
	root.mustExec("DROP USER bob")
	_, err = tryConnect(ts.addr, "bob", "bob-pass1")
	requireCode(t, err, codes.Unauthenticated, "")
	_, _, err = bob.query("SELECT 1")
	requireCode(t, err, codes.Unauthenticated, "")
	root.mustExec("DROP USER IF EXISTS bob")

	// An INTERNAL user has no password: no login, only impersonation.
	root.mustExec("CREATE USER agent7 WITH INTERNAL ROLE user")
	_, err = tryConnect(ts.addr, "agent7", "")
	requireCode(t, err, codes.Unauthenticated, "")
	_, err = tryConnect(ts.addr, "agent7", "anything-at-all")
	requireCode(t, err, codes.Unauthenticated, "")
	root.mustExec("EXECUTE AS USER 'agent7' (INSERT INTO notes.n (id, body) VALUES (1, 'agent note'))")
	require.Equal(t, [][]string{{"agent note", "agent7"}}, root.mustQuery("EXECUTE AS USER 'agent7' (SELECT body, owner FROM notes.n)"))
	require.Equal(t, [][]string{{"internal"}}, root.mustQuery("SELECT auth_type FROM system.users WHERE user_id = 'agent7'"))
	_, err = root.exec("CREATE USER x WITH INTERNAL PASSWORD 'abcdefgh1'")
	requireCode(t, err, codes.InvalidArgument, "no password")
}

func TestErrorCodes(t *testing.T) {
	ts := startServer(t, t.TempDir())
	root := connect(t, ts.addr, "root", testRootPassword)
	_, _, err := root.query("SELEC 1")
	requireCode(t, err, codes.InvalidArgument, "syntax error")
	_, _, err = root.query("SELECT FROM WHERE")
	requireCode(t, err, codes.InvalidArgument, "syntax error")
	_, err = root.exec("CREATE TABLE (")
	requireCode(t, err, codes.InvalidArgument, "syntax error at position")
	_, _, err = root.query("SELECT * FROM nosuch.t")
	requireCode(t, err, codes.NotFound, "nosuch.t does not exist")
	_, _, err = root.query("SELECT * FROM t")
	requireCode(t, err, codes.NotFound, "no namespace selected")
	_, _, err = root.query("SELECT nosuchcol FROM range(3)")
	requireCode(t, err, codes.InvalidArgument, "nosuchcol")
	_, err = tryConnect(ts.addr, "root", "wrong")
	requireCode(t, err, codes.Unauthenticated, "invalid username or password")
	_, err = tryConnect(ts.addr, "ghost", "whatever")
	requireCode(t, err, codes.Unauthenticated, "invalid username or password")
	// The server keeps serving after every error.
	require.Equal(t, [][]string{{"1"}}, root.mustQuery("SELECT 1"))
}

func TestRefusedEscapes(t *testing.T) {
	ts := startServer(t, t.TempDir())
	root := connect(t, ts.addr, "root", testRootPassword)
	root.mustExec("CREATE USER mallory WITH PASSWORD 'mallory-pw' ROLE user")
	m := connect(t, ts.addr, "mallory", "mallory-pw")
	for _, c := range []*client{root, m} {
		for _, q := range []string{
			"SELECT * FROM read_csv('/etc/passwd')",
			"SELECT * FROM read_csv_auto('/etc/passwd')",
			"SELECT * FROM '/etc/passwd'",
			"SELECT * FROM read_text('/etc/passwd')",
			"SELECT * FROM glob('/*')",
			"SELECT * FROM parquet_metadata('/tmp/x.parquet')",
			"COPY (SELECT 1) TO '/tmp/kalamdb_escape.csv'",
			"ATTACH '/tmp/kalamdb_escape.db' AS x",
			"ATTACH ':memory:' AS x",
			"INSTALL httpfs",
			"LOAD httpfs",
			"SET enable_external_access = true",
			"SET memory_limit = '100GB'",
			"RESET memory_limit",
			"PRAGMA enable_profiling",
			"PRAGMA version",
			"SELECT * FROM duckdb_settings()",
			"SELECT current_setting('memory_limit')",
			"SELECT * FROM query('SELECT 1')",
			"SELECT * FROM query_table('x')",
			"SELECT getvariable('x')",
			"CREATE SECRET s (TYPE s3)",
			"CREATE MACRO m(a) AS a",
			"CREATE TEMP TABLE x AS SELECT 1",
			"CREATE VIEW v AS SELECT 1",
			"EXPORT DATABASE '/tmp/kalamdb_export'",
			"SELECT 1; DROP TABLE x",
			"SELECT * FROM temp.main.__kdb_t0",
			"SELECT * FROM duckdb_tables()",
			"SELECT * FROM (DESCRIBE SELECT * FROM duckdb_tables())", // DESCRIBE of a query is a read (TestReadStatements), of a DuckDB object not
		} {
			_, _, err := c.query(q)
			require.Error(t, err, q)
			code := codeOf(err)
			require.Contains(t, []codes.Code{codes.PermissionDenied, codes.InvalidArgument, codes.NotFound}, code, "%s: %v", q, err)
			if strings.Contains(q, "/etc/passwd") || strings.HasPrefix(q, "COPY") || strings.HasPrefix(q, "ATTACH") ||
				strings.HasPrefix(q, "INSTALL") || strings.HasPrefix(q, "LOAD") || strings.HasPrefix(q, "SET") || strings.HasPrefix(q, "PRAGMA") {
				require.Equal(t, codes.PermissionDenied, code, "%s: %v", q, err)
			}
		}
	}
	require.Equal(t, [][]string{{"1"}}, m.mustQuery("SELECT 1"))
}

func codeOf(err error) codes.Code {
	for _, c := range []codes.Code{codes.PermissionDenied, codes.InvalidArgument, codes.NotFound, codes.Unauthenticated, codes.AlreadyExists} {
		if matchesCode(err, c) {
			return c
		}
	}
	return grpcCode(err) // DeadlineExceeded, ResourceExhausted, …
}

// TestInsertFastPathMatchesDuckDB checks that literal VALUES, which skip
// DuckDB, store exactly what DuckDB's casts store for the same values
// (parenthesised values take the DuckDB path).
func TestInsertFastPathMatchesDuckDB(t *testing.T) {
	ts := startServer(t, t.TempDir())
	root := connect(t, ts.addr, "root", testRootPassword)
	root.mustExec("CREATE NAMESPACE fp")
	root.mustExec(`CREATE SHARED TABLE fp.v (id INT PRIMARY KEY, ts TIMESTAMP, ts2 TIMESTAMP, d DATE, tm TIME, dec DECIMAL(10,3),
		f DOUBLE, r FLOAT, s TEXT, b BOOLEAN, big BIGINT, small SMALLINT, j JSON)`)
	vals := []string{"TIMESTAMP '2024-02-03 04:05:06.123456'", "'1999-12-31 23:59:59'", "DATE '2024-02-29'", "TIME '04:05:06.5'",
		"-12.345", "1.5e3", "0.1", "'it''s'", "false", "-9223372036854775808", "32767", `'{"a":[1,2]}'`}
	paren := make([]string, len(vals))
	for i, v := range vals {
		paren[i] = "(" + v + ")"
	}
	root.mustExec("INSERT INTO fp.v VALUES (1, " + strings.Join(vals, ", ") + ")")
	root.mustExec("INSERT INTO fp.v VALUES (2, " + strings.Join(paren, ", ") + ")")
	rows := root.mustQuery("SELECT * EXCLUDE (id, _seq) FROM fp.v ORDER BY id")
	require.Len(t, rows, 2)
	require.Equal(t, rows[1], rows[0])
	require.Equal(t, "2024-02-03 04:05:06.123456", rows[0][0])
	// Values the fast path does not take still work (DuckDB casts them).
	root.mustExec("INSERT INTO fp.v (id, dec, big, ts) VALUES (3, 1.23456, '42', '2024-01-01T10:00:00+02:00')")
	require.Equal(t, [][]string{{"1.235", "42"}}, root.mustQuery("SELECT dec::VARCHAR, big FROM fp.v WHERE id = 3"))
	_, err := root.exec("INSERT INTO fp.v (id, small) VALUES (4, 40000)")
	requireCode(t, err, codes.InvalidArgument, "")
}

// TestPointQueryMatchesDuckDB checks that primary-key lookups answered from
// the hot tier return what DuckDB returns for the same query ((id) = … takes
// the DuckDB path).
func TestPointQueryMatchesDuckDB(t *testing.T) {
	ts := startServer(t, t.TempDir())
	root := connect(t, ts.addr, "root", testRootPassword)
	root.mustExec("CREATE NAMESPACE pq")
	root.mustExec(`CREATE USER TABLE pq.t (id BIGINT PRIMARY KEY, name TEXT NOT NULL, amount DECIMAL(12,2), "at" TIMESTAMP, d DATE, b BYTES, ok BOOLEAN, f FLOAT)`)
	root.mustExec(`CREATE USER TABLE pq.s (k TEXT PRIMARY KEY, v INT)`)
	root.mustExec(`INSERT INTO pq.t VALUES (7, 'seven', 7.25, TIMESTAMP '2024-05-06 07:08:09', DATE '2024-05-06', '\x01\x02'::BLOB, true, 0.5), (8, 'eight', NULL, NULL, NULL, NULL, NULL, NULL)`)
	root.mustExec(`INSERT INTO pq.s VALUES ('a', 1), ('it''s', 2)`)
	for _, pair := range [][2]string{
		{"SELECT * FROM pq.t WHERE id = 7", "SELECT * FROM pq.t WHERE (id) = 7"},
		{"SELECT * FROM pq.t WHERE id = 8", "SELECT * FROM pq.t WHERE (id) = 8"},
		{"SELECT name, _seq, id FROM pq.t WHERE id = 7", "SELECT name, _seq, id FROM pq.t WHERE (id) = 7"},
		{"SELECT * FROM pq.t WHERE id = 9", "SELECT * FROM pq.t WHERE (id) = 9"},
		{"SELECT v FROM pq.s WHERE k = 'it''s'", "SELECT v FROM pq.s WHERE (k) = 'it''s'"},
	} {
		fast, fs, err := root.query(pair[0])
		require.NoError(t, err, pair[0])
		slow, ss, err := root.query(pair[1])
		require.NoError(t, err, pair[1])
		require.Equal(t, slow, fast, pair[0])
		require.True(t, ss.Equal(fs), "schemas differ:\nfast %v\nslow %v", fs, ss)
	}
	// Other users never see these rows through the fast path either.
	pat := newUser(t, ts.addr, root, "pat")
	require.Empty(t, pat.mustQuery("SELECT * FROM pq.t WHERE id = 7"))
	_, _, err := pat.query("SELECT nosuch FROM pq.t WHERE id = 7")
	requireCode(t, err, codes.InvalidArgument, "nosuch")
}

// TestSeqHiddenFromStar: `*` and `t.*` over tables leave out the _seq
// system column (in joins, CTEs, INSERT … SELECT *, RETURNING *), while
// naming _seq still returns it.
func TestSeqHiddenFromStar(t *testing.T) {
	ts := startServer(t, t.TempDir())
	root := connect(t, ts.addr, "root", testRootPassword)
	root.mustExec("CREATE NAMESPACE hs")
	root.mustExec("CREATE SHARED TABLE hs.a (id INT PRIMARY KEY, v TEXT)")
	root.mustExec("CREATE SHARED TABLE hs.b (id INT PRIMARY KEY, w TEXT)")
	root.mustExec("CREATE SHARED TABLE hs.c (id INT PRIMARY KEY, v TEXT)")
	root.mustExec("INSERT INTO hs.a VALUES (1, 'x'), (2, 'y')")
	root.mustExec("INSERT INTO hs.b VALUES (1, 'p')")
	cols := func(sql string) []string {
		_, sch, err := root.query(sql)
		require.NoError(t, err, sql)
		return fieldNames(sch)
	}
	require.Equal(t, []string{"id", "v"}, cols("SELECT * FROM hs.a"))
	require.Equal(t, []string{"id", "v"}, cols("SELECT * FROM hs.a WHERE id = 1"), "point-lookup path")
	require.Equal(t, []string{"id", "v", "id", "w"}, cols("SELECT * FROM hs.a JOIN hs.b ON a.id = b.id"))
	require.Equal(t, []string{"id", "v", "w"}, cols("SELECT * FROM hs.a JOIN hs.b USING (id)"))
	require.Equal(t, []string{"id", "v", "_seq"}, cols("SELECT a.*, b._seq FROM hs.a a JOIN hs.b b ON a.id = b.id"))
	require.Equal(t, []string{"id", "v"}, cols("WITH q AS (SELECT * FROM hs.a) SELECT * FROM q"))
	require.Equal(t, []string{"_seq", "id", "v"}, cols("SELECT _seq, * FROM hs.a"))
	require.Equal(t, []string{"id", "v", "n"}, cols("SELECT *, 1 AS n FROM hs.a"))
	require.Equal(t, []string{"v"}, cols("SELECT * EXCLUDE (id) FROM hs.a"))
	require.Equal(t, []string{"id", "v"}, cols("SELECT * EXCLUDE (_seq) FROM hs.a"))
	require.Contains(t, cols("SELECT * FROM system.tables"), "table_name")
	require.EqualValues(t, 2, root.mustExec("INSERT INTO hs.c SELECT * FROM hs.a"))
	require.Equal(t, [][]string{{"1", "x"}, {"2", "y"}}, root.mustQuery("SELECT * FROM hs.c ORDER BY id"))
	ret, sch, err := root.query("INSERT INTO hs.c VALUES (3, 'z') RETURNING *")
	require.NoError(t, err)
	require.Equal(t, []string{"id", "v"}, fieldNames(sch))
	require.Equal(t, [][]string{{"3", "z"}}, ret)
}
