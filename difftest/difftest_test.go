//go:build duckdb_arrow

// Package difftest is a differential fuzzer: it generates random but valid
// workloads (tables of every column type, multi-row INSERTs in every
// literal spelling, prepared statements, UPDATE/DELETE, transactions with
// failing statements, SELECTs with filters, aggregates, joins and window
// functions, flush, compaction and fold between steps), runs each statement
// on a real KalamDB server over Flight SQL and on DuckDB in process, and
// fails on the first answer that differs, with a reproduction shrunk to the
// statements that still show the difference.
//
// DuckDB is the reference: a statement means what DuckDB makes of it on
// plain tables of the same column types.
//
// # Running
//
//	make difffuzz                           # the fixed seeds of make test
//	make difffuzz SEEDS=random DURATION=10m # random seeds for ten minutes
//	make difffuzz SEEDS=42 EXCLUDE=none     # one seed, known defects too
//
// Environment: KALAMDB_DIFF_SEEDS (comma-separated seeds, or "random";
// default 1..12), KALAMDB_DIFF_STATEMENTS (per seed; default 120),
// KALAMDB_DIFF_DURATION (wall budget: no new seed starts after it; default
// 75s), KALAMDB_DIFF_EXCLUDE (categories of known defects the generator
// leaves out: a comma-separated list, "all", or "none"; default knownOpen),
// KALAMDB_DIFF_SHRINK (time spent shrinking one difference; default 2m),
// KALAMDB_DIFF_VERBOSE (log every statement and DuckDB's answer). A run
// stops after five differences.
//
// # Comparison
//
// Integers, decimals, strings, bytes and temporal values compare exactly,
// floats bit for bit (every NaN alike; 0.0 and -0.0 alike only in grouped,
// distinct and min/max results, where DuckDB keeps whichever zero comes
// first). Results without a total ORDER BY compare as multisets; the
// generator never uses LIMIT without one, nor sums floats (whose result
// depends on the order DuckDB adds them in). Errors compare as "both fail"
// against "one fails"; messages and codes are not compared. DML without
// RETURNING compares affected-row counts.
package difftest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// config is a run's budget and generator options, from the environment.
type config struct {
	seeds      []uint64 // nil: random seeds until the duration ends
	statements int
	duration   time.Duration
	shrink     time.Duration
	allow      map[category]bool
	excluded   []category
}

func loadConfig(t *testing.T) config {
	t.Helper()
	c := config{statements: 120, duration: 75 * time.Second, shrink: 2 * time.Minute}
	for i := uint64(1); i <= 12; i++ {
		c.seeds = append(c.seeds, i)
	}
	if s := os.Getenv("KALAMDB_DIFF_SEEDS"); s != "" {
		c.seeds = nil
		if s != "random" {
			for _, p := range strings.Split(s, ",") {
				n, err := strconv.ParseUint(strings.TrimSpace(p), 10, 64)
				require.NoError(t, err, "KALAMDB_DIFF_SEEDS: seeds or \"random\"")
				c.seeds = append(c.seeds, n)
			}
		}
	}
	if s := os.Getenv("KALAMDB_DIFF_STATEMENTS"); s != "" {
		n, err := strconv.Atoi(s)
		require.NoError(t, err, "KALAMDB_DIFF_STATEMENTS")
		c.statements = n
	}
	dur := func(k string, d *time.Duration) {
		if s := os.Getenv(k); s != "" {
			v, err := time.ParseDuration(s)
			require.NoError(t, err, k)
			*d = v
		}
	}
	dur("KALAMDB_DIFF_DURATION", &c.duration)
	dur("KALAMDB_DIFF_SHRINK", &c.shrink)
	c.excluded = knownOpen
	if s, ok := os.LookupEnv("KALAMDB_DIFF_EXCLUDE"); ok {
		ex, err := parseCategories(s)
		require.NoError(t, err, "KALAMDB_DIFF_EXCLUDE")
		c.excluded = ex
	}
	c.allow = map[category]bool{}
	for _, cat := range allCategories {
		c.allow[cat] = true
	}
	for _, cat := range c.excluded {
		c.allow[cat] = false
	}
	return c
}

