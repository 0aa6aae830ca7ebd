package engine

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/kalamdb/kalamdb-go/catalog"
)

// Meta keys of the catalog (in the hot store's metadata space):
//
//	cat/ns/<namespace>        JSON catalog.Namespace
//	cat/tbl/<ns>.<table>      JSON catalog.TableDef
//	cat/next_store_id         8-byte big-endian next TableDef.StoreID
const (
	metaNamespacePrefix = "cat/ns/"
	metaTablePrefix     = "cat/tbl/"
	metaNextStoreID     = "cat/next_store_id"
)

// metaKV is the persistence the registry needs.
type metaKV interface {
	MetaGet(key []byte) ([]byte, bool, error)
	MetaPut(key, value []byte) error
	MetaDelete(key []byte) error
	MetaScan(prefix []byte, fn func(key, value []byte) error) error
	MetaBatch(puts map[string][]byte, deletes []string) error
}

// registry holds namespaces and table definitions in memory, persisted to the
// hot store's metadata. Reads take a read lock; DDL serialises on the write
// lock and persists before publishing.
type registry struct {
	kv metaKV
	// gen changes on every DDL; cached query plans are valid for one gen.
	gen atomic.Uint64

	mu struct {
		sync.RWMutex
		namespaces  map[catalog.NamespaceID]*catalog.Namespace
		tables      map[catalog.TableID]*catalog.TableDef
		nextStoreID uint64
	}
}

func openRegistry(kv metaKV) (*registry, error) {
	r := &registry{kv: kv}
	r.mu.namespaces = map[catalog.NamespaceID]*catalog.Namespace{}
	r.mu.tables = map[catalog.TableID]*catalog.TableDef{}
	r.mu.nextStoreID = 1
	err := kv.MetaScan([]byte(metaNamespacePrefix), func(_, v []byte) error {
		var ns catalog.Namespace
		if err := json.Unmarshal(v, &ns); err != nil {
			return fmt.Errorf("decode namespace: %w", err)
		}
		r.mu.namespaces[ns.ID] = &ns
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load namespaces: %w", err)
	}
	err = kv.MetaScan([]byte(metaTablePrefix), func(_, v []byte) error {
		var t catalog.TableDef
		if err := json.Unmarshal(v, &t); err != nil {
			return fmt.Errorf("decode table: %w", err)
		}
		r.mu.tables[t.ID] = t.Seal()
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load tables: %w", err)
	}
	v, ok, err := kv.MetaGet([]byte(metaNextStoreID))
	if err != nil {
		return nil, fmt.Errorf("load next store id: %w", err)
	}
	if ok && len(v) == 8 {
		r.mu.nextStoreID = binary.BigEndian.Uint64(v)
	}
	return r, nil
}

func (r *registry) namespace(id catalog.NamespaceID) (*catalog.Namespace, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	ns, ok := r.mu.namespaces[id]
	return ns, ok
}

func (r *registry) namespaces() []*catalog.Namespace {
	r.mu.RLock()
	out := make([]*catalog.Namespace, 0, len(r.mu.namespaces))
	for _, ns := range r.mu.namespaces {
		out = append(out, ns)
	}
	r.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (r *registry) table(id catalog.TableID) (*catalog.TableDef, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	t, ok := r.mu.tables[id]
	return t, ok
}

// tables lists the tables of ns (all when ns is ""), sorted.
func (r *registry) tables(ns catalog.NamespaceID) []*catalog.TableDef {
	r.mu.RLock()
	out := make([]*catalog.TableDef, 0, len(r.mu.tables))
	for id, t := range r.mu.tables {
		if ns == "" || id.Namespace == ns {
			out = append(out, t)
		}
	}
	r.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].ID.Namespace != out[j].ID.Namespace {
			return out[i].ID.Namespace < out[j].ID.Namespace
		}
		return out[i].ID.Name < out[j].ID.Name
	})
	return out
}

func (r *registry) createNamespace(ns *catalog.Namespace, ifNotExists bool) (created bool, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.mu.namespaces[ns.ID]; ok {
		if ifNotExists {
			return false, nil
		}
		return false, catalog.Errorf(catalog.KindAlreadyExists, "namespace %s already exists", ns.ID)
	}
	b, err := json.Marshal(ns)
	if err != nil {
		return false, fmt.Errorf("encode namespace %s: %w", ns.ID, err)
	}
	if err := r.kv.MetaPut([]byte(metaNamespacePrefix+string(ns.ID)), b); err != nil {
		return false, fmt.Errorf("persist namespace %s: %w", ns.ID, err)
	}
	r.mu.namespaces[ns.ID] = ns
	r.gen.Add(1)
	return true, nil
}

