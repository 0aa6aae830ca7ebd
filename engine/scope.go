package engine

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/kalamdb/kalamdb-go/catalog"
)

// tableLoad is one relation handed to DuckDB for a query: a temporary table
// filled with the caller's rows of a table before the query runs.
type tableLoad struct {
	temp  string
	id    catalog.TableID
	table *catalog.TableDef // nil for system tables
	// keys, when not nil, restrict the load to these primary-key values (a
	// point lookup proven by the WHERE clause); nil loads the partition.
	keys []string
	// rows, when not nil, are loaded instead of reading storage (RETURNING).
	rows []arrow.RecordBatch
	// shapeOnly: every reference to the relation is inside DESCRIBE, which
	// reads no rows; it is loaded empty, with the table's NOT NULL and
	// PRIMARY KEY constraints, which DESCRIBE reports.
	shapeOnly bool
	// tiered is set while the relation is a view over hot rows and
	// segments; unpin releases the segment files it pinned.
	tiered bool
	unpin  func()
}

// scopedQuery is a SELECT rewritten to read only scoped relations.
type scopedQuery struct {
	sql   string
	loads []*tableLoad
	// ctes maps the CTE names made by the scoper back to the client's (for
	// error messages).
	ctes map[string]string
}

// Table functions a client may call: they generate data and touch nothing.
var allowedTableFunctions = map[string]bool{
	"range": true, "generate_series": true, "unnest": true,
}

// Scalar function names or prefixes no client may call: they read files or
// settings, run SQL text, or introspect the database.
var forbiddenFunctionPrefixes = []string{
	"read_", "duckdb_", "pragma_", "parquet_", "sqlite_", "postgres_", "mysql_", "iceberg_",
	"delta_", "glob", "sniff_csv", "json_execute", "icu_", "enable_", "disable_", "force_", "set_",
}

var forbiddenFunctions = map[string]bool{
	"query": true, "query_table": true, "current_setting": true, "getvariable": true,
	"setvariable": true, "getenv": true, "checkpoint": true, "load": true, "install": true,
	"which_secret": true, "current_database": false, "current_schema": false,
	"current_schemas": true, "make_timestamp": false, "json_serialize_sql": true,
	"json_deserialize_sql": true, "json_serialize_plan": true, "parse_path": false,
	"finalize": false, "export_state": true, "read_text": true, "read_blob": true,
	"from_json_strict": false, "get_current_timestamp": false, "has_any_column_privilege": true,
	"has_table_privilege": true, "pg_has_role": true, "current_role": true, "session_user": true,
	"user": true, "current_user": false, "test_all_types": true, "test_vector_types": true,
	"summary": true, "repeat_row": false, "read_duckdb": true, "iceberg_scan": true,
	"delta_scan": true, "arrow_scan": true, "arrow_scan_dumb": true, "seq_scan": true,
	"index_scan": true, "pragma_storage_info": true, "shell_add_schema": true,
	"error": false, "log": false, "stats": true, "cache_httpfs_get_cache_size": true,
}

// Table-reference kinds a client query may contain.
var allowedTableRefs = map[string]bool{
	"BASE_TABLE": true, "JOIN": true, "SUBQUERY": true, "TABLE_FUNCTION": true,
	"EXPRESSION_LIST": true, "EMPTY": true, "PIVOT": true, "SHOW_REF": true,
}

// What a SHOW_REF (DESCRIBE or SUMMARIZE of a query) may show.
var allowedShowTypes = map[string]bool{"DESCRIBE": true, "SUMMARY": true}

// DuckDB's own schemas and catalogs: never reachable from client SQL.
var duckdbSchemas = map[string]bool{
	"information_schema": true, "pg_catalog": true, "main": true, "temp": true, "memory": true,
	"duckdb": true, "system_main": true,
}

// Query-node kinds a client query may contain.
var allowedQueryNodes = map[string]bool{
	"SELECT_NODE": true, "SET_OPERATION_NODE": true, "RECURSIVE_CTE_NODE": true, "CTE_NODE": true,
}

