//go:build duckdb_arrow

// Command kalamdb is the KalamDB server: Arrow Flight SQL over a Pebble hot
// tier, with DuckDB running every query.
//
// `kalamdb --help` lists every flag with the environment variable that also
// sets it (a flag given on the command line wins); the README's table
// describes them. `kalamdb --version` prints the version, commit and DuckDB
// version. KALAMDB_ROOT_PASSWORD sets root's password; without it root may
// log in with an empty password from loopback only.
//
// A start checks its flags and binds its listeners before it touches the
// data directory, which it then locks (kalamdb.lock holds the owner's pid).
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
		if errors.Is(err, errDone) {
			return
		}
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "kalamdb:", err)
		os.Exit(1)
	}
}
