//go:build duckdb_arrow

package main

import (
	"testing"

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
