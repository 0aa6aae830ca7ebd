//go:build duckdb_arrow

package engine

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/kalamdb/kalamdb-go/catalog"
	"github.com/kalamdb/kalamdb-go/engine/duck"
	"github.com/kalamdb/kalamdb-go/hotstore"
)

// hotCache keeps the row versions of large hot partitions as DuckDB tables
// shared by all queries, so that repeated queries do not decode and copy the
// same hot rows again. Each entry is valid for one partition version: the
// engine bumps a partition's version on every write to it, and a query reads
// the version before scanning, so a cache built from newer rows than its
// label is merely rebuilt once more, and a stale one is never used. Tables
// are named __kdb_hot_<random> in DuckDB's main schema, which client SQL can
// never name (the scoper refuses both, and the name is unguessable). Entries are reference-counted by the
// queries reading them and dropped once superseded and unread.
type hotCache struct {
	mu       sync.Mutex
	versions map[partKey]uint64
	entries  map[partKey]*hotEntry
	seen     map[partKey]int64 // rows found by the last uncached scan
}

type hotEntry struct {
	name    string
	version uint64
	// tableVersion is the version of the table definition the rows were
	// decoded with (ALTER TABLE changes the columns).
	tableVersion int
	refs         int
	doomed       bool
	stats        hotStats
}

// hotStats describe a partition's hot versions (for choosing a merge).
type hotStats struct {
	rows, deleted int64
	min, max      *int64
}

func newHotCache() *hotCache {
	return &hotCache{versions: map[partKey]uint64{}, entries: map[partKey]*hotEntry{}, seen: map[partKey]int64{}}
}

// bump marks a partition changed (after every write to it).
func (e *Engine) bumpPartition(storeID uint64, user catalog.UserID) {
	k := partKey{storeID, user}
	e.noteFoldWrite(k)
	e.hotCache.mu.Lock()
	e.hotCache.versions[k]++
	old := e.hotCache.entries[k]
	if old != nil {
		old.doomed = true
		delete(e.hotCache.entries, k)
	}
	drop := old != nil && old.refs == 0
	e.hotCache.mu.Unlock()
	if drop {
		e.dropHotTable(old.name)
	}
}

// dropTableCache forgets every cached partition of a dropped table.
func (e *Engine) dropTableCache(storeID uint64) {
	var names []string
	e.hotCache.mu.Lock()
	for k, en := range e.hotCache.entries {
		if k.storeID == storeID {
			en.doomed = true
			delete(e.hotCache.entries, k)
			if en.refs == 0 {
				names = append(names, en.name)
			}
		}
	}
	e.hotCache.mu.Unlock()
	for _, n := range names {
		e.dropHotTable(n)
	}
}

func (e *Engine) dropHotTable(name string) {
	c, err := e.conn()
	if err != nil {
		e.log.Warn("drop cached hot relation", "table", name, "err", err)
		return
	}
	err = c.Exec("DROP TABLE IF EXISTS memory.main." + duck.QuoteIdent(name))
	e.release(c, err != nil)
	if err != nil {
		e.log.Warn("drop cached hot relation", "table", name, "err", err)
	}
}

