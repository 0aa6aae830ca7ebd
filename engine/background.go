//go:build duckdb_arrow

package engine

import (
	"context"

	"fmt"
	"github.com/apache/arrow-go/v18/arrow"
	"strconv"
	"strings"
	"time"

	"github.com/kalamdb/kalamdb-go/catalog"
	"github.com/kalamdb/kalamdb-go/internal/idgen"
	"github.com/kalamdb/kalamdb-go/jobs"
)

// Job kinds the engine runs.
const (
	jobFlush   = jobs.TypeFlush
	jobCompact = jobs.TypeCompaction
	jobEvict   = jobs.TypeStreamEviction
)

// Start registers the engine's job executors and schedulers and removes
// orphan segment files. Call once, before the job manager starts.
func (e *Engine) Start() error {
	if e.jobs == nil || e.cold == nil {
		return nil
	}
	if err := e.removeOrphans(); err != nil {
		return err
	}
	e.jobs.Register(jobFlush, e.tableJob(e.flushPartition))
	compact, fold := e.tableJob(e.compactPartition), e.tableJob(e.foldPartition)
	e.jobs.Register(jobCompact, func(ctx context.Context, j jobs.Job, progress func(string)) (string, error) {
		if j.Parameters["fold"] != "" {
			return fold(ctx, j, progress)
		}
		return compact(ctx, j, progress)
	})
	e.jobs.Register(jobEvict, e.evictJob)
	now := e.opts.Now().Unix()
	// Partitions with hot rows are considered dirty at start: rows left
	// hot by the previous run get flushed by the interval rule or the hot
	// age bound.
	for _, t := range e.reg.tables("") {
		if t.Type == catalog.TableStream {
			continue
		}
		parts, err := e.hot.Partitions(context.Background(), t)
		if err != nil {
			return err
		}
		for _, u := range parts {
			e.coldState.dirty[partKey{t.StoreID, u}] = 1
			e.coldState.lastSeen[partKey{t.StoreID, u}] = now
			e.coldState.firstWrite[partKey{t.StoreID, u}] = now
		}
	}
	e.jobs.Every(time.Second, e.flushPolicyTick)
	if e.opts.FoldPercent > 0 {
		e.jobs.Every(time.Second, e.foldTick)
	}
	e.jobs.Every(e.opts.EvictionInterval, func(time.Time) {
		// A job (and its system.jobs row) only when there is something
		// to evict from.
		if !e.streamRowsExpire(context.Background()) {
			return
		}
		if _, _, err := e.jobs.Submit(jobEvict, nil, "evict-streams", true); err != nil {
			e.log.Warn("schedule stream eviction", "err", err)
		}
	})
	return nil
}

// tableJob adapts a per-partition operation into a job executor over the
// parameters {table, store_id[, user]}: every partition unless user is set.
func (e *Engine) tableJob(op func(context.Context, *catalog.TableDef, catalog.UserID) (int64, error)) jobs.Executor {
	return func(ctx context.Context, j jobs.Job, progress func(string)) (string, error) {
		t, err := e.jobTable(j)
		if err != nil {
			return "", err
		}
		parts := []catalog.UserID{catalog.UserID(j.Parameters["user"])}
		if _, one := j.Parameters["user"]; !one {
			if parts, err = e.partitionsOf(ctx, t); err != nil {
				return "", err
			}
		}
		var rows int64
		for i, u := range parts {
			n, err := op(ctx, t, u)
			if err != nil {
				return "", err
			}
			rows += n
			progress(fmt.Sprintf("%d of %d partitions, %d rows", i+1, len(parts), rows))
		}
		return fmt.Sprintf("%d rows in %d partitions", rows, len(parts)), nil
	}
}

// partitionsOf lists the partitions with hot rows or segments.
func (e *Engine) partitionsOf(ctx context.Context, t *catalog.TableDef) ([]catalog.UserID, error) {
	hot, err := e.hot.Partitions(ctx, t)
	if err != nil {
		return nil, err
	}
	seen := map[catalog.UserID]bool{}
	var out []catalog.UserID
	for _, u := range hot {
		if !seen[u] {
			seen[u] = true
			out = append(out, u)
		}
	}
	mans, err := e.tableManifests(t.StoreID)
	if err != nil {
		return nil, err
	}
	for u := range mans {
		if !seen[u] {
			seen[u] = true
			out = append(out, u)
		}
	}
	return out, nil
}

func (e *Engine) jobTable(j jobs.Job) (*catalog.TableDef, error) {
	ns, name, _ := strings.Cut(j.Parameters["table"], ".")
	t, ok := e.reg.table(catalog.TableID{Namespace: catalog.NamespaceID(ns), Name: catalog.TableName(name)})
	if !ok || strconv.FormatUint(t.StoreID, 10) != j.Parameters["store_id"] {
		return nil, fmt.Errorf("%w: %s: %w", jobs.ErrNoRetry, j.Parameters["table"], errTableGone)
	}
	return t, nil
}

