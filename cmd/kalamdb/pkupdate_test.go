//go:build duckdb_arrow

package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
)

// pkStatements move rows by assigning the primary key, in every shape
// DuckDB accepts or refuses: onto a free key, onto a key held by a row the
// statement does not move (hot or flushed), onto a key another matched
// row leaves (swaps, chains), two rows onto one key, NULL, values that do
// not convert, with other columns, an alias and RETURNING. "FLUSH" flushes
// the server's table (DuckDB has no tiers). %[1]s is the table.
var pkStatements = []string{
	"UPDATE %[1]s SET id = id + 100 WHERE id = 1",
	"UPDATE %[1]s SET id = 5 WHERE id = 2",
	"UPDATE %[1]s SET id = 3 WHERE id = 5",
	"UPDATE %[1]s SET id = 1 WHERE id = 5",
	"UPDATE %[1]s SET id = 7, v = v * 10 WHERE id = 4 RETURNING *",
	"UPDATE %[1]s SET id = CASE id WHEN 2 THEN 3 WHEN 3 THEN 2 END WHERE id IN (2, 3)",
	"UPDATE %[1]s SET id = 8 WHERE id IN (6, 7)",
	"UPDATE %[1]s SET id = NULL WHERE id = 6",
	"UPDATE %[1]s SET id = 'x' WHERE id = 6",
	"UPDATE %[1]s SET id = 3000000000 WHERE id = 6",
	"UPDATE %[1]s SET id = '42' WHERE id = 6",
	"UPDATE %[1]s SET id = id, s = 'same' WHERE id = 2",
	"UPDATE %[1]s SET id = id + 1 WHERE id < 100 RETURNING id, v",
	"FLUSH",
	"UPDATE %[1]s SET id = id - 1",
	"UPDATE %[1]s SET id = 2 WHERE id = 41",
	"DELETE FROM %[1]s AS d WHERE d.id = 41 RETURNING d.id, s",
	"UPDATE %[1]s SET id = 41 WHERE id = 100",
	"FLUSH",
	"UPDATE %[1]s SET id = 100 WHERE id = 41",
	"UPDATE %[1]s AS x SET id = x.id + 1000, s = x.s || '!' WHERE x.id = 3 RETURNING x.id, s",
	"UPDATE %[1]s SET id = -id WHERE v > 100 RETURNING id",
	"UPDATE %[1]s SET id = id + 1 WHERE id = 999",
	"INSERT INTO %[1]s VALUES (3, 0, 'again')",
	"UPDATE %[1]s SET id = 6, v = 0 WHERE id = 2 OR id = 6",
	"UPDATE %[1]s SET id = 1003 WHERE id = 3",
	"UPDATE %[1]s SET id = id + 1",
}

