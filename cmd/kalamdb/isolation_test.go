//go:build duckdb_arrow

package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
)

// canaryWorld is a server holding rows that a user-role client, eve, must
// never see: bob's rows of a USER table (hot, flushed and in the hot cache),
// bob's STREAM rows, and rows of PRIVATE and DBA shared tables. Every such
// row's text contains "CANARY"; eve's own rows and the PUBLIC table's do not.
type canaryWorld struct {
	ts       *testServer
	root     *client
	eve      *client
	segments []string // Parquet files under the data directory (bob's and the shared tables')
}

func newCanaryWorld(t *testing.T) *canaryWorld {
	t.Helper()
	// Every hot partition is kept in the shared hot cache once read, so the
	// cache's long-lived relations hold canaries too.
	// A generated query may recurse without end: it must time out (a
	// client error), sooner than the default minute.
	ts := startServerWith(t, t.TempDir(), []string{"--hot-cache-min-rows", "1", "--query-timeout", "5s"}, nil)
	root := connect(t, ts.addr, "root", testRootPassword)
	for _, q := range []string{
		"CREATE NAMESPACE s",
		"CREATE USER TABLE s.notes (id INT PRIMARY KEY, body TEXT)",
		"CREATE STREAM TABLE s.events (id INT PRIMARY KEY, body TEXT) WITH (TTL_SECONDS=3600)",
		"CREATE SHARED TABLE s.pub (id INT PRIMARY KEY, body TEXT) WITH (ACCESS_LEVEL='PUBLIC')",
		"CREATE SHARED TABLE s.priv (id INT PRIMARY KEY, body TEXT)",
		"CREATE SHARED TABLE s.dbat (id INT PRIMARY KEY, body TEXT) WITH (ACCESS_LEVEL='DBA')",
		"INSERT INTO s.pub VALUES (1, 'public row')",
		"INSERT INTO s.priv VALUES (1, 'CANARY-private-cold')",
		"INSERT INTO s.dbat VALUES (1, 'CANARY-dba-cold')",
	} {
		root.mustExec(q)
	}
	bob := newUser(t, ts.addr, root, "bob")
	bob.mustExec("INSERT INTO s.notes VALUES (1, 'CANARY-bob-cold'), (2, 'CANARY-bob-cold2')")
	flush(t, root, "s.notes")
	flush(t, root, "s.priv")
	flush(t, root, "s.dbat")
	bob.mustExec("INSERT INTO s.notes VALUES (3, 'CANARY-bob-hot')")
	bob.mustExec("INSERT INTO s.events VALUES (1, 'CANARY-bob-stream')")
	root.mustExec("INSERT INTO s.priv VALUES (2, 'CANARY-private-hot')")
	root.mustExec("INSERT INTO s.dbat VALUES (2, 'CANARY-dba-hot')")
	// Reading fills the hot cache with bob's partition and the shared ones.
	require.Len(t, bob.mustQuery("SELECT * FROM s.notes"), 3)
	require.Len(t, root.mustQuery("SELECT * FROM s.priv"), 2)
	require.Len(t, root.mustQuery("SELECT * FROM s.dbat"), 2)

	eve := newUser(t, ts.addr, root, "eve")
	eve.mustExec("INSERT INTO s.notes VALUES (7, 'eve note')")
	eve.mustExec("INSERT INTO s.events VALUES (7, 'eve event')")
	eve.mustExec("USE s")

	w := &canaryWorld{ts: ts, root: root, eve: eve}
	require.NoError(t, filepath.WalkDir(ts.dataDir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".parquet") {
			w.segments = append(w.segments, p)
		}
		return err
	}))
	require.GreaterOrEqual(t, len(w.segments), 3, "bob's, the private and the DBA table's segments")
	return w
}

// leak returns the first cell of rows that shows something eve must not
// see: a canary, or a path of the server's data directory (as DuckDB's
// settings and catalog functions would show).
func (w *canaryWorld) leak(rows [][]string) string {
	for _, r := range rows {
		for _, v := range r {
			if strings.Contains(v, "CANARY") || strings.Contains(v, w.ts.dataDir) {
				return v
			}
		}
	}
	return ""
}

