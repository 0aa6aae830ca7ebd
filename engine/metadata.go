//go:build duckdb_arrow

package engine

import (
	"sort"

	"github.com/kalamdb/kalamdb-go/catalog"
)

// Namespaces lists the namespaces a session may see: every namespace (any
// role may create USER tables in one, and SHOW NAMESPACES lists them all),
// and system for dba and system roles.
func (e *Engine) Namespaces(s *Session) []catalog.NamespaceID {
	return e.visibleNamespaces(s.Role)
}

// visibleNamespaces lists the namespaces role may see (see Namespaces).
func (e *Engine) visibleNamespaces(role catalog.Role) []catalog.NamespaceID {
	var out []catalog.NamespaceID
	for _, ns := range e.reg.namespaces() {
		out = append(out, ns.ID)
	}
	if role.AtLeast(catalog.RoleDBA) {
		out = append(out, catalog.SystemNamespace)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Tables lists the tables a session may read, sorted by namespace and
// name: every USER and STREAM table (each scoped to the caller's rows), the
// SHARED tables its role may read by their access level (checkRead), and
// the system tables for dba and system roles. Tables it may not read are
// not listed at all, so that metadata calls never show their names.
func (e *Engine) Tables(s *Session) []*catalog.TableDef {
	return e.visibleTables(subject{user: s.User, role: s.Role, actor: s.User})
}

// visibleTables lists the tables sub may read (see Tables): the rule of
// SELECT (checkRead, and system tables for dba and system roles), which the
// metadata calls and information_schema share.
func (e *Engine) visibleTables(sub subject) []*catalog.TableDef {
	var out []*catalog.TableDef
	for _, t := range e.reg.tables("") {
		if checkRead(sub, t) == nil {
			out = append(out, t)
		}
	}
	if sub.role.AtLeast(catalog.RoleDBA) {
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
