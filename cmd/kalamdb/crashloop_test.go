//go:build duckdb_arrow

package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
)

// crashPoints are the moments a crash-loop cycle may die at besides a
// SIGKILL at a random time: inside flush, compaction and commit.
var crashPoints = []string{"", "", "flush-before-commit-segment", "flush-after-segment", "flush-after-commit",
	"compact-after-segment", "compact-after-manifest", "tx-before-commit", "tx-after-commit"}

// crashState is what the clients of a crash loop saw acknowledged, and
// what they cannot know (a statement whose answer the crash cut off).
type crashState struct {
	mu       sync.Mutex
	rows     map[int64]bool // acknowledged crash.rows ids
	notes    map[int64]bool // acknowledged crash.notes ids (alice's partition)
	bal      map[int]int64  // expected balances
	inDoubt  map[int]bool   // accounts touched by a transfer of unknown outcome
	accounts int
	initial  int64

	wg      sync.WaitGroup // the running cycle's clients
	workers uint64
}

// TestCrashLoop kills the server again and again (SIGKILL at a random
// moment, or at a failpoint inside flush, compaction or a commit) while
// clients insert rows, transfer money in transactions and in single
// statements, and flush and compaction jobs run. After every restart every
// acknowledged row is present exactly once, the bank total holds, and every
// account whose transfers all got an answer has exactly its balance.
// KALAMDB_CRASH_CYCLES sets the cycles (20; `make soak` runs 1,000).
func TestCrashLoop(t *testing.T) {
	cycles := 20
	if n, err := strconv.Atoi(os.Getenv("KALAMDB_CRASH_CYCLES")); err == nil && n > 0 {
		cycles = n
	}
	seed := uint64(time.Now().UnixNano())
	if s, err := strconv.ParseUint(os.Getenv("KALAMDB_CRASH_SEED"), 10, 64); err == nil {
		seed = s
	}
	t.Logf("seed %d (KALAMDB_CRASH_SEED), %d cycles", seed, cycles)
	rng := rand.New(rand.NewPCG(seed, 12))
	dir := t.TempDir()
	st := &crashState{rows: map[int64]bool{}, notes: map[int64]bool{}, bal: map[int]int64{}, inDoubt: map[int]bool{},
		accounts: 8, initial: 1000}

	ts := startServer(t, dir)
	root := connect(t, ts.addr, "root", testRootPassword)
	root.mustExec("CREATE NAMESPACE crash")
	root.mustExec("CREATE SHARED TABLE crash.rows (id BIGINT PRIMARY KEY, w INT, body TEXT)")
	root.mustExec("CREATE SHARED TABLE crash.acct (id INT PRIMARY KEY, bal BIGINT)")
	root.mustExec("CREATE USER TABLE crash.notes (id BIGINT PRIMARY KEY, body TEXT)")
	root.mustExec("CREATE USER alice WITH PASSWORD 'alice-password' ROLE user")
	var vals []string
	for i := 0; i < st.accounts; i++ {
		vals = append(vals, fmt.Sprintf("(%d, %d)", i, st.initial))
		st.bal[i] = st.initial
	}
	root.mustExec("INSERT INTO crash.acct VALUES " + strings.Join(vals, ", "))
	root.close()
	ts.stop()

	points := map[string]int{}
	for cycle := 0; cycle < cycles; cycle++ {
		// A clean start checks the last crash's aftermath; then a start
		// armed with a failpoint (or none) takes the load until it dies.
		proc := startCrashProcess(t, dir, "")
		st.verify(t, proc.addr, cycle)
		proc.kill()
		point := crashPoints[rng.IntN(len(crashPoints))]
		proc = startCrashProcess(t, dir, point)
		st.load(proc.addr, cycle, rng.Uint64())
		select {
		case <-proc.exited:
			points[point]++
		case <-time.After(time.Duration(150+rng.IntN(600)) * time.Millisecond):
			proc.kill()
			points["SIGKILL"]++
		}
		st.wg.Wait()
	}
	proc := startCrashProcess(t, dir, "")
	st.verify(t, proc.addr, cycles)
	t.Logf("deaths: %v; acknowledged rows %d, notes %d", points, len(st.rows), len(st.notes))
}

