//go:build duckdb_arrow

// Command kalamdb is the KalamDB server: Arrow Flight SQL over a Pebble hot
// tier, with DuckDB running every query.
//
// Flags (each also read from the environment variable in brackets; a flag
// given on the command line wins):
//
//	--data-dir     directory of all data (KALAMDB_DATA_DIR, default ./data)
//	--flight-addr  Flight SQL listen address (KALAMDB_FLIGHT_ADDR, default 127.0.0.1:50051)
//	--http-addr    HTTP listen address, /healthz (KALAMDB_HTTP_ADDR, default 127.0.0.1:8080)
//	--log-level    debug, info, warn or error (KALAMDB_LOG_LEVEL, default info)
//	--memory-limit DuckDB memory limit, e.g. 4GB (KALAMDB_MEMORY_LIMIT, default DuckDB's)
//	--threads      DuckDB threads (KALAMDB_THREADS, default all cores)
//	--tls-cert, --tls-key   serve Flight over TLS (KALAMDB_TLS_CERT, KALAMDB_TLS_KEY)
//	--tls-client-ca         require client certificates signed by this CA (KALAMDB_TLS_CLIENT_CA)
//	--jwt-ttl               token lifetime (KALAMDB_JWT_TTL, default 24h)
//	--query-timeout         per-statement timeout (KALAMDB_QUERY_TIMEOUT, default 60s)
//	--max-queries-per-user  concurrent statements per user (KALAMDB_MAX_QUERIES_PER_USER, default 16)
//	--handshake-rate        handshakes/s per client IP (KALAMDB_HANDSHAKE_RATE, default 20)
//	--oidc-config           JSON file of trusted OIDC issuers (KALAMDB_OIDC_CONFIG)
//	--max-jobs              background jobs at once (KALAMDB_MAX_JOBS, default 2)
//	--stream-eviction-interval  how often expired STREAM rows are deleted (default 10s)
//	--hot-cache-min-rows    keep hot partitions this large in DuckDB between queries (default 50000)
//	--fold-percent          fold partitions whose hot versions overlap this share of cold rows (KALAMDB_FOLD_PERCENT, default 5)
//	--fold-quiet            write-free time before such a fold (KALAMDB_FOLD_QUIET, default 30s)
//
// KALAMDB_ROOT_PASSWORD sets root's password; without it root may log in with
// an empty password from loopback only.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	m := &Main{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
	if err := m.Run(ctx, os.Args[1:]); err != nil {
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "kalamdb:", err)
		os.Exit(1)
	}
}
