package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"maps"
	"strings"
	"time"
)

// Type is the kind of work a job does. Each type has a two-letter id prefix
// (see Prefix).
type Type string

// Job types.
const (
	// TypeFlush writes a table's hot rows to cold storage ("FL-").
	TypeFlush Type = "flush"
	// TypeCompaction merges a table's cold segments ("CO-").
	TypeCompaction Type = "compaction"
	// TypeRetention deletes rows past a table's retention ("RT-").
	TypeRetention Type = "retention"
	// TypeStreamEviction evicts expired rows from a stream table ("SE-").
	TypeStreamEviction Type = "stream_eviction"
	// TypeCleanup removes a dropped object's data after DROP ("CL-").
	TypeCleanup Type = "cleanup"
	// TypeUserCleanup removes a deleted user's data ("UC-").
	TypeUserCleanup Type = "user_cleanup"
	// TypeBackup writes a backup ("BK-").
	TypeBackup Type = "backup"
	// TypeRestore restores a backup ("RS-").
	TypeRestore Type = "restore"
)

// prefixes maps each known type to its id prefix (without the dash).
var prefixes = map[Type]string{
	TypeFlush:          "FL",
	TypeCompaction:     "CO",
	TypeRetention:      "RT",
	TypeStreamEviction: "SE",
	TypeCleanup:        "CL",
	TypeUserCleanup:    "UC",
	TypeBackup:         "BK",
	TypeRestore:        "RS",
}

// Types returns every known job type, in a fixed order.
func Types() []Type {
	return []Type{TypeFlush, TypeCompaction, TypeRetention, TypeStreamEviction,
		TypeCleanup, TypeUserCleanup, TypeBackup, TypeRestore}
}

// Valid reports whether t is a known job type.
func (t Type) Valid() bool {
	_, ok := prefixes[t]
	return ok
}

// Prefix returns t's id prefix including the dash (e.g. "FL-"), or "" for
// an unknown type.
func (t Type) Prefix() string {
	p, ok := prefixes[t]
	if !ok {
		return ""
	}
	return p + "-"
}

// TypeOfID returns the type encoded in a job id's prefix.
func TypeOfID(id string) (Type, bool) {
	p, _, ok := strings.Cut(id, "-")
	if !ok {
		return "", false
	}
	for t, tp := range prefixes {
		if tp == p {
			return t, true
		}
	}
	return "", false
}

// idHexLen is the number of random hex digits in a job id.
const idHexLen = 12

// newID returns a fresh random id for a job of type t (which must be
// valid).
func newID(t Type) string {
	var b [idHexLen / 2]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand crashes instead)
	return t.Prefix() + hex.EncodeToString(b[:])
}

// Status is a job's state.
type Status string

// Job statuses. A job moves Queued → Running → Completed, or through
// Retrying back to Running, and ends Completed, Failed or Cancelled. New is
// never produced by this package (jobs are created Queued); a stored New
// job is treated like a Queued one.
const (
	StatusNew       Status = "new"
	StatusQueued    Status = "queued"
	StatusRunning   Status = "running"
	StatusCompleted Status = "completed"
	StatusFailed    Status = "failed"
	StatusRetrying  Status = "retrying"
	StatusCancelled Status = "cancelled"
)

// Finished reports whether s is final (Completed, Failed or Cancelled).
func (s Status) Finished() bool {
	return s == StatusCompleted || s == StatusFailed || s == StatusCancelled
}

// Active reports whether s is Queued, Running or Retrying (or New): the
// states in which a job blocks another submission with its idempotency key.
func (s Status) Active() bool {
	return s == StatusNew || s == StatusQueued || s == StatusRunning || s == StatusRetrying
}

// waiting reports whether a job in state s may be picked up by a worker.
func (s Status) waiting() bool {
	return s == StatusNew || s == StatusQueued || s == StatusRetrying
}

// Job is one job record, as stored (JSON) and shown in system.jobs.
type Job struct {
	// ID is the type prefix plus 12 hex digits, e.g. "FL-3f9a0c11b2d4".
	ID string `json:"job_id"`
	// Type selects the executor.
	Type Type `json:"job_type"`
	// Status is the current state.
	Status Status `json:"status"`
	// Parameters are the executor's arguments (table name, ...).
	Parameters map[string]string `json:"parameters,omitempty"`
	// Message is the executor's last progress message or its result.
	Message string `json:"message,omitempty"`
	// Error is the last failure (kept while Retrying, final when Failed).
	Error string `json:"error,omitempty"`
	// IdempotencyKey, if set, deduplicates submissions while the job is
	// Queued, Running or Retrying.
	IdempotencyKey string `json:"idempotency_key,omitempty"`
	// RetryCount is the number of retries so far.
	RetryCount int `json:"retry_count"`
	// MaxRetries is the number of retries allowed after the first attempt.
	MaxRetries int `json:"max_retries"`
	// CreatedAt is the submission time.
	CreatedAt time.Time `json:"created_at"`
	// StartedAt is when the latest attempt started Running.
	StartedAt *time.Time `json:"started_at,omitempty"`
	// FinishedAt is when the job became Completed, Failed or Cancelled.
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	// NodeID is the node that created the job.
	NodeID string `json:"node_id"`
	// Idempotent means the job may safely run again from scratch: if it is
	// interrupted by a restart, Open queues a new job to redo it.
	Idempotent bool `json:"idempotent"`
}

// clone returns a deep copy of j (parameters and timestamps are not
// shared).
func (j Job) clone() Job {
	j.Parameters = maps.Clone(j.Parameters)
	if j.StartedAt != nil {
		t := *j.StartedAt
		j.StartedAt = &t
	}
	if j.FinishedAt != nil {
		t := *j.FinishedAt
		j.FinishedAt = &t
	}
	return j
}

// Executor runs one attempt of a job. It should return promptly once ctx
// is cancelled (by Kill or Close). progress records an intermediate
// message in the job (persisted; shown in system.jobs). The returned
// message, if not empty, becomes the job's final Message. An error makes
// the job retry, unless it wraps ErrNoRetry or the retries are exhausted.
type Executor func(ctx context.Context, j Job, progress func(msg string)) (message string, err error)

// ErrNoRetry, wrapped in an executor's error (fmt.Errorf("...: %w",
// jobs.ErrNoRetry)), makes the job fail at once without retrying.
var ErrNoRetry = errors.New("not retryable")

// Defaults for Options.
const (
	DefaultWorkers     = 2
	DefaultMaxRetries  = 3
	DefaultBaseBackoff = time.Second
	DefaultNodeID      = "node-1"
	// MaxBackoff caps the wait before a retry.
	MaxBackoff = time.Minute
)

// backoff returns the wait before retry number n (1-based):
// base·2^(n−1), capped at MaxBackoff.
func backoff(base time.Duration, n int) time.Duration {
	d := base
	for i := 1; i < n && d < MaxBackoff; i++ {
		d *= 2
	}
	return min(d, MaxBackoff)
}
