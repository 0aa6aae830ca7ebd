//go:build duckdb_arrow

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
)

// TestRoleMatrix checks every role × table type × operation against the
// allow/deny table of the security model.
func TestRoleMatrix(t *testing.T) {
	ts := startServer(t, t.TempDir())
	root := connect(t, ts.addr, "root", testRootPassword)
	root.mustExec("CREATE NAMESPACE m")
	tables := map[string]string{
		"user_t":       "CREATE USER TABLE m.user_t (id INT PRIMARY KEY, v TEXT)",
		"stream_t":     "CREATE STREAM TABLE m.stream_t (id INT PRIMARY KEY, v TEXT) WITH (TTL_SECONDS=3600)",
		"public_t":     "CREATE SHARED TABLE m.public_t (id INT PRIMARY KEY, v TEXT) WITH (ACCESS_LEVEL='PUBLIC')",
		"private_t":    "CREATE SHARED TABLE m.private_t (id INT PRIMARY KEY, v TEXT)",
		"restricted_t": "CREATE SHARED TABLE m.restricted_t (id INT PRIMARY KEY, v TEXT) WITH (ACCESS_LEVEL='RESTRICTED')",
		"dba_t":        "CREATE SHARED TABLE m.dba_t (id INT PRIMARY KEY, v TEXT) WITH (ACCESS_LEVEL='DBA')",
	}
	for _, ddl := range tables {
		root.mustExec(ddl)
	}
	roles := []string{"user", "service", "dba", "system"}
	clients := map[string]*client{}
	for _, r := range roles {
		root.mustExec(fmt.Sprintf("CREATE USER u_%s WITH PASSWORD 'password-%s' ROLE %s", r, r, r))
		clients[r] = connect(t, ts.addr, "u_"+r, "password-"+r)
	}
	rank := map[string]int{"user": 1, "service": 2, "dba": 3, "system": 4}
	// allowed(role, table, op): the security model.
	allowed := func(role, table, op string) bool {
		switch table {
		case "user_t", "stream_t":
			return true
		case "public_t":
			return op == "read" || rank[role] >= rank["service"]
		case "private_t", "restricted_t":
			return rank[role] >= rank["service"]
		case "dba_t":
			return rank[role] >= rank["dba"]
		}
		panic(table)
	}
	id := 0
	for _, role := range roles {
		c := clients[role]
		for table := range tables {
			for _, op := range []string{"insert", "read", "update", "delete"} {
				id++
				var err error
				switch op {
				case "insert":
					_, err = c.exec(fmt.Sprintf("INSERT INTO m.%s VALUES (%d, 'x')", table, id))
				case "read":
					_, _, err = c.query("SELECT count(*) FROM m." + table)
				case "update":
					_, err = c.exec(fmt.Sprintf("UPDATE m.%s SET v = 'y' WHERE id = %d", table, id-2))
				case "delete":
					_, err = c.exec(fmt.Sprintf("DELETE FROM m.%s WHERE id = %d", table, id-3))
				}
				name := fmt.Sprintf("%s %s %s", role, op, table)
				if allowed(role, table, op) {
					require.NoError(t, err, name)
				} else {
					requireCode(t, err, codes.PermissionDenied, "permission denied")
				}
			}
		}
	}
	// Admin statements: dba and system only.
	for _, role := range roles {
		c := clients[role]
		admin := rank[role] >= rank["dba"]
		for _, q := range []string{
			"CREATE NAMESPACE ns_" + role,
			"CREATE USER x_" + role + " WITH PASSWORD 'password-x' ROLE user",
			"DROP TABLE m.nosuch_" + role,
			"ALTER TABLE m.public_t ADD COLUMN c_" + role + " TEXT",
		} {
			_, err := c.exec(q)
			if admin {
				if err != nil {
					require.NotEqual(t, codes.PermissionDenied, codeOf(err), "%s: %s: %v", role, q, err)
				}
			} else {
				requireCode(t, err, codes.PermissionDenied, "")
			}
		}
		_, _, err := c.query("SELECT * FROM system.tables")
		if admin {
			require.NoError(t, err)
		} else {
			requireCode(t, err, codes.PermissionDenied, "")
		}
		// Any role may create USER and STREAM tables; SHARED needs service.
		_, err = c.exec(fmt.Sprintf("CREATE USER TABLE m.mine_%s (id INT PRIMARY KEY)", role))
		require.NoError(t, err)
		_, err = c.exec(fmt.Sprintf("CREATE SHARED TABLE m.shared_%s (id INT PRIMARY KEY)", role))
		if rank[role] >= rank["service"] {
			require.NoError(t, err)
		} else {
			requireCode(t, err, codes.PermissionDenied, "")
		}
	}
	// EXECUTE AS: system → anyone; dba → dba/service/user; service →
	// service/user; user → only itself.
	for _, actor := range roles {
		for _, target := range roles {
			_, _, err := clients[actor].query(fmt.Sprintf("EXECUTE AS USER 'u_%s' (SELECT count(*) FROM m.user_t)", target))
			ok := actor == target || actor == "system" || (rank[actor] >= rank[target] && actor != "user")
			if ok {
				require.NoError(t, err, "%s as %s", actor, target)
			} else {
				requireCode(t, err, codes.PermissionDenied, "")
			}
		}
	}
	// A user reads its own row of system.users and nothing else there.
	rows := clients["user"].mustQuery("SELECT user_id, role FROM system.users")
	require.Equal(t, [][]string{{"u_user", "user"}}, rows)
	require.Equal(t, [][]string{{"u_user"}}, clients["user"].mustQuery("SELECT CURRENT_USER()"))
	require.Equal(t, [][]string{{"u_service"}}, clients["dba"].mustQuery("EXECUTE AS USER 'u_service' (SELECT current_user())"))
}

