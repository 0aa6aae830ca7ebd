//go:build duckdb_arrow

package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/apache/arrow-adbc/go/adbc"
	adbcflight "github.com/apache/arrow-adbc/go/adbc/driver/flightsql"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// MinReps is the smallest number of repetitions a latency or timing figure
// may be reported from.
const MinReps = 5

// BuildTags are the build tags the server and the harness need.
const BuildTags = "duckdb_arrow,pebblegozstd"

// rootPassword is root's password on the benchmark server.
const rootPassword = "bench-root-pw"

// Config holds the harness settings (the command-line flags).
type Config struct {
	// Scale multiplies every scenario's row counts.
	Scale float64
	// Duration is how long the concurrency scenarios run.
	Duration time.Duration
	// Users are user_scale's numbers of other users' partitions, ascending;
	// the first is the reference the others are compared with.
	Users []int
	// Only restricts the run to these scenarios (all when empty).
	Only []string
	// Reps is the number of repetitions of each latency or timing figure.
	Reps int
	// Iters is the number of timed operations in one latency repetition.
	Iters int
	// Warmup is the number of untimed operations before a latency series.
	Warmup int
	// Threads is the server's and the DuckDB baselines' thread count.
	Threads int
	// Server is a pre-built server binary; empty builds one into a temp dir.
	Server string
	// OutDir receives <timestamp>.md and .json; empty writes nothing.
	OutDir string
	// Command is the command line recorded in the report.
	Command string
}

// DefaultConfig returns the settings of a full run.
func DefaultConfig() Config {
	return Config{
		Scale:    1,
		Duration: 30 * time.Second,
		Users:    []int{10, 1_000, 10_000},
		Reps:     5,
		Iters:    400,
		Warmup:   100,
		Threads:  runtime.NumCPU(),
		OutDir:   defaultOutDir(),
	}
}

// RegisterFlags binds the configuration to command-line flags.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.Float64Var(&c.Scale, "scale", c.Scale, "multiplies every scenario's row counts")
	fs.DurationVar(&c.Duration, "duration", c.Duration, "run time of the concurrency scenarios")
	fs.Func("only", "comma-separated scenario names to run (default all): "+strings.Join(ScenarioNames(), ","), func(s string) error {
		c.Only = nil
		for _, n := range strings.Split(s, ",") {
			if n = strings.TrimSpace(n); n != "" {
				c.Only = append(c.Only, n)
			}
		}
		return nil
	})
	fs.Func("users", "user_scale: comma-separated ascending numbers of other users' partitions; the first is the reference (default 10,1000,10000)", func(s string) error {
		c.Users = nil
		for _, f := range strings.Split(s, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil {
				return err
			}
			c.Users = append(c.Users, n)
		}
		return nil
	})
	fs.IntVar(&c.Reps, "reps", c.Reps, "repetitions of each latency/timing figure (at least 5)")
	fs.IntVar(&c.Iters, "iters", c.Iters, "timed operations per latency repetition")
	fs.IntVar(&c.Warmup, "warmup", c.Warmup, "untimed warm-up operations before a latency series")
	fs.IntVar(&c.Threads, "threads", c.Threads, "server --threads and DuckDB baseline threads")
	fs.StringVar(&c.Server, "server", c.Server, "pre-built server binary (default: go build one)")
	fs.StringVar(&c.OutDir, "out", c.OutDir, "directory for <timestamp>.md/.json results (empty: none)")
}

// Validate checks the settings.
func (c *Config) Validate() error {
	if c.Scale <= 0 {
		return fmt.Errorf("-scale must be positive, got %g", c.Scale)
	}
	if c.Reps < MinReps {
		return fmt.Errorf("-reps %d: latency figures need at least %d repetitions", c.Reps, MinReps)
	}
	if len(c.Users) < 2 || c.Users[0] < 1 {
		return fmt.Errorf("-users needs at least two positive counts, got %v", c.Users)
	}
	for i := 1; i < len(c.Users); i++ {
		if c.Users[i] <= c.Users[i-1] {
			return fmt.Errorf("-users must be strictly ascending, got %v", c.Users)
		}
	}
	if c.Iters < 1 || c.Warmup < 0 {
		return fmt.Errorf("-iters must be positive and -warmup not negative")
	}
	if c.Threads < 1 {
		c.Threads = runtime.NumCPU()
	}
	known := ScenarioNames()
	for _, n := range c.Only {
		if !slices.Contains(known, n) {
			return fmt.Errorf("-only: unknown scenario %q (have %s)", n, strings.Join(known, ", "))
		}
	}
	return nil
}

