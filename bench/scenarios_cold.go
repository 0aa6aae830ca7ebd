//go:build duckdb_arrow

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kalamdb/kalamdb-go/engine/duck"
)

// checkStats verifies SHOW STATS FOR TABLE: want maps column → value.
func checkStats(ctx context.Context, c *Client, table string, want map[string]string) error {
	st, err := c.TableStats(ctx, table)
	if err != nil {
		return err
	}
	for k, v := range want {
		if st[k] != v {
			return fmt.Errorf("SHOW STATS FOR TABLE %s: %s = %s, want %s (all: %v)", table, k, st[k], v, st)
		}
	}
	return nil
}

// runFlushRows measures STORAGE FLUSH TABLE of a freshly loaded SHARED table
// (until its job completes) against DuckDB in process writing the same rows
// from a native table to a zstd Parquet file with COPY ... TO. Every
// repetition flushes a new table; the load is not timed.
func runFlushRows(ctx context.Context, env *Env) ([]Row, error) {
	cfg := env.Cfg
	n := cfg.Rows(2_000_000)
	c, err := env.Connect(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	db, conn, _, err := openDuck(env, n, env.Scratch)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	defer conn.Close()
	var flushBytes int64
	k := 0
	ts, err := MeasureInterleaved(ctx, cfg.Reps, func() (float64, error) {
		table := fmt.Sprintf("b.f%d", k)
		rows := n
		if k == 0 { // the warm-up flushes a small table
			rows = min(n, 10_000)
		}
		k++
		if _, err := c.Exec(ctx, "CREATE SHARED TABLE "+table+" "+benchColumns); err != nil {
			return 0, err
		}
		if err := c.LoadRange(ctx, table, 0, rows); err != nil {
			return 0, err
		}
		t0 := time.Now()
		if err := c.FlushTable(ctx, table); err != nil {
			return 0, err
		}
		secs := time.Since(t0).Seconds()
		st, err := c.TableStats(ctx, table)
		if err != nil {
			return 0, err
		}
		if st["hot_rows"] != "0" || st["cold_rows"] != strconv.Itoa(rows) || st["segments"] != "1" {
			return 0, fmt.Errorf("after flushing %s: %v, want %d cold rows in one segment", table, st, rows)
		}
		flushBytes, _ = strconv.ParseInt(st["cold_bytes"], 10, 64)
		return float64(rows) / secs, nil
	}, func() (float64, error) {
		out := filepath.Join(env.Scratch, "x.parquet")
		t0 := time.Now()
		err := conn.Exec("COPY (SELECT * FROM tbl) TO " + duck.QuoteString(out) + " (FORMAT PARQUET, COMPRESSION ZSTD)")
		secs := time.Since(t0).Seconds()
		if err != nil {
			return 0, err
		}
		return float64(n) / secs, os.Remove(out)
	})
	if err != nil {
		return nil, err
	}
	ours, base := ts[0], ts[1]
	env.Logf("ours: %.2f M rows/s (segment %d MB); duckdb COPY: %.2f M rows/s", ours.Median/1e6, flushBytes>>20, base.Median/1e6)
	return []Row{{Metric: fmt.Sprintf("rows/s (%d rows)", n), Unit: UnitRowsPerSec,
		Ours:         Value{V: ours.Median, Min: ours.Min, Max: ours.Max},
		Baseline:     &Value{V: base.Median, Min: base.Min, Max: base.Max},
		BaselineName: "DuckDB in-process COPY TO zstd Parquet",
		Target:       &Target{Op: ">=", Value: 1_000_000},
		Note: fmt.Sprintf("STORAGE FLUSH TABLE of a SHARED table until its job reports completed (system.jobs polled every %s); a new %d-row table per repetition, load untimed; the segment also holds _seq and _deleted (%.1f MB); baseline writes the 5 user columns only",
			jobPoll, n, float64(flushBytes)/(1<<20))}}, nil
}

// coldQueries are the cold_analytics queries; {t} is the table.
var coldQueries = []struct{ name, sql string }{
	{"Q1 filter+GROUP BY v", "SELECT v, count(*), avg(x) FROM {t} WHERE x > 1000 GROUP BY v ORDER BY 2 DESC LIMIT 10"},
	{"Q2 LIKE '%99%'", "SELECT count(*) FROM {t} WHERE name LIKE '%99%'"},
	{"Q3 GROUP BY date_trunc hour", "SELECT date_trunc('hour', ts) h, sum(v) FROM {t} GROUP BY h ORDER BY h LIMIT 5"},
}

// runColdAnalytics loads rows into one partition, flushes them and times a
// few ClickBench-style queries through ADBC against DuckDB in process
// running the same SQL over read_parquet of the same segment files; then it
// updates 10% of the rows (new hot versions that every query merges with
// the segments) and times the queries again against the same baseline.
func runColdAnalytics(ctx context.Context, env *Env) ([]Row, error) {
	cfg := env.Cfg
	n := cfg.Rows(10_000_000)
	c, err := env.Connect(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if _, err := c.Exec(ctx, "CREATE SHARED TABLE b.ca "+benchColumns); err != nil {
		return nil, err
	}
	t0 := time.Now()
	if err := c.LoadRange(ctx, "b.ca", 0, n); err != nil {
		return nil, err
	}
	load := time.Since(t0)
	t0 = time.Now()
	if err := c.FlushTable(ctx, "b.ca"); err != nil {
		return nil, err
	}
	flush := time.Since(t0)
	if err := checkStats(ctx, c, "b.ca", map[string]string{"hot_rows": "0", "cold_rows": strconv.Itoa(n)}); err != nil {
		return nil, err
	}
	files, err := segmentFiles(env.Server, "ca", "shared")
	if err != nil {
		return nil, err
	}
	env.Logf("ours: loaded %d rows in %.1fs, flushed in %.1fs into %d segment(s)", n, load.Seconds(), flush.Seconds(), len(files))
	db, err := duck.Open(duck.Options{Threads: cfg.Threads, TempDir: env.Scratch, AllowedDirs: []string{segmentDir(env.Server, "ca", "shared")}})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	conn, err := db.Connect()
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	parquet := "read_parquet(" + parquetList(files) + ")"

	// measure times the queries; the baseline reads parquet.
	measure := func(phase string, goal float64) ([]Row, error) {
		var out []Row
		for _, q := range coldQueries {
			oursSQL := strings.ReplaceAll(q.sql, "{t}", "b.ca")
			baseSQL := strings.ReplaceAll(q.sql, "{t}", parquet)
			var want int64 = -1
			ts, err := MeasureInterleaved(ctx, cfg.Reps, func() (float64, error) {
				t0 := time.Now()
				got, err := c.Query(ctx, oursSQL)
				d := time.Since(t0)
				if err == nil && want >= 0 && got != want {
					err = fmt.Errorf("%s: %d rows, DuckDB over the segments returned %d", q.name, got, want)
				}
				return ms(d), err
			}, func() (float64, error) {
				t0 := time.Now()
				rows, err := conn.Query(baseSQL)
				if err != nil {
					return 0, err
				}
				got, err := countRows(rows)
				want = got
				return ms(time.Since(t0)), err
			})
			if err != nil {
				return nil, err
			}
			ours, base := ts[0], ts[1]
			env.Logf("%s %s: ours %.1f ms, duckdb over Parquet %.1f ms", phase, q.name, ours.Median, base.Median)
			out = append(out, Row{Metric: q.name + " " + phase, Unit: UnitMillis,
				Ours:         Value{V: ours.Median, Min: ours.Min, Max: ours.Max},
				Baseline:     &Value{V: base.Median, Min: base.Min, Max: base.Max},
				BaselineName: "DuckDB in-process over read_parquet of the same segments",
				Target:       &Target{Op: "<=", Value: goal, OfBaseline: true}})
		}
		return out, nil
	}
	out, err := measure(fmt.Sprintf("(%d rows cold)", n), 1.2)
	if err != nil {
		return out, err
	}

	// Update every tenth row, in chunks of 1M ids.
	t0 = time.Now()
	var updated int64
	const chunk = 1_000_000
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		got, err := c.Exec(ctx, fmt.Sprintf("UPDATE b.ca SET x = x + 1 WHERE id %% 10 = 0 AND id >= %d AND id < %d", lo, hi))
		if err != nil {
			return out, err
		}
		if want := int64((hi+9)/10 - (lo+9)/10); got >= 0 && got != want {
			return out, fmt.Errorf("UPDATE [%d,%d): %d rows, want %d", lo, hi, got, want)
		}
		updated += int64((hi+9)/10 - (lo+9)/10)
	}
	upd := time.Since(t0)
	if err := checkStats(ctx, c, "b.ca", map[string]string{"hot_rows": strconv.FormatInt(updated, 10), "cold_rows": strconv.Itoa(n)}); err != nil {
		return out, err
	}
	env.Logf("ours: updated %d rows in %.1fs", updated, upd.Seconds())
	after, err := measure(fmt.Sprintf("(+%d hot updates)", updated), 2)
	for i := range after {
		after[i].Note = "baseline unchanged: DuckDB over the same (pre-update) Parquet files; ours merges the hot versions with the segments"
	}
	out = append(out, after...)
	if err != nil {
		return out, err
	}
	out = append(out, Row{Metric: "UPDATE 10% (chunks of 1M ids)", Unit: UnitRowsPerSec, Ours: Value{V: float64(updated) / upd.Seconds()},
		Note: fmt.Sprintf("single measurement, informational: %d rows updated in %.1f s; load %.1f s (%.2f M rows/s), flush %.1f s", updated, upd.Seconds(), load.Seconds(), float64(n)/load.Seconds()/1e6, flush.Seconds())})

	// The queries above made the partition a fold candidate: once it has
	// had no write for the server's quiet period it is flushed and
	// compacted into one segment, and the queries read no merge. Small
	// scales stay below the server's minimum and are never folded.
	if updated < foldMinRows {
		env.Logf("ours: %d updated rows are below the fold minimum (%d): no fold phase", updated, foldMinRows)
		return out, nil
	}
	t0 = time.Now()
	job, took, err := waitFold(ctx, c, "b.ca", 5*time.Minute)
	if err != nil {
		return out, err
	}
	if err := checkStats(ctx, c, "b.ca", map[string]string{"hot_rows": "0", "segments": "1", "cold_rows": strconv.Itoa(n)}); err != nil {
		return out, err
	}
	env.Logf("ours: fold job %s ran %.1f s, done %.1f s after the measurements", job, took.Seconds(), time.Since(t0).Seconds())
	if files, err = segmentFiles(env.Server, "ca", "shared"); err != nil {
		return out, err
	}
	parquet = "read_parquet(" + parquetList(files) + ")"
	folded, err := measure(fmt.Sprintf("(+%d updates, after the automatic fold)", updated), 2)
	for i := range folded {
		folded[i].Note = fmt.Sprintf("the server folded the partition (flush + compaction into one segment, job %s, %.1f s) once it had been %s without writes; baseline: DuckDB over the folded segment", job, took.Seconds(), foldQuiet)
	}
	out = append(out, folded...)
	return out, err
}

// waitFold waits for the fold job (a compaction with parameter fold = 1)
// of table to complete and returns its id and running time.
func waitFold(ctx context.Context, c *Client, table string, limit time.Duration) (string, time.Duration, error) {
	q := "SELECT job_id, epoch_ms(started_at), epoch_ms(finished_at) FROM system.jobs WHERE job_type = 'compaction' AND " +
		"(parameters->>'fold') = '1' AND (parameters->>'table') = " + duck.QuoteString(table)
	deadline := time.Now().Add(limit)
	for {
		rows, err := c.QueryStrings(ctx, q)
		if err != nil {
			return "", 0, err
		}
		if len(rows) > 0 {
			id := rows[0][0]
			if err := c.WaitJob(ctx, id); err != nil {
				return id, 0, err
			}
			if rows, err = c.QueryStrings(ctx, q+" AND job_id = "+duck.QuoteString(id)); err != nil || len(rows) != 1 {
				return id, 0, fmt.Errorf("read fold job %s: %v", id, err)
			}
			start, _ := strconv.ParseInt(rows[0][1], 10, 64)
			end, _ := strconv.ParseInt(rows[0][2], 10, 64)
			return id, time.Duration(end-start) * time.Millisecond, nil
		}
		if time.Now().After(deadline) {
			return "", 0, fmt.Errorf("no fold of %s within %s", table, limit)
		}
		select {
		case <-ctx.Done():
			return "", 0, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// createUsers creates users names with par connections in parallel (each
// CREATE USER spends a bcrypt hash on the server).
func createUsers(ctx context.Context, env *Env, names []string, par int) error {
	return parallel(ctx, env, par, len(names), func(c *Client, i int) error {
		_, err := c.Exec(ctx, fmt.Sprintf("CREATE USER %s WITH PASSWORD 'password-%s' ROLE user", names[i], names[i]))
		return err
	})
}

// loadAs inserts rows [from, to) into a USER table as user (root
// impersonating it with EXECUTE AS USER, which needs no login).
func loadAs(ctx context.Context, c *Client, user, table string, from, to int) error {
	_, err := c.Exec(ctx, fmt.Sprintf("EXECUTE AS USER %s (INSERT INTO %s SELECT i, 'n'||i, i%%100, i*0.5, TIMESTAMP '2024-01-01' + to_seconds(i) FROM range(%d, %d) r(i))",
		duck.QuoteString(user), table, from, to))
	return err
}

// parallel runs op(c, i) for i in [0, n) over par connections of its own.
func parallel(ctx context.Context, env *Env, par, n int, op func(c *Client, i int) error) error {
	var wg sync.WaitGroup
	errs := make([]error, par)
	for p := 0; p < par; p++ {
		wg.Add(1)
		go func(p int) {
			defer wg.Done()
			c, err := env.Connect(ctx)
			if err != nil {
				errs[p] = err
				return
			}
			defer c.Close()
			for i := p; i < n; i += par {
				if err := op(c, i); err != nil {
					errs[p] = err
					return
				}
			}
		}(p)
	}
	wg.Wait()
	return errors.Join(errs...)
}

// runUserScale measures one user's aggregate over its own flushed
// partition in USER tables that differ only in how many other users'
// partitions (also flushed) they hold: cfg.Users (10, 1,000 and 10,000 by
// default). The other users hold the same number of rows in total in every
// table (so only the partition count differs). The other users are INTERNAL
// users (CREATE USER … WITH INTERNAL: no password, no bcrypt), created once
// and shared by the tables; their rows go in as root with EXECUTE AS USER.
// The latency series of the tables are interleaved.
func runUserScale(ctx context.Context, env *Env) ([]Row, error) {
	cfg := env.Cfg
	own, others := cfg.Rows(100_000), cfg.Rows(100_000)
	maxUsers := cfg.Users[len(cfg.Users)-1]
	names := make([]string, maxUsers)
	for i := range names {
		names[i] = fmt.Sprintf("bu%d", i)
	}
	par := max(2, cfg.Threads)
	t0 := time.Now()
	if err := parallel(ctx, env, par, len(names), func(c *Client, i int) error {
		_, err := c.Exec(ctx, "CREATE USER "+names[i]+" WITH INTERNAL ROLE user")
		return err
	}); err != nil {
		return nil, err
	}
	created := time.Since(t0)
	env.Logf("created %d INTERNAL users in %.1fs", len(names), created.Seconds())
	c, err := env.Connect(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	type tbl struct {
		name       string
		users, per int
		fill       time.Duration
		flush      time.Duration
	}
	tables := make([]tbl, len(cfg.Users))
	for ti, users := range cfg.Users {
		t := tbl{name: fmt.Sprintf("b.u%d", users), users: users, per: max(1, others/users)}
		if _, err := c.Exec(ctx, "CREATE USER TABLE "+t.name+" "+benchColumns); err != nil {
			return nil, err
		}
		t0 := time.Now()
		if err := c.LoadRange(ctx, t.name, 0, own); err != nil {
			return nil, err
		}
		if err := parallel(ctx, env, par, users, func(c *Client, i int) error {
			return loadAs(ctx, c, names[i], t.name, 0, t.per)
		}); err != nil {
			return nil, err
		}
		t.fill = time.Since(t0)
		t0 = time.Now()
		if err := c.FlushTable(ctx, t.name); err != nil {
			return nil, err
		}
		t.flush = time.Since(t0)
		if err := checkStats(ctx, c, t.name, map[string]string{"hot_rows": "0", "cold_rows": strconv.Itoa(own + users*t.per), "partitions": strconv.Itoa(users + 1)}); err != nil {
			return nil, err
		}
		env.Logf("%s: %d other users × %d rows loaded in %.1fs, flushed in %.1fs", t.name, users, t.per, t.fill.Seconds(), t.flush.Seconds())
		tables[ti] = t
	}
	ops := make([]func(int) error, len(tables))
	for i, t := range tables {
		sql := "SELECT count(*), sum(x) FROM " + t.name
		want := strconv.Itoa(own)
		ops[i] = func(int) error {
			rows, err := c.QueryStrings(ctx, sql)
			if err == nil && (len(rows) != 1 || rows[0][0] != want) {
				err = fmt.Errorf("%s: got %v, want count %s", sql, rows, want)
			}
			return err
		}
	}
	// Fewer operations than the latency scenarios: each one scans 100k rows.
	iters, warmup := max(1, cfg.Iters/8), max(1, cfg.Warmup/10)
	lat, err := MeasureLatencies(ctx, cfg.Reps, warmup, iters, ops...)
	if err != nil {
		return nil, err
	}
	ref := lat[0]
	var out []Row
	for i, t := range tables {
		env.Logf("%d other users: p50 %s p99 %s", t.users, lat[i].P50, lat[i].P99)
		if i == 0 {
			continue
		}
		l := lat[i]
		baseName := fmt.Sprintf("same query, %d other users' partitions", tables[0].users)
		out = append(out,
			Row{Metric: fmt.Sprintf("p50, %d other users' partitions", t.users), Unit: UnitMillis,
				Ours:     Value{V: ms(l.P50), Min: ms(l.RepP50Min), Max: ms(l.RepP50Max)},
				Baseline: &Value{V: ms(ref.P50), Min: ms(ref.RepP50Min), Max: ms(ref.RepP50Max)}, BaselineName: baseName,
				Target: &Target{Op: "<=", Value: 1.2, OfBaseline: true},
				Note: fmt.Sprintf("SELECT count(*), sum(x) over the user's own %d flushed rows; the %d other users (INTERNAL, created in %.1f s) hold %d flushed rows each (%d each with %d users); setup: fill %.1f s, flush %.1f s (%d users: fill %.1f s, flush %.1f s); %d reps × %d ops after %d warm-up, interleaved",
					own, t.users, created.Seconds(), t.per, tables[0].per, tables[0].users, t.fill.Seconds(), t.flush.Seconds(), tables[0].users, tables[0].fill.Seconds(), tables[0].flush.Seconds(), cfg.Reps, iters, warmup)},
			Row{Metric: fmt.Sprintf("p99, %d other users' partitions", t.users), Unit: UnitMillis,
				Ours: Value{V: ms(l.P99)}, Baseline: &Value{V: ms(ref.P99)}, BaselineName: baseName})
	}
	return out, nil
}
