//go:build duckdb_arrow

package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
)

// TestExplain: EXPLAIN and EXPLAIN ANALYZE of a query show DuckDB's plan of
// the caller's scoped relations — hot rows, the hot cache and segments —
// with the tables' names, and no storage path, segment file or name of the
// server's own; other users' partitions are not in it.
func TestExplain(t *testing.T) {
	dir := t.TempDir()
	ts := startServerWith(t, dir, []string{"--hot-cache-min-rows", "1"}, nil)
	root := connect(t, ts.addr, "root", testRootPassword)
	root.mustExec("CREATE NAMESPACE ex")
	root.mustExec("CREATE USER TABLE ex.notes (id INT PRIMARY KEY, body TEXT)")
	alice, bob := newUser(t, ts.addr, root, "alice"), newUser(t, ts.addr, root, "bob")
	alice.mustExec("INSERT INTO ex.notes VALUES (1, 'a'), (2, 'b')")
	bob.mustExec("INSERT INTO ex.notes VALUES (1, 'x')")
	flush(t, root, "ex.notes")
	alice.mustExec("INSERT INTO ex.notes VALUES (3, 'c')")
	alice.mustQuery("SELECT count(*) FROM ex.notes") // fills the hot cache

	for _, sql := range []string{
		"EXPLAIN SELECT body, count(*) FROM ex.notes WHERE id > 1 GROUP BY body",
		"explain analyze WITH x AS (SELECT * FROM ex.notes) SELECT count(*) FROM x",
	} {
		rows, schema, err := alice.query(sql)
		require.NoError(t, err, sql)
		require.Equal(t, []string{"explain_key", "explain_value"}, fieldNames(schema))
		require.Len(t, rows, 1)
		plan := rows[0][1]
		require.Contains(t, plan, "READ_PARQUET", "the segments are read")
		for _, leak := range []string{"__kdb", dir, ".parquet", "bob"} {
			require.NotContains(t, plan, leak, "%s:\n%s", sql, plan)
		}
		if strings.HasPrefix(strings.ToLower(sql), "explain analyze") {
			require.Equal(t, "analyzed_plan", rows[0][0])
			require.Contains(t, plan, "Total Time")
		}
	}
	// EXPLAIN takes queries only, and forbidden statements stay forbidden.
	_, _, err := alice.query("EXPLAIN COPY ex.notes TO 'x.csv'")
	requireCode(t, err, codes.PermissionDenied, "COPY")
	_, _, err = alice.query("EXPLAIN DELETE FROM ex.notes")
	requireCode(t, err, codes.InvalidArgument, "EXPLAIN explains queries only")
	_, _, err = alice.query("EXPLAIN SELECT * FROM read_csv('/etc/passwd')")
	requireCode(t, err, codes.PermissionDenied, "")
}
