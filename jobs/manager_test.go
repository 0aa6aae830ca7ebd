package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kalamdb/kalamdb-go/catalog"
)

// memKV is an in-memory KV.
type memKV struct {
	mu      sync.Mutex
	m       map[string][]byte
	failPut atomic.Bool
}

func newMemKV() *memKV { return &memKV{m: map[string][]byte{}} }

func (k *memKV) MetaGet(key []byte) ([]byte, bool, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	v, ok := k.m[string(key)]
	return slices.Clone(v), ok, nil
}

func (k *memKV) MetaPut(key, value []byte) error {
	if k.failPut.Load() {
		return errors.New("disk full")
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.m[string(key)] = slices.Clone(value)
	return nil
}

func (k *memKV) MetaDelete(key []byte) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.m, string(key))
	return nil
}

func (k *memKV) MetaScan(prefix []byte, fn func(key, value []byte) error) error {
	k.mu.Lock()
	keys := slices.Sorted(maps.Keys(k.m))
	snap := maps.Clone(k.m)
	k.mu.Unlock()
	for _, key := range keys {
		if !strings.HasPrefix(key, string(prefix)) {
			continue
		}
		if err := fn([]byte(key), snap[key]); err != nil {
			return err
		}
	}
	return nil
}

// snapshot copies the store, as a crash would leave it.
func (k *memKV) snapshot() *memKV {
	k.mu.Lock()
	defer k.mu.Unlock()
	return &memKV{m: maps.Clone(k.m)}
}

// stored decodes job id from the store.
func (k *memKV) stored(t *testing.T, id string) (Job, bool) {
	t.Helper()
	v, ok, err := k.MetaGet(jobKey(id))
	require.NoError(t, err)
	if !ok {
		return Job{}, false
	}
	var j Job
	require.NoError(t, json.Unmarshal(v, &j))
	return j, true
}

// stepClock is a clock advancing one second per reading.
type stepClock struct {
	mu sync.Mutex
	t  time.Time
}

func newStepClock() *stepClock {
	return &stepClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second)
	return c.t
}

// open opens a manager on kv with fast defaults and closes it at cleanup.
func open(t *testing.T, kv KV, opts Options) *Manager {
	t.Helper()
	if opts.BaseBackoff == 0 {
		opts.BaseBackoff = time.Millisecond
	}
	if opts.Now == nil {
		opts.Now = newStepClock().Now
	}
	m, err := Open(kv, opts)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, m.Close()) })
	return m
}

// wait waits (at most 10s) for job id to finish.
func wait(t *testing.T, m *Manager, id string) Job {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	j, err := m.Wait(ctx, id)
	require.NoError(t, err)
	return j
}

// eventually waits for cond to hold.
func eventually(t *testing.T, cond func() bool, what string) {
	t.Helper()
	require.Eventually(t, cond, 10*time.Second, time.Millisecond, what)
}

// statusIs reports whether job id is in status s.
func statusIs(m *Manager, id string, s Status) func() bool {
	return func() bool {
		j, ok := m.Get(id)
		return ok && j.Status == s
	}
}

// ok is an executor that succeeds at once.
func ok(context.Context, Job, func(string)) (string, error) { return "done", nil }

var idRe = regexp.MustCompile(`^[A-Z]{2}-[0-9a-f]{12}$`)

func TestTypesAndIDs(t *testing.T) {
	want := map[Type]string{
		TypeFlush: "FL-", TypeCompaction: "CO-", TypeRetention: "RT-", TypeStreamEviction: "SE-",
		TypeCleanup: "CL-", TypeUserCleanup: "UC-", TypeBackup: "BK-", TypeRestore: "RS-",
	}
	require.Len(t, Types(), len(want))
	for _, typ := range Types() {
		t.Run(string(typ), func(t *testing.T) {
			assert.True(t, typ.Valid())
			assert.Equal(t, want[typ], typ.Prefix())
			id := newID(typ)
			assert.Regexp(t, idRe, id)
			assert.True(t, strings.HasPrefix(id, want[typ]))
			got, ok := TypeOfID(id)
			assert.True(t, ok)
			assert.Equal(t, typ, got)
		})
	}
	assert.False(t, Type("vacuum").Valid())
	assert.Equal(t, "", Type("vacuum").Prefix())
	_, found := TypeOfID("XX-000000000000")
	assert.False(t, found)
	_, found = TypeOfID("nodash")
	assert.False(t, found)
}

func TestStatus(t *testing.T) {
	tests := []struct {
		s                Status
		finished, active bool
	}{
		{StatusNew, false, true},
		{StatusQueued, false, true},
		{StatusRunning, false, true},
		{StatusRetrying, false, true},
		{StatusCompleted, true, false},
		{StatusFailed, true, false},
		{StatusCancelled, true, false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.finished, tt.s.Finished(), tt.s)
		assert.Equal(t, tt.active, tt.s.Active(), tt.s)
	}
}

