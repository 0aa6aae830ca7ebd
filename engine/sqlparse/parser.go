package sqlparse

import (
	"strconv"
	"strings"

	"github.com/kalamdb/kalamdb-go/catalog"
)

// Parse parses exactly one statement. A trailing ';' followed only by
// whitespace and comments is allowed. Errors are *SyntaxError, or
// *ForbiddenError for statements clients may never run.
func Parse(sql string) (Statement, error) {
	if len(sql) > maxStatementLen {
		return nil, synErr(0, "statement too long")
	}
	toks, err := lex(sql)
	if err != nil {
		return nil, err
	}
	p := &parser{src: sql, toks: toks}
	return p.statement()
}

// parser walks the tokens of one statement. toks ends with a tokEOF token;
// base is the bracket depth of the statement's top level (1 inside
// EXECUTE AS (...)).
type parser struct {
	src    string
	toks   []token
	i      int
	base   int
	nested bool
}

// forbiddenLeading are statements rejected by their first keyword.
var forbiddenLeading = map[string]bool{
	"COPY": true, "ATTACH": true, "DETACH": true, "INSTALL": true, "LOAD": true, "RESET": true,
	"PRAGMA": true, "EXPORT": true, "IMPORT": true, "CALL": true, "CHECKPOINT": true, "VACUUM": true,
	"ANALYZE": true, "FORCE": true,
}

func (p *parser) statement() (Statement, error) {
	t := p.peek()
	switch t.kind {
	case tokEOF:
		return nil, p.errAt(t, "empty statement")
	case tokOp:
		if t.val == "(" {
			return p.query()
		}
	case tokIdent:
		kw := strings.ToUpper(t.val)
		if forbiddenLeading[kw] {
			return nil, &ForbiddenError{What: kw}
		}
		switch kw {
		case "SELECT", "WITH", "FROM", "VALUES", "TABLE", "PIVOT", "PIVOT_WIDER", "UNPIVOT", "PIVOT_LONGER", "SUMMARIZE":
			return p.query()
		case "CREATE":
			return p.create()
		case "DROP":
			return p.drop()
		case "ALTER":
			return p.alter()
		case "SHOW":
			return p.show()
		case "USE":
			p.next()
			if p.isKw("NAMESPACE") && p.peekAt(1).kind != tokEOF {
				p.next()
			}
			return p.use()
		case "SET":
			p.next()
			if !p.isKw("NAMESPACE") {
				return nil, &ForbiddenError{What: "SET"}
			}
			p.next()
			if !p.acceptOp("=") {
				p.acceptKw("TO")
			}
			return p.use()
		case "EXPLAIN":
			p.next()
			analyze := p.acceptKw("ANALYZE", "ANALYSE")
			if nt := p.peek(); nt.kind == tokIdent && forbiddenLeading[strings.ToUpper(nt.val)] {
				return nil, &ForbiddenError{What: strings.ToUpper(nt.val)}
			}
			if !isOpTok(p.peek(), "(") && !isKwTok(p.peek(), queryStarts...) && !isKwTok(p.peek(), pivotStarts...) {
				return nil, p.errAt(p.peek(), "EXPLAIN explains queries only (SELECT, WITH, FROM, VALUES, TABLE, PIVOT, UNPIVOT)")
			}
			q, err := p.query()
			if err != nil {
				return nil, err
			}
			return &Explain{Analyze: analyze, Query: q.(*Select).SQL}, nil
		case "DESCRIBE", "DESC":
			if next := p.peekAt(1); isOpTok(next, "(") || (isKwTok(next, queryStarts...) || isKwTok(next, pivotStarts...)) && !isKwTok(next, "TABLE") {
				// DESCRIBE <query>: DuckDB describes the query's result.
				return p.query()
			}
			p.next()
			p.acceptKw("TABLE")
			ref, err := p.tableRef()
			if err != nil {
				return nil, err
			}
			return &DescribeTable{Table: ref}, p.end()
		case "INSERT":
			return p.insert()
		case "UPDATE":
			return p.update()
		case "TRUNCATE":
			p.next()
			p.acceptKw("TABLE")
			ref, err := p.tableRef()
			if err != nil {
				return nil, err
			}
			return &Truncate{Table: ref}, p.end()
		case "DELETE":
			return p.delete()
		case "EXECUTE":
			return p.executeAs()
		case "STORAGE":
			return p.storage()
		case "KILL":
			return p.killJob()
		case "BEGIN":
			p.next()
			p.acceptKw("TRANSACTION", "WORK")
			return &Begin{}, p.end()
		case "START":
			p.next()
			if err := p.expectKw("TRANSACTION"); err != nil {
				return nil, err
			}
			return &Begin{}, p.end()
		case "COMMIT":
			p.next()
			p.acceptKw("TRANSACTION", "WORK")
			return &Commit{}, p.end()
		case "ROLLBACK":
			p.next()
			p.acceptKw("TRANSACTION", "WORK")
			return &Rollback{}, p.end()
		case "SUBSCRIBE":
			return p.subscribe()
		}
	}
	return nil, p.errAt(t, "unsupported statement %s", p.describe(t))
}

// ---- token helpers ----

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) peekAt(n int) token {
	if p.i+n < len(p.toks) {
		return p.toks[p.i+n]
	}
	return p.toks[len(p.toks)-1]
}

func (p *parser) next() token {
	t := p.toks[p.i]
	if p.i < len(p.toks)-1 {
		p.i++
	}
	return t
}

