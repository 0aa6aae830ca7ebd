//go:build duckdb_arrow

package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/kalamdb/kalamdb-go/catalog"
	"github.com/kalamdb/kalamdb-go/engine/duck"
	"github.com/kalamdb/kalamdb-go/engine/sqlparse"
	"github.com/kalamdb/kalamdb-go/internal/idgen"
)

// Options configure the engine. The zero value is usable.
type Options struct {
	// Threads is DuckDB's thread count (0 = number of cores).
	Threads int
	// MemoryLimit is DuckDB's memory_limit (e.g. "4GB"; "" = DuckDB default).
	MemoryLimit string
	// ResultMemoryLimit caps the bytes of result batches held at once over
	// all queries; past it a query fails with ResourceExhausted. 0 = no cap.
	ResultMemoryLimit int64
	// ResultMemoryPerUser caps the bytes of result batches held at once for
	// one user's queries (counted by the authenticated caller); past it
	// that user's next batch fails with ResourceExhausted while other
	// users go on. 0 = no cap (the server's default is a quarter of
	// ResultMemoryLimit).
	ResultMemoryPerUser int64
	// ColdDir is the only directory DuckDB may read files from.
	ColdDir string
	// MaxIdleConns bounds the idle DuckDB connections kept (default 16).
	MaxIdleConns int
	// NodeID goes into every _seq (default 1).
	NodeID uint16
	// Now is the clock (default time.Now).
	Now func() time.Time
	// QueryTimeout bounds each statement, including the streaming of its
	// result (0 = none; the server's default is 60s).
	QueryTimeout time.Duration
	// CompactAfterSegments triggers a compaction when a partition has more
	// segments than this (default 8).
	CompactAfterSegments int
	// FoldPercent: a partition whose queries merge hot row versions
	// amounting to at least this percentage of its cold rows (and at least
	// 10,000) is folded, flushed and compacted into one segment, once it has
	// had no write for FoldQuiet. Default 5; negative disables folding.
	FoldPercent int
	// FoldQuiet is how long a fold candidate must go without writes
	// (default 30s).
	FoldQuiet time.Duration
	// EvictionInterval is how often expired STREAM rows are removed
	// (default 10s); they are invisible to queries at once.
	EvictionInterval time.Duration
	// Failpoint, when set, is called at named points of a flush (crash
	// tests kill the process there).
	Failpoint func(name string)
	// HotCacheMinRows: hot partitions with at least this many row versions
	// are kept as DuckDB tables between queries (until the next write to
	// them) instead of being reloaded by every query; default 50,000,
	// negative disables the cache.
	HotCacheMinRows int
	// HotMaxRows and HotMaxAge bound every hot partition, whatever its
	// table's FLUSH_POLICY: one with this many row versions written since
	// its last flush, or whose oldest unflushed write is this old, is
	// flushed. Defaults 1,000,000 and 10 minutes; negative disables.
	HotMaxRows int64
	HotMaxAge  time.Duration
	// MaxQueriesPerUser caps a user's concurrently running statements
	// (results not yet closed); 0 = no cap.
	MaxQueriesPerUser int
	// Logger (nil = discard).
	Logger *slog.Logger
}

