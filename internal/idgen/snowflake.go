package idgen

import (
	"sync"
	"time"
)

const (
	nodeBits    = 10
	counterBits = 12
	// NodeMask is the largest node id; larger node ids are masked to 10 bits.
	NodeMask = 1<<nodeBits - 1
	// CounterMask is the largest per-millisecond counter value.
	CounterMask = 1<<counterBits - 1
	timeShift   = nodeBits + counterBits
)

// Snowflake generates strictly increasing 64-bit ids. It is safe for
// concurrent use.
type Snowflake struct {
	node int64 // already shifted into place
	now  func() time.Time

	mu      sync.Mutex
	lastMs  int64 // millisecond of the last id handed out
	counter int64 // counter of the last id handed out
	started bool
}

// NewSnowflake returns a generator for the given node id (only the low 10
// bits are used). now supplies the clock; nil means time.Now.
func NewSnowflake(nodeID uint16, now func() time.Time) *Snowflake {
	if now == nil {
		now = time.Now
	}
	return &Snowflake{node: int64(nodeID&NodeMask) << counterBits, now: now}
}

// unixMs returns t in milliseconds since the Unix epoch, clamped at zero.
func unixMs(t time.Time) int64 {
	ms := t.UnixMilli()
	if ms < 0 {
		return 0
	}
	return ms
}

// advance moves the generator to its next (millisecond, counter) slot given
// the current clock reading ms. Callers hold s.mu.
func (s *Snowflake) advance(ms int64) {
	switch {
	case !s.started || ms > s.lastMs:
		s.started = true
		s.lastMs, s.counter = ms, 0
	case s.counter < CounterMask:
		// Same millisecond, or the clock went backwards: keep counting.
		s.counter++
	default:
		// Counter exhausted: borrow the next millisecond.
		s.lastMs++
		s.counter = 0
	}
}

func (s *Snowflake) id() int64 {
	return s.lastMs<<timeShift | s.node | s.counter
}

// Next returns the next id. Ids returned by one generator strictly increase.
func (s *Snowflake) Next() int64 {
	ms := unixMs(s.now())
	s.mu.Lock()
	s.advance(ms)
	id := s.id()
	s.mu.Unlock()
	return id
}

// NextN appends n strictly increasing ids to dst and returns the extended
// slice. It reads the clock and takes the lock once, so it is much cheaper
// than n calls to Next. n <= 0 returns dst unchanged.
func (s *Snowflake) NextN(n int, dst []int64) []int64 {
	if n <= 0 {
		return dst
	}
	dst = growInt64(dst, n)
	ms := unixMs(s.now())
	s.mu.Lock()
	for i := 0; i < n; i++ {
		s.advance(ms)
		dst = append(dst, s.id())
	}
	s.mu.Unlock()
	return dst
}

func growInt64(dst []int64, n int) []int64 {
	if cap(dst)-len(dst) >= n {
		return dst
	}
	out := make([]int64, len(dst), len(dst)+n)
	copy(out, dst)
	return out
}

// FloorForTime returns the smallest Snowflake id any generator can produce
// for a clock reading of t, so that "id >= FloorForTime(t)" selects ids
// generated at or after t (modulo clock skew and borrowed milliseconds).
// Times before the Unix epoch map to 0.
func FloorForTime(t time.Time) int64 {
	return unixMs(t) << timeShift
}

// TimeOf returns the millisecond timestamp encoded in a Snowflake id.
func TimeOf(id int64) time.Time {
	return time.UnixMilli(id >> timeShift)
}