// hotVersions returns a DuckDB relation holding the partition's hot row
// versions (user columns, _deleted, _seq), its stats, and a release func.
// Large partitions come from (or go into) the cache; small ones are loaded
// into a temporary table named temp on c.
func (e *Engine) hotVersions(ctx context.Context, c *duck.Conn, t *catalog.TableDef, user catalog.UserID, temp string) (string, hotStats, func(), error) {
	k := partKey{t.StoreID, user}
	min := e.opts.HotCacheMinRows
	if touched(ctx, k) {
		// The transaction's own writes are not in the cache.
		min = 0
	}
	e.hotCache.mu.Lock()
	version := e.hotCache.versions[k]
	if en, ok := e.hotCache.entries[k]; ok && en.version == version && en.tableVersion == t.Version && min > 0 {
		en.refs++
		e.hotCache.mu.Unlock()
		return "memory.main." + duck.QuoteIdent(en.name), en.stats, e.unrefHot(en), nil
	}
	cache := min > 0 && e.hotCache.seen[k] >= int64(min)
	var name string
	if cache {
		// Unguessable, so that even a query that slipped past the scoper
		// could not name another partition's cached rows.
		name = "__kdb_hot_" + randomToken() + randomToken()
	}
	e.hotCache.mu.Unlock()

	target, create := "temp.main."+duck.QuoteIdent(temp), "CREATE TEMP TABLE "+duck.QuoteIdent(temp)
	if cache {
		target, create = "memory.main."+duck.QuoteIdent(name), "CREATE TABLE memory.main."+duck.QuoteIdent(name)
	}
	cols := append(append([]catalog.Column(nil), t.Columns...), catalog.Column{Name: catalog.DeletedColumn, Type: catalog.DataType{Kind: catalog.TypeBoolean}})
	ddl := createTempSQL("x", cols, true)
	ddl = create + ddl[strings.Index(ddl, " ("):]
	if err := c.Exec(ddl); err != nil {
		return "", hotStats{}, nil, fmt.Errorf("create scoped relation for %s: %w", t.ID, err)
	}
	var st hotStats
	pk := t.PrimaryKeyIndex()
	appendTo, appendTemp := temp, true
	if cache {
		appendTo, appendTemp = name, false
	}
	err := e.hot.ScanVersions(ctx, t, user, hotstore.ScanOptions{}, func(rec arrow.RecordBatch) error {
		n := len(t.Columns)
		// Reorder to (user columns, _deleted, _seq) as the relation is.
		cs := append(append([]arrow.Array(nil), rec.Columns()[:n]...), rec.Column(n+1), rec.Column(n))
		fs := append(append([]arrow.Field(nil), rec.Schema().Fields()[:n]...), rec.Schema().Field(n+1), rec.Schema().Field(n))
		r := array.NewRecordBatch(arrow.NewSchema(fs, nil), cs, rec.NumRows())
		defer r.Release()
		st.rows += rec.NumRows()
		del := rec.Column(n + 1).(*array.Boolean)
		for i := 0; i < del.Len(); i++ {
			if del.Value(i) {
				st.deleted++
			}
		}
		if pk >= 0 {
			if ints, ok := intKeys(rec.Column(pk)); ok && len(ints) > 0 {
				lo, hi := ints[0], ints[len(ints)-1]
				if st.min == nil || lo < *st.min {
					st.min = &lo
				}
				if st.max == nil || hi > *st.max {
					st.max = &hi
				}
			}
		}
		return c.AppendRecord(appendTo, appendTemp, r)
	})
	if err != nil {
		if cache {
			_ = c.Exec("DROP TABLE IF EXISTS " + target)
		}
		return "", hotStats{}, nil, fmt.Errorf("scan %s: %w", t.ID, err)
	}
	e.hotCache.mu.Lock()
	if min > 0 {
		e.hotCache.seen[k] = st.rows
	}
	if !cache {
		e.hotCache.mu.Unlock()
		return target, st, func() {}, nil
	}
	en := &hotEntry{name: name, version: version, tableVersion: t.Version, refs: 1, stats: st}
	var dropOld string
	if e.hotCache.versions[k] != version {
		en.doomed = true // written meanwhile: use once, do not keep
	} else {
		if old := e.hotCache.entries[k]; old != nil {
			old.doomed = true
			if old.refs == 0 {
				dropOld = old.name
			}
		}
		e.hotCache.entries[k] = en
	}
	e.hotCache.mu.Unlock()
	if dropOld != "" {
		e.dropHotTable(dropOld)
	}
	return target, st, e.unrefHot(en), nil
}

func (e *Engine) unrefHot(en *hotEntry) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			e.hotCache.mu.Lock()
			en.refs--
			drop := en.doomed && en.refs == 0
			e.hotCache.mu.Unlock()
			if drop {
				e.dropHotTable(en.name)
			}
		})
	}
}

// hotCacheEligible reports whether a hot-only partition is large enough to
// be served from (and kept in) the cache.
func (e *Engine) hotCacheEligible(storeID uint64, user catalog.UserID) bool {
	min := e.opts.HotCacheMinRows
	if min <= 0 {
		return false
	}
	k := partKey{storeID, user}
	e.hotCache.mu.Lock()
	defer e.hotCache.mu.Unlock()
	return e.hotCache.seen[k] >= int64(min)
}

// noteHotRows records the size of an uncached hot scan.
func (e *Engine) noteHotRows(storeID uint64, user catalog.UserID, rows int64) {
	e.hotCache.mu.Lock()
	e.hotCache.seen[partKey{storeID, user}] = rows
	e.hotCache.mu.Unlock()
}
