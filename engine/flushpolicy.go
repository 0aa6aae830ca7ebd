//go:build duckdb_arrow

package engine

import (
	"strconv"
	"strings"
	"time"
)

// flushPolicy is a table's FLUSH_POLICY: flush a partition once Rows row
// versions were written to it since its last flush, or once Interval has
// passed since its last flush with writes pending (zero: no such rule).
type flushPolicy struct {
	Rows     int64
	Interval time.Duration
}

// parseFlushPolicy reads "rows:N[, interval:S]" (validated by CREATE
// TABLE; unknown parts are ignored).
func parseFlushPolicy(p string) flushPolicy {
	var out flushPolicy
	for _, part := range strings.Split(p, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), ":")
		n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "rows":
			out.Rows = n
		case "interval":
			out.Interval = time.Duration(n) * time.Second
		}
	}
	return out
}

// hotBounds are the server's limits on every hot partition, whatever its
// table's FLUSH_POLICY: MaxRows row versions written since its last flush,
// or its oldest unflushed write MaxAge old (zero: no such limit).
type hotBounds struct {
	MaxRows int64
	MaxAge  time.Duration
}

// partitionWrites is what the scheduler knows of a partition's unflushed
// writes.
type partitionWrites struct {
	// Rows is the number of row versions written since the last flush.
	Rows int64
	// SinceFlush is the time since the last flush (or the server start).
	SinceFlush time.Duration
	// OldestAge is the age of the oldest write not yet flushed.
	OldestAge time.Duration
}

// flushDue reports whether a partition with writes w is due a flush under
// its table's policy p and the server's bounds b.
func flushDue(p flushPolicy, b hotBounds, w partitionWrites) bool {
	if w.Rows <= 0 {
		return false
	}
	switch {
	case p.Rows > 0 && w.Rows >= p.Rows:
	case p.Interval > 0 && w.SinceFlush >= p.Interval:
	case b.MaxRows > 0 && w.Rows >= b.MaxRows:
	case b.MaxAge > 0 && w.OldestAge >= b.MaxAge:
	default:
		return false
	}
	return true
}