func functionForbidden(name string) bool {
	name = strings.ToLower(name)
	if forbiddenFunctions[name] {
		return true
	}
	for _, p := range forbiddenFunctionPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// scoper walks DuckDB's parse tree of one SELECT.
//
// Every table reference in the tree ends up naming a relation the scoper
// made: a catalog table becomes a scoped temporary relation, and a CTE is
// renamed, definition and references alike, to a name of its own. Both kinds
// of name carry a random token, so the rewritten query can name nothing that
// the scoper did not resolve, whichever way DuckDB's binder scopes names: a
// reference the scoper took for a CTE that DuckDB would not see there fails
// to bind, and one it took for a table cannot be captured by a CTE.
type scoper struct {
	ctx       context.Context // checked now and then while walking
	e         *Engine
	sub       subject
	overrides map[catalog.TableID][]arrow.RecordBatch
	loads     []*tableLoad
	full      map[catalog.TableID]*tableLoad
	depth     int
	token     string            // random, per scoped query: part of every name made
	ctes      map[string]string // renamed CTE → the client's name
	nodes     int               // JSON values walked
	terms     int               // operands of AND/OR seen
	// seqNamed says the query names _seq somewhere: its relations then
	// keep the column, hidden from stars by hideSeq; otherwise every
	// relation is narrowed to the table's own columns (see project).
	seqNamed bool
	// plainRefs keeps every relation a plain table reference, as when the
	// query names _seq: a RETURNING list runs as DuckDB's own DELETE …
	// RETURNING over its relation (returningStatement), stars hidden from
	// _seq by EXCLUDE.
	plainRefs bool
	// describing counts the DESCRIBE SHOW_REFs the walk is inside.
	describing int
	refs       []scopedRef
	// colRefs are the column references of three or more parts, which may
	// name a table as namespace.table.column (see qualify).
	colRefs []map[string]any
}

// scopedRef is one table reference of the query, pointed at a scoped
// relation.
type scopedRef struct {
	node map[string]any
	load *tableLoad
	// ns and name are the table's namespace and name as resolved, when the
	// reference has no alias of its own (DuckDB then binds ns.t.col to it).
	ns, name string
	// described says the reference is inside a DESCRIBE.
	described bool
}

// maxConjunctionTerms bounds the AND/OR operands of one query. DuckDB's
// optimizer takes time quadratic in them and does not heed interrupts while
// it plans (10,000 OR terms plan in about 1.4 s here, 60,000 in minutes).
const maxConjunctionTerms = 10000

// cteScope maps the CTE names visible at a point of the tree (lower case)
// to the names they were renamed to.
type cteScope map[string]string

// with returns the scope extended by name → renamed; s is not changed.
func (s cteScope) with(name, renamed string) cteScope {
	out := make(cteScope, len(s)+1)
	for k, v := range s {
		out[k] = v
	}
	out[strings.ToLower(name)] = renamed
	return out
}

// randomToken returns 16 hex characters from crypto/rand.
func randomToken() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err)) // never fails on Linux
	}
	return hex.EncodeToString(b[:])
}

func permissionDenied(format string, args ...any) error {
	return catalog.Errorf(catalog.KindPermission, "permission denied: %s", fmt.Sprintf(format, args...))
}

// rewrite checks and rewrites the serialized statement tree in place.
func (s *scoper) rewrite(tree map[string]any) error {
	if isErr, _ := tree["error"].(bool); isErr {
		msg, _ := tree["error_message"].(string)
		if msg == "" {
			msg = "invalid query"
		}
		return catalog.Errorf(catalog.KindInvalid, "%s", msg)
	}
	stmts, _ := tree["statements"].([]any)
	if len(stmts) != 1 {
		return catalog.Errorf(catalog.KindInvalid, "multiple statements are not allowed")
	}
	s.seqNamed = s.plainRefs || mentions(stmts[0], catalog.SeqColumn)
	if err := s.walk(stmts[0], nil); err != nil {
		return err
	}
	s.qualify()
	for _, l := range s.loads {
		l.shapeOnly = l.rows == nil
	}
	for _, r := range s.refs {
		if !r.described {
			r.load.shapeOnly = false
		}
	}
	return nil
}

