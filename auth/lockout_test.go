package auth

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/kalamdb/kalamdb-go/catalog"
)

func TestLoginDelay(t *testing.T) {
	for _, tc := range []struct {
		failures int
		want     time.Duration
	}{
		{0, 0},
		{1, 0},
		{2, 250 * time.Millisecond},
		{3, 500 * time.Millisecond},
		{4, time.Second},
		{5, 2 * time.Second},
		{6, MaxLoginDelay},
		{7, MaxLoginDelay},
		{1000, MaxLoginDelay},
	} {
		t.Run(fmt.Sprintf("failures=%d", tc.failures), func(t *testing.T) {
			require.Equal(t, tc.want, LoginDelay(tc.failures))
		})
	}
}

// openReal opens a service on the real (or, in a synctest bubble, fake)
// clock and sleep.
func openReal(t *testing.T, rootPW string) *Service {
	t.Helper()
	s, err := Open(newMemKV(), Options{RootPassword: rootPW, BcryptCost: bcrypt.MinCost})
	require.NoError(t, err)
	return s
}

// timedLogin returns the error of one login and how long it took on the
// bubble's clock (the sleeps only: CPU time does not advance it).
func timedLogin(s *Service, user, pw, addr string) (time.Duration, error) {
	start := time.Now()
	_, err := s.AuthenticateFrom(user, pw, addr)
	return time.Since(start), err
}

// TestLockoutIsPerAddress: failures from one address delay and then lock
// only that address; a system account is never locked from loopback.
func TestLockoutIsPerAddress(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := openReal(t, "root-password")
		const remote, other = "203.0.113.7", "203.0.113.8"
		want := []time.Duration{0, 0, 250 * time.Millisecond, 500 * time.Millisecond, time.Second}
		for i, d := range want {
			took, err := timedLogin(s, "root", "wrong-password", remote)
			require.Equal(t, "invalid username or password", err.Error(), "attempt %d", i+1)
			require.Equal(t, d, took, "delay before attempt %d", i+1)
		}
		took, err := timedLogin(s, "root", "root-password", remote)
		requireKind(t, err, catalog.KindUnauthenticated, "account locked for this client address until")
		require.Zero(t, took, "a locked pair is refused at once")

		// Another address, and loopback, still log in at once.
		for _, addr := range []string{other, "127.0.0.1", "::1"} {
			took, err := timedLogin(s, "root", "root-password", addr)
			require.NoError(t, err, addr)
			require.Zero(t, took, addr)
		}

		// From loopback a system account is only delayed, never locked:
		// the operator keeps a way in.
		var last time.Duration
		for i := 0; i < 3*MaxFailedLogins; i++ {
			took, err := timedLogin(s, "root", "wrong-password", "127.0.0.1")
			require.Equal(t, "invalid username or password", err.Error())
			last = took
		}
		require.Equal(t, MaxLoginDelay, last, "the delay is capped")
		took, err = timedLogin(s, "root", "root-password", "127.0.0.1")
		require.NoError(t, err)
		require.Equal(t, MaxLoginDelay, took)
		took, err = timedLogin(s, "root", "root-password", "127.0.0.1")
		require.NoError(t, err)
		require.Zero(t, took, "a success resets the delay")

		// Other accounts lock from loopback like from anywhere.
		require.NoError(t, s.CreateUser("dba1", "password1", catalog.RoleDBA, ""))
		for i := 0; i < MaxFailedLogins; i++ {
			_, _ = s.AuthenticateFrom("dba1", "wrong-password", "127.0.0.1")
		}
		_, err = s.AuthenticateFrom("dba1", "password1", "127.0.0.1")
		requireKind(t, err, catalog.KindUnauthenticated, "account locked")
		_, err = s.AuthenticateFrom("dba1", "password1", "127.0.0.2")
		require.NoError(t, err)

		// The lock ends after LockoutDuration.
		time.Sleep(LockoutDuration)
		_, err = s.AuthenticateFrom("root", "root-password", remote)
		require.NoError(t, err)
	})
}

// TestLockoutSameForUnknownNames: an unknown name gets exactly the answers
// and delays of a known one.
func TestLockoutSameForUnknownNames(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := openReal(t, "root-password")
		require.NoError(t, s.CreateUser("alice", "password1", catalog.RoleUser, ""))
		require.NoError(t, s.CreateUser("gone", "password1", catalog.RoleUser, ""))
		require.NoError(t, s.DropUser("gone"))
		type answer struct {
			took time.Duration
			msg  string
		}
		run := func(user string) []answer {
			var out []answer
			for i := 0; i < MaxFailedLogins+2; i++ {
				took, err := timedLogin(s, user, "wrong-password", "203.0.113.9")
				require.Equal(t, catalog.KindUnauthenticated, catalog.KindOf(err))
				msg, _, _ := strings.Cut(err.Error(), " until ") // the time differs
				out = append(out, answer{took, msg})
			}
			return out
		}
		known := run("alice")
		require.Equal(t, known, run("nobody"))
		require.Equal(t, known, run("gone"))
		require.Equal(t, known, run("not a valid name!"))
		require.Contains(t, known[MaxFailedLogins].msg, "account locked")
	})
}

