//go:build duckdb_arrow

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/kalamdb/kalamdb-go/auth"
	"github.com/kalamdb/kalamdb-go/engine"
	"github.com/kalamdb/kalamdb-go/flightsrv"
	"github.com/kalamdb/kalamdb-go/hotstore"
)

var errUsage = errors.New("usage")

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
	if err := fs.Parse(args); err != nil {
		return c, errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(m.Stderr, "kalamdb: unexpected argument %q\n", fs.Arg(0))
		return c, errUsage
	}
	return c, nil
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

	if err := os.MkdirAll(c.dataDir, 0o700); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
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

	users, err := auth.Open(store, auth.Options{RootPassword: m.Getenv("KALAMDB_ROOT_PASSWORD"), Logger: log.With("component", "auth")})
	if err != nil {
		return fmt.Errorf("open users: %w", err)
	}
	eng, err := engine.Open(store, users, engine.Options{Threads: c.threads, MemoryLimit: c.memoryLimit, ColdDir: coldDir, Logger: log.With("component", "engine")})
	if err != nil {
		return fmt.Errorf("open engine: %w", err)
	}
	defer func() { err = errors.Join(err, eng.Close()) }()

	srv := flightsrv.New(eng, users, flightsrv.Options{Logger: log.With("component", "flight")})
	if err := srv.Serve(c.flightAddr); err != nil {
		return err
	}
	defer srv.Close(10 * time.Second)

	hl, err := net.Listen("tcp", c.httpAddr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", c.httpAddr, err)
	}
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

	log.Info("kalamdb listening", "flight", "grpc+tcp://"+srv.Addr(), "http", "http://"+hl.Addr().String(),
		"data_dir", c.dataDir, "duckdb", engine.DuckDBVersion())
	if m.Ready != nil {
		m.Ready(srv.Addr(), hl.Addr().String())
	}
	<-ctx.Done()
	log.Info("shutting down")
	return nil
}
