//go:build duckdb_arrow

package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-adbc/go/adbc"
	adbcflight "github.com/apache/arrow-adbc/go/adbc/driver/flightsql"
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

const testRootPassword = "root-secret-pw"

// testBcryptCost is the cheapest bcrypt cost: at the default (12) one
// password login takes seconds under the race detector, and the tests log
// in hundreds of times.
const testBcryptCost = "4"

// TestMain lets the test binary act as the server in a child process
// (KALAMDB_TEST_SERVE=1), so that tests can kill -9 a real server.
func TestMain(m *testing.M) {
	if os.Getenv("KALAMDB_TEST_SERVE") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// testServer is a server running in this process.
type testServer struct {
	addr    string
	dataDir string
	stop    func()
}

func startServer(t testing.TB, dataDir string) *testServer {
	t.Helper()
	return startServerWith(t, dataDir, nil, nil)
}

// startServerWith starts a server with extra flags and environment.
func startServerWith(t testing.TB, dataDir string, args []string, extraEnv map[string]string) *testServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	env := map[string]string{"KALAMDB_ROOT_PASSWORD": testRootPassword, "KALAMDB_BCRYPT_COST": testBcryptCost}
	for k, v := range extraEnv {
		env[k] = v
	}
	m := &Main{Stdout: io.Discard, Stderr: io.Discard, Getenv: func(k string) string { return env[k] },
		Ready: func(f, _ string) { ready <- f }}
	go func() {
		done <- m.Run(ctx, append([]string{"--data-dir", dataDir, "--flight-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0", "--threads", "2"}, args...))
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("server did not start: %v", err)
	case <-time.After(60 * time.Second):
		cancel()
		t.Fatal("server did not start in time")
	}
	ts := &testServer{addr: addr, dataDir: dataDir}
	var stopped bool
	ts.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		require.NoError(t, <-done)
	}
	t.Cleanup(ts.stop)
	return ts
}

// startProcess runs the server as a child process (the test binary itself).
func startProcess(t testing.TB, dataDir string) (*exec.Cmd, string) {
	t.Helper()
	return startProcessEnv(t, dataDir, []string{"KALAMDB_ROOT_PASSWORD=" + testRootPassword})
}

// startProcessEnv is startProcess with extra environment variables.
func startProcessEnv(t testing.TB, dataDir string, env []string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "--data-dir", dataDir, "--flight-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0", "--threads", "2")
	cmd.Env = append(append(os.Environ(), "KALAMDB_TEST_SERVE=1", "KALAMDB_ROOT_PASSWORD=", "KALAMDB_BCRYPT_COST="+testBcryptCost), env...)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addrCh := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			if i := strings.Index(line, "flight=grpc+tcp://"); i >= 0 {
				rest := line[i+len("flight=grpc+tcp://"):]
				addrCh <- strings.Fields(rest)[0]
			}
		}
	}()
	select {
	case a := <-addrCh:
		return cmd, a
	case <-time.After(60 * time.Second):
		t.Fatal("server process did not start")
	}
	return nil, ""
}

// client is one ADBC Flight SQL connection.
type client struct {
	t    testing.TB
	db   adbc.Database
	conn adbc.Connection
}

func connect(t testing.TB, addr, user, pass string) *client {
	t.Helper()
	c, err := tryConnect(addr, user, pass)
	require.NoError(t, err)
	c.t = t
	t.Cleanup(c.close)
	return c
}

// newUser creates a user with role user and password "<name>-password"
// (as root) and connects as that user.
func newUser(t testing.TB, addr string, root *client, name string) *client {
	t.Helper()
	root.mustExec("CREATE USER " + name + " WITH PASSWORD '" + name + "-password' ROLE user")
	return connect(t, addr, name, name+"-password")
}

func tryConnect(addr, user, pass string) (*client, error) {
	return tryConnectOpts(map[string]string{
		adbc.OptionKeyURI:      "grpc+tcp://" + addr,
		adbc.OptionKeyUsername: user,
		adbc.OptionKeyPassword: pass,
	})
}

// tryConnectOpts opens an ADBC connection with the given database options.
func tryConnectOpts(opts map[string]string) (*client, error) {
	drv := adbcflight.NewDriver(memory.DefaultAllocator)
	db, err := drv.NewDatabase(opts)
	if err != nil {
		return nil, err
	}
	conn, err := db.Open(context.Background())
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	return &client{db: db, conn: conn}, nil
}

