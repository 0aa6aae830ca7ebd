//go:build duckdb_arrow

package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
)

// TestTruncate: TRUNCATE empties the caller's partition of a USER table
// (hot and flushed rows; other users keep theirs) and a whole SHARED table,
// survives a restart, lets the old keys be inserted again, and needs the
// right to write the table; it is refused inside a transaction.
func TestTruncate(t *testing.T) {
	dir := t.TempDir()
	ts := startServer(t, dir)
	root := connect(t, ts.addr, "root", testRootPassword)
	root.mustExec("CREATE NAMESPACE tr")
	root.mustExec("CREATE USER TABLE tr.notes (id INT PRIMARY KEY, body TEXT)")
	root.mustExec("CREATE SHARED TABLE tr.s (id INT PRIMARY KEY, v TEXT)")
	alice, bob := newUser(t, ts.addr, root, "alice"), newUser(t, ts.addr, root, "bob")
	alice.mustExec("INSERT INTO tr.notes VALUES (1, 'a1'), (2, 'a2')")
	bob.mustExec("INSERT INTO tr.notes VALUES (1, 'b1')")
	root.mustExec("INSERT INTO tr.s VALUES (1, 'x'), (2, 'y')")
	flush(t, root, "tr.notes")
	flush(t, root, "tr.s")
	alice.mustExec("INSERT INTO tr.notes VALUES (3, 'a3')")
	alice.mustExec("UPDATE tr.notes SET body = 'A1' WHERE id = 1")
	root.mustExec("INSERT INTO tr.s VALUES (3, 'z')")

	alice.mustExec("TRUNCATE TABLE tr.notes")
	require.Equal(t, [][]string{{"0"}}, alice.mustQuery("SELECT count(*) FROM tr.notes"))
	require.Equal(t, [][]string{{"1", "b1"}}, bob.mustQuery("SELECT id, body FROM tr.notes"))
	alice.mustExec("INSERT INTO tr.notes VALUES (1, 'again')")
	require.Equal(t, [][]string{{"1", "again"}}, alice.mustQuery("SELECT id, body FROM tr.notes"))

	_, err := alice.exec("TRUNCATE tr.s")
	requireCode(t, err, codes.PermissionDenied, "")
	root.mustExec("BEGIN")
	_, err = root.exec("TRUNCATE tr.s")
	requireCode(t, err, codes.FailedPrecondition, "")
	root.mustExec("ROLLBACK")
	root.mustExec("TRUNCATE tr.s")
	require.Equal(t, [][]string{{"0"}}, root.mustQuery("SELECT count(*) FROM tr.s"))

	// The truncation is durable, and the flushed segments are gone.
	root.close()
	ts.stop()
	ts = startServer(t, dir)
	root = connect(t, ts.addr, "root", testRootPassword)
	require.Equal(t, [][]string{{"0"}}, root.mustQuery("SELECT count(*) FROM tr.s"))
	require.Equal(t, [][]string{{"1", "again"}}, connect(t, ts.addr, "alice", "alice-password").mustQuery("SELECT id, body FROM tr.notes"))
	require.Equal(t, [][]string{{"1", "b1"}}, connect(t, ts.addr, "bob", "bob-password").mustQuery("SELECT id, body FROM tr.notes"))
	require.Empty(t, segmentFiles(t, dir, "alice"), "alice's segments were deleted")
	require.NotEmpty(t, segmentFiles(t, dir, "bob"), "bob's stay")
}

