//go:build duckdb_arrow

package main

import (
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
