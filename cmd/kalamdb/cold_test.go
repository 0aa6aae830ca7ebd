//go:build duckdb_arrow

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
)

// waitJobs waits until the jobs are finished and returns their statuses.
func waitJobs(t *testing.T, root *client, ids ...string) map[string]string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		out := map[string]string{}
		rows := root.mustQuery("SELECT job_id, status, coalesce(error, '') FROM system.jobs")
		for _, r := range rows {
			out[r[0]] = r[1] + r[2]
		}
		done := true
		for _, id := range ids {
			s := out[id]
			if !(s == "completed" || strings.HasPrefix(s, "failed") || strings.HasPrefix(s, "cancelled")) {
				done = false
			}
		}
		if done {
			return out
		}
		require.True(t, time.Now().Before(deadline), "jobs %v did not finish: %v", ids, out)
		time.Sleep(50 * time.Millisecond)
	}
}

// flush runs STORAGE FLUSH TABLE and waits for its job.
func flush(t *testing.T, root *client, table string) {
	t.Helper()
	rows := root.mustQuery("STORAGE FLUSH TABLE " + table)
	require.Len(t, rows, 1)
	require.True(t, strings.HasPrefix(rows[0][0], "FL-"), rows[0][0])
	st := waitJobs(t, root, rows[0][0])
	require.Equal(t, "completed", st[rows[0][0]])
}

func stats(t *testing.T, c *client, table string) map[string]string {
	t.Helper()
	rows, schema, err := c.query("SHOW STATS FOR TABLE " + table)
	require.NoError(t, err)
	out := map[string]string{}
	for i, f := range schema.Fields() {
		out[f.Name] = rows[0][i]
	}
	return out
}

// waitStat polls SHOW STATS until the table's stat equals want, for up to
// limit; why says what did not happen otherwise.
func waitStat(t *testing.T, c *client, table, stat, want string, limit time.Duration, why string) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		st := stats(t, c, table)
		if st[stat] == want {
			return
		}
		require.True(t, time.Now().Before(deadline), "%s: %v", why, st)
		time.Sleep(100 * time.Millisecond)
	}
}

