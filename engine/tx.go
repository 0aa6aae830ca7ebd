//go:build duckdb_arrow

package engine

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kalamdb/kalamdb-go/catalog"
	"github.com/kalamdb/kalamdb-go/coldstore"
	"github.com/kalamdb/kalamdb-go/engine/sqlparse"
	"github.com/kalamdb/kalamdb-go/hotstore"
)

// Tx is an explicit transaction: BEGIN … COMMIT in SQL, or a Flight SQL
// BeginTransaction id. Its INSERT, UPDATE and DELETE statements are staged
// (hotstore.Tx) and its queries see them; COMMIT applies them atomically,
// ROLLBACK discards them. Its statements read the hot rows of one snapshot,
// taken at its first read, plus its own writes; every row it writes
// carries the _seq of the version its write was computed from (the version
// an UPDATE or DELETE read, or the one present when an INSERT staged it),
// and COMMIT fails (KindConflict, gRPC Aborted), applying nothing, unless
// every such version is still the newest: first committer wins on rows
// read-then-written, so no update is lost. A commit also fails when a flush
// or compaction replaced the segments of a partition the transaction wrote
// after its first statement there read them (conservatively: the rows read
// from them may have been superseded).
//
// As in PostgreSQL and DuckDB, a statement that fails inside the
// transaction aborts it: every later statement is refused until the
// transaction ends, and COMMIT then rolls it back and fails, so that a
// client never commits the statements around the one that failed.
type Tx struct {
	e     *Engine
	owner catalog.UserID
	hot   *hotstore.Tx

	// stmt serialises the statements of the transaction.
	stmt sync.Mutex
	// used is when the transaction last ran a statement (unix nanoseconds).
	used atomic.Int64
	// parts are the partitions written, guarded by stmt.
	parts map[partKey]*txPart
	// aborted is the first error of a statement of the transaction; once
	// set the transaction accepts nothing but its end.
	aborted atomic.Pointer[error]
	// ended is set by Commit and Rollback.
	ended atomic.Bool
}

// txPart is what a transaction did to one partition.
type txPart struct {
	table *catalog.TableDef
	user  catalog.UserID
	rows  int64
	// segments fingerprints the partition's manifest when the transaction
	// first inserted into it (the duplicate-key check read it); checked
	// says it was recorded.
	segments string
	checked  bool
	// cold is the partition's manifest before the transaction's first
	// read-modify-write statement there read it; coldNoted says it was
	// recorded.
	cold      []byte
	coldNoted bool
	// unpin releases the segments of the snapshot's manifest, pinned on
	// the transaction's first read of the partition (see manifestAt).
	unpin func()
}

type engineTxKey struct{}

// Begin starts a transaction owned by the session's user.
func (e *Engine) Begin(s *Session) (*Tx, error) {
	h, err := e.hot.BeginTx()
	if err != nil {
		return nil, err
	}
	tx := &Tx{e: e, owner: s.User, hot: h, parts: map[partKey]*txPart{}}
	tx.touch()
	e.txBegan(tx)
	return tx, nil
}

// readSnapshot starts a read-only transaction for one statement's reads
// (see loadAll); the caller rolls it back once they are done.
func (e *Engine) readSnapshot(owner catalog.UserID) (*Tx, error) {
	h, err := e.hot.BeginTx()
	if err != nil {
		return nil, err
	}
	tx := &Tx{e: e, owner: owner, hot: h, parts: map[partKey]*txPart{}}
	tx.touch()
	e.txBegan(tx)
	return tx, nil
}

func (tx *Tx) touch() { tx.used.Store(tx.e.opts.Now().UnixNano()) }

// IdleFor is how long ago the transaction last ran a statement.
func (tx *Tx) IdleFor() time.Duration {
	return tx.e.opts.Now().Sub(time.Unix(0, tx.used.Load()))
}

// Owner is the user who began the transaction.
func (tx *Tx) Owner() catalog.UserID { return tx.owner }

// Abort marks the transaction aborted by cause, the error of a command
// sent in it that was refused before reaching the engine (a Flight SQL
// bulk ingest): only its end is accepted from then on.
func (tx *Tx) Abort(cause error) { tx.abort(cause) }

// abort marks the transaction aborted by the error of one of its
// statements; the first cause is kept.
// abortsTransaction reports whether a statement's error aborts the
// transaction it ran in. As in DuckDB, an error raised while the statement
// executes does (a constraint violation, a failed conversion, a conflict);
// one raised before it runs does not (a syntax, binder or catalog error, a
// table that does not exist, a permission refusal): it changed nothing.
func abortsTransaction(err error) bool {
	var ce *catalog.Error
	if errors.As(err, &ce) && (ce.Kind == catalog.KindNotFound || ce.Kind == catalog.KindPermission) {
		return false
	}
	msg := err.Error()
	for _, p := range []string{"Parser Error", "Binder Error", "Catalog Error", "syntax error"} {
		if strings.HasPrefix(msg, p) || strings.Contains(msg, ": "+p) {
			return false
		}
	}
	return true
}

