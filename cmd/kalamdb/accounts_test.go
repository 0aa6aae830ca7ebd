//go:build duckdb_arrow

package main

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
)

// segmentFiles lists the Parquet files of user's partitions under the data
// directory.
func segmentFiles(t *testing.T, dataDir string, user string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(filepath.Join(dataDir, "storage"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".parquet") && filepath.Base(filepath.Dir(p)) == user {
			out = append(out, p)
		}
		return nil
	})
	require.NoError(t, err)
	return out
}

// seedAccountData creates acc.notes (USER) and acc.events (STREAM), and
// gives user name both flushed and hot rows (an update over a flushed row,
// a tombstone, a stream event); bob gets rows too, which must survive.
func seedAccountData(t *testing.T, addr, dataDir string, root *client, name string) {
	t.Helper()
	root.mustExec("CREATE NAMESPACE acc")
	root.mustExec("CREATE USER TABLE acc.notes (id INT PRIMARY KEY, body TEXT)")
	root.mustExec("CREATE STREAM TABLE acc.events (id INT PRIMARY KEY, v TEXT) WITH (TTL_SECONDS=3600)")
	u := newUser(t, addr, root, name)
	bob := newUser(t, addr, root, "bob")
	u.mustExec("INSERT INTO acc.notes VALUES (1, 'flushed'), (2, 'flushed'), (4, 'flushed')")
	bob.mustExec("INSERT INTO acc.notes VALUES (1, 'bob flushed')")
	flush(t, root, "acc.notes")
	u.mustExec("INSERT INTO acc.notes VALUES (3, 'hot')")
	u.mustExec("UPDATE acc.notes SET body = 'updated' WHERE id = 1")
	u.mustExec("DELETE FROM acc.notes WHERE id = 2")
	u.mustExec("INSERT INTO acc.events VALUES (1, 'typing')")
	bob.mustExec("INSERT INTO acc.notes VALUES (2, 'bob hot')")
	bob.mustExec("INSERT INTO acc.events VALUES (1, 'bob event')")
	require.Equal(t, [][]string{{"3"}}, u.mustQuery("SELECT count(*) FROM acc.notes"))
	require.Equal(t, [][]string{{"1"}}, u.mustQuery("SELECT count(*) FROM acc.events"))
	require.NotEmpty(t, segmentFiles(t, dataDir, name), "the flush wrote segments")
}

// requireFreshAccount checks that the re-created user name starts empty,
// that its former segments are gone, and that bob kept everything.
func requireFreshAccount(t *testing.T, addr, dataDir, name, password string) {
	t.Helper()
	u := connect(t, addr, name, password)
	require.Equal(t, [][]string{{"0"}}, u.mustQuery("SELECT count(*) FROM acc.notes"))
	require.Equal(t, [][]string{{"0"}}, u.mustQuery("SELECT count(*) FROM acc.notes WHERE id = 1"), "point lookup")
	require.Equal(t, [][]string{{"0"}}, u.mustQuery("SELECT count(*) FROM acc.events"))
	require.Empty(t, segmentFiles(t, dataDir, name), "the dropped account's segments are deleted")
	// The new account writes the keys the old one had, as new rows.
	u.mustExec("INSERT INTO acc.notes VALUES (1, 'new'), (2, 'new'), (3, 'new')")
	require.Equal(t, [][]string{{"1", "new"}, {"2", "new"}, {"3", "new"}}, u.mustQuery("SELECT id, body FROM acc.notes ORDER BY id"))
	bob := connect(t, addr, "bob", "bob-password")
	require.Equal(t, [][]string{{"1", "bob flushed"}, {"2", "bob hot"}}, bob.mustQuery("SELECT id, body FROM acc.notes ORDER BY id"))
	require.Equal(t, [][]string{{"1"}}, bob.mustQuery("SELECT count(*) FROM acc.events"))
}

