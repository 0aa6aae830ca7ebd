//go:build duckdb_arrow

package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"
)

// Concurrency scenario shape.
const (
	concClients = 32
	concUsers   = 4
	// concWindows splits the run into windows whose throughputs give the
	// median and spread (at least MinReps of them).
	concWindows = MinReps
)

// concOp is one timed operation: when it ended (since the start) and how
// long it took.
type concOp struct {
	end, took time.Duration
	insert    bool
}

// runConcurrency runs concClients clients, each with its own ADBC
// connection as one of concUsers users, for the configured duration: half
// of the operations are single-row INSERTs, a quarter primary-key lookups
// and a quarter small range aggregates on the user's USER-table partition
// (preloaded and flushed, so reads merge cold rows with the inserts). It
// reports total throughput and latency; there is no in-process baseline.
func runConcurrency(ctx context.Context, env *Env) ([]Row, error) {
	cfg := env.Cfg
	d := cfg.Duration
	if cfg.Scale < 1 && d > 10*time.Second {
		d = 10 * time.Second
	}
	pre := cfg.Rows(100_000)
	names := make([]string, concUsers)
	for i := range names {
		names[i] = fmt.Sprintf("cu%d", i)
	}
	if err := createUsers(ctx, env, names, cfg.Threads); err != nil {
		return nil, err
	}
	root, err := env.Connect(ctx)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	if _, err := root.Exec(ctx, "CREATE USER TABLE b.c "+benchColumns); err != nil {
		return nil, err
	}
	for _, u := range names {
		if err := loadAs(ctx, root, u, "b.c", 0, pre); err != nil {
			return nil, err
		}
	}
	if err := root.FlushTable(ctx, "b.c"); err != nil {
		return nil, err
	}
	clients := make([]*Client, concClients)
	defer func() {
		for _, c := range clients {
			if c != nil {
				c.Close()
			}
		}
	}()
	for g := range clients {
		u := names[g%concUsers]
		if clients[g], err = Dial(ctx, env.Server.Addr, u, "password-"+u); err != nil {
			return nil, fmt.Errorf("client %d as %s: %w", g, u, err)
		}
	}
	op := func(c *Client, rng *rand.Rand, g, k int) (bool, error) {
		switch rng.IntN(4) {
		case 0, 1:
			id := 1_000_000_000 + g*10_000_000 + k
			_, err := c.Exec(ctx, fmt.Sprintf("INSERT INTO b.c VALUES (%d, 'c%d', %d, %g, TIMESTAMP '2024-01-01 00:00:00')", id, id, id%100, float64(id)*0.5))
			return true, err
		case 2:
			id := rng.IntN(pre)
			got, err := c.Query(ctx, fmt.Sprintf("SELECT * FROM b.c WHERE id = %d", id))
			if err == nil && got != 1 {
				err = fmt.Errorf("lookup of id %d returned %d rows", id, got)
			}
			return false, err
		default:
			lo := rng.IntN(pre)
			_, err := c.Query(ctx, fmt.Sprintf("SELECT count(*), sum(x) FROM b.c WHERE id BETWEEN %d AND %d", lo, lo+99))
			return false, err
		}
	}
	// Warm-up: a few operations per client, untimed.
	for g, c := range clients {
		rng := rand.New(rand.NewPCG(uint64(g), 99))
		for k := 0; k < 2; k++ {
			if _, err := op(c, rng, g, -1-k); err != nil {
				return nil, err
			}
		}
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	ops := make([][]concOp, concClients)
	// A failed operation is counted, not fatal (see the failed-ops row),
	// unless most operations fail.
	var (
		errMu    sync.Mutex
		firstErr error
		failed   int
	)
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for g, c := range clients {
		wg.Add(1)
		go func(g int, c *Client) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 1))
			for k := 0; runCtx.Err() == nil; k++ {
				t0 := time.Now()
				if !t0.Before(deadline) {
					return
				}
				ins, err := op(c, rng, g, k)
				t1 := time.Now()
				if err != nil {
					if runCtx.Err() != nil {
						return
					}
					errMu.Lock()
					failed++
					if firstErr == nil {
						firstErr = fmt.Errorf("client %d (%s) op %d: %w", g, names[g%concUsers], k, err)
					}
					errMu.Unlock()
					continue
				}
				ops[g] = append(ops[g], concOp{end: t1.Sub(start), took: t1.Sub(t0), insert: ins})
			}
		}(g, c)
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// Throughput per window of d/concWindows (operations ending in it).
	win := d / concWindows
	counts := make([]float64, concWindows)
	var all, ins, reads []time.Duration
	for _, gops := range ops {
		for _, o := range gops {
			if w := int(o.end / win); w < concWindows {
				counts[w]++
			}
			all = append(all, o.took)
			if o.insert {
				ins = append(ins, o.took)
			} else {
				reads = append(reads, o.took)
			}
		}
	}
	for i := range counts {
		counts[i] /= win.Seconds()
	}
	total := float64(len(all)) / d.Seconds()
	slices.Sort(counts)
	slices.Sort(all)
	slices.Sort(ins)
	slices.Sort(reads)
	env.Logf("%d clients for %s: %d ops (%d inserts), %.0f ops/s; p50 %s p99 %s (insert p99 %s, read p99 %s)",
		concClients, d, len(all), len(ins), total, quantile(all, 0.5), quantile(all, 0.99), quantile(ins, 0.99), quantile(reads, 0.99))
	if failed > len(all) {
		return nil, fmt.Errorf("%d of %d operations failed; first: %w", failed, failed+len(all), firstErr)
	}
	shape := fmt.Sprintf("%d clients", concClients)
	rows := []Row{
		{Metric: shape + " ops/s", Unit: UnitOpsPerSec,
			Ours:   Value{V: counts[len(counts)/2], Min: counts[0], Max: counts[len(counts)-1]},
			Target: &Target{Op: "report"},
			Note: fmt.Sprintf("%d ADBC connections (%d users × %d) for %s, 50%% single-row INSERT, 25%% PK lookup, 25%% 100-id range count/sum, on a USER table whose partitions hold %d flushed rows each; figure = median (min..max) of %d windows' throughput, %.0f ops/s over the whole run (%d ops, %d failed); the clients run in the bench process on the same cores; no in-process baseline",
				concClients, concUsers, concClients/concUsers, d, pre, concWindows, total, len(all), failed)},
		{Metric: shape + " p50", Unit: UnitMillis, Ours: Value{V: ms(quantile(all, 0.5))}, Target: &Target{Op: "report"}},
		{Metric: shape + " p99", Unit: UnitMillis, Ours: Value{V: ms(quantile(all, 0.99))}, Target: &Target{Op: "report"},
			Note: fmt.Sprintf("all operations pooled; INSERT p99 %.1f ms (p50 %.1f), reads p99 %.1f ms (p50 %.1f)",
				ms(quantile(ins, 0.99)), ms(quantile(ins, 0.5)), ms(quantile(reads, 0.99)), ms(quantile(reads, 0.5)))},
	}
	if failed > 0 {
		env.Logf("%d operations failed; first: %v", failed, firstErr)
		rows = append(rows, Row{Metric: shape + " failed ops", Ours: Value{V: float64(failed)}, Target: &Target{Op: "<=", Value: 0},
			Note: fmt.Sprintf("failed operations are counted and excluded from the figures above; first: %v", firstErr)})
	}
	counter, err := runCounter(ctx, env, d)
	if err != nil {
		return nil, err
	}
	rows = append(rows, counter...)
	bank, err := runBank(ctx, env, d)
	if err != nil {
		return nil, err
	}
	return append(rows, bank...), nil
}

