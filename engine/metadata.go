//go:build duckdb_arrow

package engine

import (
	"sort"

	"github.com/kalamdb/kalamdb-go/catalog"
)

// Namespaces lists the namespaces a session may see: every namespace, and
// system for dba and system roles.
func (e *Engine) Namespaces(s *Session) []catalog.NamespaceID {
	var out []catalog.NamespaceID
	for _, ns := range e.reg.namespaces() {
		out = append(out, ns.ID)
	}
	if s.Role.AtLeast(catalog.RoleDBA) {
		out = append(out, catalog.SystemNamespace)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Tables lists the tables a session may see (system tables for dba and
// system roles), sorted by namespace and name.
func (e *Engine) Tables(s *Session) []*catalog.TableDef {
	out := e.reg.tables("")
	if s.Role.AtLeast(catalog.RoleDBA) {
		names := make([]string, 0, len(systemTables))
		for n := range systemTables {
			names = append(names, string(n))
		}
		sort.Strings(names)
		for _, n := range names {
			st := systemTables[catalog.TableName(n)]
			out = append(out, (&catalog.TableDef{ID: catalog.TableID{Namespace: catalog.SystemNamespace, Name: catalog.TableName(n)},
				Type: catalog.TableSystem, Columns: st.columns}).Seal())
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].ID.Namespace != out[j].ID.Namespace {
			return out[i].ID.Namespace < out[j].ID.Namespace
		}
		return out[i].ID.Name < out[j].ID.Name
	})
	return out
}
