package idgen

import (
	"encoding/binary"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestSnowflakeLayout(t *testing.T) {
	base := time.UnixMilli(1_700_000_000_000)
	tests := []struct {
		name string
		node uint16
		want int64
	}{
		{"node0", 0, 1_700_000_000_000 << 22},
		{"node5", 5, 1_700_000_000_000<<22 | 5<<12},
		{"node masked", 0x3FF + 1 + 7, 1_700_000_000_000<<22 | 7<<12},
		{"max node", 0x3FF, 1_700_000_000_000<<22 | 0x3FF<<12},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := NewSnowflake(tc.node, func() time.Time { return base })
			require.Equal(t, tc.want, s.Next())
			require.Equal(t, tc.want+1, s.Next())
			require.Equal(t, base, TimeOf(tc.want))
			require.Equal(t, int64(1_700_000_000_000<<22), FloorForTime(base))
		})
	}
}

func TestFloorForTime(t *testing.T) {
	tests := []struct {
		t    time.Time
		want int64
	}{
		{time.Unix(0, 0), 0},
		{time.Unix(-10, 0), 0},
		{time.UnixMilli(1), 1 << 22},
		{time.UnixMilli(1234).Add(999 * time.Microsecond), 1234 << 22},
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, FloorForTime(tc.t), tc.t)
	}
}

func TestSnowflakeMonotonicBackwardsClock(t *testing.T) {
	clk := &fakeClock{t: time.UnixMilli(1_700_000_000_000)}
	s := NewSnowflake(3, clk.Now)
	var prev int64 = -1
	for i := 0; i < 100_000; i++ {
		switch {
		case i%1000 == 0:
			clk.Add(-5 * time.Millisecond) // clock jumps backwards
		case i%7 == 0:
			clk.Add(time.Millisecond)
		}
		id := s.Next()
		require.Greater(t, id, prev, "iteration %d", i)
		require.Equal(t, int64(3), id>>12&0x3FF)
		prev = id
	}
}

func TestSnowflakeCounterOverflowBorrows(t *testing.T) {
	base := time.UnixMilli(1_700_000_000_000)
	s := NewSnowflake(1, func() time.Time { return base })
	ids := s.NextN(5000, nil)
	require.Len(t, ids, 5000)
	for i := 1; i < len(ids); i++ {
		require.Greater(t, ids[i], ids[i-1])
	}
	require.Equal(t, FloorForTime(base)|1<<12, ids[0])
	// The 4097th id borrows the next millisecond.
	require.Equal(t, base.Add(time.Millisecond), TimeOf(ids[4096]))
	require.Equal(t, int64(0), ids[4096]&CounterMask)
	// Next continues after NextN.
	require.Greater(t, s.Next(), ids[len(ids)-1])
}

func TestSnowflakeNextNAppends(t *testing.T) {
	s := NewSnowflake(0, nil)
	dst := []int64{-1}
	dst = s.NextN(3, dst)
	require.Len(t, dst, 4)
	require.Equal(t, int64(-1), dst[0])
	require.Less(t, dst[1], dst[2])
	require.Equal(t, dst, s.NextN(0, dst))
	buf := make([]int64, 0, 10)
	out := s.NextN(10, buf)
	require.Len(t, out, 10)
	require.Same(t, &buf[:1][0], &out[0], "reuses capacity")
}

func TestSnowflakeConcurrent(t *testing.T) {
	s := NewSnowflake(9, nil)
	const workers, per = 8, 5000
	results := make([][]int64, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var prev int64
			for i := 0; i < per; i++ {
				var id int64
				if i%2 == 0 {
					id = s.Next()
				} else {
					id = s.NextN(1, nil)[0]
				}
				if id <= prev {
					t.Errorf("not increasing: %d after %d", id, prev)
					return
				}
				prev = id
				results[w] = append(results[w], id)
			}
		}()
	}
	wg.Wait()
	seen := make(map[int64]bool, workers*per)
	for _, r := range results {
		for _, id := range r {
			require.False(t, seen[id], "duplicate id %d", id)
			seen[id] = true
		}
	}
}

func TestUUIDv7(t *testing.T) {
	now := time.UnixMilli(0x0189_2D2A_6E4F)
	u := UUIDv7(now)
	require.Len(t, u, 36)
	require.True(t, ValidUUID(u))
	require.Equal(t, strings.ToLower(u), u)
	require.Equal(t, "01892d2a-6e4f-7", u[:15], "timestamp and version")
	require.Contains(t, "89ab", string(u[19]), "variant")
	require.NotEqual(t, u, UUIDv7(now))
	// Ordered by time across milliseconds.
	require.Less(t, UUIDv7(now), UUIDv7(now.Add(time.Millisecond)))
	// Before the epoch clamps to zero.
	require.Equal(t, "00000000-0000-7", UUIDv7(time.Unix(-1, 0))[:15])
}

func TestValidUUID(t *testing.T) {
	tests := []struct {
		s    string
		want bool
	}{
		{"01892d2a-6e4f-7abc-8def-0123456789ab", true},
		{"01892D2A-6E4F-7ABC-8DEF-0123456789AB", true},
		{"00000000-0000-0000-0000-000000000000", true},
		{"", false},
		{"01892d2a6e4f7abc8def0123456789ab", false},
		{"01892d2a-6e4f-7abc-8def-0123456789a", false},
		{"01892d2a-6e4f-7abc-8def-0123456789abc", false},
		{"01892d2a-6e4f-7abc-8def_0123456789ab", false},
		{"01892d2g-6e4f-7abc-8def-0123456789ab", false},
		{"{1892d2a-6e4f-7abc-8def-0123456789ab}", false},
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, ValidUUID(tc.s), tc.s)
	}
}

func TestULID(t *testing.T) {
	// Example from the ULID spec: 1469918176385 encodes as 01ARYZ6S41.
	var b [16]byte
	var ts [8]byte
	binary.BigEndian.PutUint64(ts[:], 1469918176385)
	copy(b[:6], ts[2:])
	require.Equal(t, "01ARYZ6S41"+strings.Repeat("0", 16), encodeULID(b))
	for i := range b {
		b[i] = 0xFF
	}
	require.Equal(t, "7"+strings.Repeat("Z", 25), encodeULID(b))

	now := time.UnixMilli(1469918176385)
	u := ULID(now)
	require.Len(t, u, 26)
	require.Equal(t, "01ARYZ6S41", u[:10])
	for _, c := range u {
		require.Contains(t, crockford, string(c))
	}
	require.NotEqual(t, u, ULID(now))
	require.Less(t, ULID(now), ULID(now.Add(time.Millisecond)))
}

func BenchmarkSnowflakeNext(b *testing.B) {
	s := NewSnowflake(1, nil)
	for b.Loop() {
		s.Next()
	}
}

func BenchmarkSnowflakeNextN(b *testing.B) {
	s := NewSnowflake(1, nil)
	buf := make([]int64, 0, 1024)
	for b.Loop() {
		buf = s.NextN(1024, buf[:0])
	}
}
