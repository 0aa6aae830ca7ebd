//go:build duckdb_arrow

package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
)

// registerOp is one operation of the register workload, with the times
// it was invoked and answered (nanoseconds since the test began).
type registerOp struct {
	write      bool
	key        int
	value      int64
	start, end int64
	// unknown marks a write whose answer was an error other than
	// Aborted: it may or may not have been applied.
	unknown bool
}

// registerHistory checks a history of reads and writes of integer
// registers, each written value unique, as a linearizable register would
// allow: a read returns a value some write of that key began before the
// read ended, and not a value a later acknowledged write had overwritten
// before the read began. It returns the violations.
func registerHistory(ops []registerOp, initial int64) []string {
	type write struct{ start, end int64 }
	writes := map[int]map[int64]write{}
	var acked []registerOp
	for _, op := range ops {
		if !op.write {
			continue
		}
		if writes[op.key] == nil {
			writes[op.key] = map[int64]write{}
		}
		end := op.end
		if op.unknown {
			end = math.MaxInt64 // it may take effect at any time
		} else {
			acked = append(acked, op)
		}
		writes[op.key][op.value] = write{op.start, end}
	}
	var bad []string
	for _, r := range ops {
		if r.write {
			continue
		}
		w, ok := writes[r.key][r.value]
		if r.value == initial {
			w, ok = write{math.MinInt64, math.MinInt64}, true
		}
		switch {
		case !ok:
			bad = append(bad, fmt.Sprintf("read of key %d at [%d, %d] returned %d, which no write wrote", r.key, r.start, r.end, r.value))
			continue
		case w.start > r.end:
			bad = append(bad, fmt.Sprintf("read of key %d at [%d, %d] returned %d, written only later at %d", r.key, r.start, r.end, r.value, w.start))
			continue
		}
		for _, w2 := range acked {
			if w2.key == r.key && w2.value != r.value && w2.start > w.end && w2.end < r.start {
				bad = append(bad, fmt.Sprintf("read of key %d at [%d, %d] returned %d, overwritten by %d at [%d, %d] before the read began",
					r.key, r.start, r.end, r.value, w2.value, w2.start, w2.end))
				break
			}
		}
	}
	return bad
}

// TestRegisterHistoryChecker: the checker finds the anomalies it is for.
func TestRegisterHistoryChecker(t *testing.T) {
	w := func(k int, v, s, e int64) registerOp {
		return registerOp{write: true, key: k, value: v, start: s, end: e}
	}
	r := func(k int, v, s, e int64) registerOp { return registerOp{key: k, value: v, start: s, end: e} }
	require.Empty(t, registerHistory([]registerOp{w(0, 1, 0, 10), r(0, 0, 5, 6), r(0, 1, 5, 6), r(0, 1, 11, 12)}, 0))
	require.Len(t, registerHistory([]registerOp{r(0, 7, 1, 2)}, 0), 1, "a value never written")
	require.Len(t, registerHistory([]registerOp{w(0, 1, 10, 20), r(0, 1, 1, 2)}, 0), 1, "a read from the future")
	require.Len(t, registerHistory([]registerOp{w(0, 1, 0, 1), w(0, 2, 2, 3), r(0, 1, 4, 5)}, 0), 1, "a stale read")
	require.Len(t, registerHistory([]registerOp{w(0, 1, 0, 1), r(0, 0, 4, 5)}, 0), 1, "the initial value read after a write")
	unknown := registerOp{write: true, key: 0, value: 1, start: 0, end: 1, unknown: true}
	require.Empty(t, registerHistory([]registerOp{unknown, w(0, 2, 2, 3), r(0, 1, 4, 5)}, 0), "an unanswered write may land late")
}

