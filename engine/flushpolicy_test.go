//go:build duckdb_arrow

package engine

import (
	"testing"
	"time"
)

func TestParseFlushPolicy(t *testing.T) {
	for in, want := range map[string]flushPolicy{
		"":                           {},
		"rows:1000":                  {Rows: 1000},
		"interval:60":                {Interval: time.Minute},
		"rows:10, interval:5":        {Rows: 10, Interval: 5 * time.Second},
		" ROWS : 7 ,INTERVAL: 2 ":    {Rows: 7, Interval: 2 * time.Second},
		"interval:30,rows:5,other:1": {Rows: 5, Interval: 30 * time.Second},
	} {
		if got := parseFlushPolicy(in); got != want {
			t.Errorf("parseFlushPolicy(%q) = %+v, want %+v", in, got, want)
		}
	}
}

func TestFlushDue(t *testing.T) {
	bounds := hotBounds{MaxRows: 1_000_000, MaxAge: 10 * time.Minute}
	for _, c := range []struct {
		name   string
		policy flushPolicy
		bounds hotBounds
		w      partitionWrites
		want   bool
	}{
		{"nothing written", flushPolicy{Rows: 1}, bounds, partitionWrites{Rows: 0, SinceFlush: time.Hour, OldestAge: time.Hour}, false},
		{"no policy, under the bounds", flushPolicy{}, bounds, partitionWrites{Rows: 999_999, SinceFlush: time.Hour, OldestAge: 9 * time.Minute}, false},
		{"no policy, rows bound", flushPolicy{}, bounds, partitionWrites{Rows: 1_000_000}, true},
		{"no policy, age bound", flushPolicy{}, bounds, partitionWrites{Rows: 1, OldestAge: 10 * time.Minute}, true},
		{"bounds off", flushPolicy{}, hotBounds{}, partitionWrites{Rows: 1 << 40, OldestAge: 1000 * time.Hour}, false},
		{"policy rows", flushPolicy{Rows: 100}, bounds, partitionWrites{Rows: 100}, true},
		{"policy rows not yet", flushPolicy{Rows: 100}, bounds, partitionWrites{Rows: 99, SinceFlush: time.Hour}, false},
		{"policy interval", flushPolicy{Interval: time.Minute}, bounds, partitionWrites{Rows: 1, SinceFlush: time.Minute}, true},
		{"policy interval not yet", flushPolicy{Interval: time.Minute}, bounds, partitionWrites{Rows: 1, SinceFlush: 59 * time.Second, OldestAge: 59 * time.Second}, false},
		{"a longer policy interval than the age bound", flushPolicy{Interval: time.Hour}, bounds, partitionWrites{Rows: 1, SinceFlush: 11 * time.Minute, OldestAge: 11 * time.Minute}, true},
	} {
		if got := flushDue(c.policy, c.bounds, c.w); got != c.want {
			t.Errorf("%s: flushDue = %v, want %v", c.name, got, c.want)
		}
	}
}
