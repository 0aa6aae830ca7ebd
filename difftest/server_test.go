//go:build duckdb_arrow

package difftest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-adbc/go/adbc"
	adbcflight "github.com/apache/arrow-adbc/go/adbc/driver/flightsql"
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"

	"github.com/kalamdb/kalamdb-go/auth"
	"github.com/kalamdb/kalamdb-go/coldstore"
	"github.com/kalamdb/kalamdb-go/engine"
	"github.com/kalamdb/kalamdb-go/flightsrv"
	"github.com/kalamdb/kalamdb-go/hotstore"
	"github.com/kalamdb/kalamdb-go/jobs"
)

const rootPassword = "difftest-root-pw"

// testServer is a KalamDB server wired as cmd/kalamdb wires it (hot store,
// users, cold store, jobs, engine, Flight SQL), listening on loopback in
// this process. The package cannot import cmd/kalamdb (a main package), so
// the composition is repeated here; only the flags differ.
type testServer struct {
	addr string
}

// startServer starts a server on a fresh data directory, with the engine's
// defaults or, cached, with every hot partition kept in DuckDB between
// queries (a read path of its own) and a compaction after two segments.
func startServer(t testing.TB, cached bool) *testServer {
	t.Helper()
	dir := t.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	coldDir := filepath.Join(dir, "storage")
	require.NoError(t, os.MkdirAll(coldDir, 0o700))
	store, err := hotstore.Open(filepath.Join(dir, "hot"), hotstore.Options{Logger: log})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, store.Close()) })
	users, err := auth.Open(store, auth.Options{RootPassword: rootPassword, TokenTTL: time.Hour, Logger: log})
	require.NoError(t, err)
	cold, err := coldstore.Open(coldstore.Options{Dir: coldDir, Logger: log})
	require.NoError(t, err)
	jobMgr, err := jobs.Open(store, jobs.Options{Workers: 2, Logger: log})
	require.NoError(t, err)
	opts := engine.Options{Threads: 2, ColdDir: coldDir, QueryTimeout: time.Minute, Logger: log}
	if cached {
		opts.HotCacheMinRows, opts.CompactAfterSegments = 1, 2
	}
	eng, err := engine.Open(store, users, cold, jobMgr, opts)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, eng.Close()) })
	require.NoError(t, eng.Start())
	jobMgr.Start()
	t.Cleanup(func() { require.NoError(t, jobMgr.Close()) })
	srv := flightsrv.New(eng, eng, eng, eng, users, flightsrv.Options{Logger: log})
	require.NoError(t, srv.Serve("127.0.0.1:0"))
	t.Cleanup(func() { srv.Close(10 * time.Second) })
	return &testServer{addr: srv.Addr()}
}

// flightSide runs steps on the server over Flight SQL through the ADBC
// driver, as root, on one connection (one server session).
type flightSide struct {
	db   adbc.Database
	conn adbc.Connection
}

func connect(t testing.TB, addr string) *flightSide {
	t.Helper()
	db, err := adbcflight.NewDriver(memory.DefaultAllocator).NewDatabase(map[string]string{
		adbc.OptionKeyURI:      "grpc+tcp://" + addr,
		adbc.OptionKeyUsername: "root",
		adbc.OptionKeyPassword: rootPassword,
	})
	require.NoError(t, err)
	conn, err := db.Open(context.Background())
	require.NoError(t, err)
	f := &flightSide{db: db, conn: conn}
	t.Cleanup(f.close)
	return f
}

func (f *flightSide) close() {
	if f.conn != nil {
		_ = f.conn.Close()
		f.conn = nil
	}
	if f.db != nil {
		_ = f.db.Close()
		f.db = nil
	}
}

// run executes one step; ns replaces the namespace placeholder.
func (f *flightSide) run(ctx context.Context, st *step, ns string) outcome {
	sql := st.serverSQL(ns)
	switch st.mode {
	case modeFlush:
		return f.storage(ctx, "STORAGE FLUSH TABLE "+sql)
	case modeCompact:
		return f.storage(ctx, "STORAGE COMPACT TABLE "+sql)
	case modeFold:
		if o := f.storage(ctx, "STORAGE FLUSH TABLE "+sql); o.err != nil {
			return o
		}
		return f.storage(ctx, "STORAGE COMPACT TABLE "+sql)
	}
	stmt, err := f.conn.NewStatement()
	if err != nil {
		return outcome{err: err}
	}
	defer stmt.Close()
	if err := stmt.SetSqlQuery(sql); err != nil {
		return outcome{err: err}
	}
	if st.prepared {
		if err := stmt.Prepare(ctx); err != nil {
			return outcome{err: err}
		}
		if len(st.params) > 0 {
			rec, err := paramRecord(st.params)
			if err != nil {
				return outcome{err: err}
			}
			err = stmt.Bind(ctx, rec)
			rec.Release()
			if err != nil {
				return outcome{err: err}
			}
		}
	}
	if st.mode == modeExec {
		n, err := stmt.ExecuteUpdate(ctx)
		return outcome{err: err, count: n, hasCount: err == nil}
	}
	rdr, _, err := stmt.ExecuteQuery(ctx)
	if err != nil {
		return outcome{err: err}
	}
	defer rdr.Release()
	o := outcome{schema: rdr.Schema()}
	for rdr.Next() {
		o.rows = append(o.rows, recordRows(rdr.RecordBatch(), st.signlessZero)...)
	}
	o.err = rdr.Err()
	return o
}

