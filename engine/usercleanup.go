//go:build duckdb_arrow

package engine

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/kalamdb/kalamdb-go/auth"
	"github.com/kalamdb/kalamdb-go/catalog"
	"github.com/kalamdb/kalamdb-go/coldstore"
	"github.com/kalamdb/kalamdb-go/hotstore"
	"github.com/kalamdb/kalamdb-go/jobs"
)

// Rows belong to an account, not to a name: USER and STREAM partitions are
// keyed by the user name, so before a dropped user's name may be given to
// a new account, every row version, manifest and segment of the dropped
// user is removed. DROP USER marks the account dropped (auth keeps the
// name reserved) and queues a user cleanup job (UC-…); the job removes the
// data and then tells auth (MarkPurged), which frees the name. CREATE USER
// of a reserved name waits for that job, or fails with KindUnavailable.
//
// The job is persisted and idempotent: interrupted, it is re-queued after a
// restart, and every step may run again. Its parameters name the drop it
// cleans up after (user and deleted_at), so a stale job never touches a
// later account of the same name.

// jobUserCleanup is the job type of a user cleanup.
const jobUserCleanup = jobs.TypeUserCleanup

const (
	// userCleanupWait bounds how long CREATE USER waits for the cleanup
	// of a former account of the same name.
	userCleanupWait = 10 * time.Second
	// userCleanupPasses bounds the passes of one attempt: a pass removes
	// what a flush or an in-flight write committed during the previous
	// one; the job retries (with backoff) after that many.
	userCleanupPasses = 8
	// userCleanupBatch is how many row versions one hot-store commit
	// removes.
	userCleanupBatch = 64 * 1024
)

// accountPurger is what the user cleanup needs from the account store
// beyond Users (implemented by *auth.Service). Methods are safe for
// concurrent use.
type accountPurger interface {
	// PendingPurge returns a dropped user whose data is not removed yet.
	PendingPurge(id catalog.UserID) (auth.User, bool)
	// MarkPurged records that the data of the user dropped at deletedAt
	// is removed, which frees its name.
	MarkPurged(id catalog.UserID, deletedAt time.Time) error
}

// jobWaiter waits until a job has finished (implemented by *jobs.Manager).
type jobWaiter interface {
	Wait(ctx context.Context, id string) (jobs.Job, error)
}

var (
	_ accountPurger = (*auth.Service)(nil)
	_ jobWaiter     = (*jobs.Manager)(nil)
)

// errScanFull stops a ScanVersions once a batch of versions is collected.
var errScanFull = errors.New("scan batch full")

// purger returns the account store's purge methods, if it has them (a
// Users without them keeps the former behaviour: no cleanup).
func (e *Engine) purger() (accountPurger, bool) {
	p, ok := e.users.(accountPurger)
	return p, ok
}

// ResumeUserCleanups queues a cleanup job for every dropped user whose data
// has not been removed: those interrupted by a restart (their re-queued
// jobs would otherwise find no executor), and users dropped before user
// cleanup existed. Call it after Start, before the job manager starts.
func (e *Engine) ResumeUserCleanups(ctx context.Context) error {
	if _, ok := e.purger(); !ok {
		return nil
	}
	var errs []error
	for _, u := range e.users.ListUsers() {
		if !u.PurgePending() {
			continue
		}
		if _, err := e.scheduleUserCleanup(ctx, u.ID); err != nil {
			errs = append(errs, fmt.Errorf("resume cleanup of user %s: %w", u.ID, err))
		}
	}
	return errors.Join(errs...)
}

// scheduleUserCleanup queues the cleanup of dropped user id and returns the
// job's id ("" when there is nothing to clean up). Without a job manager
// it removes the data at once.
func (e *Engine) scheduleUserCleanup(ctx context.Context, id catalog.UserID) (string, error) {
	p, ok := e.purger()
	if !ok {
		return "", nil
	}
	u, ok := p.PendingPurge(id)
	if !ok {
		return "", nil
	}
	if e.jobs == nil {
		if _, err := e.purgeUser(ctx, u.ID); err != nil {
			return "", err
		}
		return "", p.MarkPurged(u.ID, *u.DeletedAt)
	}
	// Registering again only replaces the executor; doing it here, not
	// only in Start, lets a cleanup re-queued at start find it.
	e.jobs.Register(jobUserCleanup, e.userCleanupJob)
	dropped := u.DeletedAt.UTC().Format(time.RFC3339Nano)
	params := map[string]string{"user": string(u.ID), "deleted_at": dropped}
	job, _, err := e.jobs.Submit(jobUserCleanup, params, userCleanupKey(u.ID, *u.DeletedAt), true)
	return job, err
}

