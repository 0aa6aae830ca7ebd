//go:build duckdb_arrow

package main

import (
	"context"
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
	return out, nil
}

// fewUsers is the smaller number of other users' partitions in user_scale.
const fewUsers = 10

// createUsers creates users names with par connections in parallel (each
// CREATE USER spends a bcrypt hash on the server).
func createUsers(ctx context.Context, env *Env, names []string, par int) error {
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
			for i := p; i < len(names); i += par {
				if _, err := c.Exec(ctx, fmt.Sprintf("CREATE USER %s WITH PASSWORD 'password-%s' ROLE user", names[i], names[i])); err != nil {
					errs[p] = err
					return
				}
			}
		}(p)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// loadAs inserts rows [from, to) into a USER table as user (root
// impersonating it with EXECUTE AS USER, which needs no login).
func loadAs(ctx context.Context, c *Client, user, table string, from, to int) error {
	_, err := c.Exec(ctx, fmt.Sprintf("EXECUTE AS USER %s (INSERT INTO %s SELECT i, 'n'||i, i%%100, i*0.5, TIMESTAMP '2024-01-01' + to_seconds(i) FROM range(%d, %d) r(i))",
		duck.QuoteString(user), table, from, to))
	return err
}

// runUserScale measures one user's aggregate over its own flushed
// partition in two USER tables that differ only in how many other users'
// partitions (also flushed) they hold: fewUsers versus cfg.Users. The other
// users hold the same number of rows in total in both tables (so only the
// partition count differs). The same users serve both tables, so they are
// created (bcrypt) once, and the two latency series are interleaved.
func runUserScale(ctx context.Context, env *Env) ([]Row, error) {
	cfg := env.Cfg
	own, others := cfg.Rows(100_000), cfg.Rows(1_000_000)
	names := make([]string, cfg.Users)
	for i := range names {
		names[i] = fmt.Sprintf("bu%d", i)
	}
	t0 := time.Now()
	if err := createUsers(ctx, env, names, cfg.Threads); err != nil {
		return nil, err
	}
	env.Logf("created %d users in %.1fs", len(names), time.Since(t0).Seconds())
	c, err := env.Connect(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	t0 = time.Now()
	tables := []struct {
		name  string
		users int
	}{{"b.ufew", fewUsers}, {"b.umany", cfg.Users}}
	for _, t := range tables {
		if _, err := c.Exec(ctx, "CREATE USER TABLE "+t.name+" "+benchColumns); err != nil {
			return nil, err
		}
		if err := c.LoadRange(ctx, t.name, 0, own); err != nil {
			return nil, err
		}
		per := others / t.users
		for _, u := range names[:t.users] {
			if err := loadAs(ctx, c, u, t.name, 0, per); err != nil {
				return nil, err
			}
		}
		if err := c.FlushTable(ctx, t.name); err != nil {
			return nil, err
		}
		if err := checkStats(ctx, c, t.name, map[string]string{"hot_rows": "0", "cold_rows": strconv.Itoa(own + t.users*per), "partitions": strconv.Itoa(t.users + 1)}); err != nil {
			return nil, err
		}
	}
	env.Logf("loaded and flushed both tables in %.1fs", time.Since(t0).Seconds())
	query := func(table string) func(int) error {
		sql := "SELECT count(*), sum(x) FROM " + table
		want := strconv.Itoa(own)
		return func(int) error {
			rows, err := c.QueryStrings(ctx, sql)
			if err == nil && (len(rows) != 1 || rows[0][0] != want) {
				err = fmt.Errorf("%s: got %v, want count %s", sql, rows, want)
			}
			return err
		}
	}
	// Fewer operations than the latency scenarios: each one scans 100k rows.
	iters, warmup := max(1, cfg.Iters/8), max(1, cfg.Warmup/10)
	lat, err := MeasureLatencies(ctx, cfg.Reps, warmup, iters, query("b.ufew"), query("b.umany"))
	if err != nil {
		return nil, err
	}
	few, many := lat[0], lat[1]
	env.Logf("%d other users: p50 %s p99 %s; %d other users: p50 %s p99 %s", cfg.Users, many.P50, many.P99, fewUsers, few.P50, few.P99)
	baseName := fmt.Sprintf("same query, %d other users' partitions", fewUsers)
	return []Row{
		{Metric: fmt.Sprintf("p50, %d other users' partitions", cfg.Users), Unit: UnitMillis,
			Ours:     Value{V: ms(many.P50), Min: ms(many.RepP50Min), Max: ms(many.RepP50Max)},
			Baseline: &Value{V: ms(few.P50), Min: ms(few.RepP50Min), Max: ms(few.RepP50Max)}, BaselineName: baseName,
			Target: &Target{Op: "<=", Value: 1.2, OfBaseline: true},
			Note: fmt.Sprintf("SELECT count(*), sum(x) over the user's own %d flushed rows; the other users hold ~%d flushed rows in total in both tables (%d or %d each); %d reps × %d ops after %d warm-up; %d users rather than 10,000 because CREATE USER costs a bcrypt hash (cost 12) each (see RESULTS.md)",
				own, others, others/fewUsers, others/cfg.Users, cfg.Reps, iters, warmup, cfg.Users)},
		{Metric: fmt.Sprintf("p99, %d other users' partitions", cfg.Users), Unit: UnitMillis,
			Ours: Value{V: ms(many.P99)}, Baseline: &Value{V: ms(few.P99)}, BaselineName: baseName},
	}, nil
}
