package jobs

import (
	"cmp"
	"container/heap"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kalamdb/kalamdb-go/catalog"
)

// KV is the persistent metadata store (implemented by hotstore; every write
// durable).
type KV interface {
	// MetaGet returns the value stored at key and whether it exists.
	MetaGet(key []byte) ([]byte, bool, error)
	// MetaPut durably stores value at key.
	MetaPut(key, value []byte) error
	// MetaDelete durably removes key.
	MetaDelete(key []byte) error
	// MetaScan calls fn for every key with the given prefix, in key order.
	// The key and value slices are valid only during fn.
	MetaScan(prefix []byte, fn func(key, value []byte) error) error
}

// keyPrefix prefixes every job record's key.
const keyPrefix = "jobs/"

// jobKey returns the metadata key of job id.
func jobKey(id string) []byte { return []byte(keyPrefix + id) }

// interruptedMsg is the Error of a job found Running by Open.
const interruptedMsg = "interrupted by restart"

// killedMsg is the Error of a job cancelled by Kill.
const killedMsg = "cancelled by KILL JOB"

// Options configures Open.
type Options struct {
	// Workers is the number of jobs run at once (--max-jobs); <= 0 means
	// DefaultWorkers.
	Workers int
	// MaxRetries is the number of retries after a failed attempt; 0 means
	// DefaultMaxRetries and a negative value means no retries.
	MaxRetries int
	// BaseBackoff is the wait before the first retry, doubled for each
	// further retry and capped at MaxBackoff; <= 0 means
	// DefaultBaseBackoff.
	BaseBackoff time.Duration
	// NodeID is recorded in new jobs; "" means DefaultNodeID.
	NodeID string
	// Now is the clock for job timestamps; nil means time.Now.
	Now func() time.Time
	// Logger receives job failures and storage errors; nil discards.
	Logger *slog.Logger
}

// record is the manager's state for one job.
type record struct {
	// job is written with both smu and mu held; read under either.
	job Job
	// done is closed when the job finishes; never reassigned.
	done chan struct{}
	// cancel cancels the running attempt's context; nil unless running.
	// Guarded by smu, like killed and run.
	cancel context.CancelFunc
	// killed is set by Kill on a running job.
	killed bool
	// run counts attempts, so a stale progress callback is ignored.
	run uint64
}

// Manager runs and records background jobs. It is safe for concurrent
// use. Methods that fail return *catalog.Error values.
type Manager struct {
	kv          KV
	now         func() time.Time
	log         *slog.Logger
	workers     int
	maxRetries  int
	baseBackoff time.Duration
	nodeID      string

	// ctx is the parent of every attempt's context; cancelled by Close.
	ctx    context.Context
	cancel context.CancelFunc

	// smu serialises state changes: every change is written to the KV and
	// then, briefly under mu, published in jobs. It guards everything
	// below it except what mu guards. It is never held while an executor
	// runs.
	smu       sync.Mutex
	execs     map[Type]Executor
	active    map[string]string // idempotency key → id of an active job
	ready     []string          // ids waiting for a worker, FIFO
	retries   retryHeap         // Retrying jobs waiting for their backoff
	started   bool
	closed    bool
	wake      chan struct{} // buffered(1): work in ready
	retryWake chan struct{} // buffered(1): retries changed
	closing   chan struct{} // closed by Close
	stopped   chan struct{} // closed when Close has waited for everything

	// mu guards the jobs map (readers: Get, List, Wait).
	mu   sync.RWMutex
	jobs map[string]*record

	wg sync.WaitGroup
}