// TestPrimaryKeyUpdateMatchesDuckDB runs pkStatements on a SHARED and a
// USER table holding hot and flushed rows, and on a DuckDB table with a
// PRIMARY KEY: rows changed, RETURNING rows and the rows left agree after
// every statement, and where DuckDB refuses a statement ours fails with
// the same kind of error and writes nothing. Another user's rows of the
// USER table, under the very keys the statements move to, neither block
// the moves nor change. STREAM tables refuse it, as before.
func TestPrimaryKeyUpdateMatchesDuckDB(t *testing.T) {
	ts := startServer(t, t.TempDir())
	root := connect(t, ts.addr, "root", testRootPassword)
	root.mustExec("CREATE NAMESPACE pk")
	root.mustExec("CREATE USER pkbob WITH PASSWORD 'pkbob-password' ROLE user")
	bob := asUser{root, "pkbob"}
	const bobRows = "(101, 1, 'bob'), (7, 2, 'bob'), (8, 3, 'bob'), (42, 4, 'bob'), (1003, 5, 'bob')"
	for _, typ := range []string{"SHARED", "USER"} {
		t.Run(typ, func(t *testing.T) {
			table := "pk." + strings.ToLower(typ)
			root.mustExec("CREATE " + typ + " TABLE " + table + " (id INT PRIMARY KEY, v INT, s TEXT)")
			ref := newDuckRef(t, "CREATE TABLE t (id INT PRIMARY KEY, v INT, s TEXT)")
			if typ == "USER" {
				bob.exec("INSERT INTO " + table + " VALUES " + bobRows)
			}
			setup := []string{
				"INSERT INTO %[1]s VALUES (1, 10, 'a'), (2, 20, 'b'), (3, 30, 'c'), (4, 40, 'd')",
				"FLUSH",
				"INSERT INTO %[1]s VALUES (5, 50, 'e'), (6, 60, 'f')",
				"UPDATE %[1]s SET v = v + 1 WHERE id = 2",
			}
			for _, stmt := range append(setup, pkStatements...) {
				requirePKStatementMatches(t, root, ref, table, stmt)
			}
			// Keys moved from and to, flushed or not, by point lookup.
			for _, k := range []int{1, 2, 3, 4, 5, 6, 7, 8, 41, 42, 100, 101, 1003, 1004} {
				_, want, err := ref.query(fmt.Sprintf("SELECT * FROM t WHERE id = %d", k))
				require.NoError(t, err)
				require.Equal(t, want, root.mustQuery(fmt.Sprintf("SELECT * FROM %s WHERE id = %d", table, k)), "id %d", k)
			}
			if typ == "USER" {
				require.Equal(t, [][]string{{"7", "2", "bob"}, {"8", "3", "bob"}, {"42", "4", "bob"}, {"101", "1", "bob"}, {"1003", "5", "bob"}},
					bob.mustQuery(t, "SELECT * FROM "+table+" ORDER BY id"))
			}
		})
	}

	// A text key: the key encoding and the segments' key check are not
	// those of integers.
	root.mustExec("CREATE SHARED TABLE pk.txt (id TEXT PRIMARY KEY, v INT)")
	ref := newDuckRef(t, "CREATE TABLE t (id TEXT PRIMARY KEY, v INT)")
	for _, stmt := range []string{
		"INSERT INTO %[1]s VALUES ('a', 1), ('b', 2)",
		"FLUSH",
		"INSERT INTO %[1]s VALUES ('ab', 3)",
		"UPDATE %[1]s SET id = id || 'b' WHERE id = 'a'",
		"UPDATE %[1]s SET id = 'b' WHERE id = 'ab'",
		"UPDATE %[1]s SET id = upper(id) RETURNING *",
		"UPDATE %[1]s SET id = 'ABB' WHERE id = 'AB'",
		"UPDATE %[1]s SET id = lower(id) WHERE v < 3",
	} {
		requirePKStatementMatches(t, root, ref, "pk.txt", stmt)
	}

	// Prepared, the new key a parameter, bound twice: the second binding
	// moves a row onto the key the first one freed, the third onto a key
	// still held.
	ctx := context.Background()
	st, err := root.conn.NewStatement()
	require.NoError(t, err)
	defer st.Close()
	require.NoError(t, st.SetSqlQuery("UPDATE pk.txt SET id = ? WHERE id = ?"))
	require.NoError(t, st.Prepare(ctx))
	for _, p := range [][2]string{{"z", "b"}, {"b", "ABB"}, {"z", "b"}} {
		refErr := ref.c.Exec("UPDATE t SET id = $1 WHERE id = $2", p[0], p[1])
		pb := array.NewRecordBuilder(memory.DefaultAllocator, arrow.NewSchema([]arrow.Field{
			{Name: "a", Type: arrow.BinaryTypes.String}, {Name: "b", Type: arrow.BinaryTypes.String}}, nil))
		pb.Field(0).(*array.StringBuilder).Append(p[0])
		pb.Field(1).(*array.StringBuilder).Append(p[1])
		prec := pb.NewRecordBatch()
		pb.Release()
		require.NoError(t, st.Bind(ctx, prec))
		prec.Release()
		_, err := st.ExecuteUpdate(ctx)
		if refErr != nil {
			require.Contains(t, refErr.Error(), "uplicate key")
			requireCode(t, err, codes.AlreadyExists, "duplicate primary key")
		} else {
			require.NoError(t, err, p)
		}
		_, want, err := ref.query("SELECT * FROM t ORDER BY id")
		require.NoError(t, err)
		require.Equal(t, want, root.mustQuery("SELECT * FROM pk.txt ORDER BY id"), p)
	}

	// STREAM tables keep refusing it (their rows are events, not state),
	// and keep their other UPDATEs.
	root.mustExec("CREATE STREAM TABLE pk.ev (id INT PRIMARY KEY, v INT) WITH (TTL_SECONDS=3600)")
	root.mustExec("INSERT INTO pk.ev VALUES (1, 1)")
	_, err = root.exec("UPDATE pk.ev SET id = 2 WHERE id = 1")
	requireCode(t, err, codes.InvalidArgument, "cannot update primary key column id")
	require.EqualValues(t, 1, root.mustExec("UPDATE pk.ev SET v = 5 WHERE id = 1"))
	require.Equal(t, [][]string{{"1", "5"}}, root.mustQuery("SELECT * FROM pk.ev"))
}