func (o *Options) ensureDefaults() {
	if o.CompactAfterSegments <= 0 {
		o.CompactAfterSegments = 8
	}
	if o.FoldPercent == 0 {
		o.FoldPercent = 5
	}
	if o.FoldQuiet <= 0 {
		o.FoldQuiet = 30 * time.Second
	}
	if o.HotCacheMinRows == 0 {
		o.HotCacheMinRows = 50_000
	}
	if o.HotMaxRows == 0 {
		o.HotMaxRows = 1_000_000
	}
	if o.HotMaxAge == 0 {
		o.HotMaxAge = 10 * time.Minute
	}
	if o.EvictionInterval <= 0 {
		o.EvictionInterval = 10 * time.Second
	}
	if o.MaxIdleConns <= 0 {
		o.MaxIdleConns = 16
	}
	if o.NodeID == 0 {
		o.NodeID = 1
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
}

// Engine executes SQL for sessions. Safe for concurrent use.
type Engine struct {
	opts  Options
	log   *slog.Logger
	hot   HotStore
	users Users
	cold  ColdStore
	jobs  Jobs
	reg   *registry
	db    *duck.DB
	seq   *idgen.Snowflake
	plans *planCache
	// keywords are DuckDB's keywords that cannot be unquoted column names
	// (set once by Open).
	keywords map[string]bool

	idle chan *duck.Conn

	coldState *coldState
	hotCache  *hotCache
	folds     *folds
	started   time.Time

	running struct {
		mu sync.Mutex
		m  map[catalog.UserID]int
	}
	// budgets charge each user's results (Options.ResultMemoryPerUser).
	budgets resultBudgets

	closeOnce sync.Once
}

// Open starts the engine over the hot and cold tiers, the user service and
// the job manager. cold and jobs may be nil (no flushing). Call Start before
// the job manager starts.
func Open(hot HotStore, users Users, cold ColdStore, jobsMgr Jobs, opts Options) (*Engine, error) {
	opts.ensureDefaults()
	reg, err := openRegistry(hot)
	if err != nil {
		return nil, fmt.Errorf("open catalog: %w", err)
	}
	var dirs []string
	if opts.ColdDir != "" {
		dirs = append(dirs, opts.ColdDir)
	}
	db, err := duck.Open(duck.Options{Threads: opts.Threads, MemoryLimit: opts.MemoryLimit, AllowedDirs: dirs, ResultMemoryLimit: opts.ResultMemoryLimit})
	if err != nil {
		return nil, fmt.Errorf("open duckdb: %w", err)
	}
	e := &Engine{
		opts:  opts,
		log:   opts.Logger,
		hot:   hot,
		users: users,
		cold:  cold,
		jobs:  jobsMgr,
		reg:   reg,
		db:    db,
		seq:   idgen.NewSnowflake(opts.NodeID, opts.Now),
		plans: newPlanCache(4096),
		idle:  make(chan *duck.Conn, opts.MaxIdleConns),
	}
	e.running.m = map[catalog.UserID]int{}
	e.budgets.limit = opts.ResultMemoryPerUser
	e.coldState = newColdState()
	e.hotCache = newHotCache()
	e.folds = newFolds()
	e.started = opts.Now().UTC()
	if err := e.loadKeywords(); err != nil {
		_ = e.Close()
		return nil, err
	}
	return e, nil
}

// Close releases DuckDB. Results must be closed first. Idempotent.
func (e *Engine) Close() error {
	e.closeOnce.Do(func() {
		for {
			select {
			case c := <-e.idle:
				c.Close()
				continue
			default:
			}
			break
		}
		_ = e.db.Close()
	})
	return nil
}

// DuckDBVersion is the linked DuckDB library's version.
func DuckDBVersion() string { return duck.Version() }

func (e *Engine) conn() (*duck.Conn, error) {
	select {
	case c := <-e.idle:
		return c, nil
	default:
	}
	c, err := e.db.Connect()
	if err != nil {
		return nil, catalog.WrapKind(catalog.KindUnavailable, err, "no database connection available")
	}
	return c, nil
}

// release returns a connection to the pool; broken ones are closed.
func (e *Engine) release(c *duck.Conn, broken bool) {
	if broken {
		c.Close()
		return
	}
	select {
	case e.idle <- c:
	default:
		c.Close()
	}
}

// Execute runs one statement for the session. DDL and DML take effect before
// it returns; a query's rows stream from the returned Result, which the caller
// must Close. params bind $1… in SELECT and DML statements.
func (e *Engine) Execute(ctx context.Context, s *Session, sql string, params ...any) (*Result, error) {
	return e.ExecuteTx(ctx, s, nil, sql, params...)
}

// ExecuteTx is Execute inside the transaction tx (a Flight SQL transaction
// id); with tx nil the statement runs in the session's SQL transaction
// (BEGIN), if any, else on its own.
//
// A statement that fails inside a transaction aborts it (see Tx): so does
// an error streaming the rows of its result.
func (e *Engine) ExecuteTx(ctx context.Context, s *Session, flightTx *Tx, sql string, params ...any) (*Result, error) {
	return e.executeTx(ctx, s, flightTx, sql, params, nil)
}

// executeTx is ExecuteTx; many, when set, holds the parameter rows of an
// INSERT that runs as one statement for all of them (see ExecuteMany).
func (e *Engine) executeTx(ctx context.Context, s *Session, flightTx *Tx, sql string, params []any, many *paramBatch) (res *Result, err error) {
	tx := flightTx
	if tx == nil {
		tx = s.Tx()
	}
	if tx != nil {
		if tx.owner != s.User {
			return nil, permissionDenied("the transaction belongs to another user")
		}
		defer func() {
			switch {
			case err != nil:
				if abortsTransaction(err) {
					tx.abort(err)
				}
			case res != nil:
				res.tx = tx
			}
		}()
	}
	return e.executeIn(ctx, s, flightTx, tx, sql, params, many)
}

// executeIn runs one statement in tx (nil: none): flightTx, the Flight SQL
// transaction the statement came with, or else the session's.
func (e *Engine) executeIn(ctx context.Context, s *Session, flightTx, tx *Tx, sql string, params []any, many *paramBatch) (*Result, error) {
	stmt, err := sqlparse.Parse(sql)
	if err != nil {
		return nil, parseError(err)
	}
	if res, done, err := e.transactionControl(ctx, s, flightTx, stmt); done {
		return res, err
	}
	if tx != nil {
		if err := tx.usable(); err != nil {
			return nil, err
		}
		if !txAllowed(stmt) {
			return nil, catalog.Errorf(catalog.KindFailedPrecondition, "this statement cannot run inside a transaction (only SELECT, INSERT, UPDATE, DELETE, USE, SHOW and DESCRIBE can); COMMIT or ROLLBACK first")
		}
		tx.stmt.Lock()
		defer tx.stmt.Unlock()
		tx.touch()
		ctx = withTx(ctx, tx)
	}
	sub := subject{user: s.User, role: s.Role, actor: s.User, ns: s.Namespace()}
	impersonated := false
	if ea, ok := stmt.(*sqlparse.ExecuteAs); ok {
		target, err := e.impersonate(s, ea.User)
		if err != nil {
			e.Audit(AuditEntry{Actor: s.User, Subject: ea.User, Action: "EXECUTE AS", Target: string(ea.User), Details: "denied: " + err.Error(), IP: s.RemoteAddr})
			return nil, err
		}
		sub.user, sub.role = target.ID, target.Role
		stmt = ea.Stmt
		impersonated = true
	}
	release, err := e.admit(sub.actor)
	if err != nil {
		return nil, err
	}
	if e.opts.QueryTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, e.opts.QueryTimeout)
		defer cancel()
	}
	var res *Result
	if ins, ok := stmt.(*sqlparse.Insert); ok && many != nil && !impersonated {
		res, err = e.insertMany(ctx, sub, ins, many)
	} else {
		res, err = e.run(ctx, s, sub, stmt, params)
	}
	if err != nil {
		release()
		err = deadlineError(ctx, err, e.opts.QueryTimeout)
	} else {
		res.admitted(release, e.opts.QueryTimeout)
	}
	action, target, audited := auditAction(stmt, sub.ns)
	switch {
	case impersonated:
		en := AuditEntry{Actor: sub.actor, Subject: sub.user, Action: "EXECUTE AS " + action, Target: target, Details: "ok", IP: s.RemoteAddr}
		if err != nil {
			en.Details = "failed: " + err.Error()
		}
		e.Audit(en)
	case audited && err == nil:
		e.Audit(AuditEntry{Actor: sub.actor, Action: action, Target: target, Details: "ok", IP: s.RemoteAddr})
	case catalog.KindOf(err) == catalog.KindPermission:
		e.Audit(AuditEntry{Actor: sub.actor, Action: "DENIED " + action, Target: target, Details: err.Error(), IP: s.RemoteAddr})
	}
	return res, err
}