// submitTableJob queues a flush or compaction of a table (one partition when
// user is not nil); flags become parameters set to "1" ("fold": flush
// first). One queued or running job per table and kind: a fold asked for
// while a compaction of the partition is queued is that compaction.
func (e *Engine) submitTableJob(kind jobs.Type, t *catalog.TableDef, user catalog.UserID, flags ...string) (string, bool, error) {
	params := map[string]string{"table": t.ID.String(), "store_id": strconv.FormatUint(t.StoreID, 10)}
	for _, f := range flags {
		params[f] = "1"
	}
	key := fmt.Sprintf("%s:%d", kind, t.StoreID)
	if user != "" {
		params["user"] = string(user)
		key += "/" + string(user)
	}
	return e.jobs.Submit(kind, params, key, true)
}

// flushPolicyTick submits flush jobs for partitions due one (flushDue):
// by their table's FLUSH_POLICY or by the server's hot bounds.
func (e *Engine) flushPolicyTick(now time.Time) {
	type due struct {
		t    *catalog.TableDef
		user catalog.UserID
	}
	var todo []due
	tables := map[uint64]*catalog.TableDef{}
	for _, t := range e.reg.tables("") {
		if t.Type != catalog.TableStream {
			tables[t.StoreID] = t
		}
	}
	bounds := hotBounds{MaxRows: e.opts.HotMaxRows, MaxAge: e.opts.HotMaxAge}
	e.coldState.mu.Lock()
	for k, n := range e.coldState.dirty {
		t, ok := tables[k.storeID]
		if !ok || n <= 0 {
			continue
		}
		last, seen := e.coldState.lastSeen[k]
		if !seen {
			e.coldState.lastSeen[k] = now.Unix()
			last = now.Unix()
		}
		first, ok := e.coldState.firstWrite[k]
		if !ok {
			e.coldState.firstWrite[k] = now.Unix()
			first = now.Unix()
		}
		w := partitionWrites{Rows: n, SinceFlush: time.Duration(now.Unix()-last) * time.Second,
			OldestAge: time.Duration(now.Unix()-first) * time.Second}
		if flushDue(parseFlushPolicy(t.FlushPolicy), bounds, w) {
			todo = append(todo, due{t, k.user})
		}
	}
	e.coldState.mu.Unlock()
	for _, d := range todo {
		if _, _, err := e.submitTableJob(jobFlush, d.t, d.user); err != nil {
			e.log.Warn("schedule flush", "table", d.t.ID, "err", err)
		}
	}
}

// streamFloor is the smallest _seq still visible in a STREAM table.
func (e *Engine) streamFloor(t *catalog.TableDef) int64 {
	return idgen.FloorForTime(e.opts.Now().Add(-time.Duration(t.TTLSeconds) * time.Second))
}

// streamRowsExpire reports whether some STREAM table with a TTL has rows.
func (e *Engine) streamRowsExpire(ctx context.Context) bool {
	for _, t := range e.reg.tables("") {
		if t.Type != catalog.TableStream || t.TTLSeconds <= 0 {
			continue
		}
		if parts, err := e.hot.Partitions(ctx, t); err != nil || len(parts) > 0 {
			return true
		}
	}
	return false
}

// evictJob removes expired rows of every STREAM table.
func (e *Engine) evictJob(ctx context.Context, _ jobs.Job, _ func(string)) (string, error) {
	var total int64
	for _, t := range e.reg.tables("") {
		if t.Type != catalog.TableStream || t.TTLSeconds <= 0 {
			continue
		}
		n, err := e.hot.EvictBefore(ctx, t, e.streamFloor(t))
		if err != nil {
			return "", err
		}
		total += n
	}
	return fmt.Sprintf("%d expired rows evicted", total), nil
}

// storageFlush runs STORAGE FLUSH TABLE t | ALL [IN ns]: one job per table,
// returned as rows of job_id.
func (e *Engine) storageCommand(sub subject, kind jobs.Type, tables []*catalog.TableDef, explicit bool) (*Result, error) {
	if err := requireRole(sub, catalog.RoleService, "STORAGE FLUSH and STORAGE COMPACT"); err != nil {
		return nil, err
	}
	if e.jobs == nil {
		return nil, catalog.Errorf(catalog.KindUnavailable, "background jobs are not running")
	}
	rb := newRowsBuilder(jobIDSchema.schema)
	for _, t := range tables {
		if t.Type == catalog.TableStream {
			if explicit {
				return nil, catalog.Errorf(catalog.KindInvalid, "STREAM table %s is never flushed to storage", t.ID)
			}
			continue
		}
		id, _, err := e.submitTableJob(kind, t, "")
		if err != nil {
			return nil, err
		}
		rb.add(id, t.ID.String())
	}
	rec := rb.record()
	return recordsResult(rec.Schema(), []arrow.RecordBatch{rec}), nil
}