func TestFlushAndTieredReads(t *testing.T) {
	dir := t.TempDir()
	ts := startServer(t, dir)
	root := connect(t, ts.addr, "root", testRootPassword)
	root.mustExec("CREATE NAMESPACE c")
	root.mustExec("CREATE USER TABLE c.notes (id BIGINT PRIMARY KEY, body TEXT, score DOUBLE)")
	amy := newUser(t, ts.addr, root, "amy")
	ben := newUser(t, ts.addr, root, "ben")
	amy.mustExec("INSERT INTO c.notes SELECT i, 'amy ' || i, i * 0.5 FROM range(1000) t(i)")
	ben.mustExec("INSERT INTO c.notes SELECT i, 'ben ' || i, i FROM range(10) t(i)")

	flush(t, root, "c.notes")
	st := stats(t, root, "c.notes")
	require.Equal(t, "0", st["hot_rows"])
	require.Equal(t, "2", st["segments"])
	require.Equal(t, "1010", st["cold_rows"])
	// One directory per user partition.
	for _, u := range []string{"amy", "ben"} {
		files, err := filepath.Glob(filepath.Join(dir, "storage", "c", "notes", u, "*.parquet"))
		require.NoError(t, err)
		require.Len(t, files, 1, u)
	}
	require.Equal(t, [][]string{{"1000", "249750"}}, amy.mustQuery("SELECT count(*), sum(score)::BIGINT FROM c.notes"))
	require.Equal(t, [][]string{{"10"}}, ben.mustQuery("SELECT count(*) FROM c.notes"))
	require.Equal(t, [][]string{{"amy 7"}}, amy.mustQuery("SELECT body FROM c.notes WHERE id = 7"))

	// Writes after the flush: new rows, updates and deletes of flushed rows.
	amy.mustExec("INSERT INTO c.notes VALUES (5000, 'new', 1)")
	require.EqualValues(t, 1, amy.mustExec("UPDATE c.notes SET body = 'edited' WHERE id = 7"))
	require.EqualValues(t, 2, amy.mustExec("DELETE FROM c.notes WHERE id IN (8, 9)"))
	require.Equal(t, [][]string{{"edited"}}, amy.mustQuery("SELECT body FROM c.notes WHERE id = 7"))
	require.Empty(t, amy.mustQuery("SELECT * FROM c.notes WHERE id = 8"))
	require.Equal(t, [][]string{{"999"}}, amy.mustQuery("SELECT count(*) FROM c.notes"))
	require.Equal(t, [][]string{{"ben 7"}}, ben.mustQuery("SELECT body FROM c.notes WHERE id = 7"))

	// Primary keys stay unique across tiers.
	_, err := amy.exec("INSERT INTO c.notes VALUES (3, 'dup of a flushed row', 0)")
	requireCode(t, err, codes.AlreadyExists, "duplicate primary key 3")
	amy.mustExec("INSERT INTO c.notes VALUES (8, 'reinserted after delete', 0)")
	_, err = amy.exec("INSERT INTO c.notes VALUES (8, 'dup again', 0)")
	requireCode(t, err, codes.AlreadyExists, "duplicate primary key")
	ben.mustExec("INSERT INTO c.notes VALUES (500, 'ben has no 500 yet', 0)")

	// A second flush, then compaction into one segment without tombstones.
	flush(t, root, "c.notes")
	require.Equal(t, "4", stats(t, root, "c.notes")["segments"], "a second segment in each partition")
	require.Equal(t, [][]string{{"edited"}}, amy.mustQuery("SELECT body FROM c.notes WHERE id = 7"))
	require.Equal(t, [][]string{{"1000"}}, amy.mustQuery("SELECT count(*) FROM c.notes"))
	rows := root.mustQuery("STORAGE COMPACT TABLE c.notes")
	require.True(t, strings.HasPrefix(rows[0][0], "CO-"))
	require.Equal(t, "completed", waitJobs(t, root, rows[0][0])[rows[0][0]])
	st = stats(t, root, "c.notes")
	require.Equal(t, "2", st["segments"], "one segment per partition")
	require.Equal(t, "1011", st["cold_rows"])
	files, _ := filepath.Glob(filepath.Join(dir, "storage", "c", "notes", "amy", "*.parquet"))
	require.Len(t, files, 1, "compacted inputs are deleted")
	require.Equal(t, [][]string{{"1000", "edited", "reinserted after delete"}},
		amy.mustQuery("SELECT count(*), max(body) FILTER (WHERE id = 7), max(body) FILTER (WHERE id = 8) FROM c.notes"))

	// Analytics over both tiers: joins, window functions, aggregates.
	amy.mustExec("INSERT INTO c.notes VALUES (6000, 'hot row', 2)")
	require.Equal(t, [][]string{{"1001", "6000"}}, amy.mustQuery("SELECT count(*), max(id) FROM c.notes"))
	require.Equal(t, [][]string{{"0", "1"}, {"1", "2"}}, amy.mustQuery(
		"SELECT id, row_number() OVER (ORDER BY id) FROM c.notes QUALIFY row_number() OVER (ORDER BY id) <= 2 ORDER BY id"))

	// Everything survives a restart; the query path still isolates users.
	ts.stop()
	ts2 := startServer(t, dir)
	amy2 := connect(t, ts2.addr, "amy", "amy-password")
	require.Equal(t, [][]string{{"1001"}}, amy2.mustQuery("SELECT count(*) FROM c.notes"))
	ben2 := connect(t, ts2.addr, "ben", "ben-password")
	require.Equal(t, [][]string{{"11"}}, ben2.mustQuery("SELECT count(*) FROM c.notes"))

	// STREAM tables are never flushed; system tables list jobs and storage.
	root2 := connect(t, ts2.addr, "root", testRootPassword)
	root2.mustExec("CREATE STREAM TABLE c.events (kind TEXT) WITH (TTL_SECONDS=60)")
	_, _, err = root2.query("STORAGE FLUSH TABLE c.events")
	requireCode(t, err, codes.InvalidArgument, "never flushed")
	jobs := root2.mustQuery("SELECT job_type, status FROM system.jobs ORDER BY created_at")
	require.Contains(t, jobs, []string{"flush", "completed"})
	require.Contains(t, jobs, []string{"compaction", "completed"})
	require.Equal(t, "local", root2.mustQuery("SELECT storage_id FROM system.storages")[0][0])
	// RENAME COLUMN works over flushed data: segments find the column by its ID.
	root2.mustExec("ALTER TABLE c.notes RENAME COLUMN body TO text")
	require.Equal(t, [][]string{{"edited"}}, amy2.mustQuery("SELECT text FROM c.notes WHERE id = 7"))
	// ADD COLUMN works: older segments read the new column as NULL.
	root2.mustExec("ALTER TABLE c.notes ADD COLUMN tag TEXT")
	require.Equal(t, [][]string{{"NULL"}}, amy2.mustQuery("SELECT tag FROM c.notes WHERE id = 7"))
	// DROP TABLE removes the segment files.
	root2.mustExec("DROP TABLE c.notes")
	left, _ := filepath.Glob(filepath.Join(dir, "storage", "c", "notes", "*", "*.parquet"))
	require.Empty(t, left)
}