func (c *client) close() {
	if c.conn != nil {
		_ = c.conn.Close()
		c.conn = nil
	}
	if c.db != nil {
		_ = c.db.Close()
		c.db = nil
	}
}

// query runs a statement with ExecuteQuery and returns all rows as strings.
func (c *client) query(sql string) ([][]string, *arrow.Schema, error) {
	stmt, err := c.conn.NewStatement()
	if err != nil {
		return nil, nil, err
	}
	defer stmt.Close()
	if err := stmt.SetSqlQuery(sql); err != nil {
		return nil, nil, err
	}
	rdr, _, err := stmt.ExecuteQuery(context.Background())
	if err != nil {
		return nil, nil, err
	}
	defer rdr.Release()
	var out [][]string
	for rdr.Next() {
		rec := rdr.RecordBatch()
		for r := 0; r < int(rec.NumRows()); r++ {
			row := make([]string, rec.NumCols())
			for i, col := range rec.Columns() {
				row[i] = valueString(col, r)
			}
			out = append(out, row)
		}
	}
	if err := rdr.Err(); err != nil {
		return nil, nil, err
	}
	return out, rdr.Schema(), nil
}

func valueString(col arrow.Array, r int) string {
	if col.IsNull(r) {
		return "NULL"
	}
	switch a := col.(type) {
	case *array.String:
		return a.Value(r)
	case *array.Timestamp:
		return a.Value(r).ToTime(arrow.Microsecond).UTC().Format("2006-01-02 15:04:05.999999")
	default:
		return a.ValueStr(r)
	}
}

// mustQuery fails the test on error.
func (c *client) mustQuery(sql string) [][]string {
	c.t.Helper()
	rows, _, err := c.query(sql)
	require.NoError(c.t, err, sql)
	return rows
}

// exec runs a statement with ExecuteUpdate (DoPut) and returns the count.
func (c *client) exec(sql string) (int64, error) {
	stmt, err := c.conn.NewStatement()
	if err != nil {
		return 0, err
	}
	defer stmt.Close()
	if err := stmt.SetSqlQuery(sql); err != nil {
		return 0, err
	}
	return stmt.ExecuteUpdate(context.Background())
}

func (c *client) mustExec(sql string) int64 {
	c.t.Helper()
	n, err := c.exec(sql)
	require.NoError(c.t, err, sql)
	return n
}

// requireCode asserts err carries the gRPC code (ADBC wraps the status).
func requireCode(t testing.TB, err error, code codes.Code, contains string) {
	t.Helper()
	require.Error(t, err)
	got := grpcCode(err)
	require.Equal(t, code, got, "error: %v", err)
	if contains != "" {
		require.Contains(t, strings.ToLower(err.Error()), strings.ToLower(contains))
	}
}

func asAdbc(err error, out *adbc.Error) bool {
	for err != nil {
		if e, ok := err.(adbc.Error); ok {
			*out = e
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

func adbcToGRPC(c adbc.Status) codes.Code {
	switch c {
	case adbc.StatusInvalidArgument:
		return codes.InvalidArgument
	case adbc.StatusNotFound:
		return codes.NotFound
	case adbc.StatusAlreadyExists:
		return codes.AlreadyExists
	case adbc.StatusUnauthenticated:
		return codes.Unauthenticated
	case adbc.StatusUnauthorized:
		return codes.PermissionDenied
	case adbc.StatusInternal:
		return codes.Internal
	case adbc.StatusCancelled:
		return codes.Canceled
	case adbc.StatusTimeout:
		return codes.DeadlineExceeded
	case adbc.StatusIO:
		return codes.Unavailable
	}
	return codes.Unknown
}

var _ = fmt.Sprintf

type adbcError = struct{}

// matchesCode reports whether err carries the gRPC code.
func matchesCode(err error, code codes.Code) bool { return grpcCode(err) == code }

// grpcCode is the server's gRPC code behind err: a status error's own code,
// or, for ADBC errors (whose status folds several codes together), the code
// the driver records in the message as "(Code; Operation)".
func grpcCode(err error) codes.Code {
	if st, ok := status.FromError(err); ok {
		return st.Code()
	}
	var ae adbc.Error
	if !asAdbc(err, &ae) {
		return codes.Unknown
	}
	msg := ae.Msg
	for c := codes.OK; c <= codes.Unauthenticated; c++ {
		if strings.Contains(msg, "("+c.String()+";") {
			return c
		}
	}
	return adbcToGRPC(ae.Code)
}