func TestBackoff(t *testing.T) {
	tests := []struct {
		base time.Duration
		n    int
		want time.Duration
	}{
		{time.Second, 1, time.Second},
		{time.Second, 2, 2 * time.Second},
		{time.Second, 3, 4 * time.Second},
		{time.Second, 6, 32 * time.Second},
		{time.Second, 7, time.Minute},
		{time.Second, 1000, time.Minute},
		{2 * time.Minute, 1, time.Minute},
		{time.Millisecond, 2, 2 * time.Millisecond},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, backoff(tt.base, tt.n), "base %v retry %d", tt.base, tt.n)
	}
}

func TestJobJSON(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	j := Job{ID: "FL-0123456789ab", Type: TypeFlush, Status: StatusCompleted, Parameters: map[string]string{"table": "t"},
		Message: "m", Error: "e", IdempotencyKey: "k", RetryCount: 1, MaxRetries: 3, CreatedAt: now,
		StartedAt: &now, FinishedAt: &now, NodeID: "node-1", Idempotent: true}
	b, err := json.Marshal(j)
	require.NoError(t, err)
	var fields map[string]any
	require.NoError(t, json.Unmarshal(b, &fields))
	for _, k := range []string{"job_id", "job_type", "status", "parameters", "message", "error", "idempotency_key",
		"retry_count", "max_retries", "created_at", "started_at", "finished_at", "node_id", "idempotent"} {
		assert.Contains(t, fields, k)
	}
	assert.Len(t, fields, 14)
	var back Job
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, j, back)
}

func TestOpenValidation(t *testing.T) {
	_, err := Open(nil, Options{})
	require.Error(t, err)
	assert.Equal(t, catalog.KindInvalid, catalog.KindOf(err))

	m := open(t, newMemKV(), Options{})
	assert.Panics(t, func() { m.Register("vacuum", ok) })
	assert.Panics(t, func() { m.Register(TypeFlush, nil) })
	assert.Panics(t, func() { m.Every(0, func(time.Time) {}) })
	_, _, err = m.Submit("vacuum", nil, "", false)
	assert.Equal(t, catalog.KindInvalid, catalog.KindOf(err))
}

func TestSubmitExecuteComplete(t *testing.T) {
	kv := newMemKV()
	m := open(t, kv, Options{NodeID: "node-7"})
	var got Job
	m.Register(TypeFlush, func(ctx context.Context, j Job, progress func(string)) (string, error) {
		got = j
		progress("halfway")
		return "flushed 10 rows", nil
	})
	m.Start()

	params := map[string]string{"table": "app.messages"}
	id, existing, err := m.Submit(TypeFlush, params, "flush:app.messages", false)
	require.NoError(t, err)
	assert.False(t, existing)
	assert.Regexp(t, `^FL-[0-9a-f]{12}$`, id)
	params["table"] = "mutated" // the job keeps its own copy

	j := wait(t, m, id)
	assert.Equal(t, StatusCompleted, j.Status)
	assert.Equal(t, "flushed 10 rows", j.Message)
	assert.Empty(t, j.Error)
	assert.Equal(t, "app.messages", j.Parameters["table"])
	assert.Equal(t, "node-7", j.NodeID)
	assert.Equal(t, DefaultMaxRetries, j.MaxRetries)
	require.NotNil(t, j.StartedAt)
	require.NotNil(t, j.FinishedAt)
	assert.True(t, j.CreatedAt.Before(*j.StartedAt))
	assert.True(t, j.StartedAt.Before(*j.FinishedAt))

	assert.Equal(t, StatusRunning, got.Status, "executor sees the Running record")
	assert.Equal(t, id, got.ID)

	stored, found := kv.stored(t, id)
	require.True(t, found)
	assert.Equal(t, StatusCompleted, stored.Status)
	assert.Equal(t, j.Message, stored.Message)
	assert.True(t, j.FinishedAt.Equal(*stored.FinishedAt))
}

func TestGetListCopies(t *testing.T) {
	m := open(t, newMemKV(), Options{})
	var ids []string
	for _, typ := range []Type{TypeBackup, TypeFlush, TypeRestore} {
		id, _, err := m.Submit(typ, map[string]string{"k": "v"}, "", false)
		require.NoError(t, err)
		ids = append(ids, id)
	}
	list := m.List()
	require.Len(t, list, 3)
	for i, j := range list {
		assert.Equal(t, ids[i], j.ID, "sorted by CreatedAt")
		assert.Equal(t, StatusQueued, j.Status)
	}
	j, found := m.Get(ids[0])
	require.True(t, found)
	j.Parameters["k"] = "changed"
	j2, _ := m.Get(ids[0])
	assert.Equal(t, "v", j2.Parameters["k"])
	_, found = m.Get("FL-000000000000")
	assert.False(t, found)
}