func TestFlushPolicyAndStreamTTL(t *testing.T) {
	ts := startServerWith(t, t.TempDir(), []string{"--stream-eviction-interval", "200ms"}, nil)
	root := connect(t, ts.addr, "root", testRootPassword)
	root.mustExec("CREATE NAMESPACE p")
	root.mustExec("CREATE SHARED TABLE p.auto (id INT PRIMARY KEY, v TEXT) WITH (FLUSH_POLICY='rows:100')")
	root.mustExec("INSERT INTO p.auto SELECT i, 'v' FROM range(150) t(i)")
	waitStat(t, root, "p.auto", "segments", "1", 30*time.Second, "FLUSH_POLICY rows:100 did not flush")
	require.Equal(t, [][]string{{"150"}}, root.mustQuery("SELECT count(*) FROM p.auto"))

	root.mustExec("CREATE STREAM TABLE p.typing (who TEXT DEFAULT CURRENT_USER()) WITH (TTL_SECONDS=1)")
	root.mustExec("INSERT INTO p.typing (who) VALUES ('a'), ('b')")
	require.Equal(t, [][]string{{"2"}}, root.mustQuery("SELECT count(*) FROM p.typing"))
	time.Sleep(1500 * time.Millisecond)
	require.Equal(t, [][]string{{"0"}}, root.mustQuery("SELECT count(*) FROM p.typing"), "expired rows are invisible at once")
	waitStat(t, root, "p.typing", "hot_rows", "0", 30*time.Second, "expired stream rows were not evicted")
}

func TestAutoCompaction(t *testing.T) {
	ts := startServer(t, t.TempDir())
	root := connect(t, ts.addr, "root", testRootPassword)
	root.mustExec("CREATE NAMESPACE k")
	root.mustExec("CREATE SHARED TABLE k.t (id INT PRIMARY KEY, v INT)")
	for i := 0; i < 9; i++ {
		root.mustExec(fmt.Sprintf("INSERT INTO k.t VALUES (%d, %d)", i, i))
		root.mustExec(fmt.Sprintf("UPDATE k.t SET v = v + 100 WHERE id = %d", max(i-1, 0)))
		flush(t, root, "k.t")
	}
	waitStat(t, root, "k.t", "segments", "1", 30*time.Second, "more than 8 segments did not trigger a compaction")
	rows := root.mustQuery("SELECT id, v FROM k.t ORDER BY id")
	require.Len(t, rows, 9)
	require.Equal(t, []string{"0", "200"}, rows[0])
	require.Equal(t, []string{"8", "8"}, rows[8])
}

// TestFlushCrashSafety kills the server with SIGKILL at each step of a flush
// and checks that every row is there exactly once afterwards.
func TestFlushCrashSafety(t *testing.T) {
	for _, point := range []string{"flush-before-commit-segment", "flush-after-segment", "flush-after-commit"} {
		t.Run(point, func(t *testing.T) {
			dir := t.TempDir()
			cmd, addr := startProcessEnv(t, dir, []string{"KALAMDB_ROOT_PASSWORD=" + testRootPassword, "KALAMDB_FAILPOINT=" + point})
			root := connect(t, addr, "root", testRootPassword)
			root.mustExec("CREATE NAMESPACE z")
			root.mustExec("CREATE SHARED TABLE z.t (id BIGINT PRIMARY KEY, v TEXT)")
			root.mustExec("INSERT INTO z.t SELECT i, 'v' || i FROM range(20000) t(i)")
			root.mustExec("UPDATE z.t SET v = 'updated' WHERE id % 1000 = 0")
			root.mustExec("DELETE FROM z.t WHERE id % 1000 = 1")
			_, _, _ = root.query("STORAGE FLUSH TABLE z.t")
			err := cmd.Wait()
			require.Error(t, err, "the failpoint kills the server")

			_, addr2 := startProcessEnv(t, dir, []string{"KALAMDB_ROOT_PASSWORD=" + testRootPassword})
			c := connect(t, addr2, "root", testRootPassword)
			rows := c.mustQuery("SELECT id, v FROM z.t ORDER BY id")
			require.Len(t, rows, 19980)
			seen := map[string]bool{}
			for _, r := range rows {
				require.False(t, seen[r[0]], "row %s twice", r[0])
				seen[r[0]] = true
			}
			require.Equal(t, [][]string{{"20", "0"}}, c.mustQuery("SELECT count(*) FILTER (WHERE v = 'updated'), count(*) FILTER (WHERE id % 1000 = 1) FROM z.t"))
			// No orphan file is left, and the table flushes normally now.
			flush(t, c, "z.t")
			files, _ := filepath.Glob(filepath.Join(dir, "storage", "z", "t", "shared", "*"))
			sort.Strings(files)
			for _, f := range files {
				require.True(t, strings.HasSuffix(f, ".parquet"), "leftover %s", f)
			}
			require.Equal(t, [][]string{{"19980"}}, c.mustQuery("SELECT count(*) FROM z.t"))
		})
	}
}