// mentions reports whether any string in the tree equals name (ignoring
// case): a column reference, a STAR's EXCLUDE or REPLACE list, a COLUMNS
// pattern, or a string constant — so it errs on the side of true.
func mentions(v any, name string) bool {
	switch x := v.(type) {
	case string:
		return strings.EqualFold(x, name)
	case []any:
		for _, c := range x {
			if mentions(c, name) {
				return true
			}
		}
	case map[string]any:
		for _, c := range x {
			if mentions(c, name) {
				return true
			}
		}
	}
	return false
}

// qualify rewrites column references of the form namespace.table.column
// (and deeper: a struct field of it) to table.column when namespace.table
// is a table of the query referenced without an alias, as DuckDB binds
// them: the scoped relation standing for the table has no namespace.
func (s *scoper) qualify() {
	for _, m := range s.colRefs {
		parts, _ := m["column_names"].([]any)
		ns, _ := parts[0].(string)
		name, _ := parts[1].(string)
		col, _ := parts[2].(string)
		for _, r := range s.refs {
			if r.name == "" || !strings.EqualFold(ns, r.ns) || !strings.EqualFold(name, r.name) || !r.load.hasColumn(col) {
				continue
			}
			alias, _ := r.node["alias"].(string)
			m["column_names"] = append([]any{alias}, parts[2:]...)
			break
		}
	}
}

// hasColumn reports whether the relation has the column (ignoring case).
func (l *tableLoad) hasColumn(name string) bool {
	st, _ := virtualTable(l.id)
	cols := st.columns
	if l.table != nil {
		if strings.EqualFold(name, catalog.SeqColumn) {
			return true
		}
		cols = l.table.Columns
	}
	for _, c := range cols {
		if strings.EqualFold(c.Name, name) {
			return true
		}
	}
	return false
}

// walk visits any JSON value; ctes are the CTEs in scope.
func (s *scoper) walk(v any, ctes cteScope) error {
	s.depth++
	defer func() { s.depth-- }()
	if s.depth > 2000 {
		return catalog.Errorf(catalog.KindInvalid, "query nested too deeply")
	}
	if s.nodes++; s.nodes%4096 == 0 && s.ctx != nil {
		if err := s.ctx.Err(); err != nil {
			return err
		}
	}
	switch x := v.(type) {
	case []any:
		for _, c := range x {
			if err := s.walk(c, ctes); err != nil {
				return err
			}
		}
	case map[string]any:
		return s.walkObject(x, ctes)
	}
	return nil
}

