package sqlparse

import "github.com/kalamdb/kalamdb-go/catalog"

// Statement is one parsed statement; it is one of the pointer types below.
type Statement interface{ statement() }

// TableRef names a table, optionally qualified by its namespace.
type TableRef struct {
	// Namespace is "" when the statement did not name one (the session's
	// default namespace applies).
	Namespace catalog.NamespaceID
	Name      catalog.TableName
}

// Select is a query passed through to DuckDB unparsed: a statement starting
// with SELECT, WITH, FROM, VALUES, TABLE or '(', or the query a SHOW
// statement stands for (SHOW USERS, SHOW JOBS [WHERE cond], SHOW STORAGES
// read system.users, system.jobs and system.storages).
type Select struct {
	// SQL is the original text from the first to the last token of the
	// statement (surrounding whitespace, comments and the ';' removed), or
	// the query of a SHOW.
	SQL string
}

// Explain is EXPLAIN [ANALYZE] <query>: DuckDB's plan of the query (ANALYZE
// runs it and adds timings).
type Explain struct {
	Analyze bool
	// Query is the text of the query explained.
	Query string
}

// ShowCreateTable is SHOW CREATE TABLE t: the CREATE statement that makes
// the table as it is now.
type ShowCreateTable struct {
	Table TableRef
}

// Truncate is TRUNCATE [TABLE] t: every row of the caller's partition (the
// whole table for a SHARED one).
type Truncate struct {
	Table TableRef
}

// CreateNamespace is CREATE NAMESPACE [IF NOT EXISTS] ns.
type CreateNamespace struct {
	Name        catalog.NamespaceID
	IfNotExists bool
}

// DropNamespace is DROP NAMESPACE [IF EXISTS] ns [CASCADE].
type DropNamespace struct {
	Name     catalog.NamespaceID
	IfExists bool
	Cascade  bool
}

// ShowNamespaces is SHOW NAMESPACES.
type ShowNamespaces struct{}

// Use is USE ns, USE NAMESPACE ns or SET NAMESPACE ns.
type Use struct {
	Namespace catalog.NamespaceID
}

// ShowTables is SHOW TABLES [IN [NAMESPACE] ns]; Namespace is "" when none
// was given.
type ShowTables struct {
	Namespace catalog.NamespaceID
}

// DescribeTable is DESCRIBE [TABLE] t or DESC [TABLE] t.
type DescribeTable struct {
	Table TableRef
}

// ShowStats is SHOW STATS FOR [TABLE] t, or bare SHOW STATS (Table.Name
// is "") for every table the caller may read.
type ShowStats struct {
	Table TableRef
}

// ColumnDef is a column definition of CREATE TABLE or ALTER TABLE ... ADD.
type ColumnDef struct {
	Name string
	// Quoted says the name was written as a quoted identifier.
	Quoted bool
	Type   catalog.DataType
	// NotNull is also set for PRIMARY KEY columns.
	NotNull    bool
	PrimaryKey bool
	Default    catalog.Default
}

// Option is one KEY = value pair of a WITH (...) or OPTIONS (...) list.
type Option struct {
	// Key is upper-case.
	Key string
	// Value is the unquoted content of a string literal, or the text of a
	// number or identifier as written.
	Value string
}

// CreateTable is CREATE [USER|SHARED|STREAM] TABLE [IF NOT EXISTS] t (...)
// [USING ident] [WITH (...)].
type CreateTable struct {
	Table TableRef
	// Type is 0 when given neither by keyword nor by WITH (TYPE = ...).
	Type        catalog.TableType
	IfNotExists bool
	Columns     []ColumnDef
	// Options holds the WITH options except TYPE, in order. A USING ident
	// clause is recorded as the option USING.
	Options []Option
}

// DropTable is DROP [USER|SHARED|STREAM] TABLE [IF EXISTS] t.
type DropTable struct {
	Table    TableRef
	IfExists bool
}

// AlterOp is the operation of an ALTER TABLE statement.
type AlterOp uint8

// ALTER TABLE operations.
const (
	// AlterAddColumn is ADD [COLUMN] coldef.
	AlterAddColumn AlterOp = iota + 1
	// AlterDropColumn is DROP [COLUMN] name.
	AlterDropColumn
	// AlterRenameColumn is RENAME [COLUMN] old TO new.
	AlterRenameColumn
	// AlterSetAccessLevel is SET ACCESS LEVEL level.
	AlterSetAccessLevel
	// AlterRenameTable is RENAME TO new (NewName; same namespace).
	AlterRenameTable
)

// String returns the operation's SQL keywords.
func (o AlterOp) String() string {
	switch o {
	case AlterAddColumn:
		return "ADD COLUMN"
	case AlterDropColumn:
		return "DROP COLUMN"
	case AlterRenameColumn:
		return "RENAME COLUMN"
	case AlterSetAccessLevel:
		return "SET ACCESS LEVEL"
	case AlterRenameTable:
		return "RENAME TO"
	}
	return "UNKNOWN"
}