func TestListTieBreaksOnID(t *testing.T) {
	fixed := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	m := open(t, newMemKV(), Options{Now: func() time.Time { return fixed }})
	for range 10 {
		_, _, err := m.Submit(TypeCompaction, nil, "", false)
		require.NoError(t, err)
	}
	list := m.List()
	assert.True(t, slices.IsSortedFunc(list, func(a, b Job) int { return strings.Compare(a.ID, b.ID) }))
}

func TestIdempotency(t *testing.T) {
	m := open(t, newMemKV(), Options{})
	release := make(chan struct{})
	started := make(chan string, 10)
	m.Register(TypeFlush, func(ctx context.Context, j Job, _ func(string)) (string, error) {
		started <- j.ID
		<-release
		return "", nil
	})

	// Queued (not started yet).
	id1, existing, err := m.Submit(TypeFlush, nil, "flush:t", true)
	require.NoError(t, err)
	require.False(t, existing)
	id, existing, err := m.Submit(TypeFlush, nil, "flush:t", true)
	require.NoError(t, err)
	assert.True(t, existing)
	assert.Equal(t, id1, id)

	// A different key, and no key, never deduplicate.
	other, existing, err := m.Submit(TypeFlush, nil, "flush:u", true)
	require.NoError(t, err)
	assert.False(t, existing)
	assert.NotEqual(t, id1, other)
	a, _, _ := m.Submit(TypeFlush, nil, "", true)
	b, _, _ := m.Submit(TypeFlush, nil, "", true)
	assert.NotEqual(t, a, b)

	// Running.
	m.Start()
	for {
		if <-started == id1 {
			break
		}
	}
	require.True(t, statusIs(m, id1, StatusRunning)())
	id, existing, err = m.Submit(TypeFlush, nil, "flush:t", true)
	require.NoError(t, err)
	assert.True(t, existing)
	assert.Equal(t, id1, id)

	// Finished: a new job.
	close(release)
	assert.Equal(t, StatusCompleted, wait(t, m, id1).Status)
	id2, existing, err := m.Submit(TypeFlush, nil, "flush:t", true)
	require.NoError(t, err)
	assert.False(t, existing)
	assert.NotEqual(t, id1, id2)
	assert.Equal(t, StatusCompleted, wait(t, m, id2).Status)
}

func TestIdempotencyWhileRetrying(t *testing.T) {
	m := open(t, newMemKV(), Options{BaseBackoff: time.Hour})
	m.Register(TypeRetention, func(context.Context, Job, func(string)) (string, error) {
		return "", errors.New("transient")
	})
	m.Start()
	id, _, err := m.Submit(TypeRetention, nil, "ret:t", false)
	require.NoError(t, err)
	eventually(t, statusIs(m, id, StatusRetrying), "retrying")
	again, existing, err := m.Submit(TypeRetention, nil, "ret:t", false)
	require.NoError(t, err)
	assert.True(t, existing)
	assert.Equal(t, id, again)
}

func TestFailures(t *testing.T) {
	errBoom := errors.New("boom")
	tests := []struct {
		name        string
		maxRetries  int
		failures    int   // attempts that fail before success (-1: always)
		failErr     error // what a failing attempt returns
		panics      bool
		wantStatus  Status
		wantRetries int
		wantCalls   int
		wantError   string
	}{
		{"retry then success", 3, 2, errBoom, false, StatusCompleted, 2, 3, ""},
		{"retries exhausted", 3, -1, errBoom, false, StatusFailed, 3, 4, "boom"},
		{"no retries configured", -1, -1, errBoom, false, StatusFailed, 0, 1, "boom"},
		{"ErrNoRetry fails at once", 3, -1, fmt.Errorf("table gone: %w", ErrNoRetry), false, StatusFailed, 0, 1, "table gone: not retryable"},
		{"panic then success", 3, 1, nil, true, StatusCompleted, 1, 2, ""},
		{"panic always", 2, -1, nil, true, StatusFailed, 2, 3, "executor panicked: kaboom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kv := newMemKV()
			m := open(t, kv, Options{MaxRetries: tt.maxRetries})
			var calls atomic.Int32
			var sawRetrying atomic.Bool
			m.Register(TypeCompaction, func(ctx context.Context, j Job, _ func(string)) (string, error) {
				n := int(calls.Add(1))
				if n > 1 && j.RetryCount == n-1 {
					sawRetrying.Store(true)
				}
				if tt.failures < 0 || n <= tt.failures {
					if tt.panics {
						panic("kaboom")
					}
					return "", tt.failErr
				}
				return "ok", nil
			})
			m.Start()
			id, _, err := m.Submit(TypeCompaction, nil, "", false)
			require.NoError(t, err)
			j := wait(t, m, id)
			assert.Equal(t, tt.wantStatus, j.Status)
			assert.Equal(t, tt.wantRetries, j.RetryCount)
			assert.Equal(t, tt.wantCalls, int(calls.Load()))
			if tt.wantError != "" {
				assert.Equal(t, tt.wantError, j.Error)
			} else {
				assert.Empty(t, j.Error)
			}
			if tt.wantCalls > 1 {
				assert.True(t, sawRetrying.Load(), "each attempt sees the incremented RetryCount")
			}
			require.NotNil(t, j.FinishedAt)
			stored, _ := kv.stored(t, id)
			assert.Equal(t, tt.wantStatus, stored.Status)
			assert.Equal(t, tt.wantRetries, stored.RetryCount)
		})
	}
}

