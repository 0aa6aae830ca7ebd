package auth

import (
	"container/list"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/kalamdb/kalamdb-go/catalog"
)

// Lockout policy. Failed logins are counted per (account name, client
// address) pair, never per account alone, so that failures from one address
// cannot lock the account out for every other address.
const (
	// MaxFailedLogins consecutive failed logins of one name from one client
	// address lock that pair (and only that pair).
	MaxFailedLogins = 5
	// LockoutDuration is how long a locked pair stays locked, and how long
	// a pair's failures are remembered after the last one.
	LockoutDuration = 15 * time.Minute
	// maxQueuedLogins bounds the logins of one pair waiting for the one
	// in progress.
	maxQueuedLogins = 64
	// MaxLoginDelay caps the progressive delay (see LoginDelay).
	MaxLoginDelay = 4 * time.Second
	// firstLoginDelay is the delay after two consecutive failures; each
	// further failure doubles it.
	firstLoginDelay = 250 * time.Millisecond
	// loginGuardMaxKeys bounds the number of pairs tracked.
	loginGuardMaxKeys = 100_000
	// lastLoginGranularity bounds how often LastLoginAt is persisted.
	lastLoginGranularity = time.Minute
)

// LoginDelay is how long an attempt waits before its password is checked,
// given the number of failed (or still running) attempts its pair has
// made: 0 and 1 wait nothing, 2 waits 250 ms, 3 waits 500 ms, 4 waits 1 s,
// and so on, doubling up to MaxLoginDelay.
func LoginDelay(failures int) time.Duration {
	if failures < 2 {
		return 0
	}
	d := firstLoginDelay
	for i := 2; i < failures && d < MaxLoginDelay; i++ {
		d *= 2
	}
	return min(d, MaxLoginDelay)
}

// isLoopbackAddr reports whether addr (an IP address, as the Flight server
// sees the client) is a loopback address.
func isLoopbackAddr(addr string) bool {
	ip := net.ParseIP(addr)
	return ip != nil && ip.IsLoopback()
}

// legacyAddr is the client address assumed by Authenticate, which knows
// only whether the client is on loopback.
func legacyAddr(loopback bool) string {
	if loopback {
		return "127.0.0.1"
	}
	return ""
}

// pairState is the failure bookkeeping of one (name, address) pair.
type pairState struct {
	key string
	// failures counts consecutive failed attempts; reset by a success,
	// by the lock expiring, or LockoutDuration after the last failure.
	failures int
	// inflight counts attempts between begin and end (at most one: the
	// attempts of a pair run one after another, so that parallel guesses
	// cannot outrun the lock); waiting counts those queued behind it.
	inflight, waiting int
	// last is the time of the last failure.
	last time.Time
	// lockedUntil is the end of the pair's lock (zero if none).
	lockedUntil time.Time
}

// idle reports whether the pair carries no information at now: it may be
// forgotten.
func (p *pairState) idle(now time.Time) bool {
	return p.inflight == 0 && p.waiting == 0 && !now.Before(p.lockedUntil) && (p.failures == 0 || now.Sub(p.last) >= LockoutDuration)
}

// loginGuard tracks failed logins per (name, client address) pair: the
// progressive delay and the lock. It is the same for known and unknown
// names, so neither its answers nor its timing tell them apart. Memory is
// bounded: at most loginGuardMaxKeys pairs are kept, idle ones are dropped
// first and then the least recently used (so a flood of distinct names
// from distinct addresses may forget an old lock early, but never grows
// memory without bound). Safe for concurrent use.
type loginGuard struct {
	maxKeys int

	mu    sync.Mutex
	cond  *sync.Cond // on mu: an attempt ended
	m     map[string]*list.Element
	order *list.List // of *pairState, most recently used at the front
}

func newLoginGuard() *loginGuard {
	g := &loginGuard{maxKeys: loginGuardMaxKeys, m: make(map[string]*list.Element), order: list.New()}
	g.cond = sync.NewCond(&g.mu)
	return g
}

// pairKey names the pair of user name id and client address addr. Names
// longer than any valid identifier are cut: they can never log in, and
// cutting bounds the key.
func pairKey(id catalog.UserID, addr string) string {
	name := string(id)
	if len(name) > catalog.MaxIdentifierLen+1 {
		name = name[:catalog.MaxIdentifierLen+1]
	}
	return name + "\x00" + addr
}

