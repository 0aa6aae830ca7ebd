//go:build duckdb_arrow

package main

import (
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSmoke(t *testing.T) {
	ts := startServer(t, t.TempDir())
	root := connect(t, ts.addr, "root", testRootPassword)
	require.Equal(t, [][]string{{"2"}}, root.mustQuery("SELECT 1+1"))
	root.mustExec("CREATE NAMESPACE chat")
	root.mustExec("CREATE USER TABLE chat.messages (id BIGINT PRIMARY KEY DEFAULT SNOWFLAKE_ID(), room TEXT NOT NULL, body TEXT, author TEXT DEFAULT CURRENT_USER(), created_at TIMESTAMP DEFAULT NOW())")
	n := root.mustExec("INSERT INTO chat.messages (room, body) VALUES ('r1', 'hello'), ('r2', 'world')")
	require.EqualValues(t, 2, n)
	rows := root.mustQuery("SELECT room, body, author FROM chat.messages ORDER BY room")
	require.Equal(t, [][]string{{"r1", "hello", "root"}, {"r2", "world", "root"}}, rows)
}

// TestBcryptCostFlag: a user made under --bcrypt-cost logs in, and an out-of-range cost stops the start with a
// clear error.
func TestBcryptCostFlag(t *testing.T) {
	ts := startServerWith(t, t.TempDir(), []string{"--bcrypt-cost", "5"}, nil)
	root := connect(t, ts.addr, "root", testRootPassword)
	root.mustExec("CREATE USER carol WITH PASSWORD 'carol-password' ROLE user")
	connect(t, ts.addr, "carol", "carol-password").close()

	var stderr strings.Builder
	m := &Main{Stdout: io.Discard, Stderr: &stderr, Getenv: func(string) string { return "" }}
	err := m.Run(t.Context(), []string{"--data-dir", t.TempDir(), "--flight-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0", "--bcrypt-cost", "3"})
	require.ErrorContains(t, err, "bcrypt cost 3 out of range 4..31")
}