// crashProcess is a server child process and a channel closed when it
// has exited.
type crashProcess struct {
	addr   string
	exited chan struct{}
	kill   func()
}

// startCrashProcess starts the server as a child process, armed with a
// failpoint unless point is empty.
func startCrashProcess(t *testing.T, dir, point string) crashProcess {
	t.Helper()
	env := []string{"KALAMDB_ROOT_PASSWORD=" + testRootPassword}
	if point != "" {
		env = append(env, "KALAMDB_FAILPOINT="+point)
	}
	cmd, addr := startProcessEnv(t, dir, env)
	p := crashProcess{addr: addr, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.exited) }()
	p.kill = func() {
		_ = cmd.Process.Signal(syscall.SIGKILL)
		<-p.exited
	}
	// Runs before startProcessEnv's cleanup, which then finds the
	// process reaped.
	t.Cleanup(p.kill)
	return p
}

// load starts the cycle's clients; they stop at their first error (the
// server died).
func (st *crashState) load(addr string, cycle int, seed uint64) {
	run := func(user, pass string, body func(c *client, rng *rand.Rand) bool) {
		st.wg.Add(1)
		st.workers++
		stream := st.workers
		go func() {
			defer st.wg.Done()
			c, err := tryConnect(addr, user, pass)
			if err != nil {
				return
			}
			defer c.close()
			rng := rand.New(rand.NewPCG(seed, stream))
			for body(c, rng) {
			}
		}()
	}
	next := int64(cycle) << 32
	var idMu sync.Mutex
	newIDs := func(n int) []int64 {
		idMu.Lock()
		defer idMu.Unlock()
		out := make([]int64, n)
		for i := range out {
			out[i] = next
			next++
		}
		return out
	}
	// Multi-row inserts into a SHARED table.
	run("root", testRootPassword, func(c *client, rng *rand.Rand) bool {
		ids := newIDs(1 + rng.IntN(5))
		var vals []string
		for _, id := range ids {
			vals = append(vals, fmt.Sprintf("(%d, %d, 'row-%d')", id, cycle, id))
		}
		if _, err := c.exec("INSERT INTO crash.rows VALUES " + strings.Join(vals, ", ")); err != nil {
			return false
		}
		st.mu.Lock()
		for _, id := range ids {
			st.rows[id] = true
		}
		st.mu.Unlock()
		return true
	})
	// Inserts into one user's partition of a USER table.
	run("alice", "alice-password", func(c *client, rng *rand.Rand) bool {
		id := newIDs(1)[0]
		if _, err := c.exec(fmt.Sprintf("INSERT INTO crash.notes VALUES (%d, 'note-%d')", id, id)); err != nil {
			return false
		}
		st.mu.Lock()
		st.notes[id] = true
		st.mu.Unlock()
		return true
	})
	// Transfers, in transactions and as single statements.
	for range 2 {
		run("root", testRootPassword, func(c *client, rng *rand.Rand) bool {
			from := rng.IntN(st.accounts)
			to := (from + 1 + rng.IntN(st.accounts-1)) % st.accounts
			x := int64(1 + rng.IntN(20))
			ok, err := crashTransfer(c, rng.IntN(2) == 0, from, to, x)
			st.mu.Lock()
			defer st.mu.Unlock()
			switch {
			case err != nil:
				st.inDoubt[from], st.inDoubt[to] = true, true
				return false
			case ok:
				st.bal[from] -= x
				st.bal[to] += x
			}
			return true
		})
	}
	// Flush and compaction jobs.
	run("root", testRootPassword, func(c *client, rng *rand.Rand) bool {
		table := []string{"crash.rows", "crash.acct", "crash.notes"}[rng.IntN(3)]
		verb := "FLUSH"
		if rng.IntN(3) == 0 {
			verb = "COMPACT"
		}
		if _, _, err := c.query("STORAGE " + verb + " TABLE " + table); err != nil {
			return false
		}
		time.Sleep(time.Duration(20+rng.IntN(60)) * time.Millisecond)
		return true
	})
}