// ExecuteEach runs a statement once per parameter row, in the session's or
// the given transaction, and returns one result: the rows of every run in
// order for a query (a prepared query bound to many parameter rows), the
// summed count for DML. Query results are read whole, so this is meant for
// parameter batches of modest result size.
func (e *Engine) ExecuteEach(ctx context.Context, s *Session, tx *Tx, sql string, rows [][]any) (*Result, error) {
	if len(rows) <= 1 {
		var params []any
		if len(rows) == 1 {
			params = rows[0]
		}
		return e.ExecuteTx(ctx, s, tx, sql, params...)
	}
	var (
		schema *arrow.Schema
		recs   []arrow.RecordBatch
		total  int64
		update bool
	)
	for _, params := range rows {
		res, err := e.ExecuteTx(ctx, s, tx, sql, params...)
		if err != nil {
			releaseAll(recs)
			return nil, err
		}
		res.Watch(ctx)
		if schema == nil {
			schema, update = res.Schema(), res.IsUpdate
		}
		for rec := res.Next(); rec != nil; rec = res.Next() {
			recs = append(recs, rec)
		}
		err = res.Err()
		total += res.RowsAffected
		res.Close()
		if err != nil {
			releaseAll(recs)
			return nil, err
		}
	}
	if update {
		releaseAll(recs)
		return affectedResult(total), nil
	}
	return unifyResults(schema, recs)
}