// Rows scales a scenario's nominal row count, never below 1.
func (c *Config) Rows(n int) int {
	return max(1, int(math.Round(float64(n)*c.Scale)))
}

// Scenario is one benchmark: it measures the server through env and its
// baseline in process, and returns the table rows it produced.
type Scenario struct {
	// Name is the scenario's name as used by -only.
	Name string
	// Run measures the scenario.
	Run func(ctx context.Context, env *Env) ([]Row, error)
}

// scenarios lists every scenario in run order; add new ones here.
var scenarios = []Scenario{
	{Name: "insert_single", Run: runInsertSingle},
	{Name: "pk_lookup", Run: runPKLookup},
	{Name: "aggregate_hot_1m", Run: runAggregateHot},
	{Name: "stream_10m", Run: runStream},
	{Name: "pandas_10m", Run: runPandas},
	{Name: "bulk_ingest", Run: runBulkIngest},
	{Name: "executemany", Run: runExecuteMany},
	{Name: "flush_rows", Run: runFlushRows},
	{Name: "cold_analytics", Run: runColdAnalytics},
	{Name: "user_scale", Run: runUserScale},
	{Name: "concurrency", Run: runConcurrency},
}

// ScenarioNames returns the names of all scenarios in run order.
func ScenarioNames() []string {
	out := make([]string, len(scenarios))
	for i, s := range scenarios {
		out[i] = s.Name
	}
	return out
}

// Env is what a scenario gets: the settings, the running server and a
// scratch directory for its baselines.
type Env struct {
	// Cfg is the run's configuration.
	Cfg Config
	// Server is the server under test.
	Server *Server
	// Scratch is a fresh directory the scenario may use for baselines.
	Scratch string
	// Log receives progress messages.
	Log io.Writer
}

// Logf prints a progress message.
func (e *Env) Logf(format string, args ...any) {
	fmt.Fprintf(e.Log, "bench:   "+format+"\n", args...)
}

// Connect opens an ADBC Flight SQL connection to the server as root.
func (e *Env) Connect(ctx context.Context) (*Client, error) {
	return Dial(ctx, e.Server.Addr, "root", rootPassword)
}

// Run builds the server and runs the selected scenarios, each against a
// fresh server process with an empty data directory (so that a scenario's
// figures, RSS included, do not depend on which scenarios ran before it). It returns the report even when some scenarios failed (their
// errors are in Report.Errors and joined into the returned error).
func Run(ctx context.Context, cfg Config, log io.Writer) (*Report, error) {
	rep := &Report{Started: time.Now(), Command: cfg.Command, Scale: cfg.Scale, Reps: cfg.Reps,
		Iters: cfg.Iters, Warmup: cfg.Warmup, Duration: cfg.Duration.String(), Threads: cfg.Threads}
	rep.Machine = DescribeMachine()
	tmp, err := os.MkdirTemp("", "kalamdb-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	bin := cfg.Server
	if bin == "" {
		fmt.Fprintln(log, "bench: building the server")
		if bin, err = BuildServer(ctx, tmp); err != nil {
			return nil, err
		}
	}
	var errs []error
	for _, sc := range scenarios {
		if len(cfg.Only) > 0 && !slices.Contains(cfg.Only, sc.Name) {
			continue
		}
		if ctx.Err() != nil {
			errs = append(errs, ctx.Err())
			break
		}
		fmt.Fprintf(log, "bench: scenario %s\n", sc.Name)
		t0 := time.Now()
		rows, err := runScenario(ctx, cfg, sc, bin, filepath.Join(tmp, sc.Name), log)
		for i := range rows {
			rows[i].Scenario = sc.Name
		}
		rep.Rows = append(rep.Rows, rows...)
		if err != nil {
			err = fmt.Errorf("%s: %w", sc.Name, err)
			errs = append(errs, err)
			rep.Errors = append(rep.Errors, err.Error())
		}
		fmt.Fprintf(log, "bench: scenario %s done in %s\n", sc.Name, time.Since(t0).Round(time.Millisecond))
	}
	rep.Elapsed = time.Since(rep.Started).Round(time.Millisecond).String()
	return rep, errors.Join(errs...)
}

// runScenario starts a server with its data in dir/data, creates the
// benchmark namespace, runs sc and stops the server.
func runScenario(ctx context.Context, cfg Config, sc Scenario, bin, dir string, log io.Writer) (rows []Row, err error) {
	scratch := filepath.Join(dir, "scratch")
	if err := os.MkdirAll(scratch, 0o755); err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	srv, err := StartServer(ctx, bin, filepath.Join(dir, "data"), cfg.Threads, filepath.Join(dir, "server.log"))
	if err != nil {
		return nil, err
	}
	defer func() {
		if serr := srv.Stop(); serr != nil && err == nil {
			err = fmt.Errorf("stop server: %w; log:\n%s", serr, tail(srv.LogPath, 20))
		}
	}()
	if err := setupNamespace(ctx, srv); err != nil {
		return nil, err
	}
	return sc.Run(ctx, &Env{Cfg: cfg, Server: srv, Scratch: scratch, Log: log})
}

// benchNamespace holds every scenario's tables on the server.
const benchNamespace = "b"

func setupNamespace(ctx context.Context, srv *Server) error {
	c, err := Dial(ctx, srv.Addr, "root", rootPassword)
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.Exec(ctx, "CREATE NAMESPACE "+benchNamespace)
	return err
}

// moduleRoot returns the directory holding the module's go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}

func defaultOutDir() string {
	root, err := moduleRoot()
	if err != nil {
		return filepath.Join("bench", "results")
	}
	return filepath.Join(root, "bench", "results")
}

// BuildServer compiles cmd/kalamdb into dir and returns the binary's path.
func BuildServer(ctx context.Context, dir string) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, "kalamdb")
	cmd := exec.CommandContext(ctx, "go", "build", "-tags="+BuildTags, "-o", out, "github.com/kalamdb/kalamdb-go/cmd/kalamdb")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build server: %w\n%s", err, b)
	}
	return out, nil
}