func (s *scoper) walkObject(m map[string]any, ctes cteScope) error {
	typ, _ := m["type"].(string)
	_, isExpr := m["class"]
	_, isNode := m["modifiers"]
	_, hasSample := m["sample"]
	_, hasAlias := m["alias"]
	switch {
	case isNode:
		if !allowedQueryNodes[typ] {
			return permissionDenied("%s is not allowed in a query", strings.ToLower(strings.TrimSuffix(typ, "_NODE")))
		}
		if typ == "RECURSIVE_CTE_NODE" {
			// Only the CTE definition that owns it may hold one, and
			// defineCTEs renamed it there.
			if name, _ := m["cte_name"].(string); !strings.HasPrefix(name, s.ctePrefix()) {
				return permissionDenied("recursive query outside a WITH clause is not allowed")
			}
		}
		// CTEs defined here are visible in this node's body and children.
		inner, err := s.defineCTEs(m, ctes)
		if err != nil {
			return err
		}
		ctes = inner
		if typ == "SELECT_NODE" {
			if ft, ok := m["from_table"].(map[string]any); ok {
				if t, _ := ft["type"].(string); t == "BASE_TABLE" {
					if err := s.baseTable(ft, ctes, m["where_clause"]); err != nil {
						return err
					}
				}
			}
		}
	case isExpr:
		if m["class"] == "CONJUNCTION" {
			children, _ := m["children"].([]any)
			if s.terms += len(children); s.terms > maxConjunctionTerms {
				return catalog.Errorf(catalog.KindInvalid, "query too complex: more than %d AND/OR operands (use IN (…) for long lists of values)", maxConjunctionTerms)
			}
		}
		if m["class"] == "COLUMN_REF" {
			if parts, _ := m["column_names"].([]any); len(parts) >= 3 {
				s.colRefs = append(s.colRefs, m)
			}
		}
		if m["class"] == "FUNCTION" {
			name, _ := m["function_name"].(string)
			if children, _ := m["children"].([]any); len(children) == 0 {
				switch strings.ToLower(name) {
				case "current_user":
					bindCurrentUser(m, s.sub.user)
					return nil
				case "current_schema":
					bindCurrentSchema(m, s.sub.ns)
					return nil
				}
			}
			if functionForbidden(name) {
				return permissionDenied("function %s is not allowed", name)
			}
			if sch, _ := m["schema"].(string); sch != "" && sch != "main" {
				return permissionDenied("qualified function %s.%s is not allowed", sch, name)
			}
			if cat, _ := m["catalog"].(string); cat != "" {
				return permissionDenied("qualified function %s.%s is not allowed", cat, name)
			}
		}
	case typ == "BASE_TABLE" || (hasSample && hasAlias):
		if !allowedTableRefs[typ] {
			return permissionDenied("%s is not allowed in a query", strings.ToLower(typ))
		}
		switch typ {
		case "BASE_TABLE":
			if _, done := m["__kdb"]; !done {
				if err := s.baseTable(m, ctes, nil); err != nil {
					return err
				}
			}
		case "SHOW_REF":
			// DESCRIBE or SUMMARIZE of a query (DuckDB makes SUMMARIZE t
			// one of SELECT * FROM t): never of a catalog object by name.
			show, _ := m["show_type"].(string)
			if !allowedShowTypes[show] {
				return permissionDenied("SHOW %s is not allowed in a query", strings.ToLower(show))
			}
			for _, k := range []string{"table_name", "schema_name", "catalog_name"} {
				if v, _ := m[k].(string); v != "" {
					return permissionDenied("%s of %s is not allowed", strings.ToLower(show), v)
				}
			}
			if _, ok := m["query"].(map[string]any); !ok {
				return permissionDenied("%s without a query is not allowed", strings.ToLower(show))
			}
			if show == "DESCRIBE" {
				s.describing++
				defer func() { s.describing-- }()
			}
		case "PIVOT":
			// PIVOT … IN enum_type reads a DuckDB type's values.
			pivots, _ := m["pivots"].([]any)
			for _, p := range pivots {
				pm, _ := p.(map[string]any)
				if e, _ := pm["pivot_enum"].(string); e != "" {
					return permissionDenied("PIVOT … IN %s is not allowed: list the values, or leave out IN to take them from the data", e)
				}
			}
		case "TABLE_FUNCTION":
			fn, _ := m["function"].(map[string]any)
			name, _ := fn["function_name"].(string)
			if !allowedTableFunctions[strings.ToLower(name)] {
				return permissionDenied("table function %s is not allowed", name)
			}
			if sch, _ := fn["schema"].(string); sch != "" {
				return permissionDenied("qualified table function %s.%s is not allowed", sch, name)
			}
		}
	}
	for k, c := range m {
		if k == "__kdb" || (isNode && k == "cte_map") {
			continue
		}
		if _, ok := c.(map[string]any); ok {
			if err := s.walk(c, ctes); err != nil {
				return err
			}
		} else if _, ok := c.([]any); ok {
			if err := s.walk(c, ctes); err != nil {
				return err
			}
		}
	}
	delete(m, "__kdb")
	if isNode && typ == "SELECT_NODE" && s.seqNamed {
		s.hideSeq(m)
	}
	return nil
}

