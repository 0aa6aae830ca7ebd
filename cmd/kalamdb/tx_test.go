//go:build duckdb_arrow

package main

import (
	"context"
	"testing"
	"time"

	"github.com/apache/arrow-adbc/go/adbc"
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
)

// TestSQLTransactions drives BEGIN / COMMIT / ROLLBACK as SQL statements
// over one ADBC connection (one session) and watches from another.
func TestSQLTransactions(t *testing.T) {
	ts := startServer(t, t.TempDir())
	root := connect(t, ts.addr, "root", testRootPassword)
	other := connect(t, ts.addr, "root", testRootPassword)
	root.mustExec("CREATE NAMESPACE tx")
	root.mustExec("CREATE SHARED TABLE tx.t (id INT PRIMARY KEY, v TEXT)")
	root.mustExec("INSERT INTO tx.t VALUES (1, 'a'), (2, 'b'), (3, 'c')")
	all := func(c *client) [][]string { return c.mustQuery("SELECT id, v FROM tx.t ORDER BY id") }
	start := [][]string{{"1", "a"}, {"2", "b"}, {"3", "c"}}

	// ROLLBACK discards inserts, updates and deletes; inside, the
	// transaction reads its own writes while others see none of them.
	root.mustExec("BEGIN")
	require.EqualValues(t, 1, root.mustExec("INSERT INTO tx.t VALUES (10, 'x')"))
	require.EqualValues(t, 1, root.mustExec("UPDATE tx.t SET v = 'A' WHERE id = 1"))
	require.EqualValues(t, 1, root.mustExec("DELETE FROM tx.t WHERE id = 2"))
	require.Equal(t, [][]string{{"1", "A"}, {"3", "c"}, {"10", "x"}}, all(root))
	require.Equal(t, [][]string{{"10", "x"}}, root.mustQuery("SELECT id, v FROM tx.t WHERE id = 10"), "point lookup sees the staged row")
	require.Equal(t, start, all(other))
	root.mustExec("ROLLBACK")
	require.Equal(t, start, all(root))
	require.Equal(t, start, all(other))

	// COMMIT publishes all of them at once.
	root.mustExec("BEGIN")
	root.mustExec("INSERT INTO tx.t VALUES (10, 'x'), (11, 'y')")
	root.mustExec("UPDATE tx.t SET v = v || '!' WHERE id IN (1, 10)")
	root.mustExec("DELETE FROM tx.t WHERE id = 2")
	require.Equal(t, start, all(other))
	root.mustExec("COMMIT")
	want := [][]string{{"1", "a!"}, {"3", "c"}, {"10", "x!"}, {"11", "y"}}
	require.Equal(t, want, all(other))

	// A failed statement inside a transaction aborts it: COMMIT applies
	// nothing (see TestFailedStatementAbortsTransaction).
	root.mustExec("BEGIN")
	root.mustExec("INSERT INTO tx.t VALUES (20, 'p')")
	_, err := root.exec("INSERT INTO tx.t VALUES (21, 'q'), (20, 'dup')")
	requireCode(t, err, codes.AlreadyExists, "duplicate primary key")
	_, err = root.exec("COMMIT")
	requireCode(t, err, codes.Aborted, "nothing was committed")
	require.Empty(t, other.mustQuery("SELECT id, v FROM tx.t WHERE id >= 20"))

	// Misuse is a clear FailedPrecondition, and leaves no transaction open.
	_, err = root.exec("COMMIT")
	requireCode(t, err, codes.FailedPrecondition, "no transaction in progress")
	_, err = root.exec("ROLLBACK")
	requireCode(t, err, codes.FailedPrecondition, "no transaction in progress")
	// (Each of them aborts the transaction, as any failed statement does.)
	root.mustExec("BEGIN")
	require.NotEmpty(t, root.mustQuery("SHOW TABLES IN tx"), "introspection works inside a transaction")
	_, err = root.exec("BEGIN")
	requireCode(t, err, codes.FailedPrecondition, "already in progress")
	root.mustExec("ROLLBACK")
	root.mustExec("BEGIN")
	_, err = root.exec("CREATE SHARED TABLE tx.u (id INT PRIMARY KEY)")
	requireCode(t, err, codes.FailedPrecondition, "cannot run inside a transaction")
	root.mustExec("ROLLBACK")
	root.mustExec("BEGIN")
	_, err = root.exec("STORAGE FLUSH TABLE tx.t")
	requireCode(t, err, codes.FailedPrecondition, "cannot run inside a transaction")
	root.mustExec("ROLLBACK")
	root.mustExec("CREATE SHARED TABLE tx.u (id INT PRIMARY KEY)")
}