// Open loads the jobs stored in kv and returns a Manager that runs nothing
// until Start. Jobs found Running are marked Failed ("interrupted by
// restart"); for each one that is Idempotent a new Queued job with the same
// type, parameters and idempotency key is created (the interrupted record
// is kept as Failed, not re-queued). Queued and Retrying jobs are queued.
func Open(kv KV, opts Options) (*Manager, error) {
	if kv == nil {
		return nil, catalog.Errorf(catalog.KindInvalid, "jobs: nil KV")
	}
	m := &Manager{
		kv:          kv,
		now:         opts.Now,
		log:         opts.Logger,
		workers:     opts.Workers,
		maxRetries:  opts.MaxRetries,
		baseBackoff: opts.BaseBackoff,
		nodeID:      opts.NodeID,
		execs:       make(map[Type]Executor),
		active:      make(map[string]string),
		jobs:        make(map[string]*record),
		wake:        make(chan struct{}, 1),
		retryWake:   make(chan struct{}, 1),
		closing:     make(chan struct{}),
		stopped:     make(chan struct{}),
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	if m.workers <= 0 {
		m.workers = DefaultWorkers
	}
	switch {
	case m.maxRetries == 0:
		m.maxRetries = DefaultMaxRetries
	case m.maxRetries < 0:
		m.maxRetries = 0
	}
	if m.baseBackoff <= 0 {
		m.baseBackoff = DefaultBaseBackoff
	}
	if m.nodeID == "" {
		m.nodeID = DefaultNodeID
	}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	if err := m.load(); err != nil {
		m.cancel()
		return nil, err
	}
	return m, nil
}

// load reads every stored job and recovers interrupted ones (see Open).
func (m *Manager) load() error {
	var loaded []Job
	err := m.kv.MetaScan([]byte(keyPrefix), func(key, value []byte) error {
		var j Job
		if err := json.Unmarshal(value, &j); err != nil {
			m.log.Warn("jobs: skipping unreadable job record", "key", string(key), "err", err)
			return nil
		}
		if want := strings.TrimPrefix(string(key), keyPrefix); j.ID != want {
			m.log.Warn("jobs: skipping job record with mismatched id", "key", string(key), "job_id", j.ID)
			return nil
		}
		loaded = append(loaded, j)
		return nil
	})
	if err != nil {
		return catalog.WrapKind(catalog.KindInternal, err, "jobs: load jobs")
	}
	slices.SortFunc(loaded, compareJobs)

	m.smu.Lock()
	defer m.smu.Unlock()
	var redo []Job
	for _, j := range loaded {
		rec := &record{job: j, done: make(chan struct{})}
		m.jobs[j.ID] = rec
		switch {
		case j.Status == StatusRunning:
			f := j.clone()
			now := m.now()
			f.Status, f.Error, f.FinishedAt = StatusFailed, interruptedMsg, &now
			if err := m.commit(rec, f, false); err != nil {
				return err
			}
			m.log.Warn("jobs: job interrupted by restart", "job_id", j.ID, "type", j.Type, "idempotent", j.Idempotent)
			if j.Idempotent {
				redo = append(redo, j)
			}
		case j.Status.Finished():
			close(rec.done)
		default: // New, Queued, Retrying (or unknown): run it
			m.ready = append(m.ready, j.ID)
			if j.IdempotencyKey != "" {
				m.active[j.IdempotencyKey] = j.ID
			}
		}
	}
	for _, old := range redo {
		if old.IdempotencyKey != "" {
			if _, busy := m.active[old.IdempotencyKey]; busy {
				continue // already queued again by someone else
			}
		}
		id, err := m.enqueue(old.Type, old.Parameters, old.IdempotencyKey, true, "re-queued after restart; replaces "+old.ID)
		if err != nil {
			return err
		}
		m.log.Info("jobs: re-queued interrupted idempotent job", "job_id", id, "replaces", old.ID)
	}
	return nil
}

// compareJobs orders jobs by CreatedAt, then ID.
func compareJobs(a, b Job) int {
	if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
}

// Register sets the executor for jobs of type t, replacing any previous
// one. Call it before Start: a job whose type has no executor when a
// worker picks it up fails at once. It panics if t is unknown or exec is
// nil.
func (m *Manager) Register(t Type, exec Executor) {
	if !t.Valid() {
		panic(fmt.Sprintf("jobs: Register of unknown job type %q", t))
	}
	if exec == nil {
		panic("jobs: Register with nil executor")
	}
	m.smu.Lock()
	defer m.smu.Unlock()
	m.execs[t] = exec
}

// Start launches the worker pool and the retry dispatcher; they run until
// Close. Calling Start again, or after Close, does nothing.
func (m *Manager) Start() {
	m.smu.Lock()
	defer m.smu.Unlock()
	if m.started || m.closed {
		return
	}
	m.started = true
	m.wg.Add(m.workers + 1)
	for range m.workers {
		go m.worker()
	}
	go m.dispatch()
	if len(m.ready) > 0 {
		signal(m.wake)
	}
}

// Close cancels the contexts of running jobs and waits until every
// executor, worker, dispatcher and Every loop has returned. Jobs
// interrupted this way stay Running in the store and are recovered by the
// next Open (see the package documentation). Close is idempotent and
// always returns nil; afterwards Submit, Kill and Prune refuse to work.
func (m *Manager) Close() error {
	m.smu.Lock()
	if m.closed {
		m.smu.Unlock()
		<-m.stopped
		return nil
	}
	m.closed = true
	close(m.closing)
	m.cancel()
	m.smu.Unlock()
	m.wg.Wait()
	close(m.stopped)
	return nil
}

// Submit creates a Queued job of type t with a copy of params, unless
// idemKey is not empty and a job with that key is Queued, Running or
// Retrying: then it returns that job's id and existing=true. Idempotency
// keys are global, so callers should include the job type and target in
// them (e.g. "flush:ns.table"). idempotent marks the job as safe to redo
// from scratch after a restart.
func (m *Manager) Submit(t Type, params map[string]string, idemKey string, idempotent bool) (id string, existing bool, err error) {
	if !t.Valid() {
		return "", false, catalog.Errorf(catalog.KindInvalid, "unknown job type %q", t)
	}
	m.smu.Lock()
	defer m.smu.Unlock()
	if m.closed {
		return "", false, catalog.Errorf(catalog.KindUnavailable, "job manager is closed")
	}
	if idemKey != "" {
		if id, ok := m.active[idemKey]; ok {
			return id, true, nil
		}
	}
	id, err = m.enqueue(t, params, idemKey, idempotent, "")
	return id, false, err
}

// enqueue creates, persists and queues a new job. The caller holds smu.
func (m *Manager) enqueue(t Type, params map[string]string, idemKey string, idempotent bool, msg string) (string, error) {
	id := newID(t)
	for m.jobs[id] != nil {
		id = newID(t)
	}
	j := Job{
		ID:             id,
		Type:           t,
		Status:         StatusQueued,
		Message:        msg,
		IdempotencyKey: idemKey,
		MaxRetries:     m.maxRetries,
		CreatedAt:      m.now(),
		NodeID:         m.nodeID,
		Idempotent:     idempotent,
	}
	if len(params) > 0 {
		j.Parameters = make(map[string]string, len(params))
		for k, v := range params {
			j.Parameters[k] = v
		}
	}
	rec := &record{done: make(chan struct{})}
	if err := m.commit(rec, j, true); err != nil {
		return "", err
	}
	if idemKey != "" {
		m.active[idemKey] = id
	}
	m.ready = append(m.ready, id)
	signal(m.wake)
	return id, nil
}

// Kill cancels a job. A Queued or Retrying job becomes Cancelled at once;
// for a Running job Kill cancels the executor's context and returns, and
// the job becomes Cancelled when the executor returns. Killing a finished
// job is KindInvalid, an unknown one KindNotFound.
func (m *Manager) Kill(id string) error {
	m.smu.Lock()
	defer m.smu.Unlock()
	if m.closed {
		return catalog.Errorf(catalog.KindUnavailable, "job manager is closed")
	}
	rec := m.jobs[id]
	if rec == nil {
		return catalog.Errorf(catalog.KindNotFound, "job %s not found", id)
	}
	switch st := rec.job.Status; {
	case st.Finished():
		return catalog.Errorf(catalog.KindInvalid, "job %s already finished (%s)", id, st)
	case st == StatusRunning:
		if rec.cancel != nil && !rec.killed {
			rec.killed = true
			rec.cancel()
		}
		return nil
	default: // waiting in the ready queue or for a retry: dropped lazily
		j := rec.job.clone()
		now := m.now()
		j.Status, j.Error, j.FinishedAt = StatusCancelled, killedMsg, &now
		return m.commit(rec, j, false)
	}
}

// Get returns a copy of job id.
func (m *Manager) Get(id string) (Job, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	rec := m.jobs[id]
	if rec == nil {
		return Job{}, false
	}
	return rec.job.clone(), true
}

// List returns copies of all jobs sorted by CreatedAt, then ID.
func (m *Manager) List() []Job {
	m.mu.RLock()
	out := make([]Job, 0, len(m.jobs))
	for _, rec := range m.jobs {
		out = append(out, rec.job.clone())
	}
	m.mu.RUnlock()
	slices.SortFunc(out, compareJobs)
	return out
}

// Wait blocks until job id is Completed, Failed or Cancelled and returns
// it. It fails with KindNotFound for an unknown job, with KindCancelled or
// KindDeadline (wrapping ctx.Err()) when ctx ends first, and with
// KindUnavailable if the manager is closed while the job is unfinished; in
// those cases the job's current state is returned with the error.
func (m *Manager) Wait(ctx context.Context, id string) (Job, error) {
	m.mu.RLock()
	rec := m.jobs[id]
	m.mu.RUnlock()
	if rec == nil {
		return Job{}, catalog.Errorf(catalog.KindNotFound, "job %s not found", id)
	}
	select {
	case <-rec.done:
	case <-ctx.Done():
		kind := catalog.KindCancelled
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			kind = catalog.KindDeadline
		}
		return m.snapshot(rec), catalog.WrapKind(kind, ctx.Err(), "wait for job %s", id)
	case <-m.stopped:
		select {
		case <-rec.done:
		default:
			return m.snapshot(rec), catalog.Errorf(catalog.KindUnavailable, "job manager closed before job %s finished", id)
		}
	}
	return m.snapshot(rec), nil
}