// awaitUserCleanup returns once no dropped account named id awaits its
// cleanup: it (re)queues the cleanup and waits up to userCleanupWait for
// it, then fails with KindUnavailable if the name is still reserved.
func (e *Engine) awaitUserCleanup(ctx context.Context, id catalog.UserID) error {
	p, ok := e.purger()
	if !ok {
		return nil
	}
	if _, pending := p.PendingPurge(id); !pending {
		return nil
	}
	job, err := e.scheduleUserCleanup(ctx, id)
	if err != nil {
		return fmt.Errorf("remove data of dropped user %s: %w", id, err)
	}
	var failure string
	if w, ok := e.jobs.(jobWaiter); ok && job != "" {
		wctx, cancel := context.WithTimeout(ctx, userCleanupWait)
		j, err := w.Wait(wctx, job)
		cancel()
		if err == nil && j.Error != "" {
			failure = ": " + j.Error
		}
	}
	if _, pending := p.PendingPurge(id); pending {
		return catalog.Errorf(catalog.KindUnavailable, "user %s is still being removed (job %s%s); retry", id, job, failure)
	}
	return nil
}

// userCleanupJob is the executor of user cleanup jobs, over the parameters
// {user, deleted_at}.
func (e *Engine) userCleanupJob(ctx context.Context, j jobs.Job, progress func(string)) (string, error) {
	id := catalog.UserID(j.Parameters["user"])
	dropped, err := time.Parse(time.RFC3339Nano, j.Parameters["deleted_at"])
	if err != nil || id == "" {
		return "", fmt.Errorf("%w: bad user cleanup parameters %v", jobs.ErrNoRetry, j.Parameters)
	}
	p, ok := e.purger()
	if !ok {
		return "", fmt.Errorf("%w: the account store cannot record a cleanup", jobs.ErrNoRetry)
	}
	u, pending := p.PendingPurge(id)
	if !pending || !u.DeletedAt.Equal(dropped) {
		return fmt.Sprintf("nothing to remove: user %s dropped at %s is already cleaned up", id, j.Parameters["deleted_at"]), nil
	}
	e.failpoint("user-cleanup-start")
	st, err := e.purgeUser(ctx, id)
	if err != nil {
		return "", err
	}
	progress(fmt.Sprintf("%d row versions and %d segments removed", st.rows, st.segments))
	e.failpoint("user-cleanup-before-release")
	if err := p.MarkPurged(id, dropped); err != nil {
		return "", fmt.Errorf("release name of user %s: %w", id, err)
	}
	return fmt.Sprintf("%d row versions and %d segments of user %s removed", st.rows, st.segments, id), nil
}

// purgeStats counts what a purge removed.
type purgeStats struct {
	rows     int64
	segments int
}

// purgeUser removes every row version, manifest and segment of user id in
// every USER and STREAM table. It repeats until a pass finds nothing while
// no flush or compaction that could commit the user's rows was running
// (such a job may have read rows before the pass and commit them after
// it), at most userCleanupPasses times.
func (e *Engine) purgeUser(ctx context.Context, id catalog.UserID) (purgeStats, error) {
	var total purgeStats
	wait := 25 * time.Millisecond
	for pass := 1; ; pass++ {
		busy := e.partitionJobsRunning(id)
		st, err := e.purgePass(ctx, id)
		total.rows += st.rows
		total.segments += st.segments
		if err != nil {
			return total, err
		}
		if st == (purgeStats{}) && !busy {
			return total, nil
		}
		if pass == userCleanupPasses {
			return total, fmt.Errorf("remove data of user %s: still changing after %d passes", id, pass)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return total, ctx.Err()
		case <-t.C:
		}
		wait = min(2*wait, time.Second)
	}
}

// partitionJobsRunning reports whether a flush or compaction that may
// cover user id's partitions is running.
func (e *Engine) partitionJobsRunning(id catalog.UserID) bool {
	if e.jobs == nil {
		return false
	}
	for _, j := range e.jobs.List() {
		if j.Status != jobs.StatusRunning || (j.Type != jobFlush && j.Type != jobCompact) {
			continue
		}
		if u, one := j.Parameters["user"]; !one || catalog.UserID(u) == id {
			return true
		}
	}
	return false
}

