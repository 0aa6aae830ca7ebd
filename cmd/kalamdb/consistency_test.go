//go:build duckdb_arrow

package main

import (
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
)

// Consistency tests: concurrent sessions against one server, checking that
// no acknowledged update is lost and no money is created or destroyed.
// Their sizes are small enough for `make test`; `make soak` sets
// KALAMDB_SOAK=1 (and optionally KALAMDB_SOAK_SCALE) to run them longer.

// soakScale is the factor applied to the tests' iteration counts: 1 in the
// normal suite, KALAMDB_SOAK_SCALE (default 20) under KALAMDB_SOAK=1.
func soakScale() int {
	if os.Getenv("KALAMDB_SOAK") == "" {
		return 1
	}
	if n, err := strconv.Atoi(os.Getenv("KALAMDB_SOAK_SCALE")); err == nil && n > 0 {
		return n
	}
	return 20
}

// tally counts the outcomes of concurrent statements.
type tally struct {
	acked, aborted, failed atomic.Int64
	mu                     sync.Mutex
	firstErr               error
}

func (ta *tally) fail(err error) {
	ta.failed.Add(1)
	ta.mu.Lock()
	if ta.firstErr == nil {
		ta.firstErr = err
	}
	ta.mu.Unlock()
}

// TestCounterNoLostUpdates: sessions increment one row of a SHARED table,
// and several connections of one user increment one row of that user's USER
// partition. Autocommit statements need no retry loop: the final value
// equals the acknowledged increments exactly.
func TestCounterNoLostUpdates(t *testing.T) {
	ts := startServer(t, t.TempDir())
	root := connect(t, ts.addr, "root", testRootPassword)
	root.mustExec("CREATE NAMESPACE cn")
	root.mustExec("CREATE SHARED TABLE cn.ctr (id INT PRIMARY KEY, v BIGINT)")
	root.mustExec("CREATE USER TABLE cn.uctr (id INT PRIMARY KEY, v BIGINT)")
	root.mustExec("INSERT INTO cn.ctr VALUES (0, 0), (1, 0)")
	alice := newUser(t, ts.addr, root, "alice")
	alice.mustExec("INSERT INTO cn.uctr VALUES (0, 0), (1, 0)")
	perSession := 40 * soakScale()

	run := func(t *testing.T, table string, sessions []*client) {
		var ta tally
		var wg sync.WaitGroup
		for _, c := range sessions {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < perSession; i++ {
					n, err := c.exec("UPDATE " + table + " SET v = v + 1 WHERE id = 0")
					switch {
					case err == nil && n == 1:
						ta.acked.Add(1)
					case err == nil:
						ta.fail(fmt.Errorf("UPDATE affected %d rows", n))
					case grpcCode(err) == codes.Aborted:
						ta.aborted.Add(1)
					default:
						ta.fail(err)
					}
				}
			}()
		}
		wg.Wait()
		require.NoError(t, ta.firstErr)
		got := sessions[0].mustQuery("SELECT v FROM " + table + " WHERE id = 0")
		t.Logf("%s: %d sessions, %d acknowledged, %d aborted, final v = %s", table, len(sessions), ta.acked.Load(), ta.aborted.Load(), got[0][0])
		require.Equal(t, [][]string{{strconv.FormatInt(ta.acked.Load(), 10)}}, got, "final value = acknowledged increments")
		require.LessOrEqual(t, ta.aborted.Load()*20, int64(len(sessions)*perSession), "autocommit retries inside the server: few statements give up")
		require.Equal(t, [][]string{{"0"}}, sessions[0].mustQuery("SELECT v FROM "+table+" WHERE id = 1"), "the other row is untouched")
	}
	t.Run("shared", func(t *testing.T) {
		var sessions []*client
		for i := 0; i < 6; i++ {
			sessions = append(sessions, connect(t, ts.addr, "root", testRootPassword))
		}
		run(t, "cn.ctr", sessions)
	})
	t.Run("user", func(t *testing.T) {
		var sessions []*client
		for i := 0; i < 4; i++ {
			sessions = append(sessions, connect(t, ts.addr, "alice", "alice-password"))
		}
		run(t, "cn.uctr", sessions)
	})
}