// requirePKStatementMatches runs one statement (a format with the table as
// %[1]s) on the server's table and on the reference's table t, and
// requires the same outcome and the same rows afterwards.
func requirePKStatementMatches(t *testing.T, root *client, ref *duckRef, table, stmt string) {
	t.Helper()
	if stmt == "FLUSH" {
		flush(t, root, table)
		return
	}
	if stmt == "BEGIN" || stmt == "COMMIT" || stmt == "ROLLBACK" {
		require.NoError(t, ref.exec(stmt))
		root.mustExec(stmt)
		return
	}
	ours := fmt.Sprintf(stmt, table)
	theirs := fmt.Sprintf(stmt, "t")
	wantNames, want, refErr := ref.query(theirs)
	var got [][]string
	var err error
	if strings.Contains(stmt, "RETURNING") {
		var schema *arrow.Schema
		if got, schema, err = root.query(ours); err == nil && refErr == nil {
			var names []string
			for _, f := range schema.Fields() {
				names = append(names, f.Name)
			}
			require.Equal(t, wantNames, names, "columns of %s", ours)
		}
	} else {
		var n int64
		if n, err = root.exec(ours); err == nil {
			got = [][]string{{strconv.FormatInt(n, 10)}}
		}
	}
	if refErr != nil {
		msg := refErr.Error()
		switch {
		case strings.Contains(msg, "uplicate key"):
			requireCode(t, err, codes.AlreadyExists, "duplicate primary key")
		case strings.Contains(msg, "NOT NULL constraint failed"):
			requireCode(t, err, codes.InvalidArgument, "null value in column id")
		default:
			requireCode(t, err, codes.InvalidArgument, "")
		}
	} else {
		require.NoError(t, err, ours)
		sortRows(want)
		sortRows(got)
		require.Equal(t, want, got, ours)
	}
	_, wantRows, refErr := ref.query("SELECT * FROM t ORDER BY id")
	gotRows, _, err := root.query("SELECT * FROM " + table + " ORDER BY id")
	if refErr != nil { // a failed statement aborted the transaction
		requireCode(t, err, codes.FailedPrecondition, "transaction is aborted")
		return
	}
	require.NoError(t, err)
	require.Equal(t, wantRows, gotRows, "rows after %s", ours)
}