func isKwTok(t token, kws ...string) bool {
	if t.kind != tokIdent {
		return false
	}
	for _, kw := range kws {
		if strings.EqualFold(t.val, kw) {
			return true
		}
	}
	return false
}

func isOpTok(t token, op string) bool { return t.kind == tokOp && t.val == op }

func (p *parser) isKw(kws ...string) bool { return isKwTok(p.peek(), kws...) }

func (p *parser) isOp(op string) bool { return isOpTok(p.peek(), op) }

// topKw reports whether t is one of kws at the statement's top level.
func (p *parser) topKw(t token, kws ...string) bool { return t.depth == p.base && isKwTok(t, kws...) }

func (p *parser) acceptKw(kws ...string) bool {
	if p.isKw(kws...) {
		p.next()
		return true
	}
	return false
}

func (p *parser) acceptOp(op string) bool {
	if p.isOp(op) {
		p.next()
		return true
	}
	return false
}

func (p *parser) expectKw(kw string) error {
	if !p.acceptKw(kw) {
		return p.unexpected(kw)
	}
	return nil
}

func (p *parser) expectOp(op string) error {
	if !p.acceptOp(op) {
		return p.unexpected("'" + op + "'")
	}
	return nil
}

// acceptIfNotExists accepts IF NOT EXISTS.
func (p *parser) acceptIfNotExists() (bool, error) {
	if !p.acceptKw("IF") {
		return false, nil
	}
	if err := p.expectKw("NOT"); err != nil {
		return false, err
	}
	return true, p.expectKw("EXISTS")
}

// acceptIfExists accepts IF EXISTS.
func (p *parser) acceptIfExists() (bool, error) {
	if !p.acceptKw("IF") {
		return false, nil
	}
	return true, p.expectKw("EXISTS")
}

func (p *parser) end() error {
	if t := p.peek(); t.kind != tokEOF {
		return p.errAt(t, "unexpected %s, expected end of statement", p.describe(t))
	}
	return nil
}

func (p *parser) errAt(t token, format string, args ...any) error {
	return synErr(t.start, format, args...)
}

func (p *parser) unexpected(want string) error {
	t := p.peek()
	return p.errAt(t, "expected %s, found %s", want, p.describe(t))
}

func (p *parser) describe(t token) string {
	if t.kind == tokEOF {
		return "end of statement"
	}
	s := p.src[t.start:t.end]
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	if t.kind == tokIdent {
		return strings.ToUpper(s)
	}
	return s
}

// text returns the source text of tokens [from, to), or "".
func (p *parser) text(from, to int) string {
	if from >= to {
		return ""
	}
	return p.src[p.toks[from].start:p.toks[to-1].end]
}

// scanUntil advances to the first top-level token for which stop is true (or
// EOF) and returns the index it started from.
func (p *parser) scanUntil(stop func(t token) bool) int {
	from := p.i
	for t := p.peek(); t.kind != tokEOF && !(t.depth == p.base && stop(t)); t = p.peek() {
		p.next()
	}
	return from
}

// exprUntil scans a non-empty expression up to a top-level stop token and
// returns its text; what names the expression in errors.
func (p *parser) exprUntil(what string, stop func(t token) bool) (string, error) {
	from := p.scanUntil(stop)
	if from == p.i {
		return "", p.unexpected(what)
	}
	return p.text(from, p.i), nil
}

// ---- names ----

// name accepts an unquoted (lower-cased) or quoted (as written) identifier.
func (p *parser) name(what string) (string, token, error) {
	t := p.peek()
	switch t.kind {
	case tokIdent:
		p.next()
		return strings.ToLower(t.val), t, nil
	case tokQuoted:
		p.next()
		return t.val, t, nil
	}
	return "", t, p.unexpected(what)
}

func (p *parser) namespace() (catalog.NamespaceID, error) {
	s, t, err := p.name("namespace name")
	if err != nil {
		return "", err
	}
	ns, err := catalog.ParseNamespaceID(s)
	if err != nil {
		return "", p.errAt(t, "%s", err.Error())
	}
	return ns, nil
}

func (p *parser) tableRef() (TableRef, error) {
	s, t, err := p.name("table name")
	if err != nil {
		return TableRef{}, err
	}
	var ref TableRef
	if p.acceptOp(".") {
		ns, err := catalog.ParseNamespaceID(s)
		if err != nil {
			return TableRef{}, p.errAt(t, "%s", err.Error())
		}
		ref.Namespace = ns
		if s, t, err = p.name("table name"); err != nil {
			return TableRef{}, err
		}
	}
	if ref.Name, err = catalog.ParseTableName(s); err != nil {
		return TableRef{}, p.errAt(t, "%s", err.Error())
	}
	return ref, nil
}

func (p *parser) column() (string, error) {
	s, t, err := p.name("column name")
	if err != nil {
		return "", err
	}
	if err := catalog.ValidIdentifier(s); err != nil {
		return "", p.errAt(t, "%s", err.Error())
	}
	return s, nil
}

// user accepts a user name as identifier, quoted identifier or string.
func (p *parser) user() (catalog.UserID, error) {
	t := p.peek()
	var s string
	if t.kind == tokString {
		p.next()
		s = t.val
	} else {
		var err error
		if s, t, err = p.name("user name"); err != nil {
			return "", err
		}
	}
	u, err := catalog.ParseUserID(s)
	if err != nil {
		return "", p.errAt(t, "%s", err.Error())
	}
	return u, nil
}