// purgePass removes user id's data from every per-user table once.
func (e *Engine) purgePass(ctx context.Context, id catalog.UserID) (purgeStats, error) {
	var st purgeStats
	for _, t := range e.reg.tables("") {
		if !t.Type.PerUser() {
			continue
		}
		k := partKey{t.StoreID, id}
		// The partition lock orders this with flush and compaction
		// commits; the cache bump makes queries reload the partition.
		l := e.coldState.lock(k)
		l.Lock()
		rows, err := e.purgeHot(ctx, t, id)
		var segs []coldstore.Segment
		if err == nil {
			segs, err = e.purgeManifest(t, id)
		}
		e.bumpPartition(t.StoreID, id)
		l.Unlock()
		if err != nil {
			return st, fmt.Errorf("remove data of user %s in %s: %w", id, t.ID, err)
		}
		if len(segs) > 0 && e.cold != nil {
			e.retire(segs)
		}
		e.forgetPartition(k)
		st.rows += rows
		st.segments += len(segs)
	}
	return st, nil
}

// purgeHot deletes every hot row version (live rows and tombstones) of
// user's partition of t, userCleanupBatch versions per synced commit, and
// returns how many it deleted.
func (e *Engine) purgeHot(ctx context.Context, t *catalog.TableDef, user catalog.UserID) (int64, error) {
	var total int64
	for {
		keys, seqs, err := e.collectVersions(ctx, t, user)
		if err != nil {
			return total, err
		}
		if len(seqs) == 0 {
			return total, nil
		}
		n, err := e.hot.CommitFlush(ctx, t, user, keys, seqs, nil)
		keys.Release()
		if err != nil {
			return total, err
		}
		if n == 0 {
			return total, fmt.Errorf("delete rows of %s/%s: %d row versions could not be deleted", t.ID, user, len(seqs))
		}
		total += n
	}
}

// collectVersions returns the keys (primary key, or _seq for a table
// without one) and _seq of up to userCleanupBatch row versions of user's
// partition of t. The caller releases keys.
func (e *Engine) collectVersions(ctx context.Context, t *catalog.TableDef, user catalog.UserID) (arrow.Array, []int64, error) {
	seqCol := len(t.Columns)
	keyCol := t.PrimaryKeyIndex()
	if keyCol < 0 {
		keyCol = seqCol
	}
	var parts []arrow.Array
	defer func() {
		for _, a := range parts {
			a.Release()
		}
	}()
	var seqs []int64
	err := e.hot.ScanVersions(ctx, t, user, hotstore.ScanOptions{}, func(rec arrow.RecordBatch) error {
		k := rec.Column(keyCol)
		k.Retain()
		parts = append(parts, k)
		seqs = append(seqs, rec.Column(seqCol).(*array.Int64).Int64Values()...)
		if len(seqs) >= userCleanupBatch {
			return errScanFull
		}
		return nil
	})
	if err != nil && !errors.Is(err, errScanFull) {
		return nil, nil, fmt.Errorf("scan rows of %s/%s: %w", t.ID, user, err)
	}
	if len(seqs) == 0 {
		return nil, nil, nil
	}
	keys, err := array.Concatenate(parts, memory.DefaultAllocator)
	if err != nil {
		return nil, nil, fmt.Errorf("scan rows of %s/%s: %w", t.ID, user, err)
	}
	return keys, seqs, nil
}

// purgeManifest deletes user's manifest of t and returns the segments it
// listed, for the caller to retire. An unreadable manifest is deleted all
// the same: its files become orphans, removed at the next start.
func (e *Engine) purgeManifest(t *catalog.TableDef, user catalog.UserID) ([]coldstore.Segment, error) {
	key := []byte(manifestKey(t.StoreID, user))
	_, ok, err := e.hot.MetaGet(key)
	if err != nil || !ok {
		return nil, err
	}
	man, merr := e.manifest(t, user)
	if merr != nil {
		e.log.Warn("drop unreadable manifest of a dropped user", "table", t.ID, "user", user, "err", merr)
	}
	if err := e.hot.MetaDelete(key); err != nil {
		return nil, fmt.Errorf("delete manifest of %s/%s: %w", t.ID, user, err)
	}
	return man.Segments, nil
}

// userCleanupKey is the idempotency key of the cleanup after the drop of
// user id at dropped: one job per drop, so that a job still running for an
// earlier drop of the name never stands in for a later one.
func userCleanupKey(id catalog.UserID, dropped time.Time) string {
	return string(jobUserCleanup) + ":" + string(id) + "@" + strconv.FormatInt(dropped.UnixNano(), 10)
}
