//go:build duckdb_arrow

package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
)

// TestInformationSchema: information_schema.schemata, .tables, .columns and
// .views answer the queries BI tools send, with the namespaces as schemas
// of catalog kalamdb, and list exactly the tables the caller may SELECT
// from: a user-role account never sees another role's PRIVATE or DBA
// tables, their columns, the system tables, or anything of DuckDB's own
// catalog (its schemas, duckdb_* objects, the server's __kdb_* relations).
func TestInformationSchema(t *testing.T) {
	ts := startServer(t, t.TempDir())
	root := connect(t, ts.addr, "root", testRootPassword)
	root.mustExec("CREATE NAMESPACE app")
	root.mustExec("CREATE USER TABLE app.notes (id INT PRIMARY KEY, body TEXT NOT NULL, price DECIMAL(10,2) DEFAULT 0, meta JSON)")
	root.mustExec("CREATE SHARED TABLE app.pub (id BIGINT PRIMARY KEY, name TEXT) WITH (ACCESS_LEVEL='PUBLIC')")
	root.mustExec("CREATE SHARED TABLE app.priv (id BIGINT PRIMARY KEY, secret_col TEXT)")
	root.mustExec("CREATE SHARED TABLE app.dbaonly (id BIGINT PRIMARY KEY, dba_col TEXT) WITH (ACCESS_LEVEL='DBA')")
	root.mustExec("CREATE STREAM TABLE app.events (id BIGINT, kind TEXT) WITH (TTL_SECONDS=60)")
	alice := newUser(t, ts.addr, root, "alice")
	alice.mustExec("INSERT INTO app.notes (id, body) VALUES (1, 'hello')")

	const listTables = "SELECT table_catalog, table_schema, table_name, table_type FROM information_schema.tables ORDER BY table_schema, table_name"
	userTables := [][]string{
		{"kalamdb", "app", "events", "BASE TABLE"},
		{"kalamdb", "app", "notes", "BASE TABLE"},
		{"kalamdb", "app", "pub", "BASE TABLE"},
	}
	t.Run("user sees what it may read", func(t *testing.T) {
		require.Equal(t, userTables, alice.mustQuery(listTables))
		// Root, acting as alice, sees what alice sees.
		require.Equal(t, userTables, root.mustQuery("EXECUTE AS USER 'alice' ("+listTables+")"))
		// The listing is SELECT's rule: every listed table reads, every
		// other one is refused.
		for _, tbl := range []string{"app.events", "app.notes", "app.pub"} {
			alice.mustQuery("SELECT * FROM " + tbl + " LIMIT 0")
		}
		for _, tbl := range []string{"app.priv", "app.dbaonly", "system.tables"} {
			_, _, err := alice.query("SELECT * FROM " + tbl)
			requireCode(t, err, codes.PermissionDenied, "")
		}

		require.Equal(t, [][]string{{"kalamdb", "app", "kalamdb"}},
			alice.mustQuery("SELECT catalog_name, schema_name, schema_owner FROM information_schema.schemata"))
		require.Equal(t, [][]string{
			{"id", "INTEGER", "NO", "NULL", "32", "0"},
			{"body", "VARCHAR", "NO", "NULL", "NULL", "NULL"},
			{"price", "DECIMAL(10,2)", "YES", "0", "10", "2"},
			{"meta", "VARCHAR", "YES", "NULL", "NULL", "NULL"},
		}, alice.mustQuery("SELECT column_name, data_type, is_nullable, column_default, numeric_precision, numeric_scale "+
			"FROM information_schema.columns WHERE table_name = 'notes' ORDER BY ordinal_position"))
		// The data types are those of the query's result columns.
		_, schema, err := alice.query("SELECT * FROM app.notes")
		require.NoError(t, err)
		require.Equal(t, []string{"id", "body", "price", "meta"}, fieldNames(schema))

		// BI-tool shapes: a filter on the schema, a join of tables and
		// columns, an aggregate, a parameterless EXISTS.
		require.Equal(t, [][]string{{"app", "events"}, {"app", "notes"}, {"app", "pub"}},
			alice.mustQuery("SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema = 'app' ORDER BY 2"))
		require.Equal(t, [][]string{{"events", "2"}, {"notes", "4"}, {"pub", "2"}},
			alice.mustQuery("SELECT t.table_name, count(*) FROM information_schema.tables t "+
				"JOIN information_schema.columns c ON c.table_schema = t.table_schema AND c.table_name = t.table_name "+
				"WHERE t.table_type = 'BASE TABLE' GROUP BY t.table_name ORDER BY 1"))
		require.Equal(t, [][]string{{"0"}}, alice.mustQuery(
			"SELECT count(*) FROM information_schema.columns WHERE column_name IN ('secret_col', 'dba_col') OR table_name IN ('priv', 'dbaonly')"))
		require.Empty(t, alice.mustQuery("SELECT * FROM information_schema.views"))
		// DESCRIBE shows DuckDB's column names.
		cols := alice.mustQuery("SELECT column_name FROM (DESCRIBE information_schema.tables)")
		require.Equal(t, []string{"table_catalog", "table_schema", "table_name", "table_type"},
			[]string{cols[0][0], cols[1][0], cols[2][0], cols[3][0]})
	})

	t.Run("root sees everything", func(t *testing.T) {
		rows := root.mustQuery("SELECT table_schema || '.' || table_name, is_insertable_into FROM information_schema.tables")
		got := map[string]string{}
		for _, r := range rows {
			got[r[0]] = r[1]
		}
		for _, tbl := range []string{"app.notes", "app.pub", "app.priv", "app.dbaonly", "app.events"} {
			require.Equal(t, "YES", got[tbl], tbl)
		}
		for _, tbl := range []string{"system.users", "system.jobs", "system.tables"} {
			require.Equal(t, "NO", got[tbl], tbl)
		}
		require.Equal(t, [][]string{{"app"}, {"system"}},
			root.mustQuery("SELECT schema_name FROM information_schema.schemata ORDER BY 1"))
		require.Equal(t, [][]string{{"dba_col", "VARCHAR"}},
			root.mustQuery("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'dbaonly' AND ordinal_position = 2"))
	})

	t.Run("no way into DuckDB's catalog", func(t *testing.T) {
		// While alice reads, her scoped relations exist in DuckDB; none of
		// them, and nothing of DuckDB's, is in any view: the catalog is
		// kalamdb, the schemas are namespaces, and no name is DuckDB's.
		schemas := map[string]bool{"app": true, "system": true}
		for _, c := range []*client{alice, root} {
			for _, view := range []string{"schemata", "tables", "columns", "views"} {
				rows := c.mustQuery("SELECT * FROM information_schema." + view + ", (SELECT count(*) FROM app.notes)")
				for _, r := range rows {
					require.Equal(t, "kalamdb", r[0], "information_schema.%s: %v", view, r)
					require.True(t, schemas[r[1]], "information_schema.%s: %v", view, r)
					for _, v := range r {
						low := strings.ToLower(v)
						require.NotContains(t, low, "__kdb", "information_schema.%s: %v", view, r)
						require.NotContains(t, low, "duckdb", "information_schema.%s: %v", view, r)
					}
				}
			}
		}
		for _, sql := range []string{
			"SELECT * FROM information_schema.duckdb_tables",
			"SELECT * FROM information_schema.key_column_usage",
			"SELECT * FROM information_schema.__kdb_t0",
		} {
			_, _, err := alice.query(sql)
			require.Error(t, err, sql)
			require.True(t, matchesCode(err, codes.NotFound) || matchesCode(err, codes.PermissionDenied), "%s: %v", sql, err)
		}
		for _, sql := range []string{
			"SELECT * FROM memory.information_schema.tables",
			"SELECT * FROM system.information_schema.tables",
			"SELECT * FROM pg_catalog.pg_tables",
			"SELECT * FROM duckdb_tables()",
			"SELECT * FROM main.sqlite_master",
		} {
			_, _, err := alice.query(sql)
			requireCode(t, err, codes.PermissionDenied, "")
		}
	})
}

