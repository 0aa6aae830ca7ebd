package auth

import (
	"container/list"
	"math"
	"sync"
	"time"
)

// DefaultRateLimiterMaxKeys bounds the number of keys a RateLimiter tracks.
const DefaultRateLimiterMaxKeys = 100_000

// RateLimiter is a token-bucket rate limiter per key (typically a client IP
// address), meant for authentication handshakes. Each key's bucket holds
// up to burst tokens, refills at rate tokens per second, and starts full.
//
// Memory is bounded: a bucket that has been idle long enough to refill
// completely is indistinguishable from a new one and is dropped, and at
// most DefaultRateLimiterMaxKeys buckets are kept; beyond that the least
// recently used bucket is evicted (so under a flood of distinct keys an
// old key may get a fresh bucket early, but memory never grows without
// bound).
//
// A RateLimiter is safe for concurrent use. A nil *RateLimiter allows
// every request.
type RateLimiter struct {
	rate    float64
	burst   float64
	now     func() time.Time
	idle    time.Duration // time to refill an empty bucket completely
	maxKeys int

	mu    sync.Mutex
	m     map[string]*list.Element
	order *list.List // of *bucket, most recently used at the front
}

type bucket struct {
	key    string
	tokens float64
	last   time.Time
}

// NewRateLimiter returns a limiter allowing each key burst requests at
// once and rate requests per second on average. now is the clock (nil
// means time.Now). If rate is not a positive finite number or burst < 1,
// it returns nil, which disables limiting.
func NewRateLimiter(rate float64, burst int, now func() time.Time) *RateLimiter {
	if !(rate > 0) || math.IsInf(rate, 0) || burst < 1 {
		return nil
	}
	if now == nil {
		now = time.Now
	}
	idle := time.Duration(math.MaxInt64)
	if ns := float64(burst) / rate * float64(time.Second); ns < math.MaxInt64/2 {
		idle = time.Duration(math.Ceil(ns))
	}
	return &RateLimiter{
		rate:    rate,
		burst:   float64(burst),
		now:     now,
		idle:    idle,
		maxKeys: DefaultRateLimiterMaxKeys,
		m:       make(map[string]*list.Element),
		order:   list.New(),
	}
}

// Allow reports whether a request for key may proceed now, consuming one
// token from key's bucket if so.
func (l *RateLimiter) Allow(key string) bool {
	if l == nil {
		return true
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.evictIdle(now)

	if e, ok := l.m[key]; ok {
		b := e.Value.(*bucket)
		l.order.MoveToFront(e)
		if elapsed := now.Sub(b.last); elapsed > 0 {
			b.tokens = math.Min(l.burst, b.tokens+elapsed.Seconds()*l.rate)
			b.last = now
		}
		if b.tokens >= 1 {
			b.tokens--
			return true
		}
		return false
	}

	for len(l.m) >= l.maxKeys {
		l.remove(l.order.Back())
	}
	b := &bucket{key: key, tokens: l.burst - 1, last: now}
	l.m[key] = l.order.PushFront(b)
	return true
}

// Len returns the number of keys currently tracked.
func (l *RateLimiter) Len() int {
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.m)
}

// evictIdle drops least recently used buckets that have refilled
// completely by now. Buckets are ordered by last use, so it stops at the
// first one still refilling: the cost is amortised O(1) per call.
func (l *RateLimiter) evictIdle(now time.Time) {
	for e := l.order.Back(); e != nil; e = l.order.Back() {
		if now.Sub(e.Value.(*bucket).last) < l.idle {
			return
		}
		l.remove(e)
	}
}

func (l *RateLimiter) remove(e *list.Element) {
	b := l.order.Remove(e).(*bucket)
	delete(l.m, b.key)
}