// Bank scenario shape: bankSessions sessions transfer money between
// bankAccounts accounts of a SHARED table.
const (
	bankSessions = 8
	bankAccounts = 20
	bankInitial  = 1000
)

// runBank runs transfers (BEGIN; two UPDATEs; COMMIT) for d/2 with one
// session, then for d/2 with bankSessions sessions, and reports both rates
// and whether the total held: a conflict aborts a transfer (Aborted), which
// is then not counted.
func runBank(ctx context.Context, env *Env, d time.Duration) ([]Row, error) {
	root, err := env.Connect(ctx)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	if _, err := root.Exec(ctx, "CREATE SHARED TABLE b.bank (id INT PRIMARY KEY, bal BIGINT)"); err != nil {
		return nil, err
	}
	var vals []string
	for i := 0; i < bankAccounts; i++ {
		vals = append(vals, fmt.Sprintf("(%d, %d)", i, bankInitial))
	}
	if _, err := root.Exec(ctx, "INSERT INTO b.bank VALUES "+strings.Join(vals, ", ")); err != nil {
		return nil, err
	}
	phase := func(sessions int, d time.Duration) (rate float64, aborted int64, err error) {
		clients := make([]*Client, sessions)
		for i := range clients {
			if clients[i], err = env.Connect(ctx); err != nil {
				return 0, 0, err
			}
			defer clients[i].Close()
		}
		var mu sync.Mutex
		var acked int64
		var firstErr error
		var wg sync.WaitGroup
		start := time.Now()
		deadline := start.Add(d)
		for g, c := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(g), 5))
				var ok, ab int64
				for ctx.Err() == nil && time.Now().Before(deadline) {
					from := rng.IntN(bankAccounts)
					to := (from + 1 + rng.IntN(bankAccounts-1)) % bankAccounts
					done, err := bankTransfer(ctx, c, from, to, int64(1+rng.IntN(20)))
					switch {
					case err != nil:
						mu.Lock()
						if firstErr == nil {
							firstErr = err
						}
						mu.Unlock()
						return
					case done:
						ok++
					default:
						ab++
					}
				}
				mu.Lock()
				acked += ok
				aborted += ab
				mu.Unlock()
			}()
		}
		wg.Wait()
		return float64(acked) / time.Since(start).Seconds(), aborted, firstErr
	}
	single, _, err := phase(1, d/2)
	if err != nil {
		return nil, fmt.Errorf("bank, one session: %w", err)
	}
	multi, aborted, err := phase(bankSessions, d/2)
	if err != nil {
		return nil, fmt.Errorf("bank, %d sessions: %w", bankSessions, err)
	}
	holds, err := root.Query(ctx, fmt.Sprintf("SELECT sum(bal) FROM b.bank HAVING sum(bal) = %d", bankAccounts*bankInitial))
	if err != nil {
		return nil, err
	}
	var broken float64
	if holds != 1 {
		broken = 1
	}
	env.Logf("bank: one session %.0f transfers/s; %d sessions %.0f transfers/s (%d aborted); total holds: %v", single, bankSessions, multi, aborted, holds == 1)
	return []Row{
		{Metric: fmt.Sprintf("bank %d sessions transfers", bankSessions), Unit: UnitOpsPerSec, Ours: Value{V: multi},
			Baseline: &Value{V: single}, BaselineName: "one session", Target: &Target{Op: "report"},
			Note: fmt.Sprintf("committed transfers (BEGIN; UPDATE -x; UPDATE +x; COMMIT) over %d accounts of a SHARED table, %s per phase; %d aborted by first-committer-wins and not counted; the baseline is the same workload from one session",
				bankAccounts, (d / 2).Round(time.Millisecond), aborted)},
		{Metric: "bank total broken", Ours: Value{V: broken}, Target: &Target{Op: "<=", Value: 0},
			Note: "1 if the sum of the balances differs from the initial total"},
	}, nil
}