// TestTransactionConflicts: the first committer wins; the loser's commit
// fails with Aborted and applies nothing.
func TestTransactionConflicts(t *testing.T) {
	ts := startServer(t, t.TempDir())
	a := connect(t, ts.addr, "root", testRootPassword)
	b := connect(t, ts.addr, "root", testRootPassword)
	a.mustExec("CREATE NAMESPACE cf")
	a.mustExec("CREATE SHARED TABLE cf.t (id INT PRIMARY KEY, v INT)")
	a.mustExec("INSERT INTO cf.t VALUES (1, 0), (2, 0)")

	a.mustExec("BEGIN")
	a.mustExec("UPDATE cf.t SET v = 1 WHERE id = 1")
	a.mustExec("UPDATE cf.t SET v = 1 WHERE id = 2")
	b.mustExec("UPDATE cf.t SET v = 2 WHERE id = 1") // autocommit, lands first
	_, err := a.exec("COMMIT")
	requireCode(t, err, codes.Aborted, "conflict")
	require.Equal(t, [][]string{{"1", "2"}, {"2", "0"}}, b.mustQuery("SELECT id, v FROM cf.t ORDER BY id"), "nothing of the aborted transaction applied")

	// Two transactions inserting the same new key: the second to commit loses.
	a.mustExec("BEGIN")
	b.mustExec("BEGIN")
	a.mustExec("INSERT INTO cf.t VALUES (5, 1)")
	b.mustExec("INSERT INTO cf.t VALUES (5, 2)")
	b.mustExec("COMMIT")
	_, err = a.exec("COMMIT")
	requireCode(t, err, codes.Aborted, "conflict")
	require.Equal(t, [][]string{{"2"}}, a.mustQuery("SELECT v FROM cf.t WHERE id = 5"))

	// Disjoint rows do not conflict.
	a.mustExec("BEGIN")
	b.mustExec("BEGIN")
	a.mustExec("UPDATE cf.t SET v = 10 WHERE id = 1")
	b.mustExec("UPDATE cf.t SET v = 20 WHERE id = 2")
	a.mustExec("COMMIT")
	b.mustExec("COMMIT")
	require.Equal(t, [][]string{{"1", "10"}, {"2", "20"}, {"5", "2"}}, a.mustQuery("SELECT id, v FROM cf.t ORDER BY id"))
}

// TestTransactionsOverFlushedRows: updates and deletes of rows already in
// Parquet segments, and the duplicate check against them, work inside a
// transaction; per-user isolation holds.
func TestTransactionsOverFlushedRows(t *testing.T) {
	ts := startServer(t, t.TempDir())
	root := connect(t, ts.addr, "root", testRootPassword)
	root.mustExec("CREATE NAMESPACE fx")
	root.mustExec("CREATE USER TABLE fx.notes (id BIGINT PRIMARY KEY, body TEXT)")
	alice := newUser(t, ts.addr, root, "alice")
	bob := newUser(t, ts.addr, root, "bob")
	alice.mustExec("INSERT INTO fx.notes SELECT i, 'n' || i FROM range(100) t(i)")
	bob.mustExec("INSERT INTO fx.notes VALUES (1, 'bob')")
	flush(t, root, "fx.notes")

	alice.mustExec("BEGIN")
	_, err := alice.exec("INSERT INTO fx.notes VALUES (5, 'dup')")
	requireCode(t, err, codes.AlreadyExists, "duplicate primary key")
	alice.mustExec("ROLLBACK") // the error aborted the transaction
	alice.mustExec("BEGIN")
	require.EqualValues(t, 10, alice.mustExec("UPDATE fx.notes SET body = 'edited' WHERE id < 10"))
	require.EqualValues(t, 10, alice.mustExec("DELETE FROM fx.notes WHERE id >= 90"))
	alice.mustExec("INSERT INTO fx.notes VALUES (500, 'new')")
	require.Equal(t, [][]string{{"91", "10"}}, alice.mustQuery("SELECT count(*), count(*) FILTER (WHERE body = 'edited') FROM fx.notes"))
	require.Equal(t, [][]string{{"1", "bob"}}, bob.mustQuery("SELECT id, body FROM fx.notes"))
	alice2 := connect(t, ts.addr, "alice", "alice-password")
	require.Equal(t, [][]string{{"100", "0"}}, alice2.mustQuery("SELECT count(*), count(*) FILTER (WHERE body = 'edited') FROM fx.notes"))
	alice.mustExec("COMMIT")
	require.Equal(t, [][]string{{"91", "10"}}, alice2.mustQuery("SELECT count(*), count(*) FILTER (WHERE body = 'edited') FROM fx.notes"))
	require.Equal(t, [][]string{{"1", "bob"}}, bob.mustQuery("SELECT id, body FROM fx.notes"))
}