// TestPrimaryKeyUpdateInTransaction: a move inside a transaction is seen
// by the transaction alone until COMMIT, is discarded by ROLLBACK, and
// checks new keys against the transaction's own writes, as in DuckDB (the
// statements run on a DuckDB table too); and it fails at COMMIT (applying
// nothing) when another session meanwhile changed the row it moves or took
// the key it moves to.
func TestPrimaryKeyUpdateInTransaction(t *testing.T) {
	ts := startServer(t, t.TempDir())
	a := connect(t, ts.addr, "root", testRootPassword)
	b := connect(t, ts.addr, "root", testRootPassword)
	a.mustExec("CREATE NAMESPACE pt")
	a.mustExec("CREATE SHARED TABLE pt.t (id INT PRIMARY KEY, v INT)")
	ref := newDuckRef(t, "CREATE TABLE t (id INT PRIMARY KEY, v INT)")
	rows := func(c *client) [][]string { return c.mustQuery("SELECT * FROM pt.t ORDER BY id") }
	run := func(stmts ...string) {
		t.Helper()
		for _, stmt := range stmts {
			requirePKStatementMatches(t, a, ref, "pt.t", stmt)
		}
	}
	run("INSERT INTO %[1]s VALUES (1, 10), (2, 20)", "FLUSH", "INSERT INTO %[1]s VALUES (3, 30)")

	// Seen by the transaction only, then by everyone.
	run("BEGIN", "UPDATE %[1]s SET id = 100 WHERE id = 1")
	require.Equal(t, [][]string{{"1", "10"}, {"2", "20"}, {"3", "30"}}, rows(b))
	run("COMMIT")
	require.Equal(t, [][]string{{"2", "20"}, {"3", "30"}, {"100", "10"}}, rows(b))

	run(
		// Rolled back: nothing moved.
		"BEGIN", "UPDATE %[1]s SET id = id + 1000", "ROLLBACK",
		// Moved there and back, and onto a key the transaction freed.
		"BEGIN", "UPDATE %[1]s SET id = 200 WHERE id = 2", "UPDATE %[1]s SET id = 2 WHERE id = 200",
		"DELETE FROM %[1]s WHERE id = 3", "UPDATE %[1]s SET id = 3 WHERE id = 100", "COMMIT",
		// A key the transaction inserted (hot) or the table holds in a
		// segment is taken: the statement fails and aborts the transaction.
		"BEGIN", "INSERT INTO %[1]s VALUES (50, 0)", "UPDATE %[1]s SET id = 50 WHERE id = 3", "ROLLBACK",
		"INSERT INTO %[1]s VALUES (60, 60)", "FLUSH",
		"BEGIN", "UPDATE %[1]s SET id = 60 WHERE id = 3", "ROLLBACK",
	)
	require.Equal(t, [][]string{{"2", "20"}, {"3", "10"}, {"60", "60"}}, rows(b))

	// Another session updates the row being moved: first committer wins.
	a.mustExec("BEGIN")
	a.mustExec("UPDATE pt.t SET id = 300 WHERE id = 3")
	b.mustExec("UPDATE pt.t SET v = v + 1 WHERE id = 3")
	_, err := a.exec("COMMIT")
	requireCode(t, err, codes.Aborted, "")
	require.Equal(t, [][]string{{"2", "20"}, {"3", "11"}, {"60", "60"}}, rows(b))

	// Another session takes the new key (hot, then flushed).
	for _, flushed := range []bool{false, true} {
		a.mustExec("BEGIN")
		a.mustExec("UPDATE pt.t SET id = 400 WHERE id = 3")
		b.mustExec("INSERT INTO pt.t VALUES (400, 4)")
		if flushed {
			flush(t, b, "pt.t")
		}
		_, err = a.exec("COMMIT")
		requireCode(t, err, codes.Aborted, "")
		require.Equal(t, [][]string{{"2", "20"}, {"3", "11"}, {"60", "60"}, {"400", "4"}}, rows(b))
		b.mustExec("DELETE FROM pt.t WHERE id = 400")
	}
}