// crashTransfer moves x between two accounts. ok reports an acknowledged
// transfer; ok=false with no error is one the server refused (Aborted: nothing
// happened); an error means the outcome is unknown.
func crashTransfer(c *client, inTx bool, from, to int, x int64) (ok bool, err error) {
	if !inTx {
		n, err := c.exec(fmt.Sprintf("UPDATE crash.acct SET bal = CASE WHEN id = %d THEN bal - %d ELSE bal + %d END WHERE id IN (%d, %d)",
			from, x, x, from, to))
		if grpcCode(err) == codes.Aborted {
			return false, nil
		}
		if err == nil && n != 2 {
			err = fmt.Errorf("transfer affected %d rows", n)
		}
		return err == nil, err
	}
	if _, err := c.exec("BEGIN"); err != nil {
		return false, err
	}
	for _, s := range []string{
		fmt.Sprintf("UPDATE crash.acct SET bal = bal - %d WHERE id = %d", x, from),
		fmt.Sprintf("UPDATE crash.acct SET bal = bal + %d WHERE id = %d", x, to),
	} {
		if _, err := c.exec(s); err != nil {
			_, _ = c.exec("ROLLBACK")
			if grpcCode(err) == codes.Aborted {
				return false, nil
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
	return true, nil
}

// verify checks the restarted server against what the clients saw, then
// takes the balances of accounts in doubt as they are.
func (st *crashState) verify(t *testing.T, addr string, cycle int) {
	t.Helper()
	root := connect(t, addr, "root", testRootPassword)
	defer root.close()
	alice := connect(t, addr, "alice", "alice-password")
	defer alice.close()
	st.mu.Lock()
	defer st.mu.Unlock()
	requireOnce(t, root.mustQuery("SELECT id FROM crash.rows"), st.rows, "cycle %d: crash.rows", cycle)
	requireOnce(t, alice.mustQuery("SELECT id FROM crash.notes"), st.notes, "cycle %d: alice's crash.notes", cycle)

	rows := root.mustQuery("SELECT id, bal FROM crash.acct ORDER BY id")
	require.Len(t, rows, st.accounts, "cycle %d: accounts", cycle)
	var sum int64
	for _, r := range rows {
		id, _ := strconv.Atoi(r[0])
		bal, _ := strconv.ParseInt(r[1], 10, 64)
		sum += bal
		if !st.inDoubt[id] {
			require.Equal(t, st.bal[id], bal, "cycle %d: account %d has its acknowledged transfers", cycle, id)
		}
		st.bal[id] = bal
	}
	require.Equal(t, int64(st.accounts)*st.initial, sum, "cycle %d: the bank total holds", cycle)
	clear(st.inDoubt)
}

// requireOnce checks that every acknowledged id is among the rows, and no
// id appears twice.
func requireOnce(t *testing.T, rows [][]string, acked map[int64]bool, msg string, args ...any) {
	t.Helper()
	seen := make(map[int64]bool, len(rows))
	for _, r := range rows {
		id, err := strconv.ParseInt(r[0], 10, 64)
		require.NoError(t, err)
		require.False(t, seen[id], "%s: id %d twice", fmt.Sprintf(msg, args...), id)
		seen[id] = true
	}
	var missing []int64
	for id := range acked {
		if !seen[id] {
			missing = append(missing, id)
		}
	}
	require.Empty(t, missing, "%s: acknowledged rows lost (%d acknowledged, %d present)", fmt.Sprintf(msg, args...), len(acked), len(seen))
}