// TestSegmentsOutliveReaders compacts a partition while a query that planned
// over its segments has not read them yet: the query still gets every row,
// and the old files go away once it is done.
func TestSegmentsOutliveReaders(t *testing.T) {
	dir := t.TempDir()
	ts := startServerWith(t, dir, []string{"--max-queries-per-user", "0"}, nil)
	root := connect(t, ts.addr, "root", testRootPassword)
	root.mustExec("CREATE NAMESPACE r")
	root.mustExec("CREATE SHARED TABLE r.t (id INT PRIMARY KEY, v INT) WITH (FLUSH_POLICY='interval:1')")
	root.mustExec("CREATE SHARED TABLE r.u (id INT PRIMARY KEY)")
	root.mustExec("INSERT INTO r.t SELECT i, i FROM range(1000) t(i)")
	root.mustExec("INSERT INTO r.u VALUES (1)")
	// FLUSH_POLICY interval:1 flushes r.t on its own; FLUSH ALL IN r flushes r.u.
	waitStat(t, root, "r.t", "segments", "1", 30*time.Second, "FLUSH_POLICY interval:1 did not flush")
	rows := root.mustQuery("STORAGE FLUSH ALL IN r")
	require.Len(t, rows, 2)
	ids := []string{rows[0][0], rows[1][0]}
	waitJobs(t, root, ids...)
	require.Equal(t, "1", stats(t, root, "r.u")["segments"])
	root.mustExec("UPDATE r.t SET v = -1 WHERE id < 10")
	flush(t, root, "r.t")
	before, _ := filepath.Glob(filepath.Join(dir, "storage", "r", "t", "shared", "*.parquet"))
	require.Len(t, before, 2)

	cl := newFlightSQLClient(t, ts.addr)
	ctx, err := cl.Client.AuthenticateBasicToken(t.Context(), "root", testRootPassword)
	require.NoError(t, err)
	info, err := cl.Execute(ctx, "SELECT count(*) FILTER (WHERE v = -1), count(*) FROM r.t")
	require.NoError(t, err)
	co := root.mustQuery("STORAGE COMPACT TABLE r.t")
	require.Equal(t, "completed", waitJobs(t, root, co[0][0])[co[0][0]])
	for _, f := range before {
		_, err := os.Stat(f)
		require.NoError(t, err, "a segment read by a running query must not be deleted")
	}
	rdr, err := cl.DoGet(ctx, info.Endpoint[0].Ticket)
	require.NoError(t, err)
	require.True(t, rdr.Next())
	rec := rdr.RecordBatch()
	require.Equal(t, "10", rec.Column(0).ValueStr(0))
	require.Equal(t, "1000", rec.Column(1).ValueStr(0))
	for rdr.Next() {
	}
	require.NoError(t, rdr.Err())
	rdr.Release()
	deadline := time.Now().Add(10 * time.Second)
	for {
		left := 0
		for _, f := range before {
			if _, err := os.Stat(f); err == nil {
				left++
			}
		}
		if left == 0 {
			break
		}
		require.True(t, time.Now().Before(deadline), "old segments were not removed after the reader finished")
		time.Sleep(50 * time.Millisecond)
	}
	require.Equal(t, [][]string{{"10", "1000"}}, root.mustQuery("SELECT count(*) FILTER (WHERE v = -1), count(*) FROM r.t"))
}