// TestRecreatedUserStartsEmpty: rows belong to the account, not the name.
func TestRecreatedUserStartsEmpty(t *testing.T) {
	dir := t.TempDir()
	ts := startServer(t, dir)
	root := connect(t, ts.addr, "root", testRootPassword)
	seedAccountData(t, ts.addr, dir, root, "alice")

	msg := root.mustQuery("DROP USER alice")
	require.Contains(t, msg[0][0], "job UC-")
	root.mustExec("CREATE USER alice WITH PASSWORD 'alice-password-2' ROLE user")
	requireFreshAccount(t, ts.addr, dir, "alice", "alice-password-2")

	rows := root.mustQuery("SELECT status FROM system.jobs WHERE job_type = 'user_cleanup'")
	require.Equal(t, [][]string{{"completed"}}, rows)
	// Impersonation sees the new account's rows only, too.
	require.Equal(t, [][]string{{"3"}}, root.mustQuery("EXECUTE AS USER 'alice' (SELECT count(*) FROM acc.notes)"))

	// Dropped again, the name is again reserved until its cleanup runs;
	// CREATE USER waits for it.
	root.mustExec("DROP USER alice")
	root.mustExec("CREATE USER alice WITH INTERNAL ROLE user")
	require.Equal(t, [][]string{{"0"}}, root.mustQuery("EXECUTE AS USER 'alice' (SELECT count(*) FROM acc.notes)"))
}

// TestRecreatedUserStartsEmptyAfterRestart: a server restart between DROP
// USER and CREATE USER, and a crash in the middle of the cleanup job, still
// leave the re-created name empty.
func TestRecreatedUserStartsEmptyAfterRestart(t *testing.T) {
	t.Run("graceful", func(t *testing.T) {
		dir := t.TempDir()
		ts := startServer(t, dir)
		root := connect(t, ts.addr, "root", testRootPassword)
		seedAccountData(t, ts.addr, dir, root, "alice")
		root.mustExec("DROP USER alice")
		root.close()
		ts.stop()

		ts = startServer(t, dir)
		root = connect(t, ts.addr, "root", testRootPassword)
		root.mustExec("CREATE USER alice WITH PASSWORD 'alice-password-2' ROLE user")
		requireFreshAccount(t, ts.addr, dir, "alice", "alice-password-2")
	})
	for _, point := range []string{"user-cleanup-start", "user-cleanup-before-release"} {
		t.Run(point, func(t *testing.T) {
			dir := t.TempDir()
			cmd, addr := startProcessEnv(t, dir, []string{"KALAMDB_ROOT_PASSWORD=" + testRootPassword, "KALAMDB_FAILPOINT=" + point})
			root := connect(t, addr, "root", testRootPassword)
			seedAccountData(t, addr, dir, root, "alice")
			_, _ = root.exec("DROP USER alice")
			require.Error(t, cmd.Wait(), "the failpoint kills the server")

			_, addr = startProcessEnv(t, dir, []string{"KALAMDB_ROOT_PASSWORD=" + testRootPassword})
			root = connect(t, addr, "root", testRootPassword)
			_, err := tryConnect(addr, "alice", "alice-password")
			requireCode(t, err, codes.Unauthenticated, "invalid username or password")
			root.mustExec("CREATE USER alice WITH PASSWORD 'alice-password-2' ROLE user")
			requireFreshAccount(t, addr, dir, "alice", "alice-password-2")
		})
	}
}

// roleRank orders the roles for the account management rule.
var roleRank = map[string]int{"user": 1, "service": 2, "dba": 3, "system": 4}

// manages is the account management rule: system manages everyone, dba
// manages service and user accounts, nobody else manages anyone.
func manages(actor, target string) bool {
	return actor == "system" || (actor == "dba" && roleRank[target] < roleRank["dba"])
}