func (tx *Tx) abort(cause error) {
	tx.aborted.CompareAndSwap(nil, &cause)
}

// abortCause is the error that aborted the transaction, or nil.
func (tx *Tx) abortCause() error {
	if p := tx.aborted.Load(); p != nil {
		return *p
	}
	return nil
}

// usable returns why no statement may run in the transaction now: it was
// aborted by an error, or it has ended.
func (tx *Tx) usable() error {
	if tx.ended.Load() {
		return catalog.Errorf(catalog.KindFailedPrecondition, "the transaction has already ended")
	}
	if cause := tx.abortCause(); cause != nil {
		return catalog.Errorf(catalog.KindFailedPrecondition, "current transaction is aborted, commands ignored until end of transaction block (a statement failed: %s); roll it back", cause.Error())
	}
	return nil
}

// Commit applies the transaction's writes atomically and durably, or none
// of them. The transaction has ended either way. An aborted transaction is
// rolled back, and Commit says so with a KindConflict error (gRPC Aborted).
func (tx *Tx) Commit(ctx context.Context) error {
	tx.stmt.Lock()
	defer tx.stmt.Unlock()
	defer tx.e.txEnded(tx)
	defer tx.unpinSnapshots()
	if tx.ended.Swap(true) {
		return catalog.Errorf(catalog.KindFailedPrecondition, "the transaction has already ended")
	}
	if cause := tx.abortCause(); cause != nil {
		tx.hot.Rollback()
		return catalog.WrapKind(catalog.KindConflict, cause, "transaction rolled back, nothing was committed: it was aborted by a failed statement")
	}
	e := tx.e
	parts := make([]*txPart, 0, len(tx.parts))
	for _, p := range tx.parts {
		parts = append(parts, p)
	}
	slices.SortFunc(parts, func(a, b *txPart) int {
		if c := cmp.Compare(a.table.StoreID, b.table.StoreID); c != 0 {
			return c
		}
		return strings.Compare(string(a.user), string(b.user))
	})
	// Hold off flushes and compactions of the written partitions while
	// checking that none replaced segments an INSERT's duplicate check or
	// an UPDATE's or DELETE's read relied on, and while committing.
	coldChanged := map[hotstore.Partition]bool{}
	for _, p := range parts {
		if !p.checked && !p.coldNoted {
			continue
		}
		l := e.coldState.lock(partKey{p.table.StoreID, p.user})
		l.RLock()
		defer l.RUnlock()
		if p.checked {
			man, err := e.manifest(p.table, p.user)
			if err != nil {
				tx.hot.Rollback()
				return err
			}
			if segmentsFingerprint(man) != p.segments {
				tx.hot.Rollback()
				return catalog.WrapKind(catalog.KindConflict, hotstore.ErrConflict, "transaction aborted: table %s was flushed or compacted while the transaction inserted into it; retry the transaction", p.table.ID)
			}
		}
		if p.coldNoted {
			cur, _, err := e.hot.MetaGet([]byte(manifestKey(p.table.StoreID, p.user)))
			if err != nil {
				tx.hot.Rollback()
				return err
			}
			coldChanged[hotstore.Partition{StoreID: p.table.StoreID, User: p.user}] = !bytes.Equal(cur, p.cold)
		}
	}
	e.failpoint("tx-before-commit")
	err := tx.hot.CommitIf(ctx, func(p hotstore.Partition) bool {
		changed, noted := coldChanged[p]
		// A partition written without a noted read (INSERT only) has its
		// own check above; its keys with no hot version are new ones.
		return noted && changed
	})
	if err == nil {
		e.failpoint("tx-after-commit")
	}
	for _, p := range parts {
		e.bumpPartition(p.table.StoreID, p.user)
		if err == nil {
			e.noteWrite(p.table, p.user, p.rows)
		}
	}
	return err
}

// Rollback discards the transaction's writes. Rolling back an ended
// transaction does nothing.
func (tx *Tx) Rollback() {
	tx.stmt.Lock()
	defer tx.stmt.Unlock()
	tx.unpinSnapshots()
	tx.ended.Store(true)
	tx.hot.Rollback()
	tx.e.txEnded(tx)
}

// txOf returns the transaction a statement runs in, if any.
func txOf(ctx context.Context) *Tx {
	tx, _ := ctx.Value(engineTxKey{}).(*Tx)
	return tx
}