// attempt is the outcome of begin.
type attempt struct {
	// delay is how long to wait before checking the password.
	delay time.Duration
	// lockedUntil is set when the pair is locked: the attempt is refused.
	lockedUntil time.Time
	// busy is set when maxQueuedLogins attempts of the pair already wait
	// for the one in progress: the attempt is refused as if its password
	// were wrong, uncounted.
	busy bool
}

// begin starts an attempt of pair key at now. exempt pairs (a system
// account on loopback) are delayed but never locked. A refused attempt
// (lockedUntil or busy set) must not call end.
func (g *loginGuard) begin(key string, now time.Time, exempt bool) attempt {
	g.mu.Lock()
	defer g.mu.Unlock()
	p := g.get(key, now)
	if now.Before(p.lockedUntil) {
		return attempt{lockedUntil: p.lockedUntil}
	}
	if !p.lockedUntil.IsZero() || (p.failures > 0 && now.Sub(p.last) >= LockoutDuration) {
		// The lock expired, or the failures are old: start afresh.
		p.failures, p.lockedUntil = 0, time.Time{}
	}
	// The attempts of one pair run one after another, each seeing the
	// failures of those before it: parallel guesses cannot exceed the
	// limit, and parallel good logins (a connection pool opening at once)
	// wait for the first, whose success fills the credential cache. Past
	// maxQueuedLogins waiting, an attempt is refused, uncounted.
	waited := false
	for p.inflight > 0 {
		if p.waiting >= maxQueuedLogins {
			return attempt{busy: true}
		}
		p.waiting++
		g.cond.Wait()
		p.waiting--
		// Re-read: a flood of other pairs may have evicted this one.
		p, waited = g.get(key, now), true
	}
	if waited && now.Before(p.lockedUntil) {
		return attempt{lockedUntil: p.lockedUntil}
	}
	p.inflight++
	return attempt{delay: LoginDelay(p.failures)}
}

// end finishes an attempt begun by begin. On failure it counts it and,
// unless exempt, locks the pair once it reaches MaxFailedLogins; it
// returns the lock's end (zero if none).
func (g *loginGuard) end(key string, ok bool, now time.Time, exempt bool) time.Time {
	g.mu.Lock()
	defer g.mu.Unlock()
	p := g.get(key, now)
	if p.inflight > 0 {
		p.inflight--
	}
	g.cond.Broadcast()
	if ok {
		p.failures, p.lockedUntil = 0, time.Time{}
		return time.Time{}
	}
	p.failures++
	p.last = now
	if !exempt && p.failures >= MaxFailedLogins {
		p.failures = 0
		p.lockedUntil = now.Add(LockoutDuration)
		return p.lockedUntil
	}
	return time.Time{}
}

// forget drops every pair of user name id (after its password is reset).
func (g *loginGuard) forget(id catalog.UserID) {
	prefix := pairKey(id, "")
	g.mu.Lock()
	defer g.mu.Unlock()
	for k, e := range g.m {
		if strings.HasPrefix(k, prefix) {
			g.order.Remove(e)
			delete(g.m, k)
		}
	}
}

// len returns the number of pairs tracked.
func (g *loginGuard) len() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.m)
}

// get returns key's state, creating it; the caller holds mu.
func (g *loginGuard) get(key string, now time.Time) *pairState {
	if e, ok := g.m[key]; ok {
		g.order.MoveToFront(e)
		return e.Value.(*pairState)
	}
	for len(g.m) >= g.maxKeys {
		g.evict(now)
	}
	p := &pairState{key: key}
	g.m[key] = g.order.PushFront(p)
	return p
}

// evict removes one pair: the least recently used idle one among the
// oldest few, else the least recently used. The caller holds mu.
func (g *loginGuard) evict(now time.Time) {
	victim := g.order.Back()
	n := 0
	for e := g.order.Back(); e != nil && n < 64; e = e.Prev() {
		if e.Value.(*pairState).idle(now) {
			victim = e
			break
		}
		n++
	}
	p := g.order.Remove(victim).(*pairState)
	delete(g.m, p.key)
}