// bank is a table of accounts and the transfers acknowledged on it.
type bank struct {
	table    string
	accounts int
	initial  int64

	mu    sync.Mutex
	delta map[int]int64
}

func newBank(table string, accounts int, initial int64) *bank {
	return &bank{table: table, accounts: accounts, initial: initial, delta: map[int]int64{}}
}

func (b *bank) total() int64 { return int64(b.accounts) * b.initial }

func (b *bank) acked(from, to int, x int64) {
	b.mu.Lock()
	b.delta[from] -= x
	b.delta[to] += x
	b.mu.Unlock()
}

// transferTx moves x from one account to another in a transaction. It
// reports whether the transfer was acknowledged (committed); an aborted
// transaction is not an error.
func (b *bank) transferTx(c *client, from, to int, x int64) (bool, error) {
	if _, err := c.exec("BEGIN"); err != nil {
		return false, err
	}
	for _, s := range []string{
		fmt.Sprintf("UPDATE %s SET bal = bal - %d WHERE id = %d", b.table, x, from),
		fmt.Sprintf("UPDATE %s SET bal = bal + %d WHERE id = %d", b.table, x, to),
	} {
		n, err := c.exec(s)
		if err != nil || n != 1 {
			_, _ = c.exec("ROLLBACK")
			if err == nil {
				err = fmt.Errorf("%s affected %d rows", s, n)
			}
			return false, err
		}
	}
	if _, err := c.exec("COMMIT"); err != nil {
		if grpcCode(err) == codes.Aborted {
			return false, nil
		}
		return false, err
	}
	b.acked(from, to, x)
	return true, nil
}

// transferStmt moves x in one autocommit statement updating both rows.
func (b *bank) transferStmt(c *client, from, to int, x int64) (bool, error) {
	n, err := c.exec(fmt.Sprintf("UPDATE %s SET bal = CASE WHEN id = %d THEN bal - %d ELSE bal + %d END WHERE id IN (%d, %d)",
		b.table, from, x, x, from, to))
	if err != nil {
		if grpcCode(err) == codes.Aborted {
			return false, nil
		}
		return false, err
	}
	if n != 2 {
		return false, fmt.Errorf("transfer statement affected %d rows", n)
	}
	b.acked(from, to, x)
	return true, nil
}

// transfer moves x in a transaction (inTx) or in one statement and counts
// the outcome in ta; it reports false, the error counted, when the session
// must stop.
func (b *bank) transfer(c *client, inTx bool, from, to int, x int64, ta *tally) bool {
	transfer := b.transferStmt
	if inTx {
		transfer = b.transferTx
	}
	ok, err := transfer(c, from, to, x)
	switch {
	case err != nil:
		ta.fail(err)
		return false
	case ok:
		ta.acked.Add(1)
	default:
		ta.aborted.Add(1)
	}
	return true
}

// check verifies the total and every account against the acknowledged
// transfers.
func (b *bank) check(t *testing.T, c *client) {
	t.Helper()
	rows := c.mustQuery("SELECT id, bal FROM " + b.table + " ORDER BY id")
	require.Len(t, rows, b.accounts)
	var sum int64
	var wrong []string
	for _, r := range rows {
		id, _ := strconv.Atoi(r[0])
		bal, _ := strconv.ParseInt(r[1], 10, 64)
		sum += bal
		if want := b.initial + b.delta[id]; bal != want {
			wrong = append(wrong, fmt.Sprintf("%d: %d want %d", id, bal, want))
		}
	}
	require.Equal(t, b.total(), sum, "total")
	require.Empty(t, wrong, "accounts that disagree with their acknowledged transfers")
}