// snapshot returns a copy of rec's job.
func (m *Manager) snapshot(rec *record) Job {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return rec.job.clone()
}

// Prune deletes finished jobs that finished (or, lacking FinishedAt, were
// created) before olderThan, from the store and from memory, and returns
// how many it deleted. A delete that fails is logged and the job kept.
// After Close it does nothing.
func (m *Manager) Prune(olderThan time.Time) int {
	m.smu.Lock()
	defer m.smu.Unlock()
	if m.closed {
		return 0
	}
	n := 0
	for id, rec := range m.jobs {
		j := rec.job
		if !j.Status.Finished() {
			continue
		}
		at := j.CreatedAt
		if j.FinishedAt != nil {
			at = *j.FinishedAt
		}
		if !at.Before(olderThan) {
			continue
		}
		if err := m.kv.MetaDelete(jobKey(id)); err != nil {
			m.log.Error("jobs: prune: delete job record", "job_id", id, "err", err)
			continue
		}
		m.mu.Lock()
		delete(m.jobs, id)
		m.mu.Unlock()
		n++
	}
	return n
}

// Every calls fn(now) every interval, with now from Options.Now, in a
// goroutine owned by the manager, until Close (which waits for a running
// fn to return). It works before Start; after Close it does nothing. A
// panic in fn is recovered and logged. It panics if interval <= 0.
func (m *Manager) Every(interval time.Duration, fn func(now time.Time)) {
	if interval <= 0 {
		panic("jobs: Every needs a positive interval")
	}
	m.smu.Lock()
	if m.closed {
		m.smu.Unlock()
		return
	}
	m.wg.Add(1)
	m.smu.Unlock()
	go func() {
		defer m.wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-m.closing:
				return
			case <-t.C:
				select {
				case <-m.closing:
					return
				default:
				}
				m.tick(fn)
			}
		}
	}()
}