// check runs q as eve: it must fail with a client error or return no
// canary, and the server must keep serving.
func (w *canaryWorld) check(t *testing.T, q string) error {
	t.Helper()
	rows, _, err := w.eve.query(q)
	if err != nil {
		code := codeOf(err)
		require.NotContains(t, []codes.Code{codes.Internal, codes.Unavailable, codes.Unknown}, code, "%s: %v", q, err)
		require.NotContains(t, err.Error(), "CANARY", q)
		return err
	}
	require.Empty(t, w.leak(rows), "query leaked: %s", q)
	return nil
}

// TestCTEScoping is the forward-reference attack and its relatives: a CTE
// named like a forbidden object, defined after the CTE that uses it, used to
// pass the check while DuckDB bound the earlier reference to the real object.
// Each must be refused; legitimate CTE queries keep DuckDB's meaning.
func TestCTEScoping(t *testing.T) {
	w := newCanaryWorld(t)
	seg := w.segments[0]
	attacks := []string{
		"WITH a AS (SELECT name, setting FROM pg_settings), pg_settings AS (SELECT 1) SELECT * FROM a",
		"WITH RECURSIVE a AS (SELECT name, setting FROM pg_settings), pg_settings AS (SELECT 1) SELECT * FROM a",
		"SELECT * FROM (WITH a AS (SELECT * FROM duckdb_databases), duckdb_databases AS (SELECT 1) SELECT * FROM a)",
		"WITH a AS (SELECT * FROM duckdb_tables), duckdb_tables AS (SELECT 1) SELECT * FROM a",
		fmt.Sprintf(`WITH a AS (SELECT * FROM "%s"), "%s" AS (SELECT 1) SELECT * FROM a`, seg, seg),
		fmt.Sprintf(`WITH a AS (SELECT * FROM '%s'), "%s" AS (SELECT 1) SELECT * FROM a`, seg, seg),
		fmt.Sprintf(`WITH RECURSIVE a AS (SELECT * FROM "%s"), "%s" AS (SELECT 1) SELECT * FROM a`, seg, seg),
		"WITH a AS (SELECT * FROM __kdb_hot_1_1), __kdb_hot_1_1 AS (SELECT 1) SELECT * FROM a",
		"WITH a AS (SELECT * FROM memory.main.__kdb_hot_1_1) SELECT * FROM a",
		"WITH a AS (SELECT * FROM __kdb_t0), __kdb_t0 AS (SELECT 1) SELECT * FROM a",
		"WITH a AS (SELECT * FROM s.priv), b AS (SELECT 1) SELECT * FROM a",
		"WITH a AS (SELECT * FROM dbat), dbat AS (SELECT 1) SELECT * FROM a",
		"WITH b AS (SELECT * FROM a), a AS (SELECT 1) SELECT * FROM b",
		"SELECT (WITH a AS (SELECT setting FROM pg_settings LIMIT 1), pg_settings AS (SELECT 1) SELECT * FROM a)",
		"SELECT * FROM range(1) WHERE EXISTS (WITH a AS (SELECT * FROM duckdb_settings()), x AS (SELECT 1) SELECT * FROM a)",
		"WITH x AS (SELECT 1) SELECT * FROM (WITH a AS (SELECT * FROM x), pg_settings AS (SELECT 1) SELECT * FROM pg_settings) p, (SELECT * FROM pg_settings) q",
	}
	for _, q := range attacks {
		require.Error(t, w.check(t, q), q)
	}
	// Legitimate CTEs: DuckDB's scoping, eve's own rows.
	for _, c := range []struct{ q, want string }{
		{"WITH a AS (SELECT 1 AS v), b AS (SELECT v + 1 AS v FROM a) SELECT v FROM b", "2"},
		{"WITH RECURSIVE r(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM r WHERE v < 4) SELECT sum(v) FROM r", "10"},
		// A CTE does not see itself: the inner notes is the table.
		{"WITH notes AS (SELECT body || '!' AS body FROM notes) SELECT body FROM notes", "eve note!"},
		{"WITH notes AS (SELECT 'shadow' AS body) SELECT body FROM notes", "shadow"},
		{"WITH x AS (SELECT 'outer' AS v) SELECT (WITH x AS (SELECT 'inner' AS v) SELECT v FROM x) || '/' || v FROM x", "inner/outer"},
		{"WITH a AS (SELECT body FROM s.notes) SELECT a.body FROM a", "eve note"},
		{"WITH a AS (SELECT * FROM s.notes) SELECT count(*) FROM a JOIN a b ON a.id = b.id", "1"},
		{"WITH p AS (SELECT body FROM s.pub) SELECT body FROM p UNION ALL SELECT body FROM (WITH p AS (SELECT 'x' AS body) SELECT * FROM p) ORDER BY 1", "public row"},
		{"SELECT * FROM (WITH e AS (SELECT body FROM s.events) SELECT body FROM e)", "eve event"},
	} {
		rows := w.eve.mustQuery(c.q)
		require.NotEmpty(t, rows, c.q)
		require.Equal(t, c.want, rows[0][0], c.q)
	}
	require.Equal(t, [][]string{{"eve note"}}, w.eve.mustQuery("SELECT body FROM s.notes"))
}