// alias accepts [AS] alias; without AS, a keyword in stop is not an alias.
func (p *parser) alias(stop ...string) (string, error) {
	if !p.acceptKw("AS") {
		if t := p.peek(); (t.kind != tokIdent && t.kind != tokQuoted) || isKwTok(t, stop...) {
			return "", nil
		}
	}
	return p.column()
}

func (p *parser) stringLit(what string) (string, error) {
	t := p.peek()
	if t.kind != tokString {
		return "", p.unexpected(what)
	}
	p.next()
	return t.val, nil
}

// word accepts a bare word, quoted identifier or string and returns its
// text (for roles and access levels).
func (p *parser) word(what string) (string, token, error) {
	t := p.peek()
	switch t.kind {
	case tokIdent, tokQuoted, tokString:
		p.next()
		return t.val, t, nil
	}
	return "", t, p.unexpected(what)
}

// ---- queries ----

var queryStarts = []string{"SELECT", "WITH", "FROM", "VALUES", "TABLE"}

// pivotStarts begin DuckDB's PIVOT and UNPIVOT statements, which are
// queries too.
var pivotStarts = []string{"PIVOT", "PIVOT_WIDER", "UNPIVOT", "PIVOT_LONGER"}

// query returns the rest of the statement as a pass-through Select.
func (p *parser) query() (Statement, error) {
	if err := p.checkQuery(p.i); err != nil {
		return nil, err
	}
	return &Select{SQL: p.text(p.i, len(p.toks)-1)}, nil
}

// checkQuery verifies that the tokens at i start a query: after any opening
// parentheses, SELECT, FROM, VALUES, TABLE, PIVOT, UNPIVOT, or WITH whose
// common table expressions are queries and which is followed by a query
// (DuckDB accepts WITH ... INSERT/UPDATE/DELETE, which must not bypass DML
// handling); at the top level also SUMMARIZE and DESCRIBE of a query or
// table. DuckDB's own parser and the engine's allowlist check the rest.
func (p *parser) checkQuery(i int) error {
	top := i == p.i
	for isOpTok(p.toks[i], "(") {
		i++
	}
	t := p.toks[i]
	if top && isKwTok(t, "SUMMARIZE", "DESCRIBE", "DESC") {
		next := p.toks[i+1]
		if isOpTok(next, "(") || isKwTok(next, queryStarts...) || isKwTok(next, pivotStarts...) {
			return p.checkQuery(i + 1)
		}
		if isKwTok(t, "SUMMARIZE") && next.kind != tokEOF {
			return nil // SUMMARIZE table
		}
		return p.errAt(next, "expected a query or a table, found %s", p.describe(next))
	}
	if !isKwTok(t, queryStarts...) && !isKwTok(t, pivotStarts...) {
		return p.errAt(t, "expected a query, found %s", p.describe(t))
	}
	if !isKwTok(t, "WITH") {
		return nil
	}
	d := t.depth
	i++
	if isKwTok(p.toks[i], "RECURSIVE") {
		i++
	}
	// skipGroup skips the bracketed group starting at i.
	skipGroup := func(i int) int {
		for i++; p.toks[i].kind != tokEOF && !(p.toks[i].depth == d && isOpTok(p.toks[i], ")")); i++ {
		}
		if p.toks[i].kind == tokEOF {
			return i
		}
		return i + 1
	}
	for {
		if k := p.toks[i].kind; k != tokIdent && k != tokQuoted {
			return p.errAt(p.toks[i], "expected common table expression name, found %s", p.describe(p.toks[i]))
		}
		i++
		if isOpTok(p.toks[i], "(") {
			i = skipGroup(i)
		}
		if !isKwTok(p.toks[i], "AS") {
			return p.errAt(p.toks[i], "expected AS, found %s", p.describe(p.toks[i]))
		}
		i++
		if isKwTok(p.toks[i], "NOT") {
			i++
		}
		if isKwTok(p.toks[i], "MATERIALIZED") {
			i++
		}
		if !isOpTok(p.toks[i], "(") {
			return p.errAt(p.toks[i], "expected '(', found %s", p.describe(p.toks[i]))
		}
		if err := p.checkQuery(i + 1); err != nil {
			return err
		}
		i = skipGroup(i)
		if !isOpTok(p.toks[i], ",") || p.toks[i].depth != d {
			break
		}
		i++
	}
	return p.checkQuery(i)
}

// ---- DDL ----

// tableTypeKw maps USER/SHARED/STREAM to a table type when followed by TABLE.
func (p *parser) tableTypeKw() (catalog.TableType, bool) {
	if !isKwTok(p.peekAt(1), "TABLE") {
		return 0, false
	}
	switch strings.ToUpper(p.peek().val) {
	case "USER":
		return catalog.TableUser, true
	case "SHARED":
		return catalog.TableShared, true
	case "STREAM":
		return catalog.TableStream, true
	}
	return 0, false
}

// forbiddenObject returns the ForbiddenError for CREATE/DROP/ALTER of an
// object other than NAMESPACE, TABLE or USER.
func (p *parser) forbiddenObject(verb string) error {
	t := p.peek()
	if t.kind != tokIdent {
		return p.unexpected("object type after " + verb)
	}
	what := verb + " " + strings.ToUpper(t.val)
	if isKwTok(t, "OR") && isKwTok(p.peekAt(1), "REPLACE") {
		what += " REPLACE"
	}
	return &ForbiddenError{What: what}
}