// TestFlushKeepsEveryType reads a row of every column type before and after
// a flush (and after compaction): values and Arrow types must not change.
func TestFlushKeepsEveryType(t *testing.T) {
	ts := startServer(t, t.TempDir())
	root := connect(t, ts.addr, "root", testRootPassword)
	root.mustExec("CREATE NAMESPACE ty")
	root.mustExec(`CREATE SHARED TABLE ty.all (id BIGINT PRIMARY KEY, b BOOLEAN, s SMALLINT, i INT, f FLOAT, d DOUBLE,
		dec DECIMAL(12,3), dec38 DECIMAL(38,10), t TEXT, "by" BYTES, j JSON, ts TIMESTAMP, dt DATE, tm TIME, u UUID)`)
	root.mustExec(`INSERT INTO ty.all VALUES (1, true, 7, 42, 1.5, 2.25, 123.456, 1234567890.0123456789, 'text', '\xCA\xFE'::BLOB,
		'{"k":[1]}', TIMESTAMP '2024-02-03 04:05:06.789012', DATE '2024-02-29', TIME '23:59:58.5', '0190f3c2-8a47-7d3e-9a5b-1c2d3e4f5a6b'),
		(2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`)
	q := "SELECT * EXCLUDE (_seq) FROM ty.all ORDER BY id"
	before, bs, err := root.query(q)
	require.NoError(t, err)
	flush(t, root, "ty.all")
	after, as, err := root.query(q)
	require.NoError(t, err)
	require.Equal(t, before, after)
	require.True(t, bs.Equal(as), "schema changed by flush:\nbefore %v\nafter  %v", bs, as)
	// With a hot row beside the segment (the merged view), and compacted.
	root.mustExec("UPDATE ty.all SET t = 'text' WHERE id = 1")
	mixed, ms, err := root.query(q)
	require.NoError(t, err)
	require.Equal(t, before, mixed)
	require.True(t, bs.Equal(ms), "schema changed by merge:\nbefore %v\nafter  %v", bs, ms)
	flush(t, root, "ty.all")
	co := root.mustQuery("STORAGE COMPACT TABLE ty.all")
	waitJobs(t, root, co[0][0])
	compacted, cs, err := root.query(q)
	require.NoError(t, err)
	require.Equal(t, before, compacted)
	require.True(t, bs.Equal(cs))
}

// TestHotCacheFreshness runs with every hot partition cached (threshold 1)
// and checks that each read sees every write before it: inserts, updates,
// deletes, flushes, other users, and a dropped and re-created table.
func TestHotCacheFreshness(t *testing.T) {
	ts := startServerWith(t, t.TempDir(), []string{"--hot-cache-min-rows", "1"}, nil)
	root := connect(t, ts.addr, "root", testRootPassword)
	root.mustExec("CREATE NAMESPACE hc")
	root.mustExec("CREATE USER TABLE hc.t (id INT PRIMARY KEY, v INT)")
	hank := newUser(t, ts.addr, root, "hank")
	sum := func(c *client) string {
		return c.mustQuery("SELECT coalesce(sum(v), 0) || '/' || count(*) FROM hc.t")[0][0]
	}
	require.Equal(t, "0/0", sum(root))
	root.mustExec("INSERT INTO hc.t SELECT i, i FROM range(100) r(i)")
	require.Equal(t, "4950/100", sum(root))
	require.Equal(t, "4950/100", sum(root), "served from the cache")
	hank.mustExec("INSERT INTO hc.t VALUES (1, 1000)")
	require.Equal(t, "1000/1", sum(hank))
	require.Equal(t, "4950/100", sum(root), "another user's write does not leak into the cache")
	root.mustExec("UPDATE hc.t SET v = v + 1 WHERE id < 10")
	require.Equal(t, "4960/100", sum(root))
	root.mustExec("DELETE FROM hc.t WHERE id >= 90")
	require.Equal(t, "4015/90", sum(root))
	flush(t, root, "hc.t")
	require.Equal(t, "4015/90", sum(root))
	root.mustExec("UPDATE hc.t SET v = 0 WHERE id = 5")
	require.Equal(t, "4009/90", sum(root))
	require.Equal(t, "4009/90", sum(root))
	root.mustExec("INSERT INTO hc.t VALUES (500, 1)")
	require.Equal(t, "4010/91", sum(root))
	root.mustExec("DROP TABLE hc.t")
	root.mustExec("CREATE USER TABLE hc.t (id INT PRIMARY KEY, v INT)")
	require.Equal(t, "0/0", sum(root))
	root.mustExec("INSERT INTO hc.t VALUES (1, 7)")
	require.Equal(t, "7/1", sum(root))
	// A user cannot name the cached relations.
	_, _, err := hank.query("SELECT * FROM __kdb_hot_1_1")
	require.Error(t, err)
	_, _, err = hank.query("SELECT * FROM memory.main.__kdb_hot_1_1")
	requireCode(t, err, codes.PermissionDenied, "")
}