// TestFlightTransactions uses ADBC with autocommit off: the driver opens
// Flight SQL transactions (BeginTransaction) and ends them with
// EndTransaction on Commit / Rollback.
func TestFlightTransactions(t *testing.T) {
	ts := startServer(t, t.TempDir())
	root := connect(t, ts.addr, "root", testRootPassword)
	root.mustExec("CREATE NAMESPACE ft")
	root.mustExec("CREATE SHARED TABLE ft.t (id BIGINT PRIMARY KEY, v TEXT)")
	root.mustExec("INSERT INTO ft.t VALUES (1, 'a')")
	ids := func(c *client) [][]string { return c.mustQuery("SELECT id FROM ft.t ORDER BY id") }

	tx := connect(t, ts.addr, "root", testRootPassword)
	require.NoError(t, tx.conn.(adbc.PostInitOptions).SetOption(adbc.OptionKeyAutoCommit, adbc.OptionValueDisabled))
	ctx := context.Background()

	tx.mustExec("INSERT INTO ft.t VALUES (2, 'b')")
	require.Equal(t, [][]string{{"1"}, {"2"}}, ids(tx))
	require.Equal(t, [][]string{{"1"}}, ids(root))
	require.NoError(t, tx.conn.Rollback(ctx))
	require.Equal(t, [][]string{{"1"}}, ids(tx))

	// A prepared statement with a batch of parameter rows, in the transaction.
	stmt, err := tx.conn.NewStatement()
	require.NoError(t, err)
	defer stmt.Close()
	require.NoError(t, stmt.SetSqlQuery("INSERT INTO ft.t VALUES (?, ?)"))
	require.NoError(t, stmt.Prepare(ctx))
	sc := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}, {Name: "v", Type: arrow.BinaryTypes.String}}, nil)
	bld := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer bld.Release()
	bld.Field(0).(*array.Int64Builder).AppendValues([]int64{3, 4, 5}, nil)
	bld.Field(1).(*array.StringBuilder).AppendValues([]string{"c", "d", "e"}, nil)
	params := bld.NewRecordBatch()
	defer params.Release()
	require.NoError(t, stmt.Bind(ctx, params))
	n, err := stmt.ExecuteUpdate(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 3, n)
	tx.mustExec("DELETE FROM ft.t WHERE id = 1")
	require.Equal(t, [][]string{{"1"}}, ids(root))
	require.NoError(t, tx.conn.Commit(ctx))
	require.Equal(t, [][]string{{"3"}, {"4"}, {"5"}}, ids(root))

	// SQL transaction control inside a Flight transaction is refused.
	_, err = tx.exec("COMMIT")
	requireCode(t, err, codes.FailedPrecondition, "EndTransaction")
	require.NoError(t, tx.conn.Rollback(ctx))
}

// TestTransactionCrashAtomicity kills the server with SIGKILL just before
// and just after a COMMIT of writes to two tables and two users'
// partitions: after restart the transaction is there entirely or not at all.
func TestTransactionCrashAtomicity(t *testing.T) {
	for _, tc := range []struct {
		point string
		want  string
	}{{"tx-before-commit", "0"}, {"tx-after-commit", "all"}} {
		t.Run(tc.point, func(t *testing.T) {
			dir := t.TempDir()
			cmd, addr := startProcessEnv(t, dir, []string{"KALAMDB_ROOT_PASSWORD=" + testRootPassword, "KALAMDB_FAILPOINT=" + tc.point})
			root := connect(t, addr, "root", testRootPassword)
			root.mustExec("CREATE NAMESPACE cx")
			root.mustExec("CREATE SHARED TABLE cx.a (id BIGINT PRIMARY KEY, v TEXT)")
			root.mustExec("CREATE USER TABLE cx.b (id BIGINT PRIMARY KEY, v TEXT)")
			root.mustExec("CREATE USER carol WITH PASSWORD 'carol-pw-1' ROLE user")
			root.mustExec("BEGIN")
			root.mustExec("INSERT INTO cx.a SELECT i, 'a' || i FROM range(3000) t(i)")
			root.mustExec("INSERT INTO cx.b SELECT i, 'b' || i FROM range(2000) t(i)")
			root.mustExec("EXECUTE AS USER 'carol' (INSERT INTO cx.b SELECT i, 'c' || i FROM range(1000) t(i))")
			root.mustExec("UPDATE cx.a SET v = 'u' WHERE id < 10")
			_, _ = root.exec("COMMIT")
			require.Error(t, cmd.Wait(), "the failpoint kills the server")

			_, addr2 := startProcessEnv(t, dir, []string{"KALAMDB_ROOT_PASSWORD=" + testRootPassword})
			c := connect(t, addr2, "root", testRootPassword)
			a := c.mustQuery("SELECT count(*) FROM cx.a")[0][0]
			b := c.mustQuery("SELECT count(*) FROM cx.b")[0][0]
			carol := c.mustQuery("EXECUTE AS USER 'carol' (SELECT count(*) FROM cx.b)")[0][0]
			got := []string{a, b, carol}
			if tc.want == "0" {
				require.Equal(t, []string{"0", "0", "0"}, got, "an uncommitted transaction left rows behind")
				return
			}
			require.Equal(t, []string{"3000", "2000", "1000"}, got, "a committed transaction lost rows")
			require.Equal(t, [][]string{{"10"}}, c.mustQuery("SELECT count(*) FROM cx.a WHERE v = 'u'"))
		})
	}
}