func (p *parser) create() (Statement, error) {
	p.next() // CREATE
	if tt, ok := p.tableTypeKw(); ok {
		p.next()
		p.next()
		return p.createTable(tt)
	}
	switch {
	case p.acceptKw("TABLE"):
		return p.createTable(0)
	case p.acceptKw("NAMESPACE"):
		ine, err := p.acceptIfNotExists()
		if err != nil {
			return nil, err
		}
		ns, err := p.namespace()
		if err != nil {
			return nil, err
		}
		return &CreateNamespace{Name: ns, IfNotExists: ine}, p.end()
	case p.acceptKw("USER"):
		return p.createUser()
	}
	return nil, p.forbiddenObject("CREATE")
}

func (p *parser) drop() (Statement, error) {
	p.next() // DROP
	if _, ok := p.tableTypeKw(); ok {
		p.next()
	}
	switch {
	case p.acceptKw("TABLE"):
		ie, err := p.acceptIfExists()
		if err != nil {
			return nil, err
		}
		ref, err := p.tableRef()
		if err != nil {
			return nil, err
		}
		return &DropTable{Table: ref, IfExists: ie}, p.end()
	case p.acceptKw("NAMESPACE"):
		ie, err := p.acceptIfExists()
		if err != nil {
			return nil, err
		}
		ns, err := p.namespace()
		if err != nil {
			return nil, err
		}
		cascade := p.acceptKw("CASCADE")
		return &DropNamespace{Name: ns, IfExists: ie, Cascade: cascade}, p.end()
	case p.acceptKw("USER"):
		ie, err := p.acceptIfExists()
		if err != nil {
			return nil, err
		}
		u, err := p.user()
		if err != nil {
			return nil, err
		}
		return &DropUser{Name: u, IfExists: ie}, p.end()
	}
	return nil, p.forbiddenObject("DROP")
}

func (p *parser) alter() (Statement, error) {
	p.next() // ALTER
	if _, ok := p.tableTypeKw(); ok {
		p.next()
	}
	switch {
	case p.acceptKw("TABLE"):
		return p.alterTable()
	case p.acceptKw("USER"):
		return p.alterUser()
	case p.isKw("NAMESPACE"):
		return nil, p.errAt(p.peek(), "unsupported statement ALTER NAMESPACE")
	}
	return nil, p.forbiddenObject("ALTER")
}

func (p *parser) use() (Statement, error) {
	ns, err := p.namespace()
	if err != nil {
		return nil, err
	}
	return &Use{Namespace: ns}, p.end()
}

func (p *parser) show() (Statement, error) {
	p.next() // SHOW
	switch {
	case p.acceptKw("NAMESPACES"):
		return &ShowNamespaces{}, p.end()
	case p.acceptKw("TABLES"):
		st := &ShowTables{}
		if p.acceptKw("IN", "FROM") {
			if p.isKw("NAMESPACE") && p.peekAt(1).kind != tokEOF {
				p.next()
			}
			ns, err := p.namespace()
			if err != nil {
				return nil, err
			}
			st.Namespace = ns
		}
		return st, p.end()
	case p.isKw("CREATE") && isKwTok(p.peekAt(1), "TABLE"):
		p.next()
		p.next()
		ref, err := p.tableRef()
		if err != nil {
			return nil, err
		}
		return &ShowCreateTable{Table: ref}, p.end()
	case p.acceptKw("USERS"):
		return &Select{SQL: "SELECT * FROM system.users"}, p.end()
	case p.acceptKw("STORAGES"):
		return &Select{SQL: "SELECT * FROM system.storages"}, p.end()
	case p.acceptKw("JOBS"):
		sql := "SELECT * FROM system.jobs"
		if p.acceptKw("WHERE") {
			cond, err := p.exprUntil("condition", func(token) bool { return false })
			if err != nil {
				return nil, err
			}
			// The lexer balances brackets, so the condition cannot close
			// these parentheses: it stays one expression over system.jobs.
			sql += " WHERE (" + cond + ")"
		}
		return &Select{SQL: sql}, p.end()
	case p.acceptKw("STATS"):
		if p.peek().kind == tokEOF {
			return &ShowStats{}, nil
		}
		if err := p.expectKw("FOR"); err != nil {
			return nil, err
		}
		p.acceptKw("TABLE")
		ref, err := p.tableRef()
		if err != nil {
			return nil, err
		}
		return &ShowStats{Table: ref}, p.end()
	}
	return nil, p.errAt(p.peek(), "unsupported statement SHOW %s", p.describe(p.peek()))
}