// defineCTEs checks the CTE definitions of query node m in order and
// renames them, returning the scope of m's body. SQL's (and DuckDB's) rules:
// a CTE sees the CTEs defined before it in the same WITH and those of
// enclosing scopes; it sees itself only when it is recursive (DuckDB makes
// a RECURSIVE_CTE_NODE of it then); the body sees them all.
func (s *scoper) defineCTEs(m map[string]any, ctes cteScope) (cteScope, error) {
	cm, _ := m["cte_map"].(map[string]any)
	entries, _ := cm["map"].([]any)
	for _, e := range entries {
		em, _ := e.(map[string]any)
		name, _ := em["key"].(string)
		def, _ := em["value"].(map[string]any)
		if name == "" || def == nil {
			return nil, catalog.Errorf(catalog.KindInvalid, "malformed WITH clause")
		}
		renamed := s.nextCTE(name)
		query, _ := def["query"].(map[string]any)
		node, _ := query["node"].(map[string]any)
		own := ctes
		if t, _ := node["type"].(string); t == "RECURSIVE_CTE_NODE" {
			node["cte_name"] = renamed
			own = ctes.with(name, renamed)
		}
		if err := s.walk(def, own); err != nil {
			return nil, err
		}
		em["key"] = renamed
		ctes = ctes.with(name, renamed)
	}
	return ctes, nil
}

func (s *scoper) ctePrefix() string { return "__kdb_c" + s.token + "_" }

func (s *scoper) nextCTE(name string) string {
	if s.ctes == nil {
		s.ctes = map[string]string{}
	}
	renamed := s.ctePrefix() + strconv.Itoa(len(s.ctes)+1)
	s.ctes[renamed] = name
	return renamed
}

// hideSeq keeps the _seq system column out of `*`, `t.*` and COLUMNS(*)
// over the node's own user tables, as other databases hide their system
// columns: clients listing a table's columns or copying rows with SELECT *
// see the table's columns only. It serves queries that name _seq (which
// stays selectable by name); the relations of other queries have no _seq
// at all (see project).
func (s *scoper) hideSeq(node map[string]any) {
	aliases := map[string]bool{}
	var from func(v any)
	from = func(v any) {
		ft, ok := v.(map[string]any)
		if !ok {
			return
		}
		switch ft["type"] {
		case "BASE_TABLE":
			name, _ := ft["table_name"].(string)
			for _, l := range s.loads {
				if l.temp == name && l.table != nil {
					alias, _ := ft["alias"].(string)
					aliases[strings.ToLower(alias)] = true
				}
			}
		case "JOIN":
			from(ft["left"])
			from(ft["right"])
		}
	}
	from(node["from_table"])
	if len(aliases) == 0 {
		return
	}
	var stars func(v any)
	stars = func(v any) {
		switch x := v.(type) {
		case []any:
			for _, c := range x {
				stars(c)
			}
		case map[string]any:
			if _, isNode := x["modifiers"]; isNode {
				return // a subquery: its own node hides its own stars
			}
			if x["class"] == "STAR" {
				s.hideSeqFromStar(x, aliases)
			}
			for _, c := range x {
				stars(c)
			}
		}
	}
	stars(node["select_list"])
}

// hideSeqFromStar adds _seq to the EXCLUDE list of one star over the given
// aliases, unless the star already names it.
func (s *scoper) hideSeqFromStar(star map[string]any, aliases map[string]bool) {
	if rel, _ := star["relation_name"].(string); rel != "" && !aliases[strings.ToLower(rel)] {
		return
	}
	if mentions(star["exclude_list"], catalog.SeqColumn) || mentions(star["replace_list"], catalog.SeqColumn) ||
		mentions(star["rename_list"], catalog.SeqColumn) || mentions(star["qualified_exclude_list"], catalog.SeqColumn) {
		return
	}
	excl, _ := star["exclude_list"].([]any)
	star["exclude_list"] = append(excl, catalog.SeqColumn)
}