// Server is a kalamdb server running as a child process.
type Server struct {
	// Addr is the Flight SQL address (host:port).
	Addr string
	// DataDir is the server's --data-dir.
	DataDir string
	// PID is the server process id.
	PID int
	// LogPath is the file receiving the server's stderr.
	LogPath string

	cmd     *exec.Cmd
	done    chan error
	stopped bool
	stopErr error
}

// StartServer starts bin on loopback with a fresh data directory and waits
// until it logs its Flight address.
func StartServer(ctx context.Context, bin, dataDir string, threads int, logPath string) (*Server, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "--data-dir", dataDir, "--flight-addr", "127.0.0.1:0",
		"--http-addr", "127.0.0.1:0", "--threads", strconv.Itoa(threads), "--log-level", "info", "--fold-quiet", foldQuiet.String(),
		// The hot scenarios measure hot tables of up to 10M rows on
		// purpose: the default hot bounds would flush them under the clock.
		"--hot-max-rows", "0", "--hot-max-age", "0")
	cmd.Env = append(os.Environ(), "KALAMDB_ROOT_PASSWORD="+rootPassword)
	cmd.Stdout = logf
	stderr, err := cmd.StderrPipe()
	if err != nil {
		logf.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start server: %w", err)
	}
	s := &Server{PID: cmd.Process.Pid, DataDir: dataDir, LogPath: logPath, cmd: cmd, done: make(chan error, 1)}
	addrCh := make(chan string, 1)
	go func() {
		const marker = "flight=grpc+tcp://"
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		found := false
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(logf, line)
			if i := strings.Index(line, marker); i >= 0 && !found {
				if f := strings.Fields(line[i+len(marker):]); len(f) > 0 {
					found = true
					addrCh <- strings.Trim(f[0], `"`)
				}
			}
		}
		_, _ = io.Copy(logf, stderr)
		s.done <- cmd.Wait()
		logf.Close()
	}()
	select {
	case s.Addr = <-addrCh:
		return s, nil
	case err := <-s.done:
		s.stopped = true
		return nil, fmt.Errorf("server exited before listening (%v); log:\n%s", err, tail(logPath, 20))
	case <-time.After(60 * time.Second):
	case <-ctx.Done():
	}
	_ = cmd.Process.Kill()
	<-s.done
	s.stopped = true
	return nil, fmt.Errorf("server did not report its address; log:\n%s", tail(logPath, 20))
}

// Stop sends SIGTERM and waits (killing it after 30 s). Idempotent.
func (s *Server) Stop() error {
	if s.stopped {
		return s.stopErr
	}
	s.stopped = true
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		s.stopErr = err
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
		s.stopErr = errors.New("server did not stop within 30s of SIGTERM; killed")
	}
	return s.stopErr
}

// RSS returns the server's current resident set size in bytes.
func (s *Server) RSS() (int64, error) { return ProcessRSS(s.PID) }