// unifyResults gives the batches of several runs of one query a common
// schema: a column that was all NULL in one run (a NULL parameter carries
// no type, so DuckDB picks one) takes the type the runs with values gave
// it. It takes ownership of recs.
func unifyResults(first *arrow.Schema, recs []arrow.RecordBatch) (*Result, error) {
	fields := append([]arrow.Field(nil), first.Fields()...)
	typed := make([]bool, len(fields))
	for _, r := range recs {
		for i, f := range r.Schema().Fields() {
			if i < len(fields) && !typed[i] && r.Column(i).NullN() < r.Column(i).Len() {
				fields[i].Type, fields[i].Nullable, typed[i] = f.Type, true, true
			}
		}
	}
	md := first.Metadata()
	schema := arrow.NewSchema(fields, &md)
	out := make([]arrow.RecordBatch, 0, len(recs))
	defer releaseAll(recs)
	for _, r := range recs {
		if r.Schema().Equal(schema) {
			r.Retain()
			out = append(out, r)
			continue
		}
		cols := make([]arrow.Array, len(fields))
		for i, f := range fields {
			c := r.Column(i)
			switch {
			case arrow.TypeEqual(c.DataType(), f.Type):
				c.Retain()
				cols[i] = c
			case c.NullN() == c.Len():
				cols[i] = array.MakeArrayOfNull(memory.DefaultAllocator, f.Type, c.Len())
			default:
				for _, a := range cols[:i] {
					a.Release()
				}
				releaseAll(out)
				return nil, catalog.Errorf(catalog.KindInvalid, "the parameter rows give column %s different types (%s and %s): bind parameters of one type per column", f.Name, f.Type, c.DataType())
			}
		}
		out = append(out, array.NewRecordBatch(schema, cols, r.NumRows()))
		for _, c := range cols {
			c.Release()
		}
	}
	return recordsResult(schema, out), nil
}

// transactionControl runs BEGIN, COMMIT and ROLLBACK; done is false for
// any other statement. flightTx is the Flight SQL transaction the statement
// came with, if any.
func (e *Engine) transactionControl(ctx context.Context, s *Session, flightTx *Tx, stmt sqlparse.Statement) (*Result, bool, error) {
	switch stmt.(type) {
	case *sqlparse.Begin, *sqlparse.Commit, *sqlparse.Rollback:
	default:
		return nil, false, nil
	}
	if flightTx != nil {
		return nil, true, catalog.Errorf(catalog.KindFailedPrecondition, "the statement runs in a Flight SQL transaction: end it with EndTransaction (ADBC: commit or rollback), not SQL")
	}
	cur := s.Tx()
	switch stmt.(type) {
	case *sqlparse.Begin:
		if cur != nil {
			return nil, true, catalog.Errorf(catalog.KindFailedPrecondition, "a transaction is already in progress; COMMIT or ROLLBACK it first")
		}
		tx, err := e.Begin(s)
		if err != nil {
			return nil, true, err
		}
		s.setTx(tx)
		return messageResult("BEGIN"), true, nil
	case *sqlparse.Commit:
		if cur == nil {
			return nil, true, catalog.Errorf(catalog.KindFailedPrecondition, "no transaction in progress (BEGIN starts one)")
		}
		s.setTx(nil)
		if err := cur.Commit(ctx); err != nil {
			return nil, true, err
		}
		return messageResult("COMMIT"), true, nil
	default:
		if cur == nil {
			return nil, true, catalog.Errorf(catalog.KindFailedPrecondition, "no transaction in progress (BEGIN starts one)")
		}
		s.setTx(nil)
		cur.Rollback()
		return messageResult("ROLLBACK"), true, nil
	}
}

// deadlineError turns an interruption caused by the query timeout into a
// DeadlineExceeded error.
func deadlineError(ctx context.Context, err error, timeout time.Duration) error {
	if ctx.Err() == context.DeadlineExceeded {
		return catalog.WrapKind(catalog.KindDeadline, err, "query exceeded the %s timeout", timeout)
	}
	return err
}