// TestTransactionsWithCachedHotRowsAndFlushes: a transaction's reads see
// its writes even when the partition's hot rows are cached in DuckDB, the
// cache others read is not polluted, and a flush that replaces the
// segments an INSERT checked for duplicates aborts the commit.
func TestTransactionsWithCachedHotRowsAndFlushes(t *testing.T) {
	ts := startServerWith(t, t.TempDir(), []string{"--hot-cache-min-rows", "10"}, nil)
	a := connect(t, ts.addr, "root", testRootPassword)
	b := connect(t, ts.addr, "root", testRootPassword)
	a.mustExec("CREATE NAMESPACE hc")
	a.mustExec("CREATE SHARED TABLE hc.t (id INT PRIMARY KEY, v INT)")
	a.mustExec("INSERT INTO hc.t SELECT i, i FROM range(100) t(i)")
	sum := func(c *client) string { return c.mustQuery("SELECT count(*) || '/' || sum(v) FROM hc.t")[0][0] }
	require.Equal(t, "100/4950", sum(b)) // loads, then caches, the hot partition
	require.Equal(t, "100/4950", sum(b))

	a.mustExec("BEGIN")
	a.mustExec("INSERT INTO hc.t VALUES (1000, 1)")
	a.mustExec("UPDATE hc.t SET v = 0 WHERE id < 10")
	require.Equal(t, "101/4906", sum(a), "the transaction sees its writes, not the cached rows")
	require.Equal(t, "100/4950", sum(b), "others still see the committed rows")
	a.mustExec("COMMIT")
	require.Equal(t, "101/4906", sum(b), "the commit invalidates the cache")

	// A flush between the INSERT and the COMMIT aborts the transaction.
	a.mustExec("BEGIN")
	a.mustExec("INSERT INTO hc.t VALUES (2000, 2)")
	flush(t, b, "hc.t")
	_, err := a.exec("COMMIT")
	requireCode(t, err, codes.Aborted, "flushed")
	require.Empty(t, b.mustQuery("SELECT id FROM hc.t WHERE id = 2000"))
	require.Equal(t, "101/4906", sum(b))
	// Retried, it commits.
	a.mustExec("BEGIN")
	a.mustExec("INSERT INTO hc.t VALUES (2000, 2)")
	a.mustExec("COMMIT")
	require.Equal(t, [][]string{{"2000", "2"}}, b.mustQuery("SELECT id, v FROM hc.t WHERE id = 2000"))
}

// TestIdleTransactionsRollBack: with --tx-idle-timeout, both a SQL
// transaction and a Flight SQL one that run no statement for that long are
// rolled back, and their writes never appear.
func TestIdleTransactionsRollBack(t *testing.T) {
	ts := startServerWith(t, t.TempDir(), []string{"--tx-idle-timeout", "1s"}, nil)
	root := connect(t, ts.addr, "root", testRootPassword)
	root.mustExec("CREATE NAMESPACE it")
	root.mustExec("CREATE SHARED TABLE it.t (id INT PRIMARY KEY)")
	sqlTx := connect(t, ts.addr, "root", testRootPassword)
	sqlTx.mustExec("BEGIN")
	sqlTx.mustExec("INSERT INTO it.t VALUES (1)")
	flightTx := connect(t, ts.addr, "root", testRootPassword)
	require.NoError(t, flightTx.conn.(adbc.PostInitOptions).SetOption(adbc.OptionKeyAutoCommit, adbc.OptionValueDisabled))
	flightTx.mustExec("INSERT INTO it.t VALUES (2)")

	// Kept alive by statements more often than the timeout: still open.
	for i := 0; i < 5; i++ {
		time.Sleep(300 * time.Millisecond)
		require.Equal(t, [][]string{{"1"}}, sqlTx.mustQuery("SELECT count(*) FROM it.t WHERE id = 1"))
	}
	time.Sleep(3 * time.Second)
	_, err := sqlTx.exec("COMMIT")
	requireCode(t, err, codes.FailedPrecondition, "no transaction in progress")
	err = flightTx.conn.Commit(context.Background())
	requireCode(t, err, codes.NotFound, "unknown or ended transaction")
	require.Equal(t, [][]string{{"0"}}, root.mustQuery("SELECT count(*) FROM it.t"))
}

