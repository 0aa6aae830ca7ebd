// Package jobs is KalamDB's persistent background job manager: flushes,
// compactions, retention and stream eviction, cleanup after DROP, user
// cleanup, backups and restores all run as jobs that are recorded in the
// metadata store and shown in system.jobs.
//
// # Records and ids
//
// Every job is stored as JSON (snake_case fields, see Job) under the key
// "jobs/<id>" through the KV interface. An id is the job type's prefix
// followed by 12 random lower-case hex digits, e.g. "FL-3f9a0c11b2d4" for a
// flush (see Type.Prefix). Every status change is written to the store
// before it becomes visible through Get, List or Wait; StartedAt is set when
// a job starts Running (again on each retry) and FinishedAt when it becomes
// Completed, Failed or Cancelled.
//
// # Lifecycle
//
// Submit creates a Queued job, unless a job with the same idempotency key
// is still Queued, Running or Retrying, in which case the existing job's id
// is returned. A bounded pool of Options.Workers goroutines runs queued jobs
// with the Executor registered for their type. The queue lives in memory
// (a slice, plus a heap of retries waiting for their backoff), so Submit
// never blocks on a full queue, and no lock is held while an executor runs,
// so Submit, Get and List never wait for job work.
//
// When an executor fails the job becomes Retrying with RetryCount
// incremented and runs again after an exponential backoff: the n-th retry
// waits BaseBackoff·2^(n−1), capped at MaxBackoff. After MaxRetries retries
// the job is Failed with Error set. Errors wrapping ErrNoRetry, and jobs
// whose type has no executor, fail at once. A panic in an executor is
// recovered and handled like an error.
//
// Kill cancels a Queued or Retrying job immediately; for a Running job it
// cancels the executor's context and the job becomes Cancelled when the
// executor returns (whatever it returns).
//
// # Restarts
//
// Open loads every job from the store. Queued and Retrying jobs are queued
// again (a pending backoff is not resumed: they run as soon as a worker is
// free). A job found Running was interrupted by a crash or shutdown: it is
// marked Failed with Error "interrupted by restart", and if it is
// Idempotent a NEW Queued job is created with the same type, parameters,
// idempotency key and Idempotent flag (the interrupted record is kept, as
// Failed, so system.jobs shows what happened). Unreadable records are
// skipped with a warning rather than failing Open.
//
// Close cancels the contexts of running jobs and waits for the executors,
// the workers, the retry dispatcher and every Every loop to return. A job
// whose executor returns an error because of that cancellation is left
// Running in the store, exactly as after a crash, so the next Open handles
// it as described above; a job whose executor still succeeds is recorded
// Completed. Queued and Retrying jobs stay as they are and run after the
// next Open.
//
// # Time
//
// Options.Now is used for the timestamps stored in jobs and passed to
// Every's callback. Backoff waits and Every's ticker use the runtime's
// timers (time.Timer, time.Ticker), so tests control them with
// testing/synctest rather than with Options.Now.
package jobs
