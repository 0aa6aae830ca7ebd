//go:build duckdb_arrow

package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestSmoke runs every scenario at a tiny scale against a freshly built
// server so that the harness keeps working; it asserts no timings.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts the server")
	}
	// Generous: the pandas scenario may first create the Python virtualenv.
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	dir := t.TempDir()
	bin, err := BuildServer(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Scale = 0.001
	cfg.Reps = MinReps
	cfg.Iters = 3
	cfg.Warmup = 2
	cfg.Duration = time.Second
	cfg.Users = []int{10, 30}
	cfg.Threads = 2
	cfg.Server = bin
	cfg.OutDir = filepath.Join(dir, "results")
	cfg.Command = "smoke test"
	if exec.Command("python3", "-c", "import venv, ensurepip").Run() != nil {
		// As in make test's client suites: no Python, no Python scenario.
		t.Log("python3 with venv not found: pandas_10m is left out of the smoke run")
		cfg.Only = slices.DeleteFunc(ScenarioNames(), func(n string) bool { return n == "pandas_10m" })
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	rep, err := Run(ctx, cfg, &log)
	if err != nil {
		t.Fatalf("run: %v\nlog:\n%s", err, log.String())
	}
	table := rep.Table()
	t.Log("\n" + table)
	for _, name := range ScenarioNames() {
		if len(cfg.Only) > 0 && !slices.Contains(cfg.Only, name) {
			continue
		}
		if !strings.Contains(table, "| "+name+" ") {
			t.Errorf("scenario %s missing from the table", name)
		}
	}
	for _, r := range rep.Rows {
		switch {
		case r.Target != nil && r.Target.Op == "<=" && r.Target.Value == 0:
			// A count of failures (lost increments): zero is the goal and
			// anything else is a correctness bug.
			if r.Ours.V != 0 {
				t.Errorf("%s %s: ours = %v, want 0", r.Scenario, r.Metric, r.Ours.V)
			}
		case r.Ours.V <= 0:
			t.Errorf("%s %s: ours = %v", r.Scenario, r.Metric, r.Ours.V)
		}
		if r.Baseline != nil && r.Baseline.V <= 0 {
			t.Errorf("%s %s: baseline = %v", r.Scenario, r.Metric, r.Baseline.V)
		}
	}
	paths, err := rep.WriteFiles(cfg.OutDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		if fi, err := os.Stat(p); err != nil || fi.Size() == 0 {
			t.Errorf("result file %s: %v", p, err)
		}
	}
}

// TestConfigRefusesFewReps checks that latency figures need MinReps reps.
func TestConfigRefusesFewReps(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Reps = MinReps - 1
	if err := cfg.Validate(); err == nil {
		t.Fatal("Validate accepted fewer than MinReps repetitions")
	}
	if _, err := MeasureLatency(context.Background(), MinReps-1, 0, 1, func(int) error { return nil }); err == nil {
		t.Fatal("MeasureLatency accepted fewer than MinReps repetitions")
	}
	cfg = DefaultConfig()
	cfg.Only = []string{"nope"}
	if err := cfg.Validate(); err == nil {
		t.Fatal("Validate accepted an unknown scenario")
	}
}