// TestIsolationFuzz runs random SELECTs as a user-role client: nested and
// shadowing CTEs (also forward references and recursive ones), subqueries,
// LATERAL, set operations, table functions, quoted and unicode identifiers
// and file paths, over eve's own tables, forbidden tables and names DuckDB
// knows. It fails on any canary in a result. KALAMDB_ISOLATION_QUERIES sets
// how many (default 1500; `make fuzz` runs more), KALAMDB_ISOLATION_SEED the
// seed (default: the time, logged).
func TestIsolationFuzz(t *testing.T) {
	n := 1500
	if v := os.Getenv("KALAMDB_ISOLATION_QUERIES"); v != "" {
		var err error
		n, err = strconv.Atoi(v)
		require.NoError(t, err)
	}
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("KALAMDB_ISOLATION_SEED"); v != "" {
		var err error
		seed, err = strconv.ParseUint(v, 10, 64)
		require.NoError(t, err)
	}
	t.Logf("seed %d (KALAMDB_ISOLATION_SEED=%d reproduces), %d queries", seed, seed, n)
	w := newCanaryWorld(t)
	g := &isoGen{r: rand.New(rand.NewPCG(seed, 0x6b616c616d)), segments: w.segments}
	ok := 0
	for i := 0; i < n; i++ {
		q := g.query(0, nil)
		if w.check(t, q) == nil {
			ok++
		}
	}
	t.Logf("%d of %d queries ran (the rest were refused); no canary seen", ok, n)
	// The generator must produce runnable queries too, or it tests only the
	// refusals.
	require.Greater(t, ok, n/10)
	require.Equal(t, [][]string{{"eve note"}}, w.eve.mustQuery("SELECT body FROM s.notes"))
}

// isoGen makes random SELECTs for TestIsolationFuzz.
type isoGen struct {
	r        *rand.Rand
	segments []string
}

func (g *isoGen) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }

// cteNames are the names CTEs get: plain, shadowing tables eve may read,
// shadowing forbidden objects, quoted, unicode and path-like.
func (g *isoGen) cteName() string {
	switch g.r.IntN(10) {
	case 0:
		return `"` + g.segments[g.r.IntN(len(g.segments))] + `"`
	case 1:
		return g.pick("pg_settings", "duckdb_tables", "duckdb_databases", "__kdb_t0", "__kdb_hot_1_1", "priv", "dbat")
	case 2:
		return g.pick(`"Ünï"`, `"a b"`, `"NOTES"`, `"x""y"`)
	default:
		return g.pick("a", "b", "c", "notes", "pub", "events")
	}
}