func (p *parser) createTable(tt catalog.TableType) (Statement, error) {
	ct := &CreateTable{Type: tt}
	var err error
	if ct.IfNotExists, err = p.acceptIfNotExists(); err != nil {
		return nil, err
	}
	if ct.Table, err = p.tableRef(); err != nil {
		return nil, err
	}
	if err := p.expectOp("("); err != nil {
		return nil, err
	}
	type pkRef struct {
		name string
		at   token
	}
	var pks []pkRef
	for {
		if p.isKw("CONSTRAINT") || (p.isKw("PRIMARY") && isKwTok(p.peekAt(1), "KEY")) {
			if p.acceptKw("CONSTRAINT") {
				if _, _, err := p.name("constraint name"); err != nil {
					return nil, err
				}
			}
			if err := p.expectKw("PRIMARY"); err != nil {
				return nil, err
			}
			if err := p.expectKw("KEY"); err != nil {
				return nil, err
			}
			if err := p.expectOp("("); err != nil {
				return nil, err
			}
			for {
				at := p.peek()
				name, err := p.column()
				if err != nil {
					return nil, err
				}
				pks = append(pks, pkRef{name, at})
				if !p.acceptOp(",") {
					break
				}
			}
			if err := p.expectOp(")"); err != nil {
				return nil, err
			}
		} else {
			at := p.peek()
			col, err := p.columnDef()
			if err != nil {
				return nil, err
			}
			if columnIndex(ct.Columns, col.Name) >= 0 {
				return nil, p.errAt(at, "duplicate column %q", col.Name)
			}
			if col.PrimaryKey {
				pks = append(pks, pkRef{col.Name, at})
			}
			ct.Columns = append(ct.Columns, col)
		}
		if !p.acceptOp(",") {
			break
		}
	}
	if err := p.expectOp(")"); err != nil {
		return nil, err
	}
	if len(ct.Columns) == 0 {
		return nil, p.errAt(p.peek(), "a table needs at least one column")
	}
	for _, pk := range pks {
		i := columnIndex(ct.Columns, pk.name)
		if i < 0 {
			return nil, p.errAt(pk.at, "primary key column %q is not defined", pk.name)
		}
		if !strings.EqualFold(pk.name, pks[0].name) {
			return nil, p.errAt(pk.at, "composite primary keys are not supported")
		}
		ct.Columns[i].PrimaryKey = true
		ct.Columns[i].NotNull = true
	}
	if p.acceptKw("USING") {
		v, _, err := p.name("storage name")
		if err != nil {
			return nil, err
		}
		ct.Options = append(ct.Options, Option{Key: "USING", Value: v})
	}
	if p.acceptKw("WITH") {
		at := p.peek()
		opts, err := p.optionList()
		if err != nil {
			return nil, err
		}
		for _, o := range opts {
			if o.Key != "TYPE" {
				ct.Options = append(ct.Options, o)
				continue
			}
			var typ catalog.TableType
			switch strings.ToUpper(o.Value) {
			case "USER":
				typ = catalog.TableUser
			case "SHARED":
				typ = catalog.TableShared
			case "STREAM":
				typ = catalog.TableStream
			default:
				return nil, p.errAt(at, "unknown table type %q (want USER, SHARED or STREAM)", o.Value)
			}
			if ct.Type == 0 {
				ct.Type = typ
			}
		}
	}
	return ct, p.end()
}

func columnIndex(cols []ColumnDef, name string) int {
	for i := range cols {
		if strings.EqualFold(cols[i].Name, name) {
			return i
		}
	}
	return -1
}

var constraintKws = []string{"NOT", "NULL", "PRIMARY", "DEFAULT", "UNIQUE", "AUTO_INCREMENT", "AUTOINCREMENT"}

// columnDef parses name TYPE [(p[,s])] { constraint }.
func (p *parser) columnDef() (ColumnDef, error) {
	var c ColumnDef
	var err error
	c.Quoted = p.peek().kind == tokQuoted
	if c.Name, err = p.column(); err != nil {
		return c, err
	}
	tt := p.peek()
	if tt.kind != tokIdent {
		return c, p.unexpected("data type")
	}
	p.next()
	typeName := strings.ToUpper(tt.val)
	switch typeName {
	case "DOUBLE":
		p.acceptKw("PRECISION")
	case "SERIAL", "BIGSERIAL":
		typeName = "BIGINT"
		c.Default = catalog.Default{Kind: catalog.DefaultSnowflakeID}
	}
	prec, scale := -1, -1
	if p.acceptOp("(") {
		if prec, err = p.intLit(); err != nil {
			return c, err
		}
		if p.acceptOp(",") {
			if scale, err = p.intLit(); err != nil {
				return c, err
			}
		}
		if err := p.expectOp(")"); err != nil {
			return c, err
		}
	}
	if c.Type, err = catalog.ParseDataType(typeName, prec, scale); err != nil {
		return c, p.errAt(tt, "%s", err.Error())
	}
	for {
		switch {
		case p.acceptKw("NOT"):
			if err := p.expectKw("NULL"); err != nil {
				return c, err
			}
			c.NotNull = true
		case p.acceptKw("NULL"):
			c.NotNull = false
		case p.acceptKw("PRIMARY"):
			if err := p.expectKw("KEY"); err != nil {
				return c, err
			}
			c.PrimaryKey = true
			c.NotNull = true
		case p.acceptKw("UNIQUE"):
		case p.acceptKw("AUTO_INCREMENT", "AUTOINCREMENT"):
			c.Default = catalog.Default{Kind: catalog.DefaultSnowflakeID}
		case p.acceptKw("DEFAULT"):
			if c.Default, err = p.defaultValue(); err != nil {
				return c, err
			}
		default:
			return c, nil
		}
	}
}

func (p *parser) intLit() (int, error) {
	t := p.peek()
	if t.kind == tokNumber {
		if n, err := strconv.Atoi(t.val); err == nil {
			p.next()
			return n, nil
		}
	}
	return 0, p.unexpected("integer")
}