// readTotals runs `SELECT sum, count` in a loop until stop is closed and
// returns how many reads there were and the wrong ones.
func (b *bank) readTotals(c *client, stop <-chan struct{}, ta *tally) (reads int, bad []string) {
	want := []string{strconv.FormatInt(b.total(), 10), strconv.Itoa(b.accounts)}
	for {
		select {
		case <-stop:
			return reads, bad
		default:
		}
		rows, _, err := c.query("SELECT sum(bal), count(*) FROM " + b.table)
		if err != nil {
			ta.fail(err)
			return reads, bad
		}
		reads++
		if len(rows) != 1 || rows[0][0] != want[0] || rows[0][1] != want[1] {
			bad = append(bad, fmt.Sprint(rows))
		}
	}
}

// TestBankTransfers: six sessions move money between 20 accounts, half of
// them flushed to Parquet first, with transactions and with single two-row
// UPDATE statements, while readers sum the balances. Every read sees the
// initial total, and at the end every account equals its acknowledged
// transfers.
func TestBankTransfers(t *testing.T) {
	ts := startServer(t, t.TempDir())
	root := connect(t, ts.addr, "root", testRootPassword)
	root.mustExec("CREATE NAMESPACE bk")
	root.mustExec("CREATE SHARED TABLE bk.acct (id INT PRIMARY KEY, bal BIGINT)")
	b := newBank("bk.acct", 20, 1000)
	var vals []string
	for i := 0; i < b.accounts; i++ {
		vals = append(vals, fmt.Sprintf("(%d, %d)", i, b.initial))
		if i == b.accounts/2-1 {
			root.mustExec("INSERT INTO bk.acct VALUES " + strings.Join(vals, ", "))
			flush(t, root, "bk.acct") // accounts 0..9 are cold, 10..19 hot
			vals = nil
		}
	}
	root.mustExec("INSERT INTO bk.acct VALUES " + strings.Join(vals, ", "))

	perSession := 30 * soakScale()
	var ta tally
	var wg sync.WaitGroup
	for s := 0; s < 6; s++ {
		c := connect(t, ts.addr, "root", testRootPassword)
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(s), 12))
			for i := 0; i < perSession; i++ {
				from := rng.IntN(b.accounts)
				to := (from + 1 + rng.IntN(b.accounts-1)) % b.accounts
				x := int64(1 + rng.IntN(50))
				if !b.transfer(c, (s+i)%2 == 0, from, to, x, &ta) {
					return
				}
			}
		}()
	}
	stop := make(chan struct{})
	var rwg sync.WaitGroup
	var reads atomic.Int64
	var badMu sync.Mutex
	var bad []string
	for r := 0; r < 2; r++ {
		c := connect(t, ts.addr, "root", testRootPassword)
		rwg.Add(1)
		go func() {
			defer rwg.Done()
			n, wrong := b.readTotals(c, stop, &ta)
			reads.Add(int64(n))
			badMu.Lock()
			bad = append(bad, wrong...)
			badMu.Unlock()
		}()
	}
	wg.Wait()
	close(stop)
	rwg.Wait()
	t.Logf("transfers: %d acknowledged, %d aborted; reads: %d, %d wrong", ta.acked.Load(), ta.aborted.Load(), reads.Load(), len(bad))
	require.NoError(t, ta.firstErr)
	require.Empty(t, firstFew(bad), "every read sees the initial total")
	b.check(t, root)
	require.Positive(t, ta.acked.Load())
}