// maxFailures ends a run after this many differences (each is shrunk, which
// takes a while).
const maxFailures = 5

// TestDiffFuzz runs generated workloads on the server and on DuckDB and
// fails with a minimal reproduction for every seed whose answers differ.
func TestDiffFuzz(t *testing.T) {
	cfg := loadConfig(t)
	t.Logf("excluded categories of known defects: %v", cfg.excluded)
	h := newHarness(t, cfg)
	deadline := time.Now().Add(cfg.duration)
	var seeds, statements, failures int
	for i := 0; cfg.seeds == nil || i < len(cfg.seeds); i++ {
		if time.Now().After(deadline) || failures >= maxFailures {
			if cfg.seeds != nil {
				t.Logf("stopped (time budget %s, or %d differences): seeds %v did not run", cfg.duration, failures, cfg.seeds[i:])
			}
			break
		}
		seed := rand.Uint64() % 1_000_000_000
		if cfg.seeds != nil {
			seed = cfg.seeds[i]
		}
		steps, d := h.generate(seed, cfg.statements)
		seeds++
		if d == nil {
			statements += len(steps)
			continue
		}
		failures++
		statements += len(steps) - 1
		t.Errorf("%s", h.report(seed, steps, d))
	}
	t.Logf("difffuzz: %d seeds, %d statements compared without a difference (%d succeeded on both sides, %d failed on both), %d differences",
		seeds, statements, h.ok, h.failed, failures)
}

// harness holds the servers and the Flight connections to them. Seeds run
// on one of two servers: defaults, or every hot partition cached in DuckDB
// and compaction after two segments.
type harness struct {
	t       *testing.T
	cfg     config
	servers []*flightSide
	ns      int
	// failed counts generated statements that failed on both sides,
	// ok those that succeeded on both.
	failed, ok int
	verbose    bool
}

func newHarness(t *testing.T, cfg config) *harness {
	h := &harness{t: t, cfg: cfg, verbose: os.Getenv("KALAMDB_DIFF_VERBOSE") != ""}
	for _, cached := range []bool{false, true} {
		srv := startServer(t, cached)
		h.servers = append(h.servers, connect(t, srv.addr))
	}
	return h
}

// failure is the first difference of a run.
type failure struct {
	at     int // index of the step in the run's list
	diff   *difference
	server int
}

// session is one run: a namespace of its own on a server and a fresh
// DuckDB.
type session struct {
	h   *harness
	srv *flightSide
	ref *duckSide
	ns  string
}

func (h *harness) open(server int) *session {
	h.t.Helper()
	h.ns++
	s := &session{h: h, srv: h.servers[server], ns: fmt.Sprintf("d%d", h.ns)}
	var err error
	s.ref, err = openDuck()
	require.NoError(h.t, err)
	ctx := context.Background()
	require.NoError(h.t, s.srv.exec(ctx, "CREATE NAMESPACE "+s.ns))
	require.NoError(h.t, s.ref.conn.Exec("CREATE SCHEMA "+s.ns))
	return s
}

// close ends the run: a transaction left open is rolled back and the
// namespace dropped, so that the server does not grow run after run.
func (s *session) close() {
	ctx := context.Background()
	_ = s.srv.exec(ctx, "ROLLBACK")
	if err := s.srv.exec(ctx, "DROP NAMESPACE "+s.ns+" CASCADE"); err != nil {
		s.h.t.Logf("drop namespace %s: %v", s.ns, err)
	}
	s.ref.close()
}

// step runs one step on both sides and compares.
func (s *session) step(st *step) (outcome, *difference) {
	ctx := context.Background()
	ref := s.ref.run(ctx, st, s.ns)
	srv := s.srv.run(ctx, st, s.ns)
	return ref, compare(st, ref, srv)
}

