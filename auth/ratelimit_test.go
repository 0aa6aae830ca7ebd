package auth

import (
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRateLimiter(t *testing.T) {
	type step struct {
		advance time.Duration
		key     string
		want    bool
	}
	tests := []struct {
		name  string
		rate  float64
		burst int
		steps []step
	}{
		{"burst then deny", 1, 3, []step{
			{0, "a", true}, {0, "a", true}, {0, "a", true}, {0, "a", false}, {0, "a", false},
		}},
		{"refill one per second", 1, 2, []step{
			{0, "a", true}, {0, "a", true}, {0, "a", false},
			{500 * time.Millisecond, "a", false},
			{500 * time.Millisecond, "a", true}, {0, "a", false},
			{time.Second, "a", true}, {0, "a", false},
		}},
		{"refill capped at burst", 10, 2, []step{
			{0, "a", true}, {0, "a", true}, {0, "a", false},
			{time.Hour, "a", true}, {0, "a", true}, {0, "a", false},
		}},
		{"keys are independent", 1, 1, []step{
			{0, "10.0.0.1", true}, {0, "10.0.0.1", false},
			{0, "10.0.0.2", true}, {0, "10.0.0.2", false},
			{0, "::1", true}, {0, "10.0.0.1", false},
		}},
		{"fractional rate", 0.5, 1, []step{
			{0, "a", true}, {time.Second, "a", false}, {time.Second, "a", true},
			{1999 * time.Millisecond, "a", false}, {time.Millisecond, "a", true},
		}},
		{"denied requests consume nothing", 1, 1, []step{
			{0, "a", true}, {0, "a", false}, {0, "a", false}, {0, "a", false},
			{time.Second, "a", true},
		}},
		{"fast rate", 1000, 1, []step{
			{0, "a", true}, {0, "a", false}, {time.Millisecond, "a", true}, {0, "a", false},
		}},
		{"clock going backwards", 1, 1, []step{
			{0, "a", true}, {-time.Hour, "a", false}, {time.Hour, "a", false}, {time.Second, "a", true},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock()
			l := NewRateLimiter(tc.rate, tc.burst, clk.Now)
			require.NotNil(t, l)
			for i, st := range tc.steps {
				clk.Advance(st.advance)
				require.Equal(t, st.want, l.Allow(st.key), "step %d (%+v)", i, st)
			}
		})
	}
}

func TestRateLimiterDisabled(t *testing.T) {
	for _, tc := range []struct {
		rate  float64
		burst int
	}{{0, 5}, {-1, 5}, {math.NaN(), 5}, {math.Inf(1), 5}, {1, 0}, {1, -1}} {
		l := NewRateLimiter(tc.rate, tc.burst, nil)
		require.Nil(t, l, "%v/%v", tc.rate, tc.burst)
		for i := 0; i < 100; i++ {
			require.True(t, l.Allow("a"))
		}
		require.Zero(t, l.Len())
	}
	// Defaults to the real clock.
	l := NewRateLimiter(1, 1, nil)
	require.True(t, l.Allow("a"))
	require.False(t, l.Allow("a"))
	// A tiny rate does not overflow the idle time.
	require.NotNil(t, NewRateLimiter(1e-300, math.MaxInt32, nil))
}

func TestRateLimiterEvictsIdle(t *testing.T) {
	clk := newClock()
	l := NewRateLimiter(2, 4, clk.Now) // an empty bucket refills in 2 s
	for i := 0; i < 100; i++ {
		require.True(t, l.Allow(fmt.Sprintf("10.0.0.%d", i)))
	}
	require.Equal(t, 100, l.Len())
	clk.Advance(time.Second)
	require.True(t, l.Allow("fresh"))
	require.Equal(t, 101, l.Len(), "not yet refilled")
	clk.Advance(time.Second)
	require.True(t, l.Allow("fresh"))
	require.Equal(t, 1, l.Len(), "refilled buckets are dropped")

	// A drained key that is evicted would have been full anyway.
	for i := 0; i < 4; i++ {
		require.True(t, l.Allow("x"))
	}
	require.False(t, l.Allow("x"))
	clk.Advance(2 * time.Second)
	require.True(t, l.Allow("y"))
	for i := 0; i < 4; i++ {
		require.True(t, l.Allow("x"))
	}
	require.False(t, l.Allow("x"))
}

func TestRateLimiterMaxKeys(t *testing.T) {
	clk := newClock()
	l := NewRateLimiter(1, 1, clk.Now)
	l.maxKeys = 3
	for _, k := range []string{"a", "b", "c"} {
		require.True(t, l.Allow(k))
	}
	require.False(t, l.Allow("a")) // a is now the most recently used
	require.True(t, l.Allow("d"))  // evicts b, the least recently used
	require.Equal(t, 3, l.Len())
	require.False(t, l.Allow("a"))
	require.False(t, l.Allow("c"))
	require.False(t, l.Allow("d"))
	require.True(t, l.Allow("b"), "evicted key starts over")
	require.Equal(t, 3, l.Len())

	// The default cap.
	l = NewRateLimiter(1, 1, clk.Now)
	for i := 0; i < DefaultRateLimiterMaxKeys+500; i++ {
		l.Allow(fmt.Sprint(i))
	}
	require.Equal(t, DefaultRateLimiterMaxKeys, l.Len())
}

func TestRateLimiterConcurrent(t *testing.T) {
	clk := newClock()
	l := NewRateLimiter(1, 10, clk.Now)
	var mu sync.Mutex
	allowed := map[string]int{}
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				key := fmt.Sprint(i % 5)
				if l.Allow(key) {
					mu.Lock()
					allowed[key]++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	for k := 0; k < 5; k++ {
		require.Equal(t, 10, allowed[fmt.Sprint(k)], "exactly burst per key with a frozen clock")
	}
}