// tick runs one call of an Every callback, recovering a panic.
func (m *Manager) tick(fn func(time.Time)) {
	defer func() {
		if r := recover(); r != nil {
			m.log.Error("jobs: periodic task panicked", "panic", r, "stack", string(debug.Stack()))
		}
	}()
	fn(m.now())
}

// commit persists j and then publishes it in rec (adding rec to jobs when
// isNew). When j is finished it also releases its idempotency key and
// wakes Wait. The caller holds smu. On a storage error nothing changes.
func (m *Manager) commit(rec *record, j Job, isNew bool) error {
	b, err := json.Marshal(j)
	if err != nil {
		return catalog.WrapKind(catalog.KindInternal, err, "jobs: encode job %s", j.ID)
	}
	if err := m.kv.MetaPut(jobKey(j.ID), b); err != nil {
		return catalog.WrapKind(catalog.KindInternal, err, "jobs: store job %s", j.ID)
	}
	m.publish(rec, j, isNew)
	return nil
}

// commitOrForce is commit for transitions that must happen even when the
// store fails (a worker cannot leave a job half-done): the error is logged
// and j is published anyway.
func (m *Manager) commitOrForce(rec *record, j Job) {
	if err := m.commit(rec, j, false); err != nil {
		m.log.Error("jobs: could not persist job state; continuing in memory", "job_id", j.ID, "status", j.Status, "err", err)
		m.publish(rec, j, false)
	}
}