// relation is something to put in FROM.
func (g *isoGen) relation(depth int, ctes []string) string {
	switch k := g.r.IntN(20); {
	case k < 5 && len(ctes) > 0:
		return ctes[g.r.IntN(len(ctes))]
	case k < 9:
		return g.pick("notes", "s.notes", `"s"."notes"`, "S.NOTES", "s.pub", "pub", "events", "s.events")
	case k < 11:
		return g.pick("s.priv", "priv", "s.dbat", "dbat", "system.users", "system.tables")
	case k < 13:
		seg := g.segments[g.r.IntN(len(g.segments))]
		return g.pick(`"`+seg+`"`, `'`+seg+`'`, "read_parquet('"+seg+"')", "parquet_scan('"+seg+"')")
	case k < 15:
		return g.pick("pg_settings", "duckdb_settings()", "duckdb_tables()", "duckdb_databases", "information_schema.tables",
			"memory.main.__kdb_hot_1_1", "__kdb_hot_1_1", "temp.main.__kdb_t0", "__kdb_t0", `"__kdb_t0"`, "main.notes", "query_table('notes')")
	case k < 17:
		return g.pick("range(3)", "generate_series(1, 2)", "unnest([1, 2])", "(VALUES (1, 'v'))")
	case k < 19 && depth < 3:
		return "(" + g.query(depth+1, ctes) + ")"
	default:
		return g.cteName()
	}
}

// query makes one SELECT; ctes are the names (as written) that an enclosing
// WITH defines, referenced sometimes rightly and sometimes not.
func (g *isoGen) query(depth int, ctes []string) string {
	var b strings.Builder
	scope := append([]string(nil), ctes...)
	if depth < 3 && g.r.IntN(2) == 0 {
		b.WriteString("WITH ")
		if g.r.IntN(3) == 0 {
			b.WriteString("RECURSIVE ")
		}
		n := 1 + g.r.IntN(3)
		names := make([]string, n)
		for i := range names {
			names[i] = g.cteName()
		}
		for i, name := range names {
			if i > 0 {
				b.WriteString(", ")
			}
			// The body may name CTEs before it, itself, or after it.
			body := g.query(depth+1, append(scope, names...))
			if g.r.IntN(4) == 0 {
				body = "SELECT 1 AS id UNION ALL SELECT id + 1 FROM " + name + " WHERE id < 3"
			}
			fmt.Fprintf(&b, "%s AS (%s)", name, body)
		}
		b.WriteString(" ")
		scope = append(scope, names...)
	}
	sel := g.pick("*", "*", "*", "count(*)", "to_json(x)")
	rel := g.relation(depth, scope)
	switch g.r.IntN(8) {
	case 0:
		fmt.Fprintf(&b, "SELECT %s FROM %s x, %s y", g.pick("*", "x.*", "y.*"), rel, g.relation(depth, scope))
	case 1:
		if depth < 3 {
			fmt.Fprintf(&b, "SELECT * FROM %s x, LATERAL (%s) y", rel, g.query(depth+1, scope))
			break
		}
		fallthrough
	case 2:
		if depth < 3 {
			fmt.Fprintf(&b, "SELECT %s FROM %s x %s SELECT %s FROM %s", sel, rel, g.pick("UNION ALL", "UNION", "EXCEPT", "INTERSECT"), sel, g.relation(depth, scope))
			break
		}
		fallthrough
	case 3:
		if depth < 3 {
			fmt.Fprintf(&b, "SELECT *, (SELECT count(*) FROM (%s)) FROM %s x", g.query(depth+1, scope), rel)
			break
		}
		fallthrough
	case 4:
		if depth < 3 {
			fmt.Fprintf(&b, "SELECT * FROM %s x WHERE EXISTS (%s)", rel, g.query(depth+1, scope))
			break
		}
		fallthrough
	default:
		fmt.Fprintf(&b, "SELECT %s FROM %s x", sel, rel)
	}
	return b.String()
}