func TestUnregisteredTypeFails(t *testing.T) {
	m := open(t, newMemKV(), Options{})
	m.Start()
	id, _, err := m.Submit(TypeBackup, nil, "", false)
	require.NoError(t, err)
	j := wait(t, m, id)
	assert.Equal(t, StatusFailed, j.Status)
	assert.Equal(t, 0, j.RetryCount)
	assert.Contains(t, j.Error, "no executor registered")
}

// TestBackoffTiming checks, on synctest's fake clock, that retries wait
// base·2^(n−1) capped at MaxBackoff.
func TestBackoffTiming(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, err := Open(newMemKV(), Options{BaseBackoff: 20 * time.Second, MaxRetries: 3})
		require.NoError(t, err)
		defer m.Close()
		var (
			mu       sync.Mutex
			attempts []time.Time
		)
		m.Register(TypeFlush, func(context.Context, Job, func(string)) (string, error) {
			mu.Lock()
			attempts = append(attempts, time.Now())
			mu.Unlock()
			return "", errors.New("nope")
		})
		m.Start()
		id, _, err := m.Submit(TypeFlush, nil, "", false)
		require.NoError(t, err)
		j, err := m.Wait(t.Context(), id)
		require.NoError(t, err)
		assert.Equal(t, StatusFailed, j.Status)
		require.Len(t, attempts, 4)
		var gaps []time.Duration
		for i := 1; i < len(attempts); i++ {
			gaps = append(gaps, attempts[i].Sub(attempts[i-1]))
		}
		assert.Equal(t, []time.Duration{20 * time.Second, 40 * time.Second, time.Minute}, gaps)
	})
}

// TestCloseDuringBackoff checks Close does not wait for a pending backoff
// and leaves the job Retrying, to run after the next Open.
func TestCloseDuringBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		kv := newMemKV()
		m, err := Open(kv, Options{BaseBackoff: time.Hour})
		require.NoError(t, err)
		m.Register(TypeFlush, func(context.Context, Job, func(string)) (string, error) {
			return "", errors.New("nope")
		})
		m.Start()
		id, _, err := m.Submit(TypeFlush, nil, "", false)
		require.NoError(t, err)
		synctest.Wait()
		require.True(t, statusIs(m, id, StatusRetrying)())
		start := time.Now()
		require.NoError(t, m.Close())
		assert.Zero(t, time.Since(start))
		stored, _ := kv.stored(t, id)
		assert.Equal(t, StatusRetrying, stored.Status)

		m2, err := Open(kv, Options{})
		require.NoError(t, err)
		defer m2.Close()
		m2.Register(TypeFlush, func(context.Context, Job, func(string)) (string, error) { return "", nil })
		m2.Start()
		j, err := m2.Wait(t.Context(), id)
		require.NoError(t, err)
		assert.Equal(t, StatusCompleted, j.Status)
		assert.Equal(t, 1, j.RetryCount)
		assert.Zero(t, time.Since(start), "the backoff is not resumed after Open")
	})
}