// generate runs a seed's workload, generating each step after the last
// ran, and returns the steps up to the first difference.
func (h *harness) generate(seed uint64, n int) ([]*step, *failure) {
	server := int(seed % uint64(len(h.servers)))
	s := h.open(server)
	defer s.close()
	probe := func(sql string) ([][]string, error) {
		return s.ref.strings(strings.ReplaceAll(sql, nsToken, s.ns))
	}
	g := newGenerator(seed, h.cfg.allow, probe)
	var steps []*step
	for i := 0; i < n; i++ {
		st := g.next()
		steps = append(steps, st)
		ref, d := s.step(st)
		if d != nil {
			return steps, &failure{at: i, diff: d, server: server}
		}
		if ref.err != nil {
			h.failed++
		} else {
			h.ok++
		}
		if h.verbose {
			h.t.Logf("%s\n  -> %s", st, ref.summary())
		}
		g.observe(st, ref)
	}
	return steps, nil
}

// replay runs a list of steps on a fresh namespace and DuckDB and returns
// the first difference.
func (h *harness) replay(steps []*step, server int) *failure {
	s := h.open(server)
	defer s.close()
	for i, st := range steps {
		if _, d := s.step(st); d != nil {
			return &failure{at: i, diff: d, server: server}
		}
	}
	return nil
}

// shrink drops steps while the same step still differs in the same way
// (same kind, same error class),
// largest chunks first, until no single step can go or the budget ends.
func (h *harness) shrink(steps []*step, f *failure) []*step {
	target := steps[f.at].id
	cur := append([]*step(nil), steps[:f.at+1]...)
	deadline := time.Now().Add(h.cfg.shrink)
	same := func(cand []*step) bool {
		g := h.replay(cand, f.server)

		return g != nil && cand[g.at].id == target && g.diff.kind == f.diff.kind && g.diff.errClass == f.diff.errClass
	}
	// Whole groups first: every read, every flush/compact/fold.
	for _, drop := range []func(*step) bool{
		func(s *step) bool {
			return s.mode == modeQuery && strings.HasPrefix(s.sql, "SELECT") || strings.HasPrefix(s.sql, "WITH")
		},
		func(s *step) bool { return s.mode >= modeFlush },
	} {
		var cand []*step
		for _, s := range cur[:len(cur)-1] {
			if !drop(s) {
				cand = append(cand, s)
			}
		}
		cand = append(cand, cur[len(cur)-1])
		if len(cand) < len(cur) && same(cand) {
			cur = cand
		}
	}
	for chunk := len(cur) / 2; chunk >= 1; {
		removed := false
		for i := 0; i < len(cur)-1; {
			if time.Now().After(deadline) {
				h.t.Logf("shrink budget %s spent; the reproduction may not be minimal", h.cfg.shrink)
				return cur
			}
			end := min(i+chunk, len(cur)-1)
			cand := append(append([]*step(nil), cur[:i]...), cur[end:]...)
			if same(cand) {
				cur, removed = cand, true
			} else {
				i = end
			}
		}
		if chunk > 1 {
			chunk /= 2
		} else if !removed {
			break
		}
	}
	// Then rows and columns of the INSERT … VALUES left, and columns of
	// the tables: last statements first (a column goes from CREATE TABLE
	// only once no INSERT names it), again while anything goes.
	for changed := true; changed; {
		changed = false
		for i := len(cur) - 1; i >= 0; i-- {
			for {
				var cands []*step
				if v := cur[i].values; v != nil {
					for r := range v.rows {
						if len(v.rows) > 1 {
							st := *cur[i]
							st.values = v.withoutRow(r)
							st.sql = st.values.String()
							cands = append(cands, &st)
						}
					}
					for c := 1; c < len(v.cols); c++ { // never the key
						st := *cur[i]
						st.values = v.withoutColumn(c)
						st.sql = st.values.String()
						cands = append(cands, &st)
					}
				}
				if c := cur[i].create; c != nil {
					for j := 1; j < len(c.cols); j++ {
						st := c.withoutColumn(j).step()
						st.id = cur[i].id
						cands = append(cands, st)
					}
				}
				shrunk := false
				for _, st := range cands {
					if time.Now().After(deadline) {
						return cur
					}
					cand := append(append(append([]*step(nil), cur[:i]...), st), cur[i+1:]...)
					if same(cand) {
						cur, shrunk, changed = cand, true, true
						break
					}
				}
				if !shrunk {
					break
				}
			}
		}
	}
	return cur
}

