//go:build duckdb_arrow

package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kalamdb/kalamdb-go/auth"
	"github.com/kalamdb/kalamdb-go/coldstore"
	"github.com/kalamdb/kalamdb-go/engine"
	"github.com/kalamdb/kalamdb-go/flightsrv"
	"github.com/kalamdb/kalamdb-go/hotstore"
	"github.com/kalamdb/kalamdb-go/jobs"
)

var errUsage = errors.New("usage")

// errDone ends a run that did what was asked without serving (--help,
// --version): exit status 0.
var errDone = errors.New("done")

// helpIntro and helpExample frame the flag list of --help.
const (
	helpIntro = `kalamdb: a SQL-first realtime database for per-user data, served over Arrow Flight SQL.
Writes land in a Pebble hot tier and flush to Parquet; DuckDB runs every query.

Usage: kalamdb [flags]

Every flag can also be set by the environment variable in brackets; a flag on the
command line wins. KALAMDB_ROOT_PASSWORD sets root's password; without it root logs
in with an empty password from loopback only.

Flags:
`
	helpExample = `
Example:
  KALAMDB_ROOT_PASSWORD=secret kalamdb --data-dir ./data --flight-addr 127.0.0.1:50051
  # then connect with any Flight SQL client: grpc+tcp://127.0.0.1:50051, user root
`
)

// versionLine is the server's version, commit and DuckDB version.
func versionLine() string {
	version, commit := "(devel)", "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			version = bi.Main.Version
		}
		var dirty bool
		for _, st := range bi.Settings {
			switch st.Key {
			case "vcs.revision":
				commit = st.Value
			case "vcs.modified":
				dirty = st.Value == "true"
			}
		}
		if dirty {
			commit += "+modified"
		}
	}
	return fmt.Sprintf("kalamdb %s (commit %s) DuckDB %s %s", version, commit, engine.DuckDBVersion(), runtime.Version())
}

// Main is the server program; Run is its whole life.
type Main struct {
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	// Ready, when set, receives the Flight address once listening (tests).
	Ready func(flightAddr, httpAddr string)
}

type config struct {
	dataDir, flightAddr, httpAddr, logLevel, memoryLimit string
	threads                                              int
	tlsCert, tlsKey, tlsClientCA                         string
	jwtTTL, queryTimeout, txIdleTimeout                  time.Duration
	maxQueriesPerUser                                    int
	handshakeRate                                        float64
	oidcConfig                                           string
	maxJobs                                              int
	evictionInterval, foldQuiet                          time.Duration
	foldPercent                                          int
	hotCacheMinRows                                      int
	resultMemoryLimit, resultMemoryPerUser               string
	bcryptCost                                           int
	hotMaxRows                                           int64
	hotMaxAge                                            time.Duration
	jobHistory                                           time.Duration
}