// bankTransfer moves x between two accounts in a transaction. done=false
// with no error is a transfer the server aborted (nothing applied).
func bankTransfer(ctx context.Context, c *Client, from, to int, x int64) (done bool, err error) {
	if _, err := c.Exec(ctx, "BEGIN"); err != nil {
		return false, err
	}
	for _, s := range []string{
		fmt.Sprintf("UPDATE b.bank SET bal = bal - %d WHERE id = %d", x, from),
		fmt.Sprintf("UPDATE b.bank SET bal = bal + %d WHERE id = %d", x, to),
	} {
		if _, err := c.Exec(ctx, s); err != nil {
			_, _ = c.Exec(ctx, "ROLLBACK")
			if strings.Contains(err.Error(), "Aborted") {
				return false, nil
			}
			return false, err
		}
	}
	if _, err := c.Exec(ctx, "COMMIT"); err != nil {
		if strings.Contains(err.Error(), "Aborted") {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

// Counter scenario shape: counterSessions sessions of counterUsers service
// accounts increment one row.
const (
	counterSessions = 32
	counterUsers    = 4
)

// runCounter runs counterSessions sessions, each incrementing one row
// of a SHARED table (`UPDATE … SET v = v + 1 WHERE id = 0`, autocommit) for
// d, and checks that the final value equals the acknowledged increments:
// the server retries statements that lose a race, so none is lost.
func runCounter(ctx context.Context, env *Env, d time.Duration) ([]Row, error) {
	root, err := env.Connect(ctx)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	if _, err := root.Exec(ctx, "CREATE SHARED TABLE b.ctr (id INT PRIMARY KEY, v BIGINT)"); err != nil {
		return nil, err
	}
	if _, err := root.Exec(ctx, "INSERT INTO b.ctr VALUES (0, 0)"); err != nil {
		return nil, err
	}
	clients := make([]*Client, counterSessions)
	defer func() {
		for _, c := range clients {
			if c != nil {
				c.Close()
			}
		}
	}()
	// Service accounts (SHARED tables are written by service+), several
	// sessions each, within the per-user limit of concurrent queries.
	users := make([]string, counterUsers)
	for i := range users {
		users[i] = fmt.Sprintf("cs%d", i)
		if _, err := root.Exec(ctx, fmt.Sprintf("CREATE USER %s WITH PASSWORD 'password-%s' ROLE service", users[i], users[i])); err != nil {
			return nil, err
		}
	}
	for g := range clients {
		u := users[g%counterUsers]
		if clients[g], err = Dial(ctx, env.Server.Addr, u, "password-"+u); err != nil {
			return nil, fmt.Errorf("counter client %d as %s: %w", g, u, err)
		}
	}
	var (
		mu       sync.Mutex
		acked    int64
		failed   int64
		firstErr error
		wg       sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(d)
	for _, c := range clients {
		wg.Add(1)
		go func(c *Client) {
			defer wg.Done()
			var ok, bad int64
			var first error
			for ctx.Err() == nil && time.Now().Before(deadline) {
				n, err := c.Exec(ctx, "UPDATE b.ctr SET v = v + 1 WHERE id = 0")
				switch {
				case err == nil && n == 1:
					ok++
				case err == nil:
					err = fmt.Errorf("counter UPDATE affected %d rows", n)
					fallthrough
				default:
					bad++
					if first == nil {
						first = err
					}
				}
			}
			mu.Lock()
			acked += ok
			failed += bad
			if firstErr == nil {
				firstErr = first
			}
			mu.Unlock()
		}(c)
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	same, err := root.Query(ctx, fmt.Sprintf("SELECT v FROM b.ctr WHERE id = 0 AND v = %d", acked))
	if err != nil {
		return nil, err
	}
	var lost float64
	if same != 1 {
		lost = 1 // at least one: the final value is not the acknowledged count
	}
	rate := float64(acked) / elapsed.Seconds()
	env.Logf("counter: %d sessions on one row for %s: %d acknowledged increments (%.0f/s), %d failed, final value matches: %v",
		counterSessions, elapsed.Round(time.Millisecond), acked, rate, failed, same == 1)
	rows := []Row{
		{Metric: fmt.Sprintf("counter %d sessions on one row", counterSessions), Unit: UnitOpsPerSec,
			Ours: Value{V: rate}, Target: &Target{Op: ">=", Value: 2000},
			Note: fmt.Sprintf("acknowledged autocommit `UPDATE … SET v = v + 1` on one row of a SHARED table over %s (%d acknowledged, %d failed); the server retries statements that lose the race",
				elapsed.Round(time.Millisecond), acked, failed)},
		{Metric: "counter lost increments", Ours: Value{V: lost}, Target: &Target{Op: "<=", Value: 0},
			Note: "1 if the final value differs from the acknowledged increments"},
	}
	if failed > 0 {
		rows[0].Note += fmt.Sprintf("; first failure: %v", firstErr)
	}
	return rows, nil
}