// baseTable resolves one table reference and points it at a scoped
// temporary table. where is the enclosing SELECT's WHERE clause when the
// reference is that SELECT's only relation (for point lookups).
func (s *scoper) baseTable(m map[string]any, ctes cteScope, where any) error {
	if _, done := m["__kdb"]; done {
		return nil
	}
	m["__kdb"] = true
	catName, _ := m["catalog_name"].(string)
	schema, _ := m["schema_name"].(string)
	name, _ := m["table_name"].(string)
	if catName != "" {
		return permissionDenied("catalog-qualified table %s.%s.%s is not allowed", catName, schema, name)
	}
	if m["at_clause"] != nil {
		return permissionDenied("time travel (AT) is not allowed")
	}
	if renamed, ok := ctes[strings.ToLower(name)]; ok && schema == "" {
		m["table_name"] = renamed
		if a, _ := m["alias"].(string); a == "" {
			m["alias"] = name
		}
		return nil
	}
	if strings.ContainsAny(name, "/\\:.~$*?") || strings.HasPrefix(strings.ToLower(name), "http") && strings.Contains(name, ":") {
		return permissionDenied("reading files is not allowed (%q)", name)
	}
	if strings.HasPrefix(strings.ToLower(name), "__kdb") {
		return permissionDenied("internal relation %s is not accessible", name)
	}
	var id catalog.TableID
	var err error
	if strings.EqualFold(schema, string(infoSchemaNamespace)) {
		// Ours, computed per caller (infoschema.go), never DuckDB's.
		id = catalog.TableID{Namespace: infoSchemaNamespace, Name: catalog.TableName(strings.ToLower(name))}
	} else if duckdbSchemas[strings.ToLower(schema)] {
		return permissionDenied("schema %s is not accessible", schema)
	} else if id, err = s.e.resolveTable(s.sub, schema, name); err != nil {
		return err
	}
	load, err := s.loadFor(id, m, where)
	if err != nil {
		return err
	}
	ref := scopedRef{node: m, load: load, described: s.describing > 0}
	m["schema_name"] = ""
	m["table_name"] = load.temp
	if a, _ := m["alias"].(string); a == "" {
		m["alias"] = name
		ref.ns, ref.name = string(id.Namespace), name
	}
	s.refs = append(s.refs, ref)
	return nil
}

func (s *scoper) loadFor(id catalog.TableID, ref map[string]any, where any) (*tableLoad, error) {
	if rows, ok := s.overrides[id]; ok {
		t, _ := s.e.reg.table(id)
		l := &tableLoad{temp: s.nextTemp(), id: id, table: t, rows: rows}
		s.loads = append(s.loads, l)
		return l, nil
	}
	if id.Namespace == catalog.SystemNamespace || id.Namespace == infoSchemaNamespace {
		// A user may read its own row of system.users; every other system
		// table is for dba and system roles. information_schema is for
		// everyone: its rows are only what the caller may read.
		if id.Namespace == catalog.SystemNamespace && !s.sub.role.AtLeast(catalog.RoleDBA) && id.Name != "users" {
			return nil, permissionDenied("system tables are readable by dba and system roles only")
		}
		if _, ok := virtualTable(id); !ok {
			return nil, catalog.Errorf(catalog.KindNotFound, "table %s does not exist", id)
		}
		if l, ok := s.full[id]; ok {
			return l, nil
		}
		l := &tableLoad{temp: s.nextTemp(), id: id}
		s.full[id] = l
		s.loads = append(s.loads, l)
		return l, nil
	}
	t, ok := s.e.reg.table(id)
	if !ok {
		return nil, catalog.Errorf(catalog.KindNotFound, "table %s does not exist", id)
	}
	if err := checkRead(s.sub, t); err != nil {
		return nil, err
	}
	if keys := pointKeys(t, ref, where); keys != nil {
		l := &tableLoad{temp: s.nextTemp(), id: id, table: t, keys: keys}
		s.loads = append(s.loads, l)
		return l, nil
	}
	if l, ok := s.full[id]; ok {
		return l, nil
	}
	l := &tableLoad{temp: s.nextTemp(), id: id, table: t}
	s.full[id] = l
	s.loads = append(s.loads, l)
	return l, nil
}

func (s *scoper) nextTemp() string { return fmt.Sprintf("__kdb_t%s_%d", s.token, len(s.loads)) }

func decodeTree(b []byte) (map[string]any, error) {
	d := json.NewDecoder(bytes.NewReader(swapNonFinite(b, true)))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return nil, fmt.Errorf("decode parse tree: %w", err)
	}
	castNonFinite(m)
	return m, nil
}

