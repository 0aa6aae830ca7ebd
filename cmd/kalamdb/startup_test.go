//go:build duckdb_arrow

package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kalamdb/kalamdb-go/engine"
)

// runMain runs the server program with args and returns its error and
// what it printed.
func runMain(t *testing.T, args ...string) (err error, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &errOut, Getenv: func(string) string { return "" }}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // a start that gets past its checks stops at once
	err = m.Run(ctx, args)
	return err, out.String(), errOut.String()
}

func TestHelpAndVersion(t *testing.T) {
	err, out, errOut := runMain(t, "--help")
	require.ErrorIs(t, err, errDone)
	require.Empty(t, errOut)
	for _, want := range []string{"Usage: kalamdb [flags]", "-data-dir", "[KALAMDB_DATA_DIR]", "KALAMDB_ROOT_PASSWORD", "Example:"} {
		require.Contains(t, out, want)
	}
	err, out, _ = runMain(t, "--version")
	require.ErrorIs(t, err, errDone)
	require.Contains(t, out, "kalamdb ")
	require.Contains(t, out, "DuckDB "+engine.DuckDBVersion())
	err, _, errOut = runMain(t, "--no-such-flag")
	require.ErrorIs(t, err, errUsage)
	require.Contains(t, errOut, "no-such-flag")
	require.Contains(t, errOut, "--help")
}

// TestBadStartTouchesNoData: invalid flags and unavailable ports fail with
// a message saying what is wrong, before anything is written to the data
// directory.
func TestBadStartTouchesNoData(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	base := []string{"--data-dir", dir, "--flight-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0"}
	err, _, errOut := runMain(t, append(base, "--memory-limit", "lots")...)
	require.ErrorIs(t, err, errUsage)
	require.Contains(t, errOut, `--memory-limit: "lots" is not a size`)

	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	err, _, _ = runMain(t, "--data-dir", dir, "--flight-addr", busy.Addr().String(), "--http-addr", "127.0.0.1:0")
	require.ErrorContains(t, err, "listen on --flight-addr "+busy.Addr().String())
	err, _, _ = runMain(t, "--data-dir", dir, "--flight-addr", "127.0.0.1:0", "--http-addr", busy.Addr().String())
	require.ErrorContains(t, err, "listen on --http-addr")
	_, statErr := os.Stat(dir)
	require.True(t, os.IsNotExist(statErr), "the data directory was not created")

	// A valid --memory-limit starts.
	err, _, _ = runMain(t, append(base, "--memory-limit", "1GiB")...)
	require.NoError(t, err)
}

// TestDataDirInUse: a second server on a data directory in use says which
// process has it.
func TestDataDirInUse(t *testing.T) {
	dir := t.TempDir()
	startServer(t, dir)
	err, _, _ := runMain(t, "--data-dir", dir, "--flight-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0")
	require.ErrorContains(t, err, "data directory "+dir+" is in use by another kalamdb process (pid "+strconv.Itoa(os.Getpid())+")")
}
