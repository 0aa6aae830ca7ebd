package engine

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/kalamdb/kalamdb-go/catalog"
)

// pointKeys returns the primary-key values that a WHERE clause of the form
// `pk = const [AND …]` or `pk IN (const, …) [AND …]` restricts the relation
// to, or nil when it does not prove such a restriction. The relation then
// holds only the hot rows of those keys, so every constant must select
// exactly the rows DuckDB's comparison selects (see keyConstant); one that
// cannot be proven so loads the whole partition and DuckDB decides.
func pointKeys(t *catalog.TableDef, ref map[string]any, where any) []string {
	pk := t.PrimaryKeyIndex()
	if pk < 0 || where == nil {
		return nil
	}
	alias, _ := ref["alias"].(string)
	name, _ := ref["table_name"].(string)
	pkName := t.Columns[pk].Name
	pkKind := t.Columns[pk].Type.Kind
	isPK := func(e any) bool {
		m, ok := e.(map[string]any)
		if !ok || m["class"] != "COLUMN_REF" {
			return false
		}
		parts, _ := m["column_names"].([]any)
		switch len(parts) {
		case 1:
			p, _ := parts[0].(string)
			return strings.EqualFold(p, pkName)
		case 2:
			q, _ := parts[0].(string)
			p, _ := parts[1].(string)
			return strings.EqualFold(p, pkName) && (strings.EqualFold(q, alias) || (alias == "" && strings.EqualFold(q, name)))
		}
		return false
	}
	var fromExpr func(e any) []string
	fromExpr = func(e any) []string {
		m, ok := e.(map[string]any)
		if !ok {
			return nil
		}
		switch m["type"] {
		case "CONJUNCTION_AND":
			children, _ := m["children"].([]any)
			for _, c := range children {
				if k := fromExpr(c); k != nil {
					return k
				}
			}
		case "COMPARE_EQUAL":
			l, r := m["left"], m["right"]
			if isPK(r) {
				l, r = r, l
			}
			if isPK(l) {
				if v, ok := keyConstant(pkKind, r); ok {
					return []string{v}
				}
			}
		case "COMPARE_IN":
			children, _ := m["children"].([]any)
			if len(children) < 2 || len(children) > 1025 || !isPK(children[0]) {
				return nil
			}
			out := make([]string, 0, len(children)-1)
			for _, c := range children[1:] {
				v, ok := keyConstant(pkKind, c)
				if !ok {
					return nil
				}
				out = append(out, v)
			}
			return out
		}
		return nil
	}
	return fromExpr(where)
}

// keyConstant returns the key value, as keyArray reads it, that a constant
// of DuckDB's parse tree selects when compared with a primary-key column of
// the given kind; ok is false where the comparison is not a plain equality
// of that value (DuckDB must evaluate it):
//   - an integer key equals an integer constant (INTEGER, BIGINT, … by
//     DuckDB's typing of the literal) or a string literal that is an integer
//     as Go reads it ('3', '-3', '+03'), which DuckDB casts to the key's
//     type. A DECIMAL (3.0), DOUBLE (3e0), HUGEINT or BOOLEAN constant is
//     compared after a cast of the key, so it is left to DuckDB.
//   - a TEXT key equals a string constant; with a number DuckDB casts the
//     key to the number's type ('03' = 3, and 'x' fails), so that is left to
//     DuckDB.
//
// A key out of the column's range is returned as is: keyArray refuses it
// and the relation is loaded whole.
func keyConstant(kind catalog.TypeKind, e any) (string, bool) {
	m, ok := e.(map[string]any)
	if !ok || m["class"] != "CONSTANT" {
		return "", false
	}
	val, _ := m["value"].(map[string]any)
	if isNull, _ := val["is_null"].(bool); isNull {
		return "", false
	}
	typ, _ := val["type"].(map[string]any)
	id, _ := typ["id"].(string)
	switch kind {
	case catalog.TypeSmallInt, catalog.TypeInt, catalog.TypeBigInt:
		switch id {
		case "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT":
			n, ok := val["value"].(json.Number)
			if !ok {
				return "", false
			}
			if _, err := strconv.ParseInt(n.String(), 10, 64); err != nil {
				return "", false
			}
			return n.String(), true
		case "VARCHAR":
			s, ok := val["value"].(string)
			if !ok {
				return "", false
			}
			v, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return "", false
			}
			return strconv.FormatInt(v, 10), true
		}
	case catalog.TypeText:
		if id == "VARCHAR" {
			s, ok := val["value"].(string)
			return s, ok
		}
	}
	return "", false
}