// storage runs STORAGE FLUSH/COMPACT and waits for the job it starts.
func (f *flightSide) storage(ctx context.Context, sql string) outcome {
	rows, err := f.strings(ctx, sql)
	if err != nil {
		return outcome{err: err}
	}
	if len(rows) == 0 || len(rows[0]) == 0 || !strings.Contains(rows[0][0], "-") {
		return outcome{} // nothing to do
	}
	id := rows[0][0]
	deadline := time.Now().Add(time.Minute)
	for {
		st, err := f.strings(ctx, "SELECT status, coalesce(error, '') FROM system.jobs WHERE job_id = '"+id+"'")
		if err != nil {
			return outcome{err: err}
		}
		if len(st) == 1 {
			switch {
			case st[0][0] == "completed":
				return outcome{}
			case st[0][0] == "failed" || st[0][0] == "cancelled":
				return outcome{err: fmt.Errorf("job %s %s: %s", id, st[0][0], st[0][1])}
			}
		}
		if time.Now().After(deadline) {
			return outcome{err: fmt.Errorf("job %s did not finish in a minute: %v", id, st)}
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// strings runs a query and returns its cells as text.
func (f *flightSide) strings(ctx context.Context, sql string) ([][]string, error) {
	stmt, err := f.conn.NewStatement()
	if err != nil {
		return nil, err
	}
	defer stmt.Close()
	if err := stmt.SetSqlQuery(sql); err != nil {
		return nil, err
	}
	rdr, _, err := stmt.ExecuteQuery(ctx)
	if err != nil {
		return nil, err
	}
	defer rdr.Release()
	var out [][]string
	for rdr.Next() {
		rec := rdr.RecordBatch()
		for r := 0; r < int(rec.NumRows()); r++ {
			row := make([]string, rec.NumCols())
			for c, col := range rec.Columns() {
				row[c] = col.ValueStr(r)
			}
			out = append(out, row)
		}
	}
	return out, rdr.Err()
}

// exec runs a statement whose result does not matter (namespace setup).
func (f *flightSide) exec(ctx context.Context, sql string) error {
	stmt, err := f.conn.NewStatement()
	if err != nil {
		return err
	}
	defer stmt.Close()
	if err := stmt.SetSqlQuery(sql); err != nil {
		return err
	}
	_, err = stmt.ExecuteUpdate(ctx)
	return err
}

// paramRecord builds the parameter batch of a prepared step: one row per
// run, one column per parameter, typed after the Go values of the column
// (int64, float64, string, bool, []byte; nil is NULL, an all-NULL column is
// of Arrow type null).
func paramRecord(rows [][]any) (arrow.RecordBatch, error) {
	n := len(rows[0])
	fields := make([]arrow.Field, n)
	for c := 0; c < n; c++ {
		var typ arrow.DataType = arrow.Null
		for _, r := range rows {
			var rt arrow.DataType
			switch r[c].(type) {
			case int64:
				rt = arrow.PrimitiveTypes.Int64
			case float64:
				rt = arrow.PrimitiveTypes.Float64
			case string:
				rt = arrow.BinaryTypes.String
			case bool:
				rt = arrow.FixedWidthTypes.Boolean
			case []byte:
				rt = arrow.BinaryTypes.Binary
			default:
				continue
			}
			if typ != arrow.Null && !arrow.TypeEqual(typ, rt) {
				return nil, fmt.Errorf("parameter %d has values of types %s and %s", c+1, typ, rt)
			}
			typ = rt
		}
		fields[c] = arrow.Field{Name: fmt.Sprintf("p%d", c+1), Type: typ, Nullable: true}
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, arrow.NewSchema(fields, nil))
	defer b.Release()
	for _, r := range rows {
		if len(r) != n {
			return nil, errors.New("parameter rows of different widths")
		}
		for c, v := range r {
			fb := b.Field(c)
			if v == nil {
				fb.AppendNull()
				continue
			}
			switch x := v.(type) {
			case int64:
				fb.(*array.Int64Builder).Append(x)
			case float64:
				fb.(*array.Float64Builder).Append(x)
			case string:
				fb.(*array.StringBuilder).Append(x)
			case bool:
				fb.(*array.BooleanBuilder).Append(x)
			case []byte:
				fb.(*array.BinaryBuilder).Append(x)
			default:
				return nil, fmt.Errorf("parameter of unsupported type %T", v)
			}
		}
	}
	return b.NewRecordBatch(), nil
}
