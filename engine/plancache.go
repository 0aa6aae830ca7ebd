package engine

import (
	"sync"

	"github.com/kalamdb/kalamdb-go/catalog"
)

// planKey identifies a scoped rewrite: the same text, user, default
// namespace and role give the same rewrite while the catalog is unchanged
// (the user matters because CURRENT_USER() is bound in the rewrite).
type planKey struct {
	sql  string
	user catalog.UserID
	ns   catalog.NamespaceID
	role catalog.Role
}

type cachedPlan struct {
	gen   uint64
	sql   string
	loads []tableLoad
}

// planCache keeps recent rewrites so that a repeated query skips DuckDB's
// parse → JSON → rewrite → deparse round trip. Bounded: when full it is
// emptied (cheap, and hot queries come back at once).
type planCache struct {
	max int
	mu  struct {
		sync.Mutex
		m map[planKey]*cachedPlan
	}
}

func newPlanCache(max int) *planCache {
	c := &planCache{max: max}
	c.mu.m = make(map[planKey]*cachedPlan)
	return c
}

func (c *planCache) get(k planKey, gen uint64) (*scopedQuery, bool) {
	c.mu.Lock()
	p, ok := c.mu.m[k]
	c.mu.Unlock()
	if !ok || p.gen != gen {
		return nil, false
	}
	q := &scopedQuery{sql: p.sql, loads: make([]*tableLoad, len(p.loads))}
	for i := range p.loads {
		l := p.loads[i]
		q.loads[i] = &l
	}
	return q, true
}

func (c *planCache) put(k planKey, gen uint64, q *scopedQuery) {
	if len(k.sql) > 64<<10 {
		return
	}
	p := &cachedPlan{gen: gen, sql: q.sql, loads: make([]tableLoad, len(q.loads))}
	for i, l := range q.loads {
		p.loads[i] = *l
		p.loads[i].rows = nil
		p.loads[i].tiered = false
		p.loads[i].unpin = nil
	}
	c.mu.Lock()
	if len(c.mu.m) >= c.max {
		c.mu.m = make(map[planKey]*cachedPlan)
	}
	c.mu.m[k] = p
	c.mu.Unlock()
}
