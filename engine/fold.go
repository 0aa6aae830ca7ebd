//go:build duckdb_arrow

package engine

import (
	"context"
	"sync"
	"time"

	"github.com/kalamdb/kalamdb-go/catalog"
)

// foldMinRows is the fewest merged rows that make a partition a fold
// candidate: below it the merge is cheap and a rewrite is not worth it.
const foldMinRows = 10_000

// folds tracks partitions whose queries pay for merging many hot row
// versions into their segments (after a bulk UPDATE of flushed rows, say).
// Every query over such a partition probes all its segment rows against the
// hot keys, which costs about as much as reading the segments again. Once the
// partition has gone without writes for the quiet period, a fold job flushes
// its hot versions and compacts the segments into one, after which queries
// read a single segment with no merge at all. Waiting for quiet keeps a
// partition under a stream of writes from being rewritten over and over.
type folds struct {
	mu    sync.Mutex
	cands map[partKey]*foldCand
}

type foldCand struct {
	table     *catalog.TableDef
	lastWrite time.Time
}

func newFolds() *folds { return &folds{cands: map[partKey]*foldCand{}} }

// wantsFold reports whether a partition's query merge is heavy enough to
// fold: at least foldMinRows merged rows and FoldPercent of its cold rows.
func (e *Engine) wantsFold(t *catalog.TableDef, mergeRows, coldRows int64) bool {
	return e.opts.FoldPercent > 0 && t.Type != catalog.TableStream && e.jobs != nil &&
		mergeRows >= foldMinRows && mergeRows*100 >= coldRows*int64(e.opts.FoldPercent)
}

// noteFoldCandidate records a partition a query found heavy to merge. The
// quiet period counts from now: the writes that made it heavy were recent.
func (e *Engine) noteFoldCandidate(t *catalog.TableDef, user catalog.UserID) {
	k := partKey{t.StoreID, user}
	e.folds.mu.Lock()
	defer e.folds.mu.Unlock()
	if c, ok := e.folds.cands[k]; ok {
		c.table = t
		return
	}
	e.folds.cands[k] = &foldCand{table: t, lastWrite: e.opts.Now()}
}

// noteFoldWrite restarts a candidate's quiet period (every write commit).
func (e *Engine) noteFoldWrite(k partKey) {
	e.folds.mu.Lock()
	if c, ok := e.folds.cands[k]; ok {
		c.lastWrite = e.opts.Now()
	}
	e.folds.mu.Unlock()
}

// foldTick queues a fold for every candidate quiet for FoldQuiet.
func (e *Engine) foldTick(now time.Time) {
	type due struct {
		t    *catalog.TableDef
		user catalog.UserID
	}
	var todo []due
	e.folds.mu.Lock()
	for k, c := range e.folds.cands {
		if cur, ok := e.reg.table(c.table.ID); !ok || cur.StoreID != k.storeID {
			delete(e.folds.cands, k) // dropped (and perhaps re-created) since
			continue
		}
		if now.Sub(c.lastWrite) >= e.opts.FoldQuiet {
			todo = append(todo, due{c.table, k.user})
			delete(e.folds.cands, k)
		}
	}
	e.folds.mu.Unlock()
	for _, d := range todo {
		if _, _, err := e.submitTableJob(jobCompact, d.t, d.user, "fold"); err != nil {
			e.log.Warn("schedule fold", "table", d.t.ID, "err", err)
		}
	}
}

// foldPartition flushes a partition's hot versions and compacts its
// segments into one: a compaction job with the "fold" parameter. Each step
// is atomic on its own; a crash between them leaves an extra segment that
// the next compaction merges.
func (e *Engine) foldPartition(ctx context.Context, t *catalog.TableDef, user catalog.UserID) (int64, error) {
	if _, err := e.flushPartition(ctx, t, user); err != nil {
		return 0, err
	}
	return e.compactPartition(ctx, t, user)
}
