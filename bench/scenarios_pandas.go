//go:build duckdb_arrow

package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/kalamdb/kalamdb-go/engine/duck"
)

// runPandas measures a 10-million-row table read into a pandas DataFrame
// through the ADBC Flight SQL DB-API driver against the same Python
// process reading the same rows from a local Parquet file with pyarrow
// (bench/python/pandas_read.py does both, interleaved). The table is
// loaded and flushed untimed; the local file is written by DuckDB from
// the same generator.
func runPandas(ctx context.Context, env *Env) ([]Row, error) {
	cfg := env.Cfg
	n := cfg.Rows(10_000_000)
	py, err := pythonEnv(ctx, env)
	if err != nil {
		return nil, err
	}
	c, err := env.Connect(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	table := benchNamespace + ".pd"
	if _, err := c.Exec(ctx, "CREATE SHARED TABLE "+table+" "+benchColumns); err != nil {
		return nil, err
	}
	if err := c.LoadRange(ctx, table, 0, n); err != nil {
		return nil, err
	}
	if err := c.FlushTable(ctx, table); err != nil {
		return nil, err
	}
	db, conn, _, err := openDuck(env, 0, env.Scratch)
	if err != nil {
		return nil, err
	}
	local := filepath.Join(env.Scratch, "pd.parquet")
	err = conn.Exec(fmt.Sprintf("COPY (SELECT i AS id, 'n'||i AS name, i%%100 AS v, (i*0.5)::DOUBLE AS x, TIMESTAMP '2024-01-01' + to_seconds(i) AS ts FROM range(%d) r(i)) TO %s (FORMAT PARQUET, COMPRESSION ZSTD)", n, duck.QuoteString(local)))
	conn.Close()
	db.Close()
	if err != nil {
		return nil, fmt.Errorf("write local parquet: %w", err)
	}
	root, err := moduleRoot()
	if err != nil {
		return nil, err
	}
	script := filepath.Join(root, "bench", "python", "pandas_read.py")
	cmd := exec.CommandContext(ctx, py, script, "--uri", "grpc+tcp://"+env.Server.Addr, "--password", rootPassword,
		"--query", "SELECT * FROM "+table, "--parquet", local, "--rows", strconv.Itoa(n), "--reps", strconv.Itoa(cfg.Reps))
	cmd.Stderr = env.Log
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", script, err)
	}
	var res struct {
		Ours        []float64 `json:"ours"`
		Local       []float64 `json:"local"`
		OursRead    []float64 `json:"ours_read"`
		LocalRead   []float64 `json:"local_read"`
		SchemaOurs  string    `json:"schema_ours"`
		SchemaLocal string    `json:"schema_local"`
		DtypesOurs  string    `json:"dtypes_ours"`
		DtypesLocal string    `json:"dtypes_local"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return nil, fmt.Errorf("%s printed %q: %w", script, out, err)
	}
	ours, base := summarize(res.Ours), summarize(res.Local)
	oursRead, baseRead := summarize(res.OursRead), summarize(res.LocalRead)
	env.Logf("ours (ADBC → pandas): %.2f s (Arrow table %.2f s); local Parquet → pandas: %.2f s (Arrow table %.2f s)",
		ours.Median, oursRead.Median, base.Median, baseRead.Median)
	env.Logf("schemas: ADBC [%s]; Parquet [%s]", res.SchemaOurs, res.SchemaLocal)
	return []Row{{Metric: fmt.Sprintf("s to a DataFrame (%d rows)", n), Unit: "s",
		Ours:         Value{V: ours.Median, Min: ours.Min, Max: ours.Max},
		Baseline:     &Value{V: base.Median, Min: base.Min, Max: base.Max},
		BaselineName: "same Python process: pyarrow.parquet.read_table(local zstd file).to_pandas()",
		Target:       &Target{Op: "<=", Value: 1.5, OfBaseline: true},
		Note: fmt.Sprintf("SELECT * of a flushed 5-column SHARED table through adbc_driver_flightsql (cursor.fetch_arrow_table().to_pandas(), as fetch_df does); %d interleaved repetitions after a warm-up; of which the Arrow table alone: ours %.2f s, Parquet %.2f s; dtypes ADBC %s, Parquet %s",
			cfg.Reps, oursRead.Median, baseRead.Median, res.DtypesOurs, res.DtypesLocal)}}, nil
}

// pythonEnv returns the interpreter of compat/python's virtualenv, creating
// it (as compat/python/run.sh does) when it is missing.
func pythonEnv(ctx context.Context, env *Env) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(root, "compat", "python")
	py := filepath.Join(dir, ".venv", "bin", "python")
	if _, err := os.Stat(py); err == nil {
		return py, nil
	}
	env.Logf("creating the Python virtualenv in %s", filepath.Join(dir, ".venv"))
	for _, args := range [][]string{
		{"python3", "-m", "venv", filepath.Join(dir, ".venv")},
		{py, "-m", "pip", "install", "-q", "--disable-pip-version-check", "-r", filepath.Join(dir, "requirements.txt")},
	} {
		cmd := exec.CommandContext(ctx, args[0], args[1:]...)
		cmd.Stdout, cmd.Stderr = env.Log, env.Log
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("%s: %w (the pandas scenario needs python3 with venv)", strings.Join(args, " "), err)
		}
	}
	// The stamp compat/python/run.sh checks, so that it reuses this venv.
	req, err := os.ReadFile(filepath.Join(dir, "requirements.txt"))
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(req)
	return py, os.WriteFile(filepath.Join(dir, ".venv", ".requirements.sha256"), []byte(hex.EncodeToString(sum[:])+"\n"), 0o644)
}