func TestKill(t *testing.T) {
	t.Run("queued", func(t *testing.T) {
		kv := newMemKV()
		m := open(t, kv, Options{})
		var ran atomic.Bool
		m.Register(TypeCleanup, func(context.Context, Job, func(string)) (string, error) {
			ran.Store(true)
			return "", nil
		})
		id, _, err := m.Submit(TypeCleanup, nil, "cl:t", false)
		require.NoError(t, err)
		require.NoError(t, m.Kill(id))
		j, _ := m.Get(id)
		assert.Equal(t, StatusCancelled, j.Status)
		assert.NotNil(t, j.FinishedAt)
		stored, _ := kv.stored(t, id)
		assert.Equal(t, StatusCancelled, stored.Status)

		// The key is free again; the killed job never runs.
		id2, existing, err := m.Submit(TypeCleanup, nil, "cl:t", false)
		require.NoError(t, err)
		assert.False(t, existing)
		m.Start()
		assert.Equal(t, StatusCompleted, wait(t, m, id2).Status)
		assert.Equal(t, StatusCancelled, wait(t, m, id).Status)
		assert.True(t, ran.Load())
		j, _ = m.Get(id)
		assert.Nil(t, j.StartedAt, "killed job never ran")
	})

	t.Run("running", func(t *testing.T) {
		kv := newMemKV()
		m := open(t, kv, Options{})
		started := make(chan struct{})
		var observed atomic.Bool
		m.Register(TypeUserCleanup, func(ctx context.Context, _ Job, _ func(string)) (string, error) {
			close(started)
			<-ctx.Done()
			observed.Store(true)
			return "", ctx.Err()
		})
		m.Start()
		id, _, err := m.Submit(TypeUserCleanup, nil, "", false)
		require.NoError(t, err)
		<-started
		require.NoError(t, m.Kill(id))
		j := wait(t, m, id)
		assert.True(t, observed.Load())
		assert.Equal(t, StatusCancelled, j.Status)
		assert.Equal(t, 0, j.RetryCount, "a killed job is not retried")
		assert.Equal(t, killedMsg, j.Error)
		stored, _ := kv.stored(t, id)
		assert.Equal(t, StatusCancelled, stored.Status)
	})

	t.Run("retrying", func(t *testing.T) {
		m := open(t, newMemKV(), Options{BaseBackoff: 50 * time.Millisecond})
		var calls atomic.Int32
		m.Register(TypeBackup, func(context.Context, Job, func(string)) (string, error) {
			calls.Add(1)
			return "", errors.New("nope")
		})
		m.Start()
		id, _, err := m.Submit(TypeBackup, nil, "", false)
		require.NoError(t, err)
		eventually(t, statusIs(m, id, StatusRetrying), "retrying")
		require.NoError(t, m.Kill(id))
		assert.Equal(t, StatusCancelled, wait(t, m, id).Status)
		time.Sleep(150 * time.Millisecond) // past the backoff: no new attempt
		assert.Equal(t, int32(1), calls.Load())
	})

	t.Run("errors", func(t *testing.T) {
		m := open(t, newMemKV(), Options{})
		m.Register(TypeFlush, ok)
		m.Start()
		err := m.Kill("FL-000000000000")
		assert.Equal(t, catalog.KindNotFound, catalog.KindOf(err))
		id, _, _ := m.Submit(TypeFlush, nil, "", false)
		wait(t, m, id)
		err = m.Kill(id)
		assert.Equal(t, catalog.KindInvalid, catalog.KindOf(err))
		assert.Contains(t, err.Error(), "already finished")
	})
}

func TestProgressIsPersisted(t *testing.T) {
	kv := newMemKV()
	m := open(t, kv, Options{})
	reported := make(chan struct{})
	release := make(chan struct{})
	m.Register(TypeBackup, func(_ context.Context, _ Job, progress func(string)) (string, error) {
		progress("copied 3/10 files")
		close(reported)
		<-release
		return "", nil
	})
	m.Start()
	id, _, _ := m.Submit(TypeBackup, nil, "", false)
	<-reported
	j, _ := m.Get(id)
	assert.Equal(t, "copied 3/10 files", j.Message)
	stored, _ := kv.stored(t, id)
	assert.Equal(t, "copied 3/10 files", stored.Message)
	close(release)
	j = wait(t, m, id)
	assert.Equal(t, "copied 3/10 files", j.Message, "an empty result keeps the last progress message")
}

