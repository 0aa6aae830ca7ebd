//go:build duckdb_arrow

package main

import (
	"context"
	"fmt"
	"time"
)

// runAggregateHot measures a GROUP BY over one user's 1M hot rows against
// the same query on the same rows in DuckDB in process. It also reports the
// bulk-load rate (INSERT ... SELECT FROM range) of both.
func runAggregateHot(ctx context.Context, env *Env) ([]Row, error) {
	cfg := env.Cfg
	n := cfg.Rows(1_000_000)
	groups := int64(min(n, 100))
	c, err := env.Connect(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if _, err := c.Exec(ctx, "CREATE USER TABLE b.agg "+benchColumns); err != nil {
		return nil, err
	}
	t0 := time.Now()
	if err := c.LoadRange(ctx, "b.agg", 0, n); err != nil {
		return nil, err
	}
	loadSecs := time.Since(t0).Seconds()
	env.Logf("ours: loaded %d rows in %.2fs", n, loadSecs)
	db, conn, duckLoad, err := openDuck(env, n)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	defer conn.Close()
	ts, err := MeasureInterleaved(ctx, cfg.Reps, func() (float64, error) {
		t0 := time.Now()
		got, err := c.Query(ctx, "SELECT v, count(*), sum(x) FROM b.agg GROUP BY v")
		if err == nil && got != groups {
			err = fmt.Errorf("aggregate returned %d groups, want %d", got, groups)
		}
		return ms(time.Since(t0)), err
	}, func() (float64, error) {
		t0 := time.Now()
		rows, err := conn.Query("SELECT v, count(*), sum(x) FROM tbl GROUP BY v")
		if err != nil {
			return 0, err
		}
		got, err := countRows(rows)
		if err == nil && got != groups {
			err = fmt.Errorf("duckdb aggregate returned %d groups, want %d", got, groups)
		}
		return ms(time.Since(t0)), err
	})
	if err != nil {
		return nil, err
	}
	ours, base := ts[0], ts[1]
	env.Logf("ours: median %.1f ms; duckdb: median %.1f ms", ours.Median, base.Median)
	return []Row{
		{Metric: fmt.Sprintf("GROUP BY time (%d rows)", n), Unit: UnitMillis,
			Ours:         Value{V: ours.Median, Min: ours.Min, Max: ours.Max},
			Baseline:     &Value{V: base.Median, Min: base.Min, Max: base.Max},
			BaselineName: "DuckDB in-process", Target: &Target{Op: "<=", Value: 250}},
		{Metric: "bulk load (INSERT…SELECT range)", Unit: UnitRowsPerSec,
			Ours:         Value{V: float64(n) / loadSecs},
			Baseline:     &Value{V: float64(n) / duckLoad},
			BaselineName: "DuckDB in-process table", Note: "single measurement, informational (no target)"},
	}, nil
}