func (m *Main) parse(args []string) (config, error) {
	env := func(k, def string) string {
		if v := m.Getenv(k); v != "" {
			return v
		}
		return def
	}
	var c config
	fs := flag.NewFlagSet("kalamdb", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.StringVar(&c.dataDir, "data-dir", env("KALAMDB_DATA_DIR", "./data"), "directory of all data [KALAMDB_DATA_DIR]")
	fs.StringVar(&c.flightAddr, "flight-addr", env("KALAMDB_FLIGHT_ADDR", "127.0.0.1:50051"), "Flight SQL listen address [KALAMDB_FLIGHT_ADDR]")
	fs.StringVar(&c.httpAddr, "http-addr", env("KALAMDB_HTTP_ADDR", "127.0.0.1:8080"), "HTTP listen address (/healthz) [KALAMDB_HTTP_ADDR]")
	fs.StringVar(&c.logLevel, "log-level", env("KALAMDB_LOG_LEVEL", "info"), "debug, info, warn or error [KALAMDB_LOG_LEVEL]")
	fs.StringVar(&c.memoryLimit, "memory-limit", env("KALAMDB_MEMORY_LIMIT", ""), "DuckDB memory limit, e.g. 4GB [KALAMDB_MEMORY_LIMIT]")
	threads, _ := strconv.Atoi(env("KALAMDB_THREADS", "0"))
	fs.IntVar(&c.threads, "threads", threads, "DuckDB threads, 0 = all cores [KALAMDB_THREADS]")
	fs.StringVar(&c.tlsCert, "tls-cert", env("KALAMDB_TLS_CERT", ""), "PEM certificate: serve Flight over TLS [KALAMDB_TLS_CERT]")
	fs.StringVar(&c.tlsKey, "tls-key", env("KALAMDB_TLS_KEY", ""), "PEM private key of --tls-cert [KALAMDB_TLS_KEY]")
	fs.StringVar(&c.tlsClientCA, "tls-client-ca", env("KALAMDB_TLS_CLIENT_CA", ""), "PEM CA bundle: require client certificates signed by it (mTLS) [KALAMDB_TLS_CLIENT_CA]")
	durEnv := func(k string, def time.Duration) time.Duration {
		if d, err := time.ParseDuration(m.Getenv(k)); err == nil {
			return d
		}
		return def
	}
	fs.DurationVar(&c.jwtTTL, "jwt-ttl", durEnv("KALAMDB_JWT_TTL", 24*time.Hour), "lifetime of issued tokens [KALAMDB_JWT_TTL]")
	fs.DurationVar(&c.txIdleTimeout, "tx-idle-timeout", durEnv("KALAMDB_TX_IDLE_TIMEOUT", flightsrv.DefaultTxIdleTimeout), "roll back a transaction that has run no statement for this long [KALAMDB_TX_IDLE_TIMEOUT]")
	fs.DurationVar(&c.queryTimeout, "query-timeout", durEnv("KALAMDB_QUERY_TIMEOUT", 60*time.Second), "cancel a statement (and free its resources) after this long, 0 = never [KALAMDB_QUERY_TIMEOUT]")
	maxQ, _ := strconv.Atoi(env("KALAMDB_MAX_QUERIES_PER_USER", "16"))
	fs.IntVar(&c.maxQueriesPerUser, "max-queries-per-user", maxQ, "concurrent statements per user, 0 = no cap [KALAMDB_MAX_QUERIES_PER_USER]")
	rate, _ := strconv.ParseFloat(env("KALAMDB_HANDSHAKE_RATE", "20"), 64)
	fs.Float64Var(&c.handshakeRate, "handshake-rate", rate, "handshakes per second per client IP (burst 2x), 0 = unlimited [KALAMDB_HANDSHAKE_RATE]")
	hmr, _ := strconv.ParseInt(env("KALAMDB_HOT_MAX_ROWS", "1000000"), 10, 64)
	fs.Int64Var(&c.hotMaxRows, "hot-max-rows", hmr, "flush a hot partition once this many row versions were written to it since its last flush, whatever its table's FLUSH_POLICY; 0 = never [KALAMDB_HOT_MAX_ROWS]")
	fs.DurationVar(&c.hotMaxAge, "hot-max-age", durEnv("KALAMDB_HOT_MAX_AGE", 10*time.Minute), "flush a hot partition whose oldest unflushed write is this old, whatever its table's FLUSH_POLICY; 0 = never [KALAMDB_HOT_MAX_AGE]")
	fs.DurationVar(&c.jobHistory, "job-history", durEnv("KALAMDB_JOB_HISTORY", 7*24*time.Hour), "how long finished jobs stay listed in system.jobs; 0 = forever [KALAMDB_JOB_HISTORY]")
	cost, _ := strconv.Atoi(env("KALAMDB_BCRYPT_COST", strconv.Itoa(auth.DefaultBcryptCost)))
	fs.IntVar(&c.bcryptCost, "bcrypt-cost", cost, "bcrypt cost of new password hashes, 4-31: each step doubles the time a login takes [KALAMDB_BCRYPT_COST]")
	maxJobs, _ := strconv.Atoi(env("KALAMDB_MAX_JOBS", "2"))
	fs.IntVar(&c.maxJobs, "max-jobs", maxJobs, "background jobs (flush, compaction, eviction) run at once [KALAMDB_MAX_JOBS]")
	fs.DurationVar(&c.evictionInterval, "stream-eviction-interval", durEnv("KALAMDB_STREAM_EVICTION_INTERVAL", 10*time.Second), "how often expired STREAM rows are deleted (they are invisible at once) [KALAMDB_STREAM_EVICTION_INTERVAL]")
	hcm, _ := strconv.Atoi(env("KALAMDB_HOT_CACHE_MIN_ROWS", "50000"))
	fs.IntVar(&c.hotCacheMinRows, "hot-cache-min-rows", hcm, "keep hot partitions with at least this many rows in DuckDB between queries; -1 disables [KALAMDB_HOT_CACHE_MIN_ROWS]")
	fp, _ := strconv.Atoi(env("KALAMDB_FOLD_PERCENT", "5"))
	fs.IntVar(&c.foldPercent, "fold-percent", fp, "fold (flush and compact) a partition whose queries merge hot versions amounting to this percentage of its cold rows; -1 disables [KALAMDB_FOLD_PERCENT]")
	fs.DurationVar(&c.foldQuiet, "fold-quiet", durEnv("KALAMDB_FOLD_QUIET", 30*time.Second), "how long a partition to fold must go without writes first [KALAMDB_FOLD_QUIET]")
	fs.StringVar(&c.resultMemoryLimit, "result-memory-limit", env("KALAMDB_RESULT_MEMORY_LIMIT", "2GB"), "bytes of result batches the server holds at once over all queries, e.g. 512MB; 0 = no cap [KALAMDB_RESULT_MEMORY_LIMIT]")
	fs.StringVar(&c.resultMemoryPerUser, "result-memory-per-user", env("KALAMDB_RESULT_MEMORY_PER_USER", ""), "bytes of result batches held at once for one user's queries, e.g. 256MB; default a quarter of --result-memory-limit, 0 = no cap [KALAMDB_RESULT_MEMORY_PER_USER]")
	fs.StringVar(&c.oidcConfig, "oidc-config", env("KALAMDB_OIDC_CONFIG", ""), "JSON file listing trusted OIDC issuers [KALAMDB_OIDC_CONFIG]")
	version := fs.Bool("version", false, "print the version, commit and DuckDB version, then exit")
	fs.Usage = func() {} // the flag package calls it on errors too; see below
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(m.Stdout)
			fmt.Fprint(m.Stdout, helpIntro)
			fs.PrintDefaults()
			fmt.Fprint(m.Stdout, helpExample)
			return c, errDone
		}
		fmt.Fprintln(m.Stderr, "kalamdb --help lists the flags")
		return c, errUsage
	}
	if *version {
		fmt.Fprintln(m.Stdout, versionLine())
		return c, errDone
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(m.Stderr, "kalamdb: unexpected argument %q\n", fs.Arg(0))
		return c, errUsage
	}
	if _, err := parseBytes(c.resultMemoryLimit); err != nil {
		fmt.Fprintf(m.Stderr, "kalamdb: --result-memory-limit: %v\n", err)
		return c, errUsage
	}
	if c.resultMemoryPerUser != "" {
		if _, err := parseBytes(c.resultMemoryPerUser); err != nil {
			fmt.Fprintf(m.Stderr, "kalamdb: --result-memory-per-user: %v\n", err)
			return c, errUsage
		}
	}
	if c.memoryLimit != "" {
		n, err := parseBytes(c.memoryLimit)
		if err != nil || n == 0 {
			fmt.Fprintf(m.Stderr, "kalamdb: --memory-limit: %q is not a size (e.g. 512MB, 4GB, 1GiB)\n", c.memoryLimit)
			return c, errUsage
		}
		c.memoryLimit = strconv.FormatInt(n, 10) + "B" // DuckDB's spelling of any size we accept
	}
	return c, nil
}