// TestSchemaChangesOverFlushedSegments: renamed columns keep their flushed
// values (also the primary key, for the duplicate check), a column dropped
// and re-added under the same name reads NULL for rows written before the
// drop instead of the old values, and compaction and restarts keep both.
func TestSchemaChangesOverFlushedSegments(t *testing.T) {
	dir := t.TempDir()
	ts := startServer(t, dir)
	root := connect(t, ts.addr, "root", testRootPassword)
	root.mustExec("CREATE NAMESPACE sc")
	root.mustExec("CREATE SHARED TABLE sc.t (id INT PRIMARY KEY, a TEXT, b INT)")
	root.mustExec("INSERT INTO sc.t VALUES (1, 'one', 10), (2, 'two', 20)")
	flush(t, root, "sc.t")

	root.mustExec("ALTER TABLE sc.t RENAME COLUMN a TO title")
	require.Equal(t, [][]string{{"1", "one"}, {"2", "two"}}, root.mustQuery("SELECT id, title FROM sc.t ORDER BY id"))
	require.Equal(t, [][]string{{"2"}}, root.mustQuery("SELECT id FROM sc.t WHERE title = 'two'"))

	root.mustExec("ALTER TABLE sc.t DROP COLUMN b")
	root.mustExec("ALTER TABLE sc.t ADD COLUMN b INT")
	require.Equal(t, [][]string{{"1", "NULL"}, {"2", "NULL"}}, root.mustQuery("SELECT id, b FROM sc.t ORDER BY id"), "the dropped column's old values stay gone")
	root.mustExec("INSERT INTO sc.t VALUES (3, 'three', 30)")
	flush(t, root, "sc.t")
	root.mustExec("UPDATE sc.t SET b = 11 WHERE id = 1")
	want := [][]string{{"1", "one", "11"}, {"2", "two", "NULL"}, {"3", "three", "30"}}
	require.Equal(t, want, root.mustQuery("SELECT id, title, b FROM sc.t ORDER BY id"))

	// The primary key renamed: flushed keys still count for the duplicate check.
	root.mustExec("ALTER TABLE sc.t RENAME COLUMN id TO k")
	_, err := root.exec("INSERT INTO sc.t VALUES (2, 'again', 0)")
	requireCode(t, err, codes.AlreadyExists, "duplicate primary key")
	require.Equal(t, [][]string{{"3", "three"}}, root.mustQuery("SELECT k, title FROM sc.t WHERE k = 3"))

	// Compaction rewrites the segments under the current names; a restart keeps it all.
	rows := root.mustQuery("STORAGE COMPACT TABLE sc.t")
	require.Len(t, rows, 1)
	waitJobs(t, root, rows[0][0])
	require.Equal(t, "1", stats(t, root, "sc.t")["segments"])
	ts.stop()
	ts2 := startServer(t, dir)
	root2 := connect(t, ts2.addr, "root", testRootPassword)
	require.Equal(t, want, root2.mustQuery("SELECT k, title, b FROM sc.t ORDER BY k"))
	root2.mustExec("ALTER TABLE sc.t RENAME COLUMN title TO name")
	require.Equal(t, [][]string{{"2", "two"}}, root2.mustQuery("SELECT k, name FROM sc.t WHERE name = 'two'"))
}