// TestRegisterLinearizable runs writers and readers of a few registers
// (autocommit and transactional writes, point and scan reads) while flush
// and compaction jobs run, and checks the history.
func TestRegisterLinearizable(t *testing.T) {
	ts := startServer(t, t.TempDir())
	root := connect(t, ts.addr, "root", testRootPassword)
	root.mustExec("CREATE NAMESPACE reg")
	root.mustExec("CREATE SHARED TABLE reg.r (id INT PRIMARY KEY, v BIGINT)")
	const keys = 3
	root.mustExec("INSERT INTO reg.r VALUES (0, 0), (1, 0), (2, 0)")
	flush(t, root, "reg.r")

	began := time.Now()
	now := func() int64 { return int64(time.Since(began)) }
	var mu sync.Mutex
	var ops []registerOp
	var missing []string // reads that did not return every key they asked for once
	record := func(op registerOp) {
		mu.Lock()
		ops = append(ops, op)
		mu.Unlock()
	}
	deadline := time.Now().Add(time.Duration(3*soakScale()) * time.Second)
	var ta tally
	var wg sync.WaitGroup
	for w := 1; w <= 3; w++ {
		c := connect(t, ts.addr, "root", testRootPassword)
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for i := int64(1); time.Now().Before(deadline); i++ {
				op := registerOp{write: true, key: rng.IntN(keys), value: int64(w)*1_000_000 + i}
				update := fmt.Sprintf("UPDATE reg.r SET v = %d WHERE id = %d", op.value, op.key)
				op.start = now()
				var err error
				if i%3 == 0 {
					err = execTx(c, update)
				} else {
					_, err = c.exec(update)
				}
				op.end = now()
				switch {
				case grpcCode(err) == codes.Aborted:
					continue // not applied
				case err != nil:
					op.unknown = true
					ta.fail(err)
				}
				record(op)
			}
		}()
	}
	for rd := 0; rd < 3; rd++ {
		c := connect(t, ts.addr, "root", testRootPassword)
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(rd), 8))
			for time.Now().Before(deadline) {
				k := rng.IntN(keys)
				sql := fmt.Sprintf("SELECT id, v FROM reg.r WHERE id = %d", k)
				if rd == 2 {
					sql = "SELECT id, v FROM reg.r"
				}
				start := now()
				rows, _, err := c.query(sql)
				end := now()
				if err != nil {
					ta.fail(err)
					return
				}
				if want := map[bool]int{true: keys, false: 1}[rd == 2]; len(rows) != want {
					mu.Lock()
					missing = append(missing, fmt.Sprintf("%s at [%d, %d]: %d rows, want %d", sql, start, end, len(rows), want))
					mu.Unlock()
				}
				for _, row := range rows {
					id, _ := strconv.Atoi(row[0])
					v, _ := strconv.ParseInt(row[1], 10, 64)
					record(registerOp{key: id, value: v, start: start, end: end})
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		c := connect(t, ts.addr, "root", testRootPassword)
		for i := 0; time.Now().Before(deadline); i++ {
			verb := "FLUSH"
			if i%3 == 2 {
				verb = "COMPACT"
			}
			rows, _, err := c.query("STORAGE " + verb + " TABLE reg.r")
			if err != nil {
				ta.fail(err)
				return
			}
			waitJobsQuiet(c, rows[0][0])
		}
	}()
	wg.Wait()
	require.NoError(t, ta.firstErr)
	var reads, writes int
	for _, op := range ops {
		if op.write {
			writes++
		} else {
			reads++
		}
	}
	bad := append(registerHistory(ops, 0), missing...)
	t.Logf("history: %d writes, %d reads, %d violations", writes, reads, len(bad))
	require.Greater(t, writes, 50)
	require.Greater(t, reads, 50)
	require.Empty(t, firstFew(bad))
}

// execTx runs one statement in a transaction and commits it.
func execTx(c *client, sql string) error {
	if _, err := c.exec("BEGIN"); err != nil {
		return err
	}
	if _, err := c.exec(sql); err != nil {
		_, _ = c.exec("ROLLBACK")
		return err
	}
	_, err := c.exec("COMMIT")
	return err
}