// defaultFuncs maps default functions to their kinds; the bool tells whether
// the empty parentheses are optional.
var defaultFuncs = map[string]struct {
	kind      catalog.DefaultKind
	optParens bool
}{
	"SNOWFLAKE_ID":      {catalog.DefaultSnowflakeID, false},
	"UUID_V7":           {catalog.DefaultUUIDv7, false},
	"ULID":              {catalog.DefaultULID, false},
	"NOW":               {catalog.DefaultNow, false},
	"CURRENT_TIMESTAMP": {catalog.DefaultNow, true},
	"CURRENT_USER":      {catalog.DefaultCurrentUser, true},
}

// defaultValue parses the value after DEFAULT: a known function or a
// literal (string, signed number, TRUE, FALSE, NULL).
func (p *parser) defaultValue() (catalog.Default, error) {
	start := p.peek()
	unsupported := func() (catalog.Default, error) {
		return catalog.Default{}, p.errAt(start, "unsupported DEFAULT expression")
	}
	var d catalog.Default
	switch start.kind {
	case tokString, tokNumber:
		p.next()
		d = catalog.Default{Kind: catalog.DefaultLiteral, Literal: p.src[start.start:start.end]}
	case tokOp:
		if start.val != "-" && start.val != "+" || p.peekAt(1).kind != tokNumber {
			return unsupported()
		}
		p.next()
		num := p.next()
		d = catalog.Default{Kind: catalog.DefaultLiteral, Literal: start.val + num.val}
	case tokIdent:
		kw := strings.ToUpper(start.val)
		switch kw {
		case "TRUE", "FALSE", "NULL":
			p.next()
			d = catalog.Default{Kind: catalog.DefaultLiteral, Literal: start.val}
		default:
			f, ok := defaultFuncs[kw]
			if !ok {
				return unsupported()
			}
			p.next()
			if isOpTok(p.peek(), "(") && isOpTok(p.peekAt(1), ")") {
				p.next()
				p.next()
			} else if !f.optParens {
				return unsupported()
			}
			d = catalog.Default{Kind: f.kind}
		}
	default:
		return unsupported()
	}
	if t := p.peek(); !(t.kind == tokEOF || isOpTok(t, ",") || isOpTok(t, ")") || isKwTok(t, constraintKws...)) {
		return unsupported()
	}
	return d, nil
}

// optionList parses ( KEY = value {, KEY = value} ).
func (p *parser) optionList() ([]Option, error) {
	if err := p.expectOp("("); err != nil {
		return nil, err
	}
	var opts []Option
	if p.acceptOp(")") {
		return opts, nil
	}
	for {
		kt := p.peek()
		if kt.kind != tokIdent {
			return nil, p.unexpected("option name")
		}
		p.next()
		if err := p.expectOp("="); err != nil {
			return nil, err
		}
		var v string
		switch t := p.peek(); {
		case t.kind == tokString || t.kind == tokNumber || t.kind == tokIdent || t.kind == tokQuoted:
			p.next()
			v = t.val
		case (isOpTok(t, "-") || isOpTok(t, "+")) && p.peekAt(1).kind == tokNumber:
			p.next()
			v = t.val + p.next().val
		default:
			return nil, p.unexpected("option value")
		}
		opts = append(opts, Option{Key: strings.ToUpper(kt.val), Value: v})
		if !p.acceptOp(",") {
			break
		}
	}
	return opts, p.expectOp(")")
}

func (p *parser) alterTable() (Statement, error) {
	ref, err := p.tableRef()
	if err != nil {
		return nil, err
	}
	at := &AlterTable{Table: ref}
	switch {
	case p.acceptKw("ADD"):
		p.acceptKw("COLUMN")
		at.Op = AlterAddColumn
		if at.Column, err = p.columnDef(); err != nil {
			return nil, err
		}
	case p.acceptKw("DROP"):
		p.acceptKw("COLUMN")
		at.Op = AlterDropColumn
		if at.Name, err = p.column(); err != nil {
			return nil, err
		}
	case p.isKw("RENAME") && isKwTok(p.peekAt(1), "TO"):
		p.next()
		p.next()
		at.Op = AlterRenameTable
		ref, err := p.tableRef()
		if err != nil {
			return nil, err
		}
		if ref.Namespace != "" && ref.Namespace != at.Table.Namespace {
			return nil, p.errAt(p.peek(), "RENAME TO keeps the table in its namespace: give the new name alone")
		}
		at.NewName = string(ref.Name)
	case p.acceptKw("RENAME"):
		p.acceptKw("COLUMN")
		at.Op = AlterRenameColumn
		if at.Name, err = p.column(); err != nil {
			return nil, err
		}
		if err := p.expectKw("TO"); err != nil {
			return nil, err
		}
		at.NewNameQuoted = p.peek().kind == tokQuoted
		if at.NewName, err = p.column(); err != nil {
			return nil, err
		}
	case p.acceptKw("SET"):
		if err := p.expectKw("ACCESS"); err != nil {
			return nil, err
		}
		if err := p.expectKw("LEVEL"); err != nil {
			return nil, err
		}
		p.acceptOp("=")
		w, wt, err := p.word("access level")
		if err != nil {
			return nil, err
		}
		at.Op = AlterSetAccessLevel
		if at.AccessLevel, err = catalog.ParseAccessLevel(w); err != nil {
			return nil, p.errAt(wt, "%s", err.Error())
		}
	default:
		return nil, p.unexpected("ADD, DROP, RENAME or SET")
	}
	return at, p.end()
}