// TestPrimaryKeyUpdateConcurrent: sessions move their own rows and all
// move one shared row, concurrently, while the table is flushed; every
// move that was acknowledged is there once, none is lost or duplicated.
func TestPrimaryKeyUpdateConcurrent(t *testing.T) {
	ts := startServer(t, t.TempDir())
	root := connect(t, ts.addr, "root", testRootPassword)
	root.mustExec("CREATE NAMESPACE pc")
	root.mustExec("CREATE SHARED TABLE pc.t (id BIGINT PRIMARY KEY, owner INT, n INT)")
	const sessions, moves = 4, 15
	for s := 0; s < sessions; s++ {
		root.mustExec(fmt.Sprintf("INSERT INTO pc.t VALUES (%d, %d, 0)", s, s))
	}
	root.mustExec("INSERT INTO pc.t VALUES (1000000, -1, 0)")
	flush(t, root, "pc.t")

	var wg sync.WaitGroup
	acked := make([]int, sessions) // own moves acknowledged
	shared := make([]int, sessions)
	errs := make(chan error, 2*sessions*moves)
	for s := 0; s < sessions; s++ {
		c := connect(t, ts.addr, "root", testRootPassword)
		wg.Add(1)
		go func(s int) {
			defer wg.Done()
			for i := 0; i < moves; i++ {
				// Own row: step by `sessions` so keys never collide.
				n, err := c.exec(fmt.Sprintf("UPDATE pc.t SET id = id + %d, n = n + 1 WHERE owner = %d", sessions, s))
				if err != nil {
					errs <- err
				} else if n == 1 {
					acked[s]++
				}
				// The shared row: everyone moves it.
				n, err = c.exec("UPDATE pc.t SET id = id + 1, n = n + 1 WHERE owner = -1")
				if err != nil {
					errs <- err
				} else if n == 1 {
					shared[s]++
				}
			}
		}(s)
	}
	for i := 0; i < 2; i++ {
		flush(t, root, "pc.t")
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		// A statement that kept losing to concurrent writers may give up
		// (Aborted); it wrote nothing.
		requireCode(t, err, codes.Aborted, "")
	}
	totalShared := 0
	for _, n := range shared {
		totalShared += n
	}
	want := [][]string{{strconv.Itoa(1000000 + totalShared), "-1", strconv.Itoa(totalShared)}}
	for s := 0; s < sessions; s++ {
		want = append(want, []string{strconv.Itoa(s + sessions*acked[s]), strconv.Itoa(s), strconv.Itoa(acked[s])})
	}
	sortRows(want)
	got := root.mustQuery("SELECT id, owner, n FROM pc.t")
	sortRows(got)
	require.Equal(t, want, got)
	require.Positive(t, totalShared)
}

// TestPrimaryKeyUpdateKill9: sessions move their rows (flushed at first,
// hot later) until the server is killed with SIGKILL; after a restart each
// row is there exactly once, at the key its move count says, and every
// acknowledged move is there: a move's delete and insert are applied both
// or neither.
func TestPrimaryKeyUpdateKill9(t *testing.T) {
	dir := t.TempDir()
	cmd, addr := startProcess(t, dir)
	root := connect(t, addr, "root", testRootPassword)
	root.mustExec("CREATE NAMESPACE pk9")
	root.mustExec("CREATE SHARED TABLE pk9.t (id BIGINT PRIMARY KEY, owner INT, n INT)")
	const sessions = 4
	for s := 0; s < sessions; s++ {
		root.mustExec(fmt.Sprintf("INSERT INTO pk9.t VALUES (%d, %d, 0)", s, s))
	}
	flush(t, root, "pk9.t")

	var mu sync.Mutex
	acked := make([]int, sessions)
	total := 0
	var wrong []string // moves that changed other than one row
	enough := make(chan struct{})
	var wg sync.WaitGroup
	for s := 0; s < sessions; s++ {
		c, err := tryConnect(addr, "root", testRootPassword)
		require.NoError(t, err)
		wg.Add(1)
		go func(s int, c *client) {
			defer wg.Done()
			for {
				n, err := c.exec(fmt.Sprintf("UPDATE pk9.t SET id = id + %d, n = n + 1 WHERE owner = %d", sessions, s))
				if err != nil {
					return // the server is gone
				}
				mu.Lock()
				if n != 1 {
					wrong = append(wrong, fmt.Sprintf("session %d: a move changed %d rows", s, n))
				}
				acked[s]++
				if total++; total == 60 {
					close(enough)
				}
				mu.Unlock()
			}
		}(s, c)
	}
	<-enough
	require.NoError(t, cmd.Process.Kill())
	_ = cmd.Wait()
	wg.Wait()
	require.Empty(t, wrong)

	_, addr2 := startProcess(t, dir)
	c := connect(t, addr2, "root", testRootPassword)
	rows := c.mustQuery("SELECT id, owner, n FROM pk9.t ORDER BY owner")
	require.Len(t, rows, sessions, "a move lost or duplicated its row: %v", rows)
	for s, r := range rows {
		id, err := strconv.Atoi(r[0])
		require.NoError(t, err)
		n, err := strconv.Atoi(r[2])
		require.NoError(t, err)
		require.Equal(t, strconv.Itoa(s), r[1])
		require.Equal(t, s+sessions*n, id, "row %v: its key and its move count disagree", r)
		// The statement in flight when the server died may have landed.
		require.Contains(t, []int{acked[s], acked[s] + 1}, n, "session %d: %d moves acknowledged", s, acked[s])
	}
}