func TestRestartRecovery(t *testing.T) {
	kv := newMemKV()
	m1, err := Open(kv, Options{BaseBackoff: time.Millisecond})
	require.NoError(t, err)
	running := make(chan struct{}, 2)
	block := make(chan struct{})
	exec := func(ctx context.Context, _ Job, _ func(string)) (string, error) {
		running <- struct{}{}
		<-block
		return "", nil
	}
	m1.Register(TypeFlush, exec)
	m1.Register(TypeCleanup, exec)
	m1.Start()
	params := map[string]string{"table": "app.t"}
	idem, _, err := m1.Submit(TypeFlush, params, "flush:app.t", true)
	require.NoError(t, err)
	nonIdem, _, err := m1.Submit(TypeCleanup, nil, "cl:app.t", false)
	require.NoError(t, err)
	<-running
	<-running
	queued, _, err := m1.Submit(TypeFlush, nil, "flush:app.u", true) // both workers busy
	require.NoError(t, err)

	crashed := kv.snapshot() // the process dies here
	close(block)
	require.NoError(t, m1.Close())

	for _, id := range []string{idem, nonIdem} {
		j, _ := crashed.stored(t, id)
		require.Equal(t, StatusRunning, j.Status)
	}

	m2 := open(t, crashed, Options{})
	var mu sync.Mutex
	var ran []Job
	rec := func(_ context.Context, j Job, _ func(string)) (string, error) {
		mu.Lock()
		ran = append(ran, j)
		mu.Unlock()
		return "", nil
	}
	m2.Register(TypeFlush, rec)
	m2.Register(TypeCleanup, rec)

	for _, id := range []string{idem, nonIdem} {
		j, found := m2.Get(id)
		require.True(t, found)
		assert.Equal(t, StatusFailed, j.Status, id)
		assert.Equal(t, "interrupted by restart", j.Error)
		assert.NotNil(t, j.FinishedAt)
		stored, _ := crashed.stored(t, id)
		assert.Equal(t, StatusFailed, stored.Status, "recovery is persisted")
	}

	// Exactly one new job replaces the idempotent one.
	var redo []Job
	for _, j := range m2.List() {
		if j.ID != idem && j.ID != nonIdem && j.ID != queued {
			redo = append(redo, j)
		}
	}
	require.Len(t, redo, 1)
	r := redo[0]
	assert.Equal(t, StatusQueued, r.Status)
	assert.Equal(t, TypeFlush, r.Type)
	assert.Equal(t, params, r.Parameters)
	assert.Equal(t, "flush:app.t", r.IdempotencyKey)
	assert.True(t, r.Idempotent)
	assert.Contains(t, r.Message, idem)

	// Its idempotency key is active again.
	got, existing, err := m2.Submit(TypeFlush, params, "flush:app.t", true)
	require.NoError(t, err)
	assert.True(t, existing)
	assert.Equal(t, r.ID, got)

	m2.Start()
	assert.Equal(t, StatusCompleted, wait(t, m2, r.ID).Status)
	assert.Equal(t, StatusCompleted, wait(t, m2, queued).Status)
	mu.Lock()
	assert.Len(t, ran, 2, "only the re-queued and the queued job run")
	mu.Unlock()
}

func TestOpenSkipsBadRecords(t *testing.T) {
	kv := newMemKV()
	require.NoError(t, kv.MetaPut([]byte("jobs/FL-aaaaaaaaaaaa"), []byte("{not json")))
	b, _ := json.Marshal(Job{ID: "FL-bbbbbbbbbbbb", Type: TypeFlush, Status: StatusCompleted})
	require.NoError(t, kv.MetaPut([]byte("jobs/FL-cccccccccccc"), b))
	good, _ := json.Marshal(Job{ID: "FL-dddddddddddd", Type: TypeFlush, Status: StatusCompleted})
	require.NoError(t, kv.MetaPut([]byte("jobs/FL-dddddddddddd"), good))
	require.NoError(t, kv.MetaPut([]byte("other/x"), []byte("ignored")))
	m := open(t, kv, Options{})
	list := m.List()
	require.Len(t, list, 1)
	assert.Equal(t, "FL-dddddddddddd", list[0].ID)
}

func TestWorkerBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const workers = 3
		m, err := Open(newMemKV(), Options{Workers: workers})
		require.NoError(t, err)
		defer m.Close()
		var cur, peak atomic.Int32
		m.Register(TypeCompaction, func(ctx context.Context, _ Job, _ func(string)) (string, error) {
			n := cur.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			time.Sleep(time.Second)
			cur.Add(-1)
			return "", nil
		})
		var ids []string
		for range 20 {
			id, _, err := m.Submit(TypeCompaction, nil, "", false)
			require.NoError(t, err)
			ids = append(ids, id)
		}
		m.Start()
		start := time.Now()
		for _, id := range ids {
			j, err := m.Wait(t.Context(), id)
			require.NoError(t, err)
			assert.Equal(t, StatusCompleted, j.Status)
		}
		assert.Equal(t, int32(workers), peak.Load())
		assert.Equal(t, 7*time.Second, time.Since(start), "20 one-second jobs on 3 workers")
	})
}

func TestWorkerBoundRealTime(t *testing.T) {
	const workers = 2
	m := open(t, newMemKV(), Options{Workers: workers})
	var cur, peak atomic.Int32
	m.Register(TypeFlush, func(context.Context, Job, func(string)) (string, error) {
		n := cur.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(2 * time.Millisecond)
		cur.Add(-1)
		return "", nil
	})
	m.Start()
	var ids []string
	for range 30 {
		id, _, err := m.Submit(TypeFlush, nil, "", false)
		require.NoError(t, err)
		ids = append(ids, id)
	}
	for _, id := range ids {
		assert.Equal(t, StatusCompleted, wait(t, m, id).Status)
	}
	assert.LessOrEqual(t, peak.Load(), int32(workers))
	assert.GreaterOrEqual(t, peak.Load(), int32(1))
}