// ---- users ----

func (p *parser) createUser() (Statement, error) {
	cu := &CreateUser{Role: catalog.RoleUser}
	var err error
	if cu.IfNotExists, err = p.acceptIfNotExists(); err != nil {
		return nil, err
	}
	if cu.Name, err = p.user(); err != nil {
		return nil, err
	}
	p.acceptKw("WITH")
	seen := map[string]bool{}
	for p.peek().kind != tokEOF {
		t := p.peek()
		kw := strings.ToUpper(t.val)
		if t.kind != tokIdent || (kw != "PASSWORD" && kw != "ROLE" && kw != "EMAIL" && kw != "INTERNAL") {
			return nil, p.unexpected("PASSWORD, INTERNAL, ROLE or EMAIL")
		}
		if seen[kw] {
			return nil, p.errAt(t, "%s given twice", kw)
		}
		seen[kw] = true
		p.next()
		if kw == "INTERNAL" {
			cu.Internal = true
			continue
		}
		if err := p.userAttr(kw, &cu.Password, &cu.Role, &cu.Email); err != nil {
			return nil, err
		}
	}
	switch {
	case seen["PASSWORD"] && seen["INTERNAL"]:
		return nil, p.errAt(p.peek(), "an INTERNAL user has no password")
	case !seen["PASSWORD"] && !seen["INTERNAL"]:
		return nil, p.errAt(p.peek(), "CREATE USER requires WITH PASSWORD or WITH INTERNAL")
	}
	return cu, nil
}

// userAttr parses the value of PASSWORD, ROLE or EMAIL (the keyword kw has
// been consumed).
func (p *parser) userAttr(kw string, password *string, role *catalog.Role, email *string) error {
	var err error
	switch kw {
	case "PASSWORD":
		*password, err = p.stringLit("password string")
	case "EMAIL":
		*email, err = p.stringLit("email string")
	case "ROLE":
		w, wt, werr := p.word("role")
		if werr != nil {
			return werr
		}
		if *role, err = catalog.ParseRole(w); err != nil {
			return p.errAt(wt, "%s", err.Error())
		}
	}
	return err
}

func (p *parser) alterUser() (Statement, error) {
	name, err := p.user()
	if err != nil {
		return nil, err
	}
	au := &AlterUser{Name: name}
	if !p.isKw("SET") {
		return nil, p.unexpected("SET")
	}
	for p.acceptKw("SET") {
		t := p.peek()
		kw := strings.ToUpper(t.val)
		if t.kind != tokIdent || (kw != "PASSWORD" && kw != "ROLE" && kw != "EMAIL") {
			return nil, p.unexpected("PASSWORD, ROLE or EMAIL")
		}
		p.next()
		var pw, email string
		var role catalog.Role
		if err := p.userAttr(kw, &pw, &role, &email); err != nil {
			return nil, err
		}
		switch kw {
		case "PASSWORD":
			au.Password = &pw
		case "EMAIL":
			au.Email = &email
		case "ROLE":
			au.Role = &role
		}
		p.acceptOp(",")
	}
	return au, p.end()
}

// ---- DML ----

func isReturning(t token) bool { return isKwTok(t, "RETURNING") }

func never(token) bool { return false }

// returning parses an optional top-level RETURNING list.
func (p *parser) returning() (string, error) {
	if !p.acceptKw("RETURNING") {
		return "", nil
	}
	return p.exprUntil("RETURNING list", never)
}

func (p *parser) insert() (Statement, error) {
	p.next() // INSERT
	if err := p.expectKw("INTO"); err != nil {
		return nil, err
	}
	ref, err := p.tableRef()
	if err != nil {
		return nil, err
	}
	ins := &Insert{Table: ref}
	if next := p.peekAt(1); p.isOp("(") && !isKwTok(next, queryStarts...) && !isOpTok(next, "(") {
		p.next()
		for {
			c, err := p.column()
			if err != nil {
				return nil, err
			}
			ins.Columns = append(ins.Columns, c)
			if !p.acceptOp(",") {
				break
			}
		}
		if err := p.expectOp(")"); err != nil {
			return nil, err
		}
	}
	t := p.peek()
	switch {
	case isKwTok(t, "VALUES"):
	case isKwTok(t, queryStarts...) || isOpTok(t, "("):
		if err := p.checkQuery(p.i); err != nil {
			return nil, err
		}
	default:
		return nil, p.unexpected("VALUES or a query")
	}
	if ins.Source, err = p.exprUntil("VALUES or a query", isReturning); err != nil {
		return nil, err
	}
	if ins.Returning, err = p.returning(); err != nil {
		return nil, err
	}
	return ins, p.end()
}

// where parses an optional top-level WHERE condition ending at RETURNING.
func (p *parser) where() (string, error) {
	if !p.acceptKw("WHERE") {
		return "", nil
	}
	return p.exprUntil("condition", isReturning)
}