// TestAutoFold checks that a partition whose queries merge many hot versions
// into its segments (a bulk UPDATE and DELETE of flushed rows) is flushed and
// compacted into one segment once it has gone quiet, with the same result;
// that writes postpone it; that a USER table folds only the partition that
// qualifies; and that a partition with few such versions is left alone.
func TestAutoFold(t *testing.T) {
	ts := startServerWith(t, t.TempDir(), []string{"--fold-quiet", "1s"}, nil)
	root := connect(t, ts.addr, "root", testRootPassword)
	root.mustExec("CREATE NAMESPACE f")
	root.mustExec("CREATE SHARED TABLE f.big (id BIGINT PRIMARY KEY, v BIGINT, name TEXT)")
	root.mustExec("INSERT INTO f.big SELECT i, i % 100, 'n' || i FROM range(100000) r(i)")
	flush(t, root, "f.big")
	root.mustExec("CREATE SHARED TABLE f.small (id BIGINT PRIMARY KEY, v BIGINT)")
	root.mustExec("INSERT INTO f.small SELECT i, i FROM range(1000) r(i)")
	flush(t, root, "f.small")

	require.Equal(t, int64(20000), root.mustExec("UPDATE f.big SET v = v + 1000 WHERE id % 5 = 0"))
	require.Equal(t, int64(1000), root.mustExec("DELETE FROM f.big WHERE id % 100 = 1"))
	require.Equal(t, int64(500), root.mustExec("UPDATE f.small SET v = -v WHERE id % 2 = 0"))
	const q = "SELECT count(*), sum(v), max(name), count(*) FILTER (WHERE v >= 1000) FROM f.big"
	want := root.mustQuery(q)
	require.Equal(t, [][]string{{"99000", "24949000", "n99999", "20000"}}, want)
	st := stats(t, root, "f.big")
	require.Equal(t, "20000", st["hot_rows"], "before the fold: the updated rows are hot")
	require.Equal(t, "1", st["segments"])
	smallWant := root.mustQuery("SELECT count(*), sum(v) FROM f.small")

	// USER table: amy's partition qualifies, ben's (same table) does not.
	root.mustExec("CREATE USER TABLE f.notes (id BIGINT PRIMARY KEY, v BIGINT)")
	amy := newUser(t, ts.addr, root, "amy")
	ben := newUser(t, ts.addr, root, "ben")
	amy.mustExec("INSERT INTO f.notes SELECT i, i FROM range(50000) r(i)")
	ben.mustExec("INSERT INTO f.notes SELECT i, i FROM range(50000) r(i)")
	flush(t, root, "f.notes")
	require.Equal(t, int64(25000), amy.mustExec("UPDATE f.notes SET v = 0 WHERE id % 2 = 0"))
	require.Equal(t, int64(100), ben.mustExec("UPDATE f.notes SET v = 0 WHERE id < 100"))
	amy.mustQuery("SELECT count(*) FROM f.notes") // marks amy's partition
	// Writes keep postponing the fold: every 200 ms for 2.5 s (quiet is 1 s).
	for i := 0; i < 12; i++ {
		amy.mustExec(fmt.Sprintf("INSERT INTO f.notes VALUES (%d, 1)", 100000+i))
		require.Equal(t, strconv.Itoa(25100+i+1), stats(t, root, "f.notes")["hot_rows"], "folded while amy kept writing")
		time.Sleep(200 * time.Millisecond)
	}
	amyWant, benWant := amy.mustQuery("SELECT count(*), sum(v) FROM f.notes"), ben.mustQuery("SELECT count(*), sum(v) FROM f.notes")

	waitStat(t, root, "f.big", "hot_rows", "0", 60*time.Second, "the partition was not flushed")
	waitStat(t, root, "f.big", "segments", "1", 60*time.Second, "the partition was not compacted")
	st = stats(t, root, "f.big")
	require.Equal(t, "99000", st["cold_rows"], "superseded versions and tombstones are gone")
	require.Equal(t, want, root.mustQuery(q), "the fold changes no result")
	rows := root.mustQuery("SELECT job_type, status FROM system.jobs WHERE (parameters->>'fold') = '1' AND (parameters->>'table') = 'f.big'")
	require.Equal(t, [][]string{{"compaction", "completed"}}, rows)

	waitStat(t, root, "f.notes", "hot_rows", "100", 60*time.Second, "amy's partition was not folded")
	require.Equal(t, [][]string{{"50012", "625000012"}}, amyWant)
	require.Equal(t, amyWant, amy.mustQuery("SELECT count(*), sum(v) FROM f.notes"))
	require.Equal(t, benWant, ben.mustQuery("SELECT count(*), sum(v) FROM f.notes"))
	require.Equal(t, [][]string{{"amy"}}, root.mustQuery("SELECT parameters->>'user' FROM system.jobs WHERE (parameters->>'table') = 'f.notes' AND (parameters->>'fold') = '1'"))

	// f.small (500 hot versions) was read as often and stays as it is.
	require.Equal(t, "500", stats(t, root, "f.small")["hot_rows"])
	require.Equal(t, smallWant, root.mustQuery("SELECT count(*), sum(v) FROM f.small"))
	require.Equal(t, [][]string{{"0"}}, root.mustQuery("SELECT count(*) FROM system.jobs WHERE (parameters->>'table') = 'f.small' AND (parameters->>'fold') = '1'"))
}