// dropNamespace removes the namespace; its tables are returned (and removed
// from the catalog) when cascade is set, else a non-empty namespace is an
// error.
func (r *registry) dropNamespace(id catalog.NamespaceID, cascade bool) ([]*catalog.TableDef, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.mu.namespaces[id]; !ok {
		return nil, catalog.Errorf(catalog.KindNotFound, "namespace %s does not exist", id)
	}
	var dropped []*catalog.TableDef
	for tid, t := range r.mu.tables {
		if tid.Namespace == id {
			dropped = append(dropped, t)
		}
	}
	if len(dropped) > 0 && !cascade {
		return nil, catalog.Errorf(catalog.KindInvalid, "namespace %s is not empty (%d tables); use DROP NAMESPACE %s CASCADE", id, len(dropped), id)
	}
	for _, t := range dropped {
		if err := r.kv.MetaDelete([]byte(metaTablePrefix + t.ID.String())); err != nil {
			return nil, fmt.Errorf("delete table %s: %w", t.ID, err)
		}
		delete(r.mu.tables, t.ID)
	}
	if err := r.kv.MetaDelete([]byte(metaNamespacePrefix + string(id))); err != nil {
		return nil, fmt.Errorf("delete namespace %s: %w", id, err)
	}
	delete(r.mu.namespaces, id)
	r.gen.Add(1)
	return dropped, nil
}

// createTable assigns a StoreID and persists t (unsealed; sealed here).
func (r *registry) createTable(t *catalog.TableDef, ifNotExists bool) (created bool, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.mu.namespaces[t.ID.Namespace]; !ok {
		return false, catalog.Errorf(catalog.KindNotFound, "namespace %s does not exist", t.ID.Namespace)
	}
	if _, ok := r.mu.tables[t.ID]; ok {
		if ifNotExists {
			return false, nil
		}
		return false, catalog.Errorf(catalog.KindAlreadyExists, "table %s already exists", t.ID)
	}
	t.StoreID = r.mu.nextStoreID
	var next [8]byte
	binary.BigEndian.PutUint64(next[:], t.StoreID+1)
	if err := r.kv.MetaPut([]byte(metaNextStoreID), next[:]); err != nil {
		return false, fmt.Errorf("persist next store id: %w", err)
	}
	r.mu.nextStoreID++
	if err := r.putTableLocked(t); err != nil {
		return false, err
	}
	return true, nil
}

// replaceTable persists a new version of an existing table.
func (r *registry) replaceTable(t *catalog.TableDef) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.mu.tables[t.ID]; !ok {
		return catalog.Errorf(catalog.KindNotFound, "table %s does not exist", t.ID)
	}
	return r.putTableLocked(t)
}

func (r *registry) putTableLocked(t *catalog.TableDef) error {
	b, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("encode table %s: %w", t.ID, err)
	}
	if err := r.kv.MetaPut([]byte(metaTablePrefix+t.ID.String()), b); err != nil {
		return fmt.Errorf("persist table %s: %w", t.ID, err)
	}
	r.mu.tables[t.ID] = t.Seal()
	r.gen.Add(1)
	return nil
}

// renameTable files t (the new version, already carrying its new ID) in
// place of the table old, in one metadata batch.
func (r *registry) renameTable(old catalog.TableID, t *catalog.TableDef) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.mu.tables[old]; !ok {
		return catalog.Errorf(catalog.KindNotFound, "table %s does not exist", old)
	}
	if _, ok := r.mu.tables[t.ID]; ok {
		return catalog.Errorf(catalog.KindAlreadyExists, "table %s already exists", t.ID)
	}
	b, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("encode table %s: %w", t.ID, err)
	}
	if err := r.kv.MetaBatch(map[string][]byte{metaTablePrefix + t.ID.String(): b}, []string{metaTablePrefix + old.String()}); err != nil {
		return fmt.Errorf("rename table %s: %w", old, err)
	}
	delete(r.mu.tables, old)
	r.mu.tables[t.ID] = t.Seal()
	r.gen.Add(1)
	return nil
}

func (r *registry) dropTable(id catalog.TableID) (*catalog.TableDef, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t, ok := r.mu.tables[id]
	if !ok {
		return nil, catalog.Errorf(catalog.KindNotFound, "table %s does not exist", id)
	}
	if err := r.kv.MetaDelete([]byte(metaTablePrefix + id.String())); err != nil {
		return nil, fmt.Errorf("delete table %s: %w", id, err)
	}
	delete(r.mu.tables, id)
	r.gen.Add(1)
	return t, nil
}