func tail(path string, n int) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Client is one ADBC Flight SQL connection.
type Client struct {
	db   adbc.Database
	conn adbc.Connection
}

// Dial opens an ADBC Flight SQL connection to addr.
func Dial(ctx context.Context, addr, user, pass string) (*Client, error) {
	drv := adbcflight.NewDriver(memory.DefaultAllocator)
	db, err := drv.NewDatabase(map[string]string{
		adbc.OptionKeyURI:      "grpc+tcp://" + addr,
		adbc.OptionKeyUsername: user,
		adbc.OptionKeyPassword: pass,
	})
	if err != nil {
		return nil, err
	}
	conn, err := db.Open(ctx)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	return &Client{db: db, conn: conn}, nil
}

// Close closes the connection.
func (c *Client) Close() {
	if c.conn != nil {
		_ = c.conn.Close()
		c.conn = nil
	}
	if c.db != nil {
		_ = c.db.Close()
		c.db = nil
	}
}

// Exec runs one statement with ExecuteUpdate and returns the affected rows.
func (c *Client) Exec(ctx context.Context, sql string) (int64, error) {
	stmt, err := c.conn.NewStatement()
	if err != nil {
		return 0, err
	}
	defer stmt.Close()
	if err := stmt.SetSqlQuery(sql); err != nil {
		return 0, err
	}
	n, err := stmt.ExecuteUpdate(ctx)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", abbrev(sql), err)
	}
	return n, nil
}

// Query runs one statement with ExecuteQuery, reads the whole result and
// returns its row count.
func (c *Client) Query(ctx context.Context, sql string) (int64, error) {
	stmt, err := c.conn.NewStatement()
	if err != nil {
		return 0, err
	}
	defer stmt.Close()
	if err := stmt.SetSqlQuery(sql); err != nil {
		return 0, err
	}
	rdr, _, err := stmt.ExecuteQuery(ctx)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", abbrev(sql), err)
	}
	defer rdr.Release()
	var n int64
	for rdr.Next() {
		n += rdr.RecordBatch().NumRows()
	}
	if err := rdr.Err(); err != nil {
		return n, fmt.Errorf("%s: %w", abbrev(sql), err)
	}
	return n, nil
}

// LoadRange inserts rows with ids [from, to) into table with INSERT ...
// SELECT FROM range(...), in batches of at most one million rows. Row i is
// (i, 'n'||i, i%100, i*0.5, TIMESTAMP '2024-01-01' + i seconds).
func (c *Client) LoadRange(ctx context.Context, table string, from, to int) error {
	const batch = 1_000_000
	for lo := from; lo < to; lo += batch {
		hi := min(lo+batch, to)
		n, err := c.Exec(ctx, fmt.Sprintf("INSERT INTO %s SELECT i, 'n'||i, i%%100, i*0.5, TIMESTAMP '2024-01-01' + to_seconds(i) FROM range(%d, %d) r(i)", table, lo, hi))
		if err != nil {
			return err
		}
		if n >= 0 && n != int64(hi-lo) {
			return fmt.Errorf("load %s [%d,%d): %d rows inserted", table, lo, hi, n)
		}
	}
	return nil
}

// foldQuiet is the server's --fold-quiet in every run (its default);
// foldMinRows is the engine's fewest merged rows that make a fold.
const (
	foldQuiet   = 30 * time.Second
	foldMinRows = 10_000
)

// benchColumns is the column list of every scenario's table.
const benchColumns = "(id BIGINT PRIMARY KEY, name TEXT, v BIGINT, x DOUBLE, ts TIMESTAMP)"

func abbrev(sql string) string {
	if len(sql) > 80 {
		return sql[:77] + "..."
	}
	return sql
}

// Latency summarises a latency series of Reps repetitions of Iters timed
// operations each.
type Latency struct {
	// P50 and P99 are over all timed operations pooled.
	P50, P99 time.Duration
	// RepP50Min and RepP50Max are the spread of the per-repetition medians.
	RepP50Min, RepP50Max time.Duration
	// Reps and Iters describe the series.
	Reps, Iters int
}

// MeasureLatency runs op warmup times untimed, then reps repetitions of
// iters timed calls. op receives a counter that increases with every call
// (warm-up included). It refuses fewer than MinReps repetitions.
func MeasureLatency(ctx context.Context, reps, warmup, iters int, op func(i int) error) (Latency, error) {
	ls, err := MeasureLatencies(ctx, reps, warmup, iters, op)
	if err != nil {
		return Latency{}, err
	}
	return ls[0], nil
}