// castNonFinite rewrites every DOUBLE and FLOAT constant of a parse tree
// as a cast of its exact text ('0.001', '-0.0', 'Infinity'): the SQL that
// json_deserialize_sql prints spells such a constant as a plain decimal
// (1e-3 becomes 0.001, -0e0 becomes -0.0), which DuckDB then reads back as
// a DECIMAL: another type, and -0.0 loses its sign. A non-finite constant
// is a bare JSON token (a sentinel after swapNonFinite) that DuckDB's own
// json_deserialize_sql refuses. A constant that is a whole select item
// keeps its column name (DuckDB's spelling of the value); an expression
// around one is named with the cast in it.
func castNonFinite(v any) {
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			castNonFinite(e)
		}
	case map[string]any:
		if x["class"] == "CONSTANT" {
			val, _ := x["value"].(map[string]any)
			typ, _ := val["type"].(map[string]any)
			n, isNum := val["value"].(json.Number)
			if isNum && (typ["id"] == "DOUBLE" || typ["id"] == "FLOAT") {
				text := string(n)
				for _, p := range nonFinite {
					if text == p[1] {
						text = p[0]
					}
				}
				alias, _ := x["alias"].(string)
				if alias == "" {
					f, _ := strconv.ParseFloat(text, 64)
					alias = duckDoubleName(f, text)
				}
				loc := x["query_location"]
				replaceNode(x, castNode(varcharConstant(&text, loc), typ), alias, loc)
				return
			}
		}
		for _, e := range x {
			castNonFinite(e)
		}
	}
}

// duckDoubleName is how DuckDB names a DOUBLE constant column: the
// shortest digits, in plain notation (with .0 when whole) for decimal
// exponents -5 < e < 16, else as d.ddde±XX.
func duckDoubleName(f float64, text string) string {
	switch text {
	case "NaN":
		return "nan"
	case "Infinity":
		return "inf"
	case "-Infinity":
		return "-inf"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // d.ddde±XX
	mant, expText, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expText)
	if exp > -5 && exp < 16 {
		out := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.Contains(out, ".") {
			out += ".0"
		}
		return out
	}
	sign := "+"
	if exp < 0 {
		sign, exp = "-", -exp
	}
	return fmt.Sprintf("%se%s%02d", mant, sign, exp)
}

// bindCurrentUser replaces a CURRENT_USER() call with the subject's name as
// a constant (DuckDB's own current_user knows nothing of our users).
func bindCurrentUser(m map[string]any, user catalog.UserID) {
	alias, _ := m["alias"].(string)
	if alias == "" {
		alias = "current_user"
	}
	name := string(user)
	loc := m["query_location"]
	replaceNode(m, varcharConstant(&name, nil), alias, loc)
}

// bindCurrentSchema replaces a CURRENT_SCHEMA() call with the subject's
// namespace (USE ns), as DuckDB answers with the schema USE selected, or a
// NULL of type VARCHAR when none is selected: no DuckDB schema is visible
// to clients.
func bindCurrentSchema(m map[string]any, ns catalog.NamespaceID) {
	alias, _ := m["alias"].(string)
	if alias == "" {
		alias = "current_schema()"
	}
	var value *string
	if ns != "" {
		name := string(ns)
		value = &name
	}
	loc := m["query_location"]
	replaceNode(m, castNode(varcharConstant(value, nil), map[string]any{"id": "VARCHAR", "type_info": nil}), alias, loc)
}

// varcharConstant is a parse-tree constant of type VARCHAR: *value, or
// NULL when value is nil; loc is its query_location (none when nil).
func varcharConstant(value *string, loc any) map[string]any {
	v := map[string]any{"type": map[string]any{"id": "VARCHAR", "type_info": nil}, "is_null": value == nil}
	if value != nil {
		v["value"] = *value
	}
	c := map[string]any{"class": "CONSTANT", "type": "VALUE_CONSTANT", "alias": "", "value": v}
	if loc != nil {
		c["query_location"] = loc
	}
	return c
}

// castNode is a parse-tree CAST of child to castType.
func castNode(child map[string]any, castType any) map[string]any {
	return map[string]any{"class": "CAST", "type": "OPERATOR_CAST", "child": child, "cast_type": castType, "try_cast": false}
}