// withTx attaches tx to ctx for the engine and the hot store.
func withTx(ctx context.Context, tx *Tx) context.Context {
	return hotstore.WithTx(context.WithValue(ctx, engineTxKey{}, tx), tx.hot)
}

// touched reports whether the statement's cached hot rows of a partition
// are not what it must see: inside a transaction none are, since its reads
// see the snapshot taken at its first read plus its own writes (the hot
// store serves them), not the newest rows the cache holds.
func touched(ctx context.Context, _ partKey) bool {
	return txOf(ctx) != nil
}

// wrote publishes a write of n rows to a partition. Outside a transaction
// the partition's cached hot rows are dropped (even after an error: a
// partial write must not be hidden) and the rows count toward FLUSH_POLICY;
// inside one both wait for COMMIT.
func (e *Engine) wrote(ctx context.Context, t *catalog.TableDef, user catalog.UserID, n int64, err error) {
	if tx := txOf(ctx); tx != nil {
		if err == nil {
			tx.part(t, user).rows += n
		}
		return
	}
	e.bumpPartition(t.StoreID, user)
	if err == nil {
		e.noteWrite(t, user, n)
	}
}

// noteInsertCheck records, on the first INSERT into a partition in a
// transaction, the segments its duplicate-key check read.
func (e *Engine) noteInsertCheck(ctx context.Context, t *catalog.TableDef, user catalog.UserID, man coldstore.Manifest) {
	tx := txOf(ctx)
	if tx == nil {
		return
	}
	p := tx.part(t, user)
	if !p.checked {
		p.checked, p.segments = true, segmentsFingerprint(man)
	}
}

// noteColdRead records, before the transaction's first read-modify-write
// statement in a partition reads, the partition's manifest; COMMIT compares
// it (a version read from a segment must still be the newest). The
// partition counts as written from then on, so that the transaction's
// reads of it see its own writes.
func (tx *Tx) noteColdRead(ctx context.Context, t *catalog.TableDef, user catalog.UserID) error {
	p := tx.part(t, user)
	if p.coldNoted {
		return nil
	}
	// As of the snapshot the statement reads: a flush or compaction since
	// then makes COMMIT check every written key strictly.
	cold, _, err := tx.e.hot.MetaGetAt(ctx, []byte(manifestKey(t.StoreID, user)))
	if err != nil {
		return err
	}
	p.cold, p.coldNoted = cold, true
	return nil
}

// pinSnapshotSegments pins, on the transaction's first read of a
// partition, the segments of the manifest its snapshot holds, so that a
// compaction committing later does not delete them under its reads. A
// segment already gone (compacted away between the snapshot and this first
// read) aborts the transaction: its snapshot can no longer be read.
func (tx *Tx) pinSnapshotSegments(t *catalog.TableDef, user catalog.UserID, m coldstore.Manifest) error {
	p := tx.part(t, user)
	if p.unpin != nil {
		return nil
	}
	unpin, ok := tx.e.acquireLive(m.Segments)
	p.unpin = unpin
	if !ok {
		return catalog.WrapKind(catalog.KindConflict, hotstore.ErrConflict,
			"transaction aborted: table %s was compacted since the transaction's snapshot; retry the transaction", t.ID)
	}
	return nil
}

// unpinSnapshots releases the segments the transaction's snapshot pinned.
func (tx *Tx) unpinSnapshots() {
	for _, p := range tx.parts {
		if p.unpin != nil {
			p.unpin()
			p.unpin = nil
		}
	}
}

func (tx *Tx) part(t *catalog.TableDef, user catalog.UserID) *txPart {
	k := partKey{t.StoreID, user}
	p := tx.parts[k]
	if p == nil {
		p = &txPart{table: t, user: user}
		tx.parts[k] = p
	}
	return p
}

func segmentsFingerprint(m coldstore.Manifest) string {
	var b strings.Builder
	for _, s := range m.Segments {
		b.WriteString(s.File)
		b.WriteByte(0)
	}
	return b.String()
}

// txAllowed reports whether a statement may run inside a transaction:
// queries, DML and read-only introspection. Catalog, user and storage
// changes are not transactional and are refused there.
func txAllowed(stmt sqlparse.Statement) bool {
	switch st := stmt.(type) {
	case *sqlparse.Select, *sqlparse.Explain, *sqlparse.Insert, *sqlparse.Update, *sqlparse.Delete, *sqlparse.Use,
		*sqlparse.ShowNamespaces, *sqlparse.ShowTables, *sqlparse.DescribeTable, *sqlparse.ShowStats, *sqlparse.ShowCreateTable:
		return true
	case *sqlparse.ExecuteAs:
		return txAllowed(st.Stmt)
	}
	return false
}