// parseBytes reads a size such as 512MB, 2GB, 1GiB or 1048576 (bytes).
func parseBytes(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	units := []struct {
		suffix string
		mult   int64
	}{{"KIB", 1 << 10}, {"MIB", 1 << 20}, {"GIB", 1 << 30}, {"TIB", 1 << 40},
		{"KB", 1000}, {"MB", 1000 * 1000}, {"GB", 1000 * 1000 * 1000}, {"TB", 1000 * 1000 * 1000 * 1000}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseFloat(t, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a size (e.g. 512MB, 2GB)", s)
	}
	return int64(n * float64(mult)), nil
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	err := l.UnmarshalText([]byte(strings.ToUpper(s)))
	return l, err
}

// Run starts every component, serves until ctx ends, then shuts down in
// reverse order: stop accepting calls and finish running ones, close the
// engine, close Pebble.
func (m *Main) Run(ctx context.Context, args []string) (err error) {
	c, err := m.parse(args)
	if err != nil {
		return err
	}
	level, err := parseLevel(c.logLevel)
	if err != nil {
		return fmt.Errorf("--log-level %q: want debug, info, warn or error", c.logLevel)
	}
	log := slog.New(slog.NewTextHandler(m.Stderr, &slog.HandlerOptions{Level: level}))
	// Everything that can be checked is checked, and the listeners bound,
	// before the data directory is touched.
	tlsCfg, err := tlsConfig(c)
	if err != nil {
		return err
	}
	issuers, err := loadOIDCConfig(c.oidcConfig)
	if err != nil {
		return err
	}
	fl, err := net.Listen("tcp", c.flightAddr)
	if err != nil {
		return fmt.Errorf("listen on --flight-addr %s: %w", c.flightAddr, err)
	}
	defer fl.Close() // after Serve the server owns it; closing twice is harmless
	hl, err := net.Listen("tcp", c.httpAddr)
	if err != nil {
		return fmt.Errorf("listen on --http-addr %s: %w", c.httpAddr, err)
	}
	defer hl.Close()

	unlock, err := lockDataDir(c.dataDir)
	if err != nil {
		return err
	}
	defer unlock()
	coldDir := filepath.Join(c.dataDir, "storage")
	if err := os.MkdirAll(coldDir, 0o700); err != nil {
		return fmt.Errorf("create storage dir: %w", err)
	}
	coldDir, _ = filepath.Abs(coldDir)

	store, err := hotstore.Open(filepath.Join(c.dataDir, "hot"), hotstore.Options{Logger: log.With("component", "hotstore")})
	if err != nil {
		return fmt.Errorf("open hot store: %w", err)
	}
	defer func() { err = errors.Join(err, store.Close()) }()

	users, err := auth.Open(store, auth.Options{RootPassword: m.Getenv("KALAMDB_ROOT_PASSWORD"), TokenTTL: c.jwtTTL, BcryptCost: c.bcryptCost,
		OIDCIssuers: issuers, Logger: log.With("component", "auth")})
	if err != nil {
		return fmt.Errorf("open users: %w", err)
	}
	cold, err := coldstore.Open(coldstore.Options{Dir: coldDir, Logger: log.With("component", "coldstore")})
	if err != nil {
		return fmt.Errorf("open cold store: %w", err)
	}
	jobMgr, err := jobs.Open(store, jobs.Options{Workers: c.maxJobs, Logger: log.With("component", "jobs")})
	if err != nil {
		return fmt.Errorf("open jobs: %w", err)
	}
	resultLimit, _ := parseBytes(c.resultMemoryLimit) // checked by parse
	perUser := resultLimit / 4
	if c.resultMemoryPerUser != "" {
		perUser, _ = parseBytes(c.resultMemoryPerUser) // checked by parse
	}
	eng, err := engine.Open(store, users, cold, jobMgr, engine.Options{Threads: c.threads, MemoryLimit: c.memoryLimit, ResultMemoryLimit: resultLimit,
		ResultMemoryPerUser: perUser, ColdDir: coldDir,
		QueryTimeout: c.queryTimeout, MaxQueriesPerUser: c.maxQueriesPerUser, Failpoint: m.failpoint(), EvictionInterval: c.evictionInterval, HotCacheMinRows: c.hotCacheMinRows,
		FoldPercent: c.foldPercent, FoldQuiet: c.foldQuiet, HotMaxRows: disabledIfZero(c.hotMaxRows), HotMaxAge: disabledIfZero(c.hotMaxAge),
		Logger: log.With("component", "engine")})
	if err != nil {
		return fmt.Errorf("open engine: %w", err)
	}
	defer func() { err = errors.Join(err, eng.Close()) }()
	if err := eng.Start(); err != nil {
		return fmt.Errorf("start engine: %w", err)
	}
	// Cleanups of dropped users interrupted by a restart go on.
	if err := eng.ResumeUserCleanups(ctx); err != nil {
		log.Warn("resume user cleanups", "err", err)
	}
	jobMgr.Start()
	// Jobs stop before the engine and Pebble close (defers run in reverse).
	defer func() { err = errors.Join(err, jobMgr.Close()) }()
	if c.jobHistory > 0 {
		prune := func(now time.Time) { jobMgr.Prune(now.Add(-c.jobHistory)) }
		prune(time.Now())
		jobMgr.Every(min(max(c.jobHistory/4, 100*time.Millisecond), time.Minute), prune)
	}

	fopts := flightsrv.Options{TLS: tlsCfg, Logger: log.With("component", "flight"), TxIdleTimeout: c.txIdleTimeout}
	if c.handshakeRate > 0 {
		fopts.HandshakeLimiter = auth.NewRateLimiter(c.handshakeRate, int(2*c.handshakeRate)+1, nil)
	}
	srv := flightsrv.New(eng, eng, eng, eng, users, fopts)
	if err := srv.ServeListener(fl); err != nil {
		return err
	}
	defer srv.Close(10 * time.Second)

	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "ok\n")
	})
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := hs.Serve(hl); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http server stopped", "err", err)
		}
	}()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hs.Shutdown(sctx)
	}()

	scheme := "grpc+tcp://"
	if tlsCfg != nil {
		scheme = "grpc+tls://"
	}
	log.Info("kalamdb listening", "flight", scheme+srv.Addr(), "mtls", c.tlsClientCA != "", "http", "http://"+hl.Addr().String(),
		"data_dir", c.dataDir, "duckdb", engine.DuckDBVersion())
	if m.Ready != nil {
		m.Ready(srv.Addr(), hl.Addr().String())
	}
	<-ctx.Done()
	log.Info("shutting down")
	return nil
}