// replaceNode makes m the node n, named alias, at the query_location loc
// (none when nil), in place: the tree's parent keeps pointing at m.
func replaceNode(m, n map[string]any, alias string, loc any) {
	clear(m)
	maps.Copy(m, n)
	m["alias"] = alias
	if loc != nil {
		m["query_location"] = loc
	}
}

// projections returns, for a query that does not name _seq, one statement
// per reference to a user table's scoped relation selecting the table's
// own columns from it (`SELECT * FROM (SELECT "a", "b" FROM rel)`), and
// the references they are for. DuckDB's serialization of those statements
// gives the subqueries that project puts in the references' place.
func (s *scoper) projections() (string, []scopedRef) {
	if s.seqNamed {
		return "", nil
	}
	var b strings.Builder
	var refs []scopedRef
	for _, r := range s.refs {
		if r.load.table == nil {
			continue // system tables have no _seq
		}
		b.WriteString("SELECT * FROM (SELECT ")
		for i, c := range r.load.table.Columns {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(quoteIdent(c.Name))
		}
		b.WriteString(" FROM ")
		b.WriteString(quoteIdent(r.load.temp))
		b.WriteString(");\n")
		refs = append(refs, r)
	}
	return b.String(), refs
}

// project replaces each reference of refs by the subquery of the matching
// statement of tree (DuckDB's serialization of projections' SQL), keeping
// the reference's alias, column aliases and sample: the relation then has
// exactly the table's columns, as the table has in DuckDB, for `*`,
// COLUMNS(*), NATURAL JOIN, PIVOT's implicit grouping, UNPIVOT, SUMMARIZE
// and DESCRIBE alike.
func project(tree map[string]any, refs []scopedRef) error {
	stmts, _ := tree["statements"].([]any)
	if isErr, _ := tree["error"].(bool); isErr || len(stmts) != len(refs) {
		return fmt.Errorf("project scoped relations: unexpected parse tree")
	}
	for i, r := range refs {
		st, _ := stmts[i].(map[string]any)
		node, _ := st["node"].(map[string]any)
		sub, _ := node["from_table"].(map[string]any)
		if sub == nil || sub["type"] != "SUBQUERY" {
			return fmt.Errorf("project scoped relations: unexpected parse tree")
		}
		m := r.node
		for _, k := range []string{"alias", "sample", "query_location", "column_name_alias"} {
			if v, ok := m[k]; ok {
				sub[k] = v
			}
		}
		for k := range m {
			delete(m, k)
		}
		for k, v := range sub {
			m[k] = v
		}
	}
	return nil
}

// quoteIdent quotes a SQL identifier for DuckDB.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// nonFinite pairs the bare tokens DuckDB's JSON uses for non-finite
// doubles (a constant such as 1e400 is Infinity), which encoding/json
// refuses, with sentinel numbers no finite constant serializes as.
var nonFinite = [...][2]string{{"-Infinity", "-1e999999999"}, {"Infinity", "1e999999999"}, {"NaN", "2e999999999"}}

// swapNonFinite replaces, outside JSON strings, the bare non-finite tokens
// by their sentinels (toSentinel) or the sentinels by the tokens.
func swapNonFinite(b []byte, toSentinel bool) []byte {
	from, to := 0, 1
	if !toSentinel {
		from, to = 1, 0
	}
	var out []byte
	last := 0
	inString := false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		if c == '"' {
			inString = true
			continue
		}
		if i > 0 && !strings.ContainsRune(" \t\r\n:,[", rune(b[i-1])) {
			continue
		}
		for _, p := range nonFinite {
			tok := p[from]
			end := i + len(tok)
			if !bytes.HasPrefix(b[i:], []byte(tok)) || (end < len(b) && !strings.ContainsRune(" \t\r\n,]}", rune(b[end]))) {
				continue
			}
			out = append(append(out, b[last:i]...), p[to]...)
			last = end
			i = end - 1
			break
		}
	}
	if out == nil {
		return b
	}
	return append(out, b[last:]...)
}