// TestTransfersDuringFlushAndCompaction: conflict-free transfers (each
// session owns its own accounts) while STORAGE FLUSH and STORAGE COMPACT
// run in a loop. No acknowledged update is lost, and readers only see the
// initial total.
func TestTransfersDuringFlushAndCompaction(t *testing.T) {
	ts := startServer(t, t.TempDir())
	root := connect(t, ts.addr, "root", testRootPassword)
	root.mustExec("CREATE NAMESPACE fc")
	root.mustExec("CREATE SHARED TABLE fc.acct (id INT PRIMARY KEY, bal BIGINT)")
	const sessions, own = 4, 4
	b := newBank("fc.acct", sessions*own, 1000)
	var vals []string
	for i := 0; i < b.accounts; i++ {
		vals = append(vals, fmt.Sprintf("(%d, %d)", i, b.initial))
	}
	root.mustExec("INSERT INTO fc.acct VALUES " + strings.Join(vals, ", "))
	flush(t, root, "fc.acct")

	perSession := 40 * soakScale()
	var ta tally
	var wg sync.WaitGroup
	for s := 0; s < sessions; s++ {
		c := connect(t, ts.addr, "root", testRootPassword)
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(s), 34))
			for i := 0; i < perSession; i++ {
				from := s*own + rng.IntN(own)
				to := s*own + (from-s*own+1+rng.IntN(own-1))%own
				x := int64(1 + rng.IntN(50))
				if !b.transfer(c, i%2 == 0, from, to, x, &ta) {
					return
				}
			}
		}()
	}
	stop := make(chan struct{})
	var rwg sync.WaitGroup
	var reads atomic.Int64
	var bad []string
	var jobsRun atomic.Int64
	rwg.Add(2)
	go func() {
		defer rwg.Done()
		c := connect(t, ts.addr, "root", testRootPassword)
		n, wrong := b.readTotals(c, stop, &ta)
		reads.Add(int64(n))
		bad = wrong
	}()
	go func() {
		defer rwg.Done()
		c := connect(t, ts.addr, "root", testRootPassword)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			cmd := "STORAGE FLUSH TABLE fc.acct"
			if i%3 == 2 {
				cmd = "STORAGE COMPACT TABLE fc.acct"
			}
			rows, _, err := c.query(cmd)
			if err != nil {
				ta.fail(err)
				return
			}
			waitJobsQuiet(c, rows[0][0])
			jobsRun.Add(1)
		}
	}()
	wg.Wait()
	close(stop)
	rwg.Wait()
	t.Logf("transfers: %d acknowledged, %d aborted; flush/compact jobs: %d; reads: %d, %d wrong", ta.acked.Load(), ta.aborted.Load(), jobsRun.Load(), reads.Load(), len(bad))
	require.NoError(t, ta.firstErr)
	b.check(t, root)
	require.Empty(t, firstFew(bad), "every read sees the initial total")
}

// firstFew keeps the first five wrong reads for the failure message.
func firstFew(bad []string) []string {
	if len(bad) > 5 {
		return append(bad[:5:5], fmt.Sprintf("… %d more", len(bad)-5))
	}
	return bad
}