// report shrinks a failing workload and renders the reproduction.
func (h *harness) report(seed uint64, steps []*step, f *failure) string {
	min := h.shrink(steps, f)
	last := h.replay(min, f.server)
	if last == nil { // flaky: report the unshrunk workload
		min, last = steps[:f.at+1], f
	}
	var b strings.Builder
	fmt.Fprintf(&b, "seed %d: %s at statement %d of the workload\n%s\n\n", seed, last.diff.kind, steps[f.at].id+1, last.diff.detail)
	cache := map[int]string{0: "default server", 1: "server with --hot-cache-min-rows 1 and compaction after 2 segments"}[f.server]
	fmt.Fprintf(&b, "reproduction (%d of %d statements, as root, %s):\n", len(min), f.at+1, cache)
	b.WriteString("CREATE NAMESPACE fz;\n")
	for _, st := range min {
		b.WriteString(st.String() + "\n")
	}
	fmt.Fprintf(&b, "\nreplay: make difffuzz SEEDS=%d STATEMENTS=%d EXCLUDE=%s\n", seed, h.cfg.statements, excludeArg(h.cfg.excluded))
	return b.String()
}

func excludeArg(cats []category) string {
	if len(cats) == 0 {
		return "none"
	}
	parts := make([]string, len(cats))
	for i, c := range cats {
		parts[i] = string(c)
	}
	return strings.Join(parts, ",")
}

// TestShrink plants a difference the server makes on purpose (its sandbox
// refuses current_setting; DuckDB does not) at the end of a workload and
// checks that it is found and shrunk to the statements it needs.
func TestShrink(t *testing.T) {
	h := &harness{t: t, cfg: config{shrink: time.Minute}}
	h.servers = []*flightSide{connect(t, startServer(t, false).addr)}
	sql := []string{
		"CREATE SHARED TABLE {ns}.a (k INT PRIMARY KEY, v TEXT)",
		"CREATE SHARED TABLE {ns}.b (k INT PRIMARY KEY, v DOUBLE)",
		"INSERT INTO {ns}.a VALUES (1, 'x'), (2, 'y')",
		"INSERT INTO {ns}.b VALUES (1, 1.5)",
		"SELECT * FROM {ns}.a ORDER BY k",
		"{ns}.a",
		"UPDATE {ns}.b SET v = v * 2",
		"DELETE FROM {ns}.a WHERE k = 2",
		// The sandbox refuses reading server settings; DuckDB runs it.
		"UPDATE {ns}.a SET v = current_setting('threads') WHERE k = 1",
	}
	var steps []*step
	for i, s := range sql {
		st := &step{id: i, mode: modeExec, sql: s, dml: strings.HasPrefix(s, "INSERT") || strings.HasPrefix(s, "UPDATE") || strings.HasPrefix(s, "DELETE")}
		switch {
		case strings.HasPrefix(s, "CREATE"):
			st.ref = strings.Replace(s, "SHARED ", "", 1)
		case strings.HasPrefix(s, "SELECT"):
			st.mode, st.ordered = modeQuery, true
		case !strings.Contains(s, " "):
			st.mode = modeFlush
		}
		steps = append(steps, st)
	}
	f := h.replay(steps, 0)
	require.NotNil(t, f, "the refused statement must differ")
	require.Equal(t, len(steps)-1, f.at)
	require.Equal(t, "the server fails, DuckDB does not", f.diff.kind)
	var got []string
	for _, st := range h.shrink(steps, f) {
		got = append(got, st.sql)
	}
	require.Equal(t, []string{sql[0], sql[8]}, got, "the refusal needs only the table")
}