// tlsConfig builds the Flight server's TLS configuration from the flags (nil
// when TLS is off).
func tlsConfig(c config) (*tls.Config, error) {
	if c.tlsCert == "" && c.tlsKey == "" {
		if c.tlsClientCA != "" {
			return nil, errors.New("--tls-client-ca needs --tls-cert and --tls-key")
		}
		return nil, nil
	}
	if c.tlsCert == "" || c.tlsKey == "" {
		return nil, errors.New("--tls-cert and --tls-key go together")
	}
	cert, err := tls.LoadX509KeyPair(c.tlsCert, c.tlsKey)
	if err != nil {
		return nil, fmt.Errorf("load TLS certificate: %w", err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if c.tlsClientCA != "" {
		pem, err := os.ReadFile(c.tlsClientCA)
		if err != nil {
			return nil, fmt.Errorf("read --tls-client-ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--tls-client-ca %s holds no PEM certificate", c.tlsClientCA)
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}

// oidcIssuerConfig is one entry of the --oidc-config file.
type oidcIssuerConfig struct {
	Issuer     string `json:"issuer"`
	Audience   string `json:"audience"`
	JWKSFile   string `json:"jwks_file"`
	JWKSURL    string `json:"jwks_url"`
	AutoCreate bool   `json:"auto_create"`
	UserClaim  string `json:"user_claim"`
}

// loadOIDCConfig reads the trusted issuers: a JSON array of
// {"issuer", "audience", "jwks_file" | "jwks_url", "auto_create", "user_claim"}.
func loadOIDCConfig(path string) ([]auth.OIDCIssuer, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read --oidc-config: %w", err)
	}
	var cfg []oidcIssuerConfig
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return nil, fmt.Errorf("parse --oidc-config %s: %w", path, err)
	}
	out := make([]auth.OIDCIssuer, len(cfg))
	for i, c := range cfg {
		out[i] = auth.OIDCIssuer{Issuer: c.Issuer, Audience: c.Audience, JWKSFile: c.JWKSFile, JWKSURL: c.JWKSURL,
			AutoCreate: c.AutoCreate, UserClaim: c.UserClaim}
	}
	return out, nil
}

// failpoint returns the crash hook named by KALAMDB_FAILPOINT (crash tests
// only): the process kills itself with SIGKILL when a flush reaches it.
func (m *Main) failpoint() func(string) {
	want := m.Getenv("KALAMDB_FAILPOINT")
	if want == "" {
		return nil
	}
	return func(name string) {
		if name == want {
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		}
	}
}

// disabledIfZero maps a flag's 0 ("never") to the engine's negative
// (disabled); the engine reads 0 as "the default".
func disabledIfZero[T int64 | time.Duration](v T) T {
	if v == 0 {
		return -1
	}
	return v
}