// TestLoginRejectsLongPasswords: bcrypt reads 72 bytes; a longer password
// that starts with the right 72 must not log in.
func TestLoginRejectsLongPasswords(t *testing.T) {
	s := open(t, newMemKV(), newClock(), "")
	pw := strings.Repeat("p", MaxPasswordLen)
	require.NoError(t, s.CreateUser("alice", pw, catalog.RoleUser, ""))
	_, err := s.AuthenticateFrom("alice", pw+"anything", "203.0.113.1")
	requireKind(t, err, catalog.KindUnauthenticated, "")
	require.Equal(t, "invalid username or password", err.Error())
	_, err = s.AuthenticateFrom("nobody", pw+"anything", "203.0.113.1")
	require.Equal(t, "invalid username or password", err.Error())
	u, ok := s.GetUser("alice")
	require.True(t, ok)
	require.Equal(t, 1, u.FailedLoginAttempts, "it counts as a failure")
	_, err = s.AuthenticateFrom("alice", pw, "203.0.113.1")
	require.NoError(t, err)
	// Not even from the credential cache.
	_, err = s.AuthenticateFrom("alice", pw+"x", "203.0.113.1")
	require.Equal(t, "invalid username or password", err.Error())
}

// TestParallelAttemptsCannotExceedLimit: attempts running at once count
// against the limit, so no more than MaxFailedLogins passwords are tried
// per lock.
func TestParallelAttemptsCannotExceedLimit(t *testing.T) {
	s := open(t, newMemKV(), newClock(), "")
	require.NoError(t, s.CreateUser("alice", "password1", catalog.RoleUser, ""))
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Go(func() {
			_, err := s.AuthenticateFrom("alice", "wrong-password", "203.0.113.1")
			require.Error(t, err)
		})
	}
	wg.Wait()
	u, ok := s.GetUser("alice")
	require.True(t, ok)
	require.LessOrEqual(t, u.FailedLoginAttempts, MaxFailedLogins, "passwords checked")
	_, err := s.AuthenticateFrom("alice", "password1", "203.0.113.2")
	require.NoError(t, err)
}

func TestLoginGuardBounded(t *testing.T) {
	g := newLoginGuard()
	g.maxKeys = 100
	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	// A locked pair survives a flood of idle ones.
	for i := 0; i < MaxFailedLogins; i++ {
		k := pairKey("root", "203.0.113.1")
		g.begin(k, now, false)
		g.end(k, false, now, false)
	}
	for i := 0; i < 1000; i++ {
		k := pairKey(catalog.UserID(fmt.Sprintf("u%d", i)), "203.0.113.2")
		g.begin(k, now, false)
		g.end(k, true, now, false)
	}
	require.LessOrEqual(t, g.len(), 100)
	require.False(t, g.begin(pairKey("root", "203.0.113.1"), now, false).lockedUntil.IsZero())

	g.forget("root")
	a := g.begin(pairKey("root", "203.0.113.1"), now, false)
	require.True(t, a.lockedUntil.IsZero())
	require.Zero(t, a.delay)
	require.Equal(t, pairKey("r", "x"), pairKey("r", "x"))
	require.NotEqual(t, pairKey("ro", "ot"), pairKey("root", ""))
}

func TestMarkPurged(t *testing.T) {
	kv, clk := newMemKV(), newClock()
	s := open(t, kv, clk, "")
	require.NoError(t, s.CreateUser("alice", "password1", catalog.RoleUser, ""))
	_, ok := s.PendingPurge("alice")
	require.False(t, ok, "a live user has nothing to purge")
	requireKind(t, s.MarkPurged("alice", clk.Now()), catalog.KindFailedPrecondition, "")
	requireKind(t, s.MarkPurged("nobody", clk.Now()), catalog.KindFailedPrecondition, "")

	require.NoError(t, s.DropUser("alice"))
	u, ok := s.PendingPurge("ALICE")
	require.True(t, ok)
	require.Empty(t, u.PasswordHash)
	dropped := *u.DeletedAt
	requireKind(t, s.MarkPurged("alice", dropped.Add(time.Second)), catalog.KindFailedPrecondition, "not the user dropped")

	// The pending state survives a restart.
	s = open(t, kv, clk, "")
	_, ok = s.PendingPurge("alice")
	require.True(t, ok)
	requireKind(t, s.CreateUser("alice", "password2", catalog.RoleUser, ""), catalog.KindUnavailable, "still being removed")
	require.NoError(t, s.MarkPurged("alice", dropped))
	require.NoError(t, s.MarkPurged("alice", dropped), "idempotent")
	require.NoError(t, s.CreateUser("alice", "password2", catalog.RoleUser, ""))
	// A stale cleanup of the old account cannot touch the new one.
	requireKind(t, s.MarkPurged("alice", dropped), catalog.KindFailedPrecondition, "")

	// A second drop needs a second purge.
	clk.Advance(time.Minute)
	require.NoError(t, s.DropUser("alice"))
	_, ok = s.PendingPurge("alice")
	require.True(t, ok)
	requireKind(t, s.CreateUser("alice", "password2", catalog.RoleUser, ""), catalog.KindUnavailable, "")
}