func (p *parser) update() (Statement, error) {
	p.next() // UPDATE
	if p.isKw("EXTENSIONS") && (p.peekAt(1).kind == tokEOF || isOpTok(p.peekAt(1), "(")) {
		return nil, &ForbiddenError{What: "UPDATE EXTENSIONS"}
	}
	ref, err := p.tableRef()
	if err != nil {
		return nil, err
	}
	up := &Update{Table: ref}
	if up.Alias, err = p.alias("SET", "WHERE", "RETURNING", "FROM"); err != nil {
		return nil, err
	}
	if err := p.expectKw("SET"); err != nil {
		return nil, err
	}
	stop := func(t token) bool { return isOpTok(t, ",") || isKwTok(t, "WHERE", "RETURNING", "FROM") }
	for {
		col, err := p.column()
		if err != nil {
			return nil, err
		}
		if err := p.expectOp("="); err != nil {
			return nil, err
		}
		expr, err := p.exprUntil("expression", stop)
		if err != nil {
			return nil, err
		}
		up.Set = append(up.Set, Assignment{Column: col, Expr: expr})
		if !p.acceptOp(",") {
			break
		}
	}
	if p.isKw("FROM") {
		return nil, p.errAt(p.peek(), "UPDATE ... FROM is not supported")
	}
	if up.Where, err = p.where(); err != nil {
		return nil, err
	}
	if up.Returning, err = p.returning(); err != nil {
		return nil, err
	}
	return up, p.end()
}

func (p *parser) delete() (Statement, error) {
	p.next() // DELETE
	if err := p.expectKw("FROM"); err != nil {
		return nil, err
	}
	ref, err := p.tableRef()
	if err != nil {
		return nil, err
	}
	del := &Delete{Table: ref}
	if del.Alias, err = p.alias("WHERE", "RETURNING", "USING"); err != nil {
		return nil, err
	}
	if p.isKw("USING") {
		return nil, p.errAt(p.peek(), "DELETE ... USING is not supported")
	}
	if del.Where, err = p.where(); err != nil {
		return nil, err
	}
	if del.Returning, err = p.returning(); err != nil {
		return nil, err
	}
	return del, p.end()
}

// ---- other commands ----

func (p *parser) executeAs() (Statement, error) {
	et := p.next() // EXECUTE
	if !p.isKw("AS") {
		return nil, p.errAt(et, "unsupported statement EXECUTE")
	}
	if p.nested {
		return nil, p.errAt(et, "nested EXECUTE AS is not allowed")
	}
	p.next()
	if err := p.expectKw("USER"); err != nil {
		return nil, err
	}
	u, err := p.user()
	if err != nil {
		return nil, err
	}
	if err := p.expectOp("("); err != nil {
		return nil, err
	}
	from := p.i
	for t := p.peek(); !(t.depth == p.base && isOpTok(t, ")")); t = p.peek() {
		if t.kind == tokEOF {
			return nil, p.unexpected("')'")
		}
		p.next()
	}
	closing := p.next()
	inner := make([]token, 0, p.i-from)
	inner = append(inner, p.toks[from:p.i-1]...)
	inner = append(inner, token{kind: tokEOF, start: closing.start, end: closing.start, depth: p.base + 1})
	sub := &parser{src: p.src, toks: inner, base: p.base + 1, nested: true}
	stmt, err := sub.statement()
	if err != nil {
		return nil, err
	}
	return &ExecuteAs{User: u, Stmt: stmt}, p.end()
}

func (p *parser) storage() (Statement, error) {
	p.next() // STORAGE
	compact := false
	switch {
	case p.acceptKw("FLUSH"):
	case p.acceptKw("COMPACT"):
		compact = true
	default:
		return nil, p.unexpected("FLUSH or COMPACT")
	}
	var table *TableRef
	var ns catalog.NamespaceID
	all := false
	switch {
	case p.acceptKw("TABLE"):
		ref, err := p.tableRef()
		if err != nil {
			return nil, err
		}
		table = &ref
	case p.acceptKw("ALL"):
		all = true
		if p.acceptKw("IN") {
			if p.isKw("NAMESPACE") && p.peekAt(1).kind != tokEOF {
				p.next()
			}
			var err error
			if ns, err = p.namespace(); err != nil {
				return nil, err
			}
		}
	default:
		return nil, p.unexpected("TABLE or ALL")
	}
	if err := p.end(); err != nil {
		return nil, err
	}
	if compact {
		return &StorageCompact{Table: table, All: all, Namespace: ns}, nil
	}
	return &StorageFlush{Table: table, All: all, Namespace: ns}, nil
}

func (p *parser) killJob() (Statement, error) {
	p.next() // KILL
	if err := p.expectKw("JOB"); err != nil {
		return nil, err
	}
	t := p.peek()
	switch t.kind {
	case tokString, tokIdent, tokQuoted, tokNumber:
		if t.val == "" {
			return nil, p.errAt(t, "empty job id")
		}
		p.next()
		return &KillJob{ID: t.val}, p.end()
	}
	return nil, p.unexpected("job id")
}

func (p *parser) subscribe() (Statement, error) {
	p.next() // SUBSCRIBE
	if err := p.expectKw("TO"); err != nil {
		return nil, err
	}
	ref, err := p.tableRef()
	if err != nil {
		return nil, err
	}
	sub := &Subscribe{Table: ref}
	if p.acceptKw("WHERE") {
		from := p.i
		for t := p.peek(); t.kind != tokEOF && !(p.topKw(t, "OPTIONS") && isOpTok(p.peekAt(1), "(")); t = p.peek() {
			p.next()
		}
		if from == p.i {
			return nil, p.unexpected("condition")
		}
		sub.Where = p.text(from, p.i)
	}
	if p.acceptKw("OPTIONS") {
		if sub.Options, err = p.optionList(); err != nil {
			return nil, err
		}
	}
	return sub, p.end()
}