// waitJobsQuiet waits (at most 30 s) for a job to leave the queue, without
// failing from a goroutine.
func waitJobsQuiet(c *client, id string) {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		rows, _, err := c.query("SELECT status FROM system.jobs WHERE job_id = '" + id + "'")
		if err != nil {
			return
		}
		if len(rows) == 1 && (rows[0][0] == "completed" || rows[0][0] == "failed" || rows[0][0] == "cancelled") {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestTransactionSnapshot: a transaction reads one snapshot (taken at its
// first read) plus its own writes, and its COMMIT fails when a row it
// updated from that snapshot was changed by someone else since.
func TestTransactionSnapshot(t *testing.T) {
	ts := startServer(t, t.TempDir())
	a := connect(t, ts.addr, "root", testRootPassword)
	b := connect(t, ts.addr, "root", testRootPassword)
	a.mustExec("CREATE NAMESPACE si")
	a.mustExec("CREATE SHARED TABLE si.acct (id INT PRIMARY KEY, bal BIGINT)")
	a.mustExec("INSERT INTO si.acct VALUES (1, 100), (2, 100)")
	sum := func(c *client) [][]string { return c.mustQuery("SELECT sum(bal) FROM si.acct") }

	// Repeatable reads: another session's commit is invisible inside.
	a.mustExec("BEGIN")
	require.Equal(t, [][]string{{"200"}}, sum(a))
	b.mustExec("UPDATE si.acct SET bal = bal + 50 WHERE id = 1")
	require.Equal(t, [][]string{{"200"}}, sum(a), "the transaction keeps its snapshot")
	require.Equal(t, [][]string{{"100"}}, a.mustQuery("SELECT bal FROM si.acct WHERE id = 1"), "point lookups too")
	require.EqualValues(t, 1, a.mustExec("UPDATE si.acct SET bal = bal + 1 WHERE id = 2"))
	require.Equal(t, [][]string{{"201"}}, sum(a), "its own writes on top of the snapshot")
	// Updating a row changed since the snapshot: first committer wins.
	require.EqualValues(t, 1, a.mustExec("UPDATE si.acct SET bal = bal - 1 WHERE id = 1"))
	_, err := a.exec("COMMIT")
	requireCode(t, err, codes.Aborted, "conflict")
	require.Equal(t, [][]string{{"1", "150"}, {"2", "100"}}, b.mustQuery("SELECT id, bal FROM si.acct ORDER BY id"))

	// A transaction that read before another commit but writes only rows
	// nobody changed commits.
	a.mustExec("BEGIN")
	require.Equal(t, [][]string{{"250"}}, sum(a))
	b.mustExec("UPDATE si.acct SET bal = bal + 1 WHERE id = 1")
	a.mustExec("UPDATE si.acct SET bal = bal + 1 WHERE id = 2")
	a.mustExec("COMMIT")
	require.Equal(t, [][]string{{"1", "151"}, {"2", "101"}}, b.mustQuery("SELECT id, bal FROM si.acct ORDER BY id"))
}

// TestTransactionSnapshotAcrossFlush: a flush between a transaction's
// snapshot and its reads or writes changes neither what it reads nor the
// first-committer-wins rule: a row another session changed since the
// snapshot, then flushed, is a conflict at COMMIT, not a lost update.
func TestTransactionSnapshotAcrossFlush(t *testing.T) {
	ts := startServer(t, t.TempDir())
	a := connect(t, ts.addr, "root", testRootPassword)
	b := connect(t, ts.addr, "root", testRootPassword)
	a.mustExec("CREATE NAMESPACE sf")
	a.mustExec("CREATE SHARED TABLE sf.acct (id INT PRIMARY KEY, bal BIGINT)")
	a.mustExec("CREATE SHARED TABLE sf.other (id INT PRIMARY KEY)")
	a.mustExec("INSERT INTO sf.acct VALUES (1, 100), (2, 100)")

	a.mustExec("BEGIN")
	require.Equal(t, [][]string{{"0"}}, a.mustQuery("SELECT count(*) FROM sf.other"), "the snapshot is taken")
	b.mustExec("UPDATE sf.acct SET bal = bal + 50 WHERE id = 1")
	b.mustExec("INSERT INTO sf.acct VALUES (3, 7)")
	flush(t, b, "sf.acct")
	require.Equal(t, [][]string{{"1", "100"}, {"2", "100"}}, a.mustQuery("SELECT id, bal FROM sf.acct ORDER BY id"),
		"rows committed and flushed after the snapshot stay invisible")
	a.mustExec("UPDATE sf.acct SET bal = bal - 1 WHERE id = 1")
	_, err := a.exec("COMMIT")
	requireCode(t, err, codes.Aborted, "")
	require.Equal(t, [][]string{{"1", "150"}, {"2", "100"}, {"3", "7"}}, b.mustQuery("SELECT id, bal FROM sf.acct ORDER BY id"))

	// Segments the snapshot read stay readable through a compaction.
	a.mustExec("BEGIN")
	require.Equal(t, [][]string{{"257"}}, a.mustQuery("SELECT sum(bal) FROM sf.acct"))
	b.mustExec("UPDATE sf.acct SET bal = 0 WHERE id = 3")
	flush(t, b, "sf.acct")
	compact(t, b, "sf.acct")
	require.Equal(t, [][]string{{"257"}}, a.mustQuery("SELECT sum(bal) FROM sf.acct"), "the pinned segments are still there")
	a.mustExec("COMMIT")

	// A compaction between the snapshot and the first read of a table
	// retires the segments the snapshot names: they stay on disk until
	// the transaction ends, and the read sees the snapshot.
	a.mustExec("BEGIN")
	require.Equal(t, [][]string{{"0"}}, a.mustQuery("SELECT count(*) FROM sf.other"))
	b.mustExec("UPDATE sf.acct SET bal = 1 WHERE id = 3")
	flush(t, b, "sf.acct")
	compact(t, b, "sf.acct")
	require.Equal(t, [][]string{{"250"}}, a.mustQuery("SELECT sum(bal) FROM sf.acct"))
	a.mustExec("ROLLBACK")
	require.Equal(t, [][]string{{"251"}}, a.mustQuery("SELECT sum(bal) FROM sf.acct"))
	// Once no transaction may read them, the retired segments are gone.
	var files []string
	require.NoError(t, filepath.WalkDir(filepath.Join(ts.dataDir, "storage"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".parquet") {
			files = append(files, p)
		}
		return err
	}))
	require.Len(t, files, 1, "one compacted segment left")
}

// compact runs STORAGE COMPACT on a table and waits for the job.
func compact(t *testing.T, root *client, table string) {
	t.Helper()
	rows := root.mustQuery("STORAGE COMPACT TABLE " + table)
	require.Len(t, rows, 1)
	st := waitJobs(t, root, rows[0][0])
	require.Equal(t, "completed", st[rows[0][0]])
}

// TestCrossTableReadsSeeWholeTransactions: a query over several tables
// reads them in one snapshot, so a transaction moving money between two
// tables (one of them flushed and compacted meanwhile) is never seen half
// done. Reading the tables one after another showed a torn total in 39 of
// 100 reads.
func TestCrossTableReadsSeeWholeTransactions(t *testing.T) {
	ts := startServer(t, t.TempDir())
	root := connect(t, ts.addr, "root", testRootPassword)
	root.mustExec("CREATE NAMESPACE xp")
	root.mustExec("CREATE SHARED TABLE xp.a (id INT PRIMARY KEY, bal BIGINT)")
	root.mustExec("CREATE SHARED TABLE xp.b (id INT PRIMARY KEY, bal BIGINT)")
	root.mustExec("INSERT INTO xp.a VALUES (1, 1000), (2, 1000)")
	root.mustExec("INSERT INTO xp.b VALUES (1, 1000)")
	flush(t, root, "xp.a")
	stop := make(chan struct{})
	var ta tally
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		defer close(stop)
		c := connect(t, ts.addr, "root", testRootPassword)
		for i := 0; i < 150*soakScale(); i++ {
			if _, err := c.exec("BEGIN"); err != nil {
				ta.fail(err)
				return
			}
			for _, s := range []string{"UPDATE xp.a SET bal = bal - 1 WHERE id = 1", "UPDATE xp.b SET bal = bal + 1 WHERE id = 1"} {
				if _, err := c.exec(s); err != nil {
					ta.fail(err)
					return
				}
			}
			if _, err := c.exec("COMMIT"); err != nil && grpcCode(err) != codes.Aborted {
				ta.fail(err)
				return
			}
		}
	}()
	go func() {
		defer wg.Done()
		c := connect(t, ts.addr, "root", testRootPassword)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			verb := "FLUSH"
			if i%2 == 1 {
				verb = "COMPACT"
			}
			rows, _, err := c.query("STORAGE " + verb + " TABLE xp.a")
			if err != nil {
				ta.fail(err)
				return
			}
			waitJobsQuiet(c, rows[0][0])
		}
	}()
	c := connect(t, ts.addr, "root", testRootPassword)
	var reads int
	var bad []string
	for done := false; !done; {
		select {
		case <-stop:
			done = true
		default:
		}
		rows := c.mustQuery("SELECT (SELECT sum(bal) FROM xp.a) + (SELECT sum(bal) FROM xp.b)")
		reads++
		if rows[0][0] != "3000" {
			bad = append(bad, rows[0][0])
		}
	}
	wg.Wait()
	require.NoError(t, ta.firstErr)
	t.Logf("%d reads, %d torn", reads, len(bad))
	require.Greater(t, reads, 20)
	require.Empty(t, firstFew(bad), "every cross-table read sees whole transactions")
}