// TestShowSugar: SHOW USERS, SHOW JOBS [WHERE …] and SHOW STORAGES are
// their system tables, with those tables' permissions; bare SHOW STATS is
// SHOW STATS FOR TABLE of every table the caller may read.
func TestShowSugar(t *testing.T) {
	ts := startServer(t, t.TempDir())
	root := connect(t, ts.addr, "root", testRootPassword)
	root.mustExec("CREATE NAMESPACE app")
	root.mustExec("CREATE USER TABLE app.notes (id INT PRIMARY KEY, body TEXT)")
	root.mustExec("CREATE SHARED TABLE app.pub (id BIGINT PRIMARY KEY) WITH (ACCESS_LEVEL='PUBLIC')")
	root.mustExec("CREATE SHARED TABLE app.priv (id BIGINT PRIMARY KEY)")
	alice, bob := newUser(t, ts.addr, root, "alice"), newUser(t, ts.addr, root, "bob")
	alice.mustExec("INSERT INTO app.notes VALUES (1, 'a'), (2, 'b')")
	bob.mustExec("INSERT INTO app.notes VALUES (1, 'x')")
	root.mustExec("INSERT INTO app.priv VALUES (1)")

	t.Run("users", func(t *testing.T) {
		rows, schema, err := root.query("SHOW USERS")
		require.NoError(t, err)
		want, wantSchema, err := root.query("SELECT * FROM system.users")
		require.NoError(t, err)
		require.Equal(t, want, rows)
		require.Equal(t, fieldNames(wantSchema), fieldNames(schema))
		require.Len(t, rows, 3)
		// A user sees its own row only, as in system.users.
		rows = alice.mustQuery("SHOW USERS")
		require.Len(t, rows, 1)
		require.Equal(t, "alice", rows[0][0])
		require.Equal(t, rows, root.mustQuery("EXECUTE AS USER 'alice' (SHOW USERS)"))
	})

	t.Run("storages", func(t *testing.T) {
		require.Equal(t, root.mustQuery("SELECT * FROM system.storages"), root.mustQuery("show storages;"))
		_, _, err := alice.query("SHOW STORAGES")
		requireCode(t, err, codes.PermissionDenied, "system tables")
	})

	t.Run("jobs", func(t *testing.T) {
		flush(t, root, "app.notes")
		all := root.mustQuery("SHOW JOBS")
		require.Equal(t, root.mustQuery("SELECT * FROM system.jobs"), all)
		require.NotEmpty(t, all)
		rows := root.mustQuery("SHOW JOBS WHERE job_type = 'flush' AND status = 'completed'")
		require.Equal(t, root.mustQuery("SELECT * FROM system.jobs WHERE job_type = 'flush' AND status = 'completed'"), rows)
		require.NotEmpty(t, rows)
		require.Empty(t, root.mustQuery("SHOW JOBS WHERE job_type = 'flush' AND false"))
		_, _, err := alice.query("SHOW JOBS")
		requireCode(t, err, codes.PermissionDenied, "system tables")
		// The condition stays a condition on system.jobs.
		_, _, err = root.query("SHOW JOBS WHERE true) UNION ALL (SELECT * FROM system.jobs")
		requireCode(t, err, codes.InvalidArgument, "")
		_, _, err = root.query("SHOW JOBS WHERE true ORDER BY 1")
		requireCode(t, err, codes.InvalidArgument, "")
		_, _, err = alice.query("SHOW JOBS WHERE job_id IN (SELECT job_id FROM system.jobs)")
		requireCode(t, err, codes.PermissionDenied, "")
	})

	t.Run("stats", func(t *testing.T) {
		// One row per table the caller may read, each SHOW STATS FOR TABLE's.
		statsOf := func(c *client, tables ...string) [][]string {
			var out [][]string
			for _, tbl := range tables {
				out = append(out, c.mustQuery("SHOW STATS FOR TABLE "+tbl)...)
			}
			return out
		}
		rows := alice.mustQuery("SHOW STATS")
		require.Equal(t, statsOf(alice, "app.notes", "app.pub"), rows)
		// alice's partition: her two rows (flushed above), never bob's.
		require.Equal(t, []string{"app", "notes", "USER", "1", "1", "0", "1", "2"}, rows[0][:8])
		rows = root.mustQuery("SHOW STATS")
		require.Equal(t, statsOf(root, "app.notes", "app.priv", "app.pub"), rows)
		require.Equal(t, []string{"app", "notes", "USER", "1", "2", "0", "2", "3"}, rows[0][:8])
	})
}