// TestRenameTable: ALTER TABLE t RENAME TO u keeps every row, hot and
// flushed, of every user under the new name; the old name is gone, writes,
// flushes and a restart work on, and the new name must be free.
func TestRenameTable(t *testing.T) {
	dir := t.TempDir()
	ts := startServer(t, dir)
	root := connect(t, ts.addr, "root", testRootPassword)
	root.mustExec("CREATE NAMESPACE rn")
	root.mustExec("CREATE USER TABLE rn.old (id INT PRIMARY KEY, body TEXT)")
	root.mustExec("CREATE SHARED TABLE rn.taken (id INT PRIMARY KEY)")
	ann := newUser(t, ts.addr, root, "ann")
	ann.mustExec("INSERT INTO rn.old VALUES (1, 'cold')")
	root.mustExec("INSERT INTO rn.old VALUES (9, 'root')")
	flush(t, root, "rn.old")
	ann.mustExec("INSERT INTO rn.old VALUES (2, 'hot')")

	_, err := ann.exec("ALTER TABLE rn.old RENAME TO fresh")
	requireCode(t, err, codes.PermissionDenied, "")
	_, err = root.exec("ALTER TABLE rn.old RENAME TO taken")
	requireCode(t, err, codes.AlreadyExists, "taken")
	_, err = root.exec("ALTER TABLE rn.old RENAME TO other.fresh")
	requireCode(t, err, codes.InvalidArgument, "keeps the table in its namespace")
	root.mustExec("ALTER TABLE rn.old RENAME TO fresh")

	_, _, err = ann.query("SELECT * FROM rn.old")
	requireCode(t, err, codes.NotFound, "")
	require.Equal(t, [][]string{{"1", "cold"}, {"2", "hot"}}, ann.mustQuery("SELECT id, body FROM rn.fresh ORDER BY id"))
	require.Equal(t, [][]string{{"9", "root"}}, root.mustQuery("SELECT id, body FROM rn.fresh"))
	ann.mustExec("UPDATE rn.fresh SET body = 'COLD' WHERE id = 1")
	ann.mustExec("INSERT INTO rn.fresh VALUES (3, 'new')")
	flush(t, root, "rn.fresh")
	compact(t, root, "rn.fresh")

	root.close()
	ts.stop()
	ts = startServer(t, dir)
	ann = connect(t, ts.addr, "ann", "ann-password")
	require.Equal(t, [][]string{{"1", "COLD"}, {"2", "hot"}, {"3", "new"}}, ann.mustQuery("SELECT id, body FROM rn.fresh ORDER BY id"))
	root = connect(t, ts.addr, "root", testRootPassword)
	root.mustExec("CREATE USER TABLE rn.old (id INT PRIMARY KEY)") // the old name is free
	require.Equal(t, [][]string{{"0"}}, ann.mustQuery("SELECT count(*) FROM rn.old"))
}

// TestShowCreateTable: SHOW CREATE TABLE gives a statement that, run under
// another name, makes a table DESCRIBE shows alike; it needs read access.
func TestShowCreateTable(t *testing.T) {
	ts := startServer(t, t.TempDir())
	root := connect(t, ts.addr, "root", testRootPassword)
	root.mustExec("CREATE NAMESPACE sc")
	root.mustExec(`CREATE SHARED TABLE sc.t (id BIGINT PRIMARY KEY DEFAULT SNOWFLAKE_ID(), "order" TEXT NOT NULL DEFAULT 'x', "Mixed" DECIMAL(10,2), at_ TIMESTAMP DEFAULT NOW()) WITH (ACCESS_LEVEL='PRIVATE', FLUSH_POLICY='rows:100,interval:60')`)
	root.mustExec("ALTER TABLE sc.t ADD COLUMN extra INT DEFAULT 7")
	rows := root.mustQuery("SHOW CREATE TABLE sc.t")
	require.Len(t, rows, 1)
	require.Equal(t, "sc.t", rows[0][0])
	stmt := rows[0][1]
	require.Contains(t, stmt, `"order" TEXT NOT NULL DEFAULT 'x'`)
	require.Contains(t, stmt, `"Mixed" DECIMAL(10,2)`)
	root.mustExec(strings.Replace(stmt, "sc.t ", "sc.copy ", 1))
	require.Equal(t, root.mustQuery("DESCRIBE TABLE sc.t"), root.mustQuery("DESCRIBE TABLE sc.copy"))
	require.Equal(t, root.mustQuery("SHOW CREATE TABLE sc.t")[0][1], strings.Replace(root.mustQuery("SHOW CREATE TABLE sc.copy")[0][1], "sc.copy ", "sc.t ", 1))

	u := newUser(t, ts.addr, root, "una")
	_, _, err := u.query("SHOW CREATE TABLE sc.t") // PRIVATE: not hers to read
	requireCode(t, err, codes.PermissionDenied, "")
}