// TestHotBoundsFlushTablesWithoutPolicy: a table without FLUSH_POLICY is
// flushed once a partition passes --hot-max-rows, and once its oldest
// unflushed write is --hot-max-age old.
func TestHotBoundsFlushTablesWithoutPolicy(t *testing.T) {
	ts := startServerWith(t, t.TempDir(), []string{"--hot-max-rows", "100", "--hot-max-age", "3s"}, nil)
	root := connect(t, ts.addr, "root", testRootPassword)
	root.mustExec("CREATE NAMESPACE hb")
	root.mustExec("CREATE SHARED TABLE hb.many (id INT PRIMARY KEY)")
	root.mustExec("CREATE SHARED TABLE hb.few (id INT PRIMARY KEY)")
	var vals []string
	for i := 0; i < 150; i++ {
		vals = append(vals, fmt.Sprintf("(%d)", i))
	}
	start := time.Now()
	root.mustExec("INSERT INTO hb.many VALUES " + strings.Join(vals, ", "))
	root.mustExec("INSERT INTO hb.few VALUES (1), (2)")
	waitStat(t, root, "hb.many", "hot_rows", "0", 10*time.Second, "150 rows written flush by --hot-max-rows")
	require.Less(t, time.Since(start), 3*time.Second, "the rows bound flushed before the age bound")
	waitStat(t, root, "hb.few", "hot_rows", "0", 10*time.Second, "2 rows flush by --hot-max-age")
	require.Equal(t, [][]string{{"150"}}, root.mustQuery("SELECT count(*) FROM hb.many"))
	require.Equal(t, [][]string{{"2"}}, root.mustQuery("SELECT count(*) FROM hb.few"))
}

// TestJobHistory: the STREAM eviction job is recorded only when a STREAM
// table with a TTL has rows, and finished jobs leave system.jobs after
// --job-history.
func TestJobHistory(t *testing.T) {
	ts := startServerWith(t, t.TempDir(), []string{"--stream-eviction-interval", "100ms", "--job-history", "2s"}, nil)
	root := connect(t, ts.addr, "root", testRootPassword)
	count := func(where string) string {
		return root.mustQuery("SELECT count(*) FROM system.jobs WHERE " + where)[0][0]
	}
	root.mustExec("CREATE NAMESPACE jh")
	root.mustExec("CREATE STREAM TABLE jh.ev (id INT PRIMARY KEY) WITH (TTL_SECONDS=60)")
	time.Sleep(500 * time.Millisecond)
	require.Equal(t, "0", count("job_type = 'stream_eviction'"), "no rows to evict: no job")
	root.mustExec("INSERT INTO jh.ev VALUES (1)")
	require.Eventually(t, func() bool { return count("job_type = 'stream_eviction'") != "0" }, 5*time.Second, 50*time.Millisecond)

	root.mustExec("CREATE SHARED TABLE jh.t (id INT PRIMARY KEY)")
	root.mustExec("INSERT INTO jh.t VALUES (1)")
	flush(t, root, "jh.t")
	require.Equal(t, "1", count("job_type = 'flush'"))
	require.Eventually(t, func() bool { return count("job_type = 'flush'") == "0" }, 10*time.Second, 100*time.Millisecond,
		"a finished job is pruned after --job-history")
}

// TestNaNSurvivesFlush: DuckDB orders NaN above every number, so a range
// filter over flushed floats finds NaN rows (Parquet statistics that skip
// NaN must not prune them away).
func TestNaNSurvivesFlush(t *testing.T) {
	ts := startServer(t, t.TempDir())
	root := connect(t, ts.addr, "root", testRootPassword)
	root.mustExec("CREATE NAMESPACE nan")
	root.mustExec("CREATE SHARED TABLE nan.t (id INT PRIMARY KEY, f FLOAT, d DOUBLE)")
	root.mustExec("INSERT INTO nan.t VALUES (1, 'NaN', 'NaN'), (2, 1.5, 1.5), (3, NULL, NULL)")
	flush(t, root, "nan.t")
	require.Equal(t, [][]string{{"1"}}, root.mustQuery("SELECT id FROM nan.t WHERE f > 1000000"))
	require.Equal(t, [][]string{{"1"}}, root.mustQuery("SELECT id FROM nan.t WHERE d >= 1.98e6"))
	require.Equal(t, [][]string{{"1"}, {"2"}}, root.mustQuery("SELECT id FROM nan.t WHERE d > 1 ORDER BY id"))
	require.EqualValues(t, 1, root.mustExec("DELETE FROM nan.t WHERE d > 3.14159"))
	require.Equal(t, [][]string{{"2"}, {"3"}}, root.mustQuery("SELECT id FROM nan.t ORDER BY id"))
}