// admit enforces the per-user cap on concurrently running statements; the
// returned func releases the slot (when the statement's result is closed).
func (e *Engine) admit(user catalog.UserID) (func(), error) {
	max := e.opts.MaxQueriesPerUser
	if max <= 0 {
		return func() {}, nil
	}
	e.running.mu.Lock()
	defer e.running.mu.Unlock()
	if e.running.m[user] >= max {
		return nil, catalog.Errorf(catalog.KindResourceExhausted, "too many concurrent queries for user %s (limit %d): close finished results or retry", user, max)
	}
	e.running.m[user]++
	var once sync.Once
	return func() {
		once.Do(func() {
			e.running.mu.Lock()
			if e.running.m[user]--; e.running.m[user] <= 0 {
				delete(e.running.m, user)
			}
			e.running.mu.Unlock()
		})
	}, nil
}

func parseError(err error) error {
	var fe *sqlparse.ForbiddenError
	if errors.As(err, &fe) {
		return catalog.WrapKind(catalog.KindPermission, err, "")
	}
	return catalog.WrapKind(catalog.KindInvalid, err, "")
}

func (e *Engine) run(ctx context.Context, s *Session, sub subject, stmt sqlparse.Statement, params []any) (*Result, error) {
	switch st := stmt.(type) {
	case *sqlparse.Select:
		if len(params) == 0 {
			if res, ok, err := e.pointQuery(ctx, sub, st.SQL); ok {
				return res, err
			}
		}
		return e.query(ctx, sub, st.SQL, params, nil)
	case *sqlparse.Explain:
		return e.explain(ctx, sub, st, params)
	case *sqlparse.Truncate:
		return e.truncate(ctx, sub, st)
	case *sqlparse.Insert:
		return e.insert(ctx, sub, st, params)
	case *sqlparse.Update:
		return e.update(ctx, sub, st, params)
	case *sqlparse.Delete:
		return e.delete(ctx, sub, st, params)
	case *sqlparse.Use:
		if _, ok := e.reg.namespace(st.Namespace); !ok && st.Namespace != catalog.SystemNamespace {
			return nil, catalog.Errorf(catalog.KindNotFound, "namespace %s does not exist", st.Namespace)
		}
		s.SetNamespace(st.Namespace)
		return messageResult(fmt.Sprintf("Using namespace %s", st.Namespace)), nil
	case *sqlparse.ExecuteAs:
		return nil, catalog.Errorf(catalog.KindInvalid, "EXECUTE AS cannot be nested")
	}
	return e.admin(ctx, sub, stmt)
}

// resolveTable maps a (schema, name) reference to a TableID using the
// subject's default namespace.
func (e *Engine) resolveTable(sub subject, schema, name string) (catalog.TableID, error) {
	ns := catalog.NamespaceID(schema)
	if schema == "" {
		ns = sub.ns
		if ns == "" {
			return catalog.TableID{}, catalog.Errorf(catalog.KindNotFound, "table %s does not exist (no namespace selected: qualify the name as namespace.table or run USE namespace)", name)
		}
	} else {
		n, err := catalog.ParseNamespaceID(schema)
		if err != nil {
			return catalog.TableID{}, catalog.Errorf(catalog.KindNotFound, "namespace %s does not exist", schema)
		}
		ns = n
	}
	tn, err := catalog.ParseTableName(name)
	if err != nil {
		return catalog.TableID{}, catalog.Errorf(catalog.KindNotFound, "table %s.%s does not exist", ns, name)
	}
	return catalog.TableID{Namespace: ns, Name: tn}, nil
}

// tableRef resolves a parsed table reference to an existing table.
func (e *Engine) tableRef(sub subject, ref sqlparse.TableRef) (*catalog.TableDef, error) {
	id, err := e.resolveTable(sub, string(ref.Namespace), string(ref.Name))
	if err != nil {
		return nil, err
	}
	if id.Namespace == catalog.SystemNamespace {
		return nil, permissionDenied("system tables are read-only")
	}
	t, ok := e.reg.table(id)
	if !ok {
		if _, nsOK := e.reg.namespace(id.Namespace); !nsOK {
			return nil, catalog.Errorf(catalog.KindNotFound, "namespace %s does not exist", id.Namespace)
		}
		return nil, catalog.Errorf(catalog.KindNotFound, "table %s does not exist", id)
	}
	return t, nil
}

// partition is the partition the subject reads and writes in t.
func partition(sub subject, t *catalog.TableDef) catalog.UserID {
	if t.Type.PerUser() {
		return sub.user
	}
	return ""
}