// publish makes j visible. The caller holds smu.
func (m *Manager) publish(rec *record, j Job, isNew bool) {
	wasFinished := !isNew && rec.job.Status.Finished()
	m.mu.Lock()
	rec.job = j
	if isNew {
		m.jobs[j.ID] = rec
	}
	m.mu.Unlock()
	if !wasFinished && j.Status.Finished() {
		if k := j.IdempotencyKey; k != "" && m.active[k] == j.ID {
			delete(m.active, k)
		}
		close(rec.done)
	}
}

// signal does a non-blocking send on a buffered(1) channel.
func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// task is one attempt handed to a worker.
type task struct {
	rec  *record
	job  Job
	ctx  context.Context
	exec Executor
	run  uint64
}

// worker runs attempts until Close.
func (m *Manager) worker() {
	defer m.wg.Done()
	for {
		t, ok := m.take()
		if !ok {
			return
		}
		m.execute(t)
	}
}

// take waits for a runnable job, marks it Running and returns it; false
// once the manager is closing.
func (m *Manager) take() (task, bool) {
	for {
		m.smu.Lock()
		if m.closed {
			m.smu.Unlock()
			return task{}, false
		}
		for len(m.ready) > 0 {
			id := m.ready[0]
			m.ready[0] = ""
			m.ready = m.ready[1:]
			rec := m.jobs[id]
			if rec == nil || !rec.job.Status.waiting() {
				continue // killed or pruned while queued
			}
			j := rec.job.clone()
			now := m.now()
			j.Status, j.StartedAt, j.FinishedAt = StatusRunning, &now, nil
			if err := m.commit(rec, j, false); err != nil {
				m.log.Error("jobs: could not mark job running; failing it", "job_id", id, "err", err)
				f := rec.job.clone()
				f.Status, f.Error, f.FinishedAt = StatusFailed, err.Error(), &now
				m.commitOrForce(rec, f)
				continue
			}
			ctx, cancel := context.WithCancel(m.ctx)
			rec.cancel, rec.killed = cancel, false
			rec.run++
			t := task{rec: rec, job: j.clone(), ctx: ctx, exec: m.execs[j.Type], run: rec.run}
			if len(m.ready) > 0 {
				signal(m.wake) // let another idle worker take the next one
			}
			m.smu.Unlock()
			return t, true
		}
		m.smu.Unlock()
		select {
		case <-m.wake:
		case <-m.closing:
			return task{}, false
		}
	}
}

