//go:build duckdb_arrow

package main

import (
	"fmt"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRestartKeepsEverything(t *testing.T) {
	dir := t.TempDir()
	ts := startServer(t, dir)
	root := connect(t, ts.addr, "root", testRootPassword)
	root.mustExec("CREATE NAMESPACE keep")
	root.mustExec("CREATE USER TABLE keep.t (id INT PRIMARY KEY, v TEXT)")
	root.mustExec("CREATE USER carol WITH PASSWORD 'carol-pass' ROLE service")
	carol := connect(t, ts.addr, "carol", "carol-pass")
	carol.mustExec("INSERT INTO keep.t VALUES (1, 'one'), (2, 'two')")
	carol.mustExec("UPDATE keep.t SET v = 'TWO' WHERE id = 2")
	carol.mustExec("INSERT INTO keep.t VALUES (3, 'three')")
	carol.mustExec("DELETE FROM keep.t WHERE id = 1")
	root.close()
	carol.close()
	ts.stop()

	ts2 := startServer(t, dir)
	carol2 := connect(t, ts2.addr, "carol", "carol-pass")
	require.Equal(t, [][]string{{"2", "TWO"}, {"3", "three"}}, carol2.mustQuery("SELECT id, v FROM keep.t ORDER BY id"))
	// The catalog's store ids survive too: a new table gets fresh storage.
	root2 := connect(t, ts2.addr, "root", testRootPassword)
	root2.mustExec("CREATE USER TABLE keep.u (id INT PRIMARY KEY)")
	require.Equal(t, [][]string{{"0"}}, root2.mustQuery("EXECUTE AS USER 'carol' (SELECT count(*) FROM keep.u)"))
}

// TestKill9KeepsAcknowledgedWrites kills the server process with SIGKILL
// while clients are writing, restarts it, and checks that every write the
// clients saw acknowledged is there.
func TestKill9KeepsAcknowledgedWrites(t *testing.T) {
	dir := t.TempDir()
	cmd, addr := startProcess(t, dir)
	root := connect(t, addr, "root", testRootPassword)
	root.mustExec("CREATE NAMESPACE crash")
	root.mustExec("CREATE SHARED TABLE crash.t (id BIGINT PRIMARY KEY, writer INT, body TEXT)")

	const writers = 4
	var mu sync.Mutex
	acked := map[int64]bool{}
	var wg sync.WaitGroup
	stopAt := make(chan struct{})
	for w := 0; w < writers; w++ {
		c, err := tryConnect(addr, "root", testRootPassword)
		require.NoError(t, err)
		wg.Add(1)
		go func(w int, c *client) {
			defer wg.Done()
			for i := int64(0); ; i++ {
				id := int64(w)<<32 | i
				_, err := c.exec(fmt.Sprintf("INSERT INTO crash.t VALUES (%d, %d, 'payload-%d')", id, w, i))
				if err != nil {
					return // the server is gone
				}
				mu.Lock()
				acked[id] = true
				n := len(acked)
				mu.Unlock()
				if n == 300 {
					close(stopAt)
				}
			}
		}(w, c)
	}
	<-stopAt
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	_ = cmd.Wait()
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	require.GreaterOrEqual(t, len(acked), 300)

	_, addr2 := startProcess(t, dir)
	c := connect(t, addr2, "root", testRootPassword)
	rows := c.mustQuery("SELECT id, body FROM crash.t")
	got := map[int64]bool{}
	for _, r := range rows {
		var id int64
		_, err := fmt.Sscan(r[0], &id)
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(r[1], "payload-"))
		got[id] = true
	}
	missing := 0
	for id := range acked {
		if !got[id] {
			missing++
		}
	}
	require.Zero(t, missing, "acknowledged writes lost after kill -9 (%d acked, %d present)", len(acked), len(got))
	// The server keeps working after the crash.
	c.mustExec("INSERT INTO crash.t VALUES (-1, 0, 'after restart')")
}

func TestRootWithoutPasswordLoopbackOnly(t *testing.T) {
	dir := t.TempDir()
	// No KALAMDB_ROOT_PASSWORD: root may log in with an empty password over loopback.
	cmd, addr := startProcessEnv(t, dir, nil)
	c := connect(t, addr, "root", "")
	require.Equal(t, [][]string{{"1"}}, c.mustQuery("SELECT 1"))
	_, err := tryConnect(addr, "root", "guess")
	require.Error(t, err)
	_ = cmd
}