// TestTransactionIDsAreOwned: a Flight SQL transaction id is usable only by
// the user who began it; another user presenting it can neither write in
// it nor end it, and the owner's transaction is unaffected.
func TestTransactionIDsAreOwned(t *testing.T) {
	ts := startServer(t, t.TempDir())
	root := connect(t, ts.addr, "root", testRootPassword)
	root.mustExec("CREATE NAMESPACE ow")
	root.mustExec("CREATE USER TABLE ow.notes (id INT PRIMARY KEY, body TEXT)")
	alice := newUser(t, ts.addr, root, "alice")
	bob := newUser(t, ts.addr, root, "bob")
	cl := newFlightSQLClient(t, ts.addr)
	ctx := context.Background()
	aliceCtx, err := cl.Client.AuthenticateBasicToken(ctx, "alice", "alice-password")
	require.NoError(t, err)
	bobCtx, err := cl.Client.AuthenticateBasicToken(ctx, "bob", "bob-password")
	require.NoError(t, err)

	tx, err := cl.BeginTransaction(aliceCtx)
	require.NoError(t, err)
	n, err := tx.ExecuteUpdate(aliceCtx, "INSERT INTO ow.notes VALUES (1, 'alice in tx')")
	require.NoError(t, err)
	require.EqualValues(t, 1, n)

	// Bob presents alice's transaction id.
	_, err = tx.ExecuteUpdate(bobCtx, "INSERT INTO ow.notes VALUES (2, 'bob in alice tx')")
	requireCode(t, err, codes.NotFound, "unknown or ended transaction")
	_, err = tx.Execute(bobCtx, "SELECT * FROM ow.notes")
	requireCode(t, err, codes.NotFound, "unknown or ended transaction")
	require.NoError(t, tx.Commit(aliceCtx))
	require.Equal(t, [][]string{{"1", "alice in tx"}}, alice.mustQuery("SELECT id, body FROM ow.notes"))
	require.Empty(t, bob.mustQuery("SELECT id, body FROM ow.notes"))

	// Nor can bob end (here: commit) alice's transaction.
	tx2, err := cl.BeginTransaction(aliceCtx)
	require.NoError(t, err)
	_, err = tx2.ExecuteUpdate(aliceCtx, "INSERT INTO ow.notes VALUES (3, 'uncommitted')")
	require.NoError(t, err)
	requireCode(t, tx2.Commit(bobCtx), codes.NotFound, "unknown or ended transaction")
	require.Equal(t, [][]string{{"1"}}, alice.mustQuery("SELECT id FROM ow.notes"), "bob's commit applied nothing")

	// Bulk ingest may create or replace tables: it is refused inside a
	// transaction, with nothing written.
	tx3, err := cl.BeginTransaction(aliceCtx)
	require.NoError(t, err)
	sc := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int32}, {Name: "body", Type: arrow.BinaryTypes.String}}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	b.Field(0).(*array.Int32Builder).Append(9)
	b.Field(1).(*array.StringBuilder).Append("ingested")
	rec := b.NewRecordBatch()
	defer rec.Release()
	rdr, err := array.NewRecordReader(sc, []arrow.RecordBatch{rec})
	require.NoError(t, err)
	defer rdr.Release()
	ns := "ow"
	_, err = cl.ExecuteIngest(aliceCtx, rdr, &flightsql.ExecuteIngestOpts{
		Table: "notes", Schema: &ns, TransactionId: tx3.ID(),
		TableDefinitionOptions: &flightsql.TableDefinitionOptions{
			IfNotExist: flightsql.TableDefinitionOptionsTableNotExistOptionFail,
			IfExists:   flightsql.TableDefinitionOptionsTableExistsOptionAppend,
		},
	})
	requireCode(t, err, codes.FailedPrecondition, "cannot run inside a transaction")
	require.NoError(t, tx3.Rollback(aliceCtx))
	require.Equal(t, [][]string{{"1"}}, alice.mustQuery("SELECT id FROM ow.notes"))
}