// TestSandboxEscapes is the hostile-user suite: a user-role client tries to
// reach files, the network, extensions, settings, DuckDB's catalog and other
// users' rows. Every attempt fails with PermissionDenied or InvalidArgument,
// leaves no trace, and the server keeps serving.
func TestSandboxEscapes(t *testing.T) {
	ts := startServer(t, t.TempDir())
	root := connect(t, ts.addr, "root", testRootPassword)
	root.mustExec("CREATE NAMESPACE s")
	root.mustExec("CREATE USER TABLE s.notes (id INT PRIMARY KEY, body TEXT)")
	root.mustExec("CREATE USER eve WITH PASSWORD 'eve-password' ROLE user")
	root.mustExec("CREATE USER bob WITH PASSWORD 'bob-password' ROLE user")
	bob := connect(t, ts.addr, "bob", "bob-password")
	bob.mustExec("INSERT INTO s.notes VALUES (1, 'bob secret')")
	eve := connect(t, ts.addr, "eve", "eve-password")
	eve.mustExec("INSERT INTO s.notes VALUES (2, 'eve note')")
	eve.mustExec("USE s")

	tmp := t.TempDir()
	out := filepath.Join(tmp, "escape")
	deep := strings.Repeat("(", 5000) + "1" + strings.Repeat(")", 5000)
	attempts := []string{
		// file and network table functions
		"SELECT * FROM read_csv('/etc/passwd')",
		"SELECT * FROM read_csv_auto('/etc/passwd')",
		"SELECT * FROM read_csv(['/etc/passwd', '/etc/hosts'])",
		"SELECT * FROM read_json('/etc/passwd')",
		"SELECT * FROM read_json_auto('/etc/passwd')",
		"SELECT * FROM read_ndjson('/etc/passwd')",
		"SELECT * FROM read_parquet('/tmp/x.parquet')",
		"SELECT * FROM parquet_scan('/tmp/x.parquet')",
		"SELECT * FROM parquet_metadata('/tmp/x.parquet')",
		"SELECT * FROM parquet_schema('/tmp/x.parquet')",
		"SELECT * FROM read_text('/etc/passwd')",
		"SELECT * FROM read_blob('/etc/passwd')",
		"SELECT * FROM glob('/*')",
		"SELECT * FROM sniff_csv('/etc/passwd')",
		"SELECT * FROM '/etc/passwd'",
		"SELECT * FROM 'data.csv'",
		"SELECT * FROM 'http://127.0.0.1:1/x.csv'",
		"SELECT * FROM read_parquet('s3://bucket/x.parquet')",
		"SELECT * FROM iceberg_scan('/tmp/x')",
		"SELECT * FROM delta_scan('/tmp/x')",
		"SELECT * FROM sqlite_scan('/tmp/x.db', 't')",
		"SELECT * FROM postgres_scan('host=127.0.0.1', 'public', 't')",
		"FROM read_csv('/etc/passwd')",
		`SELECT * FROM "read_csv"('/etc/passwd')`,
		"SELECT * FROM read_csv/**/('/etc/passwd')",
		"SELECT * FROM range(3) r, LATERAL (SELECT * FROM read_csv('/etc/passwd')) x",
		"WITH x AS (SELECT * FROM read_csv('/etc/passwd')) SELECT * FROM x",
		"SELECT (SELECT count(*) FROM read_text('/etc/passwd'))",
		"SELECT * FROM range(1) WHERE EXISTS (SELECT * FROM glob('/*'))",
		// COPY, EXPORT/IMPORT
		"COPY (SELECT 1) TO '" + out + ".csv'",
		"COPY s.notes TO '" + out + ".parquet' (FORMAT PARQUET)",
		"COPY s.notes FROM '/etc/passwd'",
		"EXPORT DATABASE '" + out + "_db'",
		"IMPORT DATABASE '" + out + "_db'",
		// ATTACH/DETACH and catalogs
		"ATTACH '" + out + ".duckdb' AS x",
		"ATTACH ':memory:' AS x",
		"DETACH memory",
		"USE memory.main",
		// extensions
		"INSTALL httpfs",
		"LOAD httpfs",
		"FORCE INSTALL httpfs",
		"UPDATE EXTENSIONS",
		// settings
		"SET memory_limit = '1TB'",
		"SET enable_external_access = true",
		"SET VARIABLE x = 1",
		"RESET ALL",
		"PRAGMA database_list",
		"PRAGMA enable_profiling",
		"PRAGMA version",
		"CALL duckdb_settings()",
		"CHECKPOINT",
		"VACUUM",
		"SELECT current_setting('memory_limit')",
		"SELECT getvariable('x')",
		"SELECT getenv('HOME')",
		// DuckDB catalog DDL
		"CREATE SECRET s3 (TYPE s3, KEY_ID 'k', SECRET 's')",
		"CREATE MACRO evil(a) AS a",
		"CREATE FUNCTION evil(a) AS a",
		"CREATE TEMP TABLE t AS SELECT 1",
		"CREATE VIEW v AS SELECT 1",
		"CREATE SEQUENCE seq",
		"CREATE SCHEMA x",
		"CREATE TABLE main.x (id INT PRIMARY KEY)",
		"CREATE OR REPLACE TABLE s.notes (id INT PRIMARY KEY)",
		"DROP SCHEMA main",
		// introspection
		"SELECT * FROM duckdb_tables()",
		"SELECT * FROM duckdb_columns()",
		"SELECT * FROM duckdb_settings()",
		"SELECT * FROM duckdb_databases()",
		"SELECT * FROM duckdb_extensions()",
		"SELECT * FROM duckdb_functions()",
		"SELECT * FROM duckdb_temporary_files()",
		"SELECT * FROM pragma_table_info('notes')",
		"SELECT * FROM information_schema.schemata, duckdb_tables()",
		"SELECT * FROM pg_catalog.pg_tables",
		"SELECT * FROM main.notes",
		"SELECT * FROM temp.main.__kdb_t0",
		"SELECT * FROM __kdb_t0",
		`SELECT * FROM "__kdb_t0"`,
		"SELECT * FROM memory.main.notes",
		"SELECT * FROM system.audit_log",
		"SELECT * FROM system.tables",
		"SELECT * FROM s.notes AT (VERSION => 1)",
		// SQL run from text
		"SELECT * FROM query('SELECT * FROM read_csv(''/etc/passwd'')')",
		"SELECT * FROM query_table('notes')",
		"SELECT json_execute_serialized_sql('{}')",
		// other users
		"EXECUTE AS USER 'bob' (SELECT * FROM s.notes)",
		"EXECUTE AS USER 'root' (SELECT 1)",
		// multi-statement smuggling, comments, unicode, size, depth
		"SELECT 1; DROP TABLE s.notes",
		"SELECT 1; SELECT * FROM read_csv('/etc/passwd')",
		"SELECT ';'; DROP TABLE s.notes",
		"SELECT 1 /* */; DELETE FROM s.notes",
		"SELECT E'\\''; DROP TABLE s.notes; --'",
		"SELECT * FROM ＲＥＡＤ_ＣＳＶ('/etc/passwd')",
		"SEL\x00ECT * FROM s.notes",
		"SELECT '" + strings.Repeat("x", 10<<20) + "'",
		"SELECT " + deep,
		// DML carrying escapes
		"INSERT INTO s.notes SELECT 3, content FROM read_text('/etc/passwd')",
		"UPDATE s.notes SET body = current_setting('memory_limit') WHERE id = 2",
		"DELETE FROM s.notes WHERE id IN (SELECT 1 FROM glob('/*'))",
		"INSERT INTO s.notes VALUES (4, (SELECT string_agg(body, ',') FROM query_table('notes')))",
	}
	require.GreaterOrEqual(t, len(attempts), 60)
	for _, q := range attempts {
		name := q
		if len(name) > 80 {
			name = name[:80] + "…"
		}
		_, _, err := eve.query(q)
		require.Error(t, err, name)
		code := codeOf(err)
		require.Contains(t, []codes.Code{codes.PermissionDenied, codes.InvalidArgument}, code, "%s: %v", name, err)
	}
	// No side effect: no file written, rows unchanged, nothing leaked, the
	// server still serves everyone.
	entries, err := os.ReadDir(tmp)
	require.NoError(t, err)
	require.Empty(t, entries)
	require.Equal(t, [][]string{{"2", "eve note"}}, eve.mustQuery("SELECT id, body FROM s.notes"))
	require.Equal(t, [][]string{{"1", "bob secret"}}, bob.mustQuery("SELECT id, body FROM s.notes"))
	// Other spellings of the table reach only eve's own partition.
	for _, q := range []string{
		`SELECT body FROM "s"."notes"`, `SELECT body FROM S.NOTES`, `SELECT body FROM notes`,
		`SELECT body FROM (SELECT * FROM s.notes)`, `WITH notes AS (SELECT * FROM s.notes) SELECT body FROM notes`,
		`SELECT body FROM s.notes UNION ALL SELECT body FROM s.notes WHERE false`, `SELECT body FROM s.notes n WHERE n.id = 1 OR true`,
		`SELECT body FROM s.notes WHERE id = 1 OR id = 2`, `SELECT * EXCLUDE (_seq, id) FROM s.notes`,
	} {
		rows := eve.mustQuery(q)
		require.Equal(t, [][]string{{"eve note"}}, rows, q)
	}
	require.Equal(t, [][]string{{"1"}}, root.mustQuery("SELECT 1"))
}