// execute runs one attempt (no lock held) and records its outcome.
func (m *Manager) execute(t task) {
	msg, err := m.call(t)

	m.smu.Lock()
	defer m.smu.Unlock()
	rec := t.rec
	rec.cancel()
	rec.cancel = nil
	j := rec.job.clone()
	now := m.now()
	switch {
	case rec.killed:
		j.Status, j.Error, j.FinishedAt = StatusCancelled, killedMsg, &now
		if msg != "" {
			j.Message = msg
		}
	case err == nil:
		j.Status, j.Error, j.FinishedAt = StatusCompleted, "", &now
		if msg != "" {
			j.Message = msg
		}
	case m.ctx.Err() != nil:
		// Close interrupted the attempt: leave the record Running so the
		// next Open treats it like a crash.
		m.log.Warn("jobs: job interrupted by shutdown", "job_id", j.ID, "err", err)
		return
	case errors.Is(err, ErrNoRetry) || j.RetryCount >= j.MaxRetries:
		j.Status, j.Error, j.FinishedAt = StatusFailed, err.Error(), &now
		m.log.Error("jobs: job failed", "job_id", j.ID, "type", j.Type, "retries", j.RetryCount, "err", err)
	default:
		j.Status, j.Error = StatusRetrying, err.Error()
		j.RetryCount++
		wait := backoff(m.baseBackoff, j.RetryCount)
		m.log.Warn("jobs: job failed; will retry", "job_id", j.ID, "type", j.Type, "retry", j.RetryCount, "backoff", wait, "err", err)
		m.commitOrForce(rec, j)
		heap.Push(&m.retries, retryItem{due: time.Now().Add(wait), id: j.ID})
		signal(m.retryWake)
		return
	}
	m.commitOrForce(rec, j)
}

// call runs the executor, turning a panic into an error.
func (m *Manager) call(t task) (msg string, err error) {
	defer func() {
		if r := recover(); r != nil {
			m.log.Error("jobs: executor panicked", "job_id", t.job.ID, "panic", r, "stack", string(debug.Stack()))
			msg, err = "", fmt.Errorf("executor panicked: %v", r)
		}
	}()
	if t.exec == nil {
		return "", fmt.Errorf("no executor registered for job type %q (%w)", t.job.Type, ErrNoRetry)
	}
	return t.exec(t.ctx, t.job, func(p string) { m.progress(t, p) })
}

// progress records an executor's progress message, ignoring calls from an
// attempt that is no longer current.
func (m *Manager) progress(t task, msg string) {
	m.smu.Lock()
	defer m.smu.Unlock()
	rec := t.rec
	if rec.run != t.run || rec.cancel == nil || rec.job.Status != StatusRunning {
		return
	}
	j := rec.job.clone()
	j.Message = msg
	if err := m.commit(rec, j, false); err != nil {
		m.log.Warn("jobs: could not record progress", "job_id", j.ID, "err", err)
	}
}

// dispatch moves Retrying jobs whose backoff has elapsed to the ready
// queue, until Close.
func (m *Manager) dispatch() {
	defer m.wg.Done()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		m.smu.Lock()
		now := time.Now()
		moved := false
		for m.retries.Len() > 0 && !m.retries[0].due.After(now) {
			it := heap.Pop(&m.retries).(retryItem)
			if rec := m.jobs[it.id]; rec != nil && rec.job.Status == StatusRetrying {
				m.ready = append(m.ready, it.id)
				moved = true
			}
		}
		next := time.Duration(-1)
		if m.retries.Len() > 0 {
			next = m.retries[0].due.Sub(now)
		}
		m.smu.Unlock()
		if moved {
			signal(m.wake)
		}
		if next >= 0 {
			timer.Reset(next)
		}
		select {
		case <-timer.C:
		case <-m.retryWake:
		case <-m.closing:
			return
		}
		timer.Stop()
	}
}

// retryItem is a Retrying job due to run again at due.
type retryItem struct {
	due time.Time
	id  string
}

// retryHeap is a min-heap of retryItems by due time.
type retryHeap []retryItem

func (h retryHeap) Len() int           { return len(h) }
func (h retryHeap) Less(i, j int) bool { return h[i].due.Before(h[j].due) }
func (h retryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }

// Push implements heap.Interface.
func (h *retryHeap) Push(x any) { *h = append(*h, x.(retryItem)) }

// Pop implements heap.Interface.
func (h *retryHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	*h = old[:len(old)-1]
	return it
}