// AlterTable is ALTER [USER|SHARED|STREAM] TABLE t <op>.
type AlterTable struct {
	Table TableRef
	Op    AlterOp
	// Column is the new column of AlterAddColumn.
	Column ColumnDef
	// Name is the column dropped or renamed.
	Name string
	// NewName is the new name of AlterRenameColumn; NewNameQuoted says it
	// was written as a quoted identifier.
	NewName       string
	NewNameQuoted bool
	// AccessLevel is the level of AlterSetAccessLevel.
	AccessLevel catalog.AccessLevel
}

// Insert is INSERT INTO t [(cols)] <source> [RETURNING ...].
type Insert struct {
	Table TableRef
	// Columns is nil when no column list was given.
	Columns []string
	// Source is the verbatim text of the VALUES list or query.
	Source string
	// Returning is the verbatim text after RETURNING, or "".
	Returning string
}

// Assignment is one col = expr of UPDATE ... SET; Expr is verbatim text.
type Assignment struct {
	Column string
	Expr   string
}

// Update is UPDATE t [[AS] alias] SET ... [WHERE ...] [RETURNING ...].
type Update struct {
	Table TableRef
	Alias string
	Set   []Assignment
	// Where is the verbatim condition, or "".
	Where string
	// Returning is the verbatim text after RETURNING, or "".
	Returning string
}

// Delete is DELETE FROM t [[AS] alias] [WHERE ...] [RETURNING ...].
type Delete struct {
	Table TableRef
	Alias string
	// Where is the verbatim condition, or "".
	Where string
	// Returning is the verbatim text after RETURNING, or "".
	Returning string
}

// CreateUser is CREATE USER [IF NOT EXISTS] name WITH PASSWORD 'p' | INTERNAL
// [ROLE r] [EMAIL 'e']. An INTERNAL user has no password: it cannot log in
// and is reached only through EXECUTE AS USER (service accounts, agents).
type CreateUser struct {
	Name     catalog.UserID
	Password string
	Internal bool
	// Role is catalog.RoleUser when not given.
	Role        catalog.Role
	Email       string
	IfNotExists bool
}

// AlterUser is ALTER USER name SET PASSWORD 'p' | SET ROLE r | SET EMAIL 'e'
// (several SET clauses may follow each other); nil fields are unchanged.
type AlterUser struct {
	Name     catalog.UserID
	Password *string
	Role     *catalog.Role
	Email    *string
}

// DropUser is DROP USER [IF EXISTS] name.
type DropUser struct {
	Name     catalog.UserID
	IfExists bool
}

// ExecuteAs is EXECUTE AS USER name ( statement ): Stmt runs on behalf of
// User. Stmt is never an *ExecuteAs.
type ExecuteAs struct {
	User catalog.UserID
	Stmt Statement
}

// StorageFlush is STORAGE FLUSH TABLE t or STORAGE FLUSH ALL [IN [NAMESPACE]
// ns]. Exactly one of Table and All is set.
type StorageFlush struct {
	Table     *TableRef
	All       bool
	Namespace catalog.NamespaceID
}

// StorageCompact is STORAGE COMPACT TABLE t or STORAGE COMPACT ALL [IN
// [NAMESPACE] ns]. Exactly one of Table and All is set.
type StorageCompact struct {
	Table     *TableRef
	All       bool
	Namespace catalog.NamespaceID
}

// KillJob is KILL JOB 'id'.
type KillJob struct {
	ID string
}

// Begin is BEGIN [TRANSACTION|WORK] or START TRANSACTION.
type Begin struct{}

// Commit is COMMIT [TRANSACTION|WORK].
type Commit struct{}

// Rollback is ROLLBACK [TRANSACTION|WORK].
type Rollback struct{}

// Subscribe is SUBSCRIBE TO t [WHERE ...] [OPTIONS (k = v, ...)].
type Subscribe struct {
	Table TableRef
	// Where is the verbatim condition, or "".
	Where   string
	Options []Option
}

func (*Select) statement()          {}
func (*Explain) statement()         {}
func (*CreateNamespace) statement() {}
func (*DropNamespace) statement()   {}
func (*ShowNamespaces) statement()  {}
func (*Use) statement()             {}
func (*ShowTables) statement()      {}
func (*DescribeTable) statement()   {}
func (*ShowStats) statement()       {}
func (*CreateTable) statement()     {}
func (*DropTable) statement()       {}
func (*AlterTable) statement()      {}
func (*Insert) statement()          {}
func (*Update) statement()          {}
func (*Delete) statement()          {}
func (*Truncate) statement()        {}
func (*ShowCreateTable) statement() {}
func (*CreateUser) statement()      {}
func (*AlterUser) statement()       {}
func (*DropUser) statement()        {}
func (*ExecuteAs) statement()       {}
func (*StorageFlush) statement()    {}
func (*StorageCompact) statement()  {}
func (*KillJob) statement()         {}
func (*Begin) statement()           {}
func (*Commit) statement()          {}
func (*Rollback) statement()        {}
func (*Subscribe) statement()       {}