// TestAccountManagementMatrix checks actor role × target role × operation
// for CREATE, ALTER (password, email, role) and DROP USER.
func TestAccountManagementMatrix(t *testing.T) {
	ts := startServer(t, t.TempDir())
	root := connect(t, ts.addr, "root", testRootPassword)
	roles := []string{"user", "service", "dba", "system"}
	actors := map[string]*client{}
	for _, r := range roles {
		root.mustExec(fmt.Sprintf("CREATE USER a_%s WITH PASSWORD 'password-a-%s' ROLE %s", r, r, r))
		actors[r] = connect(t, ts.addr, "a_"+r, "password-a-"+r)
		for _, target := range roles {
			root.mustExec(fmt.Sprintf("CREATE USER t_%s_%s WITH INTERNAL ROLE %s", r, target, target))
		}
	}
	check := func(name string, ok bool, err error) {
		t.Helper()
		if ok {
			require.NoError(t, err, name)
		} else {
			requireCode(t, err, codes.PermissionDenied, "permission denied")
		}
	}

	// The reported exploit: a dba resets root's password and logs in as
	// root. Refused, and root's password is unchanged.
	dba := actors["dba"]
	_, err := dba.exec("ALTER USER root SET PASSWORD 'owned-by-dba'")
	check("dba sets root's password", false, err)
	_, err = tryConnect(ts.addr, "root", "owned-by-dba")
	requireCode(t, err, codes.Unauthenticated, "")
	connect(t, ts.addr, "root", testRootPassword)
	// Nor may a dba reach a peer dba through impersonation.
	_, err = dba.exec("EXECUTE AS USER 't_dba_dba' (ALTER USER t_dba_dba SET EMAIL 'x@example.com')")
	check("dba alters a dba as that dba", false, err)

	for _, actor := range roles {
		c := actors[actor]
		for _, target := range roles {
			name := fmt.Sprintf("t_%s_%s", actor, target)
			ok := manages(actor, target)
			_, err := c.exec(fmt.Sprintf("ALTER USER %s SET EMAIL '%s@example.com'", name, name))
			check(actor+" sets the email of a "+target, ok, err)
			_, err = c.exec(fmt.Sprintf("ALTER USER %s SET PASSWORD 'password-%s'", name, name))
			check(actor+" sets the password of a "+target, ok, err)
			_, err = c.exec(fmt.Sprintf("ALTER USER %s SET ROLE %s", name, target))
			check(actor+" sets the role of a "+target, ok, err)
			_, err = c.exec(fmt.Sprintf("DROP USER %s", name))
			check(actor+" drops a "+target, ok, err)
			_, err = c.exec(fmt.Sprintf("CREATE USER c_%s_%s WITH INTERNAL ROLE %s", actor, target, target))
			check(actor+" creates a "+target, ok, err)
		}
	}

	// Granting: only roles the actor manages, whoever the account.
	root.mustExec("CREATE USER g_dba WITH INTERNAL ROLE user")
	for _, r := range roles {
		_, err := dba.exec("ALTER USER g_dba SET ROLE " + r)
		check("dba grants "+r, manages("dba", r), err)
	}
	root.mustExec("ALTER USER g_dba SET ROLE system")
	root.mustExec("ALTER USER g_dba SET ROLE user")
	// A denied statement changes nothing, even its allowed parts.
	_, err = dba.exec("ALTER USER g_dba SET EMAIL 'g@example.com' SET ROLE dba")
	check("dba grants dba with an email", false, err)
	require.Equal(t, [][]string{{"user", "NULL"}}, root.mustQuery("SELECT role, email FROM system.users WHERE user_id = 'g_dba'"))

	// Oneself: any role changes its own password and email, but not its
	// role (unless system), and a dba does not drop itself.
	for _, r := range roles {
		c := actors[r]
		_, err := c.exec(fmt.Sprintf("ALTER USER a_%s SET EMAIL 'a_%s@example.com'", r, r))
		check(r+" sets its own email", true, err)
		if r != "system" {
			_, err = c.exec(fmt.Sprintf("ALTER USER a_%s SET ROLE user", r))
			check(r+" sets its own role", false, err)
		}
		_, err = c.exec(fmt.Sprintf("ALTER USER a_%s SET PASSWORD 'new-password-%s'", r, r))
		check(r+" sets its own password", true, err)
		connect(t, ts.addr, "a_"+r, "new-password-"+r)
	}
	dba = connect(t, ts.addr, "a_dba", "new-password-dba")
	_, err = dba.exec("DROP USER a_dba")
	check("dba drops itself", false, err)
	require.Equal(t, [][]string{{"system"}}, root.mustQuery("SELECT role FROM system.users WHERE user_id = 'root'"))
}