// MeasureLatencies measures several operations (typically ours and a
// baseline) like MeasureLatency, interleaving their repetitions (rep 1 of
// each, then rep 2 of each, ...) so that load from other work on the machine
// hits all of them alike. Every op warms up first.
func MeasureLatencies(ctx context.Context, reps, warmup, iters int, ops ...func(i int) error) ([]Latency, error) {
	if reps < MinReps {
		return nil, fmt.Errorf("latency needs at least %d repetitions, got %d", MinReps, reps)
	}
	k := make([]int, len(ops))
	for o, op := range ops {
		for ; k[o] < warmup; k[o]++ {
			if err := op(k[o]); err != nil {
				return nil, err
			}
		}
	}
	all := make([][]time.Duration, len(ops))
	out := make([]Latency, len(ops))
	for o := range ops {
		all[o] = make([]time.Duration, 0, reps*iters)
		out[o] = Latency{Reps: reps, Iters: iters, RepP50Min: math.MaxInt64}
	}
	rep := make([]time.Duration, iters)
	for r := 0; r < reps; r++ {
		for o, op := range ops {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			for j := 0; j < iters; j++ {
				t0 := time.Now()
				if err := op(k[o]); err != nil {
					return nil, err
				}
				rep[j] = time.Since(t0)
				k[o]++
			}
			all[o] = append(all[o], rep...)
			slices.Sort(rep)
			p := quantile(rep, 0.5)
			out[o].RepP50Min, out[o].RepP50Max = min(out[o].RepP50Min, p), max(out[o].RepP50Max, p)
		}
	}
	for o := range ops {
		slices.Sort(all[o])
		out[o].P50, out[o].P99 = quantile(all[o], 0.5), quantile(all[o], 0.99)
	}
	return out, nil
}

// quantile returns the q-quantile (nearest rank) of sorted durations.
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// Timing is the median and spread of reps repeated measurements.
type Timing struct {
	Median, Min, Max float64
	Reps             int
}

// MeasureRepeated calls op once untimed (warm-up), then reps times, and
// summarises the values op returns (e.g. milliseconds or rows/s). It
// refuses fewer than MinReps repetitions.
func MeasureRepeated(ctx context.Context, reps int, op func() (float64, error)) (Timing, error) {
	ts, err := MeasureInterleaved(ctx, reps, op)
	if err != nil {
		return Timing{}, err
	}
	return ts[0], nil
}

// MeasureInterleaved measures several operations like MeasureRepeated,
// interleaving their repetitions so that load from other work on the
// machine hits all of them alike.
func MeasureInterleaved(ctx context.Context, reps int, ops ...func() (float64, error)) ([]Timing, error) {
	if reps < MinReps {
		return nil, fmt.Errorf("timing needs at least %d repetitions, got %d", MinReps, reps)
	}
	for _, op := range ops {
		if _, err := op(); err != nil {
			return nil, err
		}
	}
	vals := make([][]float64, len(ops))
	for r := 0; r < reps; r++ {
		for o, op := range ops {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			v, err := op()
			if err != nil {
				return nil, err
			}
			vals[o] = append(vals[o], v)
		}
	}
	out := make([]Timing, len(ops))
	for o, vs := range vals {
		out[o] = summarize(vs)
	}
	return out, nil
}

// summarize is the median, min and max of repeated measurements (sorts vs).
func summarize(vs []float64) Timing {
	if len(vs) == 0 {
		return Timing{}
	}
	slices.Sort(vs)
	med := vs[len(vs)/2]
	if len(vs)%2 == 0 {
		med = (vs[len(vs)/2-1] + vs[len(vs)/2]) / 2
	}
	return Timing{Median: med, Min: vs[0], Max: vs[len(vs)-1], Reps: len(vs)}
}

// ProcessRSS returns a process's resident set size (VmRSS) in bytes.
func ProcessRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) == 0 {
				break
			}
			kb, err := strconv.ParseInt(f[0], 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("VmRSS not found")
}

// RSSSampler records the peak RSS of a process, sampled periodically.
type RSSSampler struct {
	stop chan struct{}
	done chan struct{}
	peak int64
}

// SampleRSS starts sampling pid's RSS every interval until Stop.
func SampleRSS(pid int, interval time.Duration) *RSSSampler {
	s := &RSSSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			if v, err := ProcessRSS(pid); err == nil && v > s.peak {
				s.peak = v
			}
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// Stop ends sampling and returns the peak RSS in bytes.
func (s *RSSSampler) Stop() int64 {
	close(s.stop)
	<-s.done
	return s.peak
}