func TestSubmitDoesNotBlockOnWork(t *testing.T) {
	m := open(t, newMemKV(), Options{Workers: 1})
	started := make(chan struct{}, 1)
	release := make(chan struct{})
	m.Register(TypeFlush, func(context.Context, Job, func(string)) (string, error) {
		select {
		case started <- struct{}{}:
		default:
		}
		<-release
		return "", nil
	})
	m.Start()
	_, _, err := m.Submit(TypeFlush, nil, "", false)
	require.NoError(t, err)
	<-started
	// The only worker is busy; many more submissions, Get and List return.
	for range 1000 {
		id, _, err := m.Submit(TypeFlush, nil, "", false)
		require.NoError(t, err)
		_, found := m.Get(id)
		require.True(t, found)
	}
	assert.Len(t, m.List(), 1001)
	close(release)
}

func TestCloseWhileRunning(t *testing.T) {
	kv := newMemKV()
	m, err := Open(kv, Options{})
	require.NoError(t, err)
	started := make(chan struct{})
	var observed atomic.Bool
	m.Register(TypeRestore, func(ctx context.Context, _ Job, _ func(string)) (string, error) {
		close(started)
		<-ctx.Done()
		observed.Store(true)
		return "", ctx.Err()
	})
	m.Start()
	id, _, err := m.Submit(TypeRestore, nil, "", true)
	require.NoError(t, err)
	<-started

	waitErr := make(chan error, 1)
	go func() {
		_, err := m.Wait(context.Background(), id)
		waitErr <- err
	}()
	require.NoError(t, m.Close())
	assert.True(t, observed.Load(), "Close cancels and waits for the executor")
	require.NoError(t, m.Close(), "Close is idempotent")

	err = <-waitErr
	assert.Equal(t, catalog.KindUnavailable, catalog.KindOf(err))

	stored, _ := kv.stored(t, id)
	assert.Equal(t, StatusRunning, stored.Status, "left for recovery by the next Open")

	_, _, err = m.Submit(TypeRestore, nil, "", false)
	assert.Equal(t, catalog.KindUnavailable, catalog.KindOf(err))
	assert.Equal(t, catalog.KindUnavailable, catalog.KindOf(m.Kill(id)))
	assert.Equal(t, 0, m.Prune(time.Now().Add(time.Hour)))
	m.Start() // no-op after Close
	m.Every(time.Millisecond, func(time.Time) { t.Error("Every after Close ran") })

	m2 := open(t, kv, Options{})
	j, _ := m2.Get(id)
	assert.Equal(t, StatusFailed, j.Status)
	assert.Len(t, m2.List(), 2, "the idempotent restore was re-queued")
}

func TestCloseLetsSuccessfulExecutorComplete(t *testing.T) {
	kv := newMemKV()
	m, err := Open(kv, Options{})
	require.NoError(t, err)
	started := make(chan struct{})
	m.Register(TypeFlush, func(ctx context.Context, _ Job, _ func(string)) (string, error) {
		close(started)
		<-ctx.Done()
		return "finished anyway", nil
	})
	m.Start()
	id, _, _ := m.Submit(TypeFlush, nil, "", false)
	<-started
	require.NoError(t, m.Close())
	stored, _ := kv.stored(t, id)
	assert.Equal(t, StatusCompleted, stored.Status)
	j, err := m.Wait(context.Background(), id)
	require.NoError(t, err)
	assert.Equal(t, "finished anyway", j.Message)
}

func TestCloseWithoutStart(t *testing.T) {
	m, err := Open(newMemKV(), Options{})
	require.NoError(t, err)
	id, _, err := m.Submit(TypeFlush, nil, "", false)
	require.NoError(t, err)
	require.NoError(t, m.Close())
	_, err = m.Wait(context.Background(), id)
	assert.Equal(t, catalog.KindUnavailable, catalog.KindOf(err))
}

func TestWaitErrors(t *testing.T) {
	m := open(t, newMemKV(), Options{})
	_, err := m.Wait(context.Background(), "FL-000000000000")
	assert.Equal(t, catalog.KindNotFound, catalog.KindOf(err))

	id, _, _ := m.Submit(TypeFlush, nil, "", false) // never started
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	j, err := m.Wait(ctx, id)
	assert.Equal(t, catalog.KindDeadline, catalog.KindOf(err))
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, StatusQueued, j.Status)

	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	_, err = m.Wait(ctx, id)
	assert.Equal(t, catalog.KindCancelled, catalog.KindOf(err))
}

