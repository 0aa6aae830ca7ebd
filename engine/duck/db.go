//go:build duckdb_arrow

package duck

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	ddb "github.com/duckdb/duckdb-go-bindings"
)

// Options configure the DuckDB instance.
type Options struct {
	// Threads is DuckDB's worker thread count; 0 = DuckDB's default (cores).
	Threads int
	// MemoryLimit is DuckDB's memory_limit, e.g. "4GB"; "" = DuckDB's default.
	MemoryLimit string
	// TempDir is a private directory for spilling; "" disables spilling.
	TempDir string
	// AllowedDirs are the only directories SQL may read (the cold storage).
	AllowedDirs []string
	// ResultMemoryLimit caps the bytes of streamed result batches that the
	// server holds at once, over all queries (DuckDB's memory_limit does not
	// cover them); a query that would fetch more fails with ErrResultMemory.
	// 0 means no cap.
	ResultMemoryLimit int64
}

// ErrResultMemory ends a result whose next batch would take the batches held
// for all results past Options.ResultMemoryLimit.
var ErrResultMemory = errors.New("results in flight exceed the server's result memory limit")

// ErrUserResultMemory ends a result whose next batch would take the batches
// held for the results of its Budget (one user's) past the budget's limit.
var ErrUserResultMemory = errors.New("results in flight exceed the per-user result memory limit")

// DB is one in-memory DuckDB instance, locked down.
type DB struct {
	db ddb.Database
	// alloc recycles the buffers of streamed batches (see pool.go).
	alloc       *poolAllocator
	resultLimit int64

	mu struct {
		sync.Mutex
		closed bool
	}
}

// Open creates the in-memory instance and applies the lockdown.
func Open(opts Options) (_ *DB, err error) {
	var cfg ddb.Config
	if ddb.CreateConfig(&cfg) == ddb.StateError {
		return nil, errors.New("create duckdb config")
	}
	defer ddb.DestroyConfig(&cfg)
	set := func(k, v string) error {
		if ddb.SetConfig(cfg, k, v) == ddb.StateError {
			return fmt.Errorf("set duckdb option %s=%s", k, v)
		}
		return nil
	}
	settings := [][2]string{
		{"autoinstall_known_extensions", "false"},
		{"autoload_known_extensions", "false"},
		{"allow_community_extensions", "false"},
		{"allow_unsigned_extensions", "false"},
	}
	if opts.Threads > 0 {
		settings = append(settings, [2]string{"threads", fmt.Sprint(opts.Threads)})
	}
	if opts.MemoryLimit != "" {
		settings = append(settings, [2]string{"memory_limit", opts.MemoryLimit})
	}
	for _, s := range settings {
		if err := set(s[0], s[1]); err != nil {
			return nil, err
		}
	}
	d := &DB{alloc: &poolAllocator{}, resultLimit: opts.ResultMemoryLimit}
	var errMsg string
	if ddb.OpenExt(":memory:", &d.db, cfg, &errMsg) == ddb.StateError {
		return nil, fmt.Errorf("open duckdb: %s", errMsg)
	}
	defer func() {
		if err != nil {
			ddb.Close(&d.db)
		}
	}()
	c, err := d.Connect()
	if err != nil {
		return nil, err
	}
	defer c.Close()
	dirs := make([]string, 0, len(opts.AllowedDirs))
	for _, dir := range opts.AllowedDirs {
		dirs = append(dirs, QuoteString(strings.TrimSuffix(dir, "/")+"/"))
	}
	lock := []string{
		"SET temp_directory=" + QuoteString(opts.TempDir),
		"SET allowed_directories=[" + strings.Join(dirs, ",") + "]",
		"SET enable_external_access=false",
		"SET lock_configuration=true",
	}
	for _, q := range lock {
		if err := c.Exec(q); err != nil {
			return nil, fmt.Errorf("lock down duckdb: %w", err)
		}
	}
	return d, nil
}

// Connect opens a new connection. The caller closes it.
func (d *DB) Connect() (*Conn, error) {
	c := Conn{alloc: d.alloc, resultLimit: d.resultLimit}
	if ddb.Connect(d.db, &c.conn) == ddb.StateError {
		return nil, errors.New("connect to duckdb")
	}
	ddb.ConnectionGetArrowOptions(c.conn, &c.arrowOpts)
	return &c, nil
}

// Close closes the instance; connections must be closed first. Idempotent.
func (d *DB) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.mu.closed {
		return nil
	}
	d.mu.closed = true
	ddb.Close(&d.db)
	return nil
}

// Version returns DuckDB's library version.
func Version() string { return ddb.LibraryVersion() }

// QuoteString renders s as a SQL string literal.
func QuoteString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// QuoteIdent renders s as a SQL quoted identifier.
func QuoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