func TestStoreFailures(t *testing.T) {
	kv := newMemKV()
	m := open(t, kv, Options{})
	m.Register(TypeFlush, ok)
	kv.failPut.Store(true)
	_, _, err := m.Submit(TypeFlush, nil, "k", false)
	require.Error(t, err)
	assert.Equal(t, catalog.KindInternal, catalog.KindOf(err))
	assert.Empty(t, m.List(), "nothing visible that is not persisted")

	kv.failPut.Store(false)
	id, _, err := m.Submit(TypeFlush, nil, "k", false)
	require.NoError(t, err)
	kv.failPut.Store(true)
	require.Error(t, m.Kill(id))
	j, _ := m.Get(id)
	assert.Equal(t, StatusQueued, j.Status, "a failed Kill changes nothing")

	// A worker that cannot persist Running fails the job (in memory)
	// instead of spinning.
	m.Start()
	j = wait(t, m, id)
	assert.Equal(t, StatusFailed, j.Status)
	assert.Contains(t, j.Error, "disk full")
}

func TestPrune(t *testing.T) {
	kv := newMemKV()
	clock := newStepClock()
	m := open(t, kv, Options{Now: clock.Now})
	m.Register(TypeFlush, ok)
	m.Start()
	var old []string
	for range 3 {
		id, _, err := m.Submit(TypeFlush, nil, "", false)
		require.NoError(t, err)
		wait(t, m, id)
		old = append(old, id)
	}
	cutoff := clock.Now()
	recent, _, _ := m.Submit(TypeFlush, nil, "", false)
	wait(t, m, recent)
	m2Block := make(chan struct{})
	m.Register(TypeBackup, func(context.Context, Job, func(string)) (string, error) {
		<-m2Block
		return "", nil
	})
	active, _, _ := m.Submit(TypeBackup, nil, "", false)
	defer close(m2Block)

	assert.Equal(t, 3, m.Prune(cutoff))
	for _, id := range old {
		_, found := m.Get(id)
		assert.False(t, found)
		_, found = kv.stored(t, id)
		assert.False(t, found)
	}
	_, found := m.Get(recent)
	assert.True(t, found)
	_, found = m.Get(active)
	assert.True(t, found)
	assert.Equal(t, 0, m.Prune(cutoff))
	assert.Equal(t, 1, m.Prune(clock.Now().Add(time.Hour)), "the active job stays")
}

func TestEvery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fixed := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
		m, err := Open(newMemKV(), Options{Now: func() time.Time { return fixed }})
		require.NoError(t, err)
		var calls atomic.Int32
		m.Every(10*time.Second, func(now time.Time) {
			assert.Equal(t, fixed, now, "fn gets the injected clock")
			if calls.Add(1) == 2 {
				panic("recovered")
			}
		})
		time.Sleep(35 * time.Second)
		assert.Equal(t, int32(3), calls.Load())
		require.NoError(t, m.Close())
		time.Sleep(time.Minute)
		assert.Equal(t, int32(3), calls.Load(), "stopped by Close")
	})
}

// TestNoGoroutineLeak runs a busy manager and checks that Close leaves no
// goroutine behind. (The synctest tests check this too: synctest.Test
// fails if a bubble goroutine outlives the test.)
func TestNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	kv := newMemKV()
	m, err := Open(kv, Options{Workers: 4, BaseBackoff: time.Millisecond})
	require.NoError(t, err)
	var n atomic.Int32
	m.Register(TypeFlush, func(ctx context.Context, _ Job, _ func(string)) (string, error) {
		if n.Add(1)%3 == 0 {
			return "", errors.New("retry me")
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(time.Millisecond):
		}
		return "", nil
	})
	m.Register(TypeBackup, func(ctx context.Context, _ Job, _ func(string)) (string, error) {
		<-ctx.Done()
		return "", ctx.Err()
	})
	m.Every(time.Millisecond, func(time.Time) {})
	m.Every(time.Hour, func(time.Time) {})
	m.Start()
	for range 50 {
		_, _, err := m.Submit(TypeFlush, nil, "", true)
		require.NoError(t, err)
	}
	_, _, err = m.Submit(TypeBackup, nil, "", true)
	require.NoError(t, err)
	_, _, err = m.Submit(TypeFlush, nil, "", true)
	require.NoError(t, err)
	time.Sleep(20 * time.Millisecond)
	require.NoError(t, m.Close())
	// Poll by hand: require.Eventually runs its condition in a goroutine.
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<20)
		t.Fatalf("%d goroutines after Close, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}
