package sqlparse

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kalamdb/kalamdb-go/catalog"
)

func ref(ns, name string) TableRef {
	return TableRef{Namespace: catalog.NamespaceID(ns), Name: catalog.TableName(name)}
}

func strp(s string) *string { return &s }

func TestParseStatements(t *testing.T) {
	role := catalog.RoleDBA
	snow := catalog.Default{Kind: catalog.DefaultSnowflakeID}
	lit := func(s string) catalog.Default { return catalog.Default{Kind: catalog.DefaultLiteral, Literal: s} }
	bigint := catalog.DataType{Kind: catalog.TypeBigInt}
	text := catalog.DataType{Kind: catalog.TypeText}
	cases := []struct {
		name string
		sql  string
		want Statement
	}{
		// Pass-through queries.
		{"select", "SELECT 1", &Select{SQL: "SELECT 1"}},
		{"explain", "EXPLAIN SELECT 1", &Explain{Query: "SELECT 1"}},
		{"truncate", "TRUNCATE TABLE app.t", &Truncate{Table: TableRef{Namespace: "app", Name: "t"}}},
		{"show create table", "SHOW CREATE TABLE app.t", &ShowCreateTable{Table: TableRef{Namespace: "app", Name: "t"}}},
		{"rename table", "ALTER TABLE app.t RENAME TO u", &AlterTable{Table: TableRef{Namespace: "app", Name: "t"}, Op: AlterRenameTable, NewName: "u"}},
		{"truncate without TABLE", "truncate t;", &Truncate{Table: TableRef{Name: "t"}}},
		{"explain analyze", "explain analyze WITH c AS (SELECT 1) SELECT * FROM c;", &Explain{Analyze: true, Query: "WITH c AS (SELECT 1) SELECT * FROM c"}},
		{"select trailing semicolon and space", "  select * from t ;  -- done\n", &Select{SQL: "select * from t"}},
		{"select semicolon in string", "SELECT ';'", &Select{SQL: "SELECT ';'"}},
		{"select semicolon in comment", "SELECT 1 /* ; */ + 2;", &Select{SQL: "SELECT 1 /* ; */ + 2"}},
		{"select semicolon in quoted ident", `SELECT 1 AS "a;b"`, &Select{SQL: `SELECT 1 AS "a;b"`}},
		{"select semicolon in dollar string", "SELECT $$;$$, $x$ ; $x$", &Select{SQL: "SELECT $$;$$, $x$ ; $x$"}},
		{"select escape string", `SELECT E'\';'`, &Select{SQL: `SELECT E'\';'`}},
		{"select unicode", "SELECT 'héllo 世界 🎉' AS greeting", &Select{SQL: "SELECT 'héllo 世界 🎉' AS greeting"}},
		{"select operators", "SELECT a->>'x', b::INT, c || d, e <> f, g != h, $1, ? FROM t WHERE x >= 1.5e3", &Select{SQL: "SELECT a->>'x', b::INT, c || d, e <> f, g != h, $1, ? FROM t WHERE x >= 1.5e3"}},
		{"with", "WITH x AS (SELECT 1), y(a) AS MATERIALIZED (SELECT 2) SELECT * FROM x, y", &Select{SQL: "WITH x AS (SELECT 1), y(a) AS MATERIALIZED (SELECT 2) SELECT * FROM x, y"}},
		{"with recursive", "WITH RECURSIVE r AS (SELECT 1 UNION ALL SELECT n FROM r) SELECT * FROM r", &Select{SQL: "WITH RECURSIVE r AS (SELECT 1 UNION ALL SELECT n FROM r) SELECT * FROM r"}},
		{"from first", "FROM t", &Select{SQL: "FROM t"}},
		{"values", "VALUES (1), (2)", &Select{SQL: "VALUES (1), (2)"}},
		{"table", "TABLE t", &Select{SQL: "TABLE t"}},
		{"paren", "(SELECT 1) UNION (SELECT 2)", &Select{SQL: "(SELECT 1) UNION (SELECT 2)"}},
		{"leading comment stripped", "-- hi\n/* x */ SELECT 1", &Select{SQL: "SELECT 1"}},
		{"struct and list literals", "SELECT {'a': 1, 'b': [1, 2]}", &Select{SQL: "SELECT {'a': 1, 'b': [1, 2]}"}},

		// Namespaces.
		{"create namespace", "CREATE NAMESPACE chat", &CreateNamespace{Name: "chat"}},
		{"create namespace if not exists", "create namespace if not exists Chat;", &CreateNamespace{Name: "chat", IfNotExists: true}},
		{"drop namespace", "DROP NAMESPACE chat", &DropNamespace{Name: "chat"}},
		{"drop namespace if exists cascade", "DROP NAMESPACE IF EXISTS chat CASCADE", &DropNamespace{Name: "chat", IfExists: true, Cascade: true}},
		{"show namespaces", "SHOW NAMESPACES", &ShowNamespaces{}},
		{"use", "USE chat", &Use{Namespace: "chat"}},
		{"use namespace", "USE NAMESPACE chat", &Use{Namespace: "chat"}},
		{"use namespace named namespace", "USE namespace", &Use{Namespace: "namespace"}},
		{"set namespace", "SET NAMESPACE chat", &Use{Namespace: "chat"}},
		{"set namespace eq", "set namespace = chat", &Use{Namespace: "chat"}},
		{"use quoted", `USE "Chat"`, &Use{Namespace: "chat"}},

		// Tables: inspection.
		{"show tables", "SHOW TABLES", &ShowTables{}},
		{"show tables in", "SHOW TABLES IN chat", &ShowTables{Namespace: "chat"}},
		{"show tables in namespace", "SHOW TABLES IN NAMESPACE chat", &ShowTables{Namespace: "chat"}},
		{"describe table", "DESCRIBE TABLE chat.messages", &DescribeTable{Table: ref("chat", "messages")}},
		{"desc table", "desc table Messages", &DescribeTable{Table: ref("", "messages")}},
		{"describe bare table", "DESCRIBE messages", &DescribeTable{Table: ref("", "messages")}},
		{"describe query", "DESCRIBE SELECT * FROM t", &Select{SQL: "DESCRIBE SELECT * FROM t"}},
		{"describe with", "describe WITH x AS (SELECT 1) SELECT * FROM x", &Select{SQL: "describe WITH x AS (SELECT 1) SELECT * FROM x"}},
		{"summarize table", "SUMMARIZE ns.t", &Select{SQL: "SUMMARIZE ns.t"}},
		{"summarize query", "SUMMARIZE FROM t", &Select{SQL: "SUMMARIZE FROM t"}},
		{"pivot", "PIVOT t ON v USING sum(n);", &Select{SQL: "PIVOT t ON v USING sum(n)"}},
		{"pivot_wider", "PIVOT_WIDER t ON v", &Select{SQL: "PIVOT_WIDER t ON v"}},
		{"unpivot", "UNPIVOT t ON a, b INTO NAME k VALUE v", &Select{SQL: "UNPIVOT t ON a, b INTO NAME k VALUE v"}},
		{"with pivot", "WITH c AS (PIVOT t ON v) UNPIVOT c ON COLUMNS(*) INTO NAME k VALUE v", &Select{SQL: "WITH c AS (PIVOT t ON v) UNPIVOT c ON COLUMNS(*) INTO NAME k VALUE v"}},
		{"show stats", "SHOW STATS FOR TABLE chat.messages", &ShowStats{Table: ref("chat", "messages")}},
		{"show stats all", "SHOW STATS", &ShowStats{}},
		{"show users", "show users;", &Select{SQL: "SELECT * FROM system.users"}},
		{"show storages", "SHOW STORAGES", &Select{SQL: "SELECT * FROM system.storages"}},
		{"show jobs", "SHOW JOBS", &Select{SQL: "SELECT * FROM system.jobs"}},
		{"show jobs where", "SHOW JOBS WHERE status = 'Failed' OR (job_type = 'flush') -- x", &Select{SQL: "SELECT * FROM system.jobs WHERE (status = 'Failed' OR (job_type = 'flush'))"}},
		{"execute as show users", "EXECUTE AS USER 'alice' (SHOW USERS)", &ExecuteAs{User: "alice", Stmt: &Select{SQL: "SELECT * FROM system.users"}}},

		// CREATE TABLE.
		{"create table basic", "CREATE TABLE t (id BIGINT PRIMARY KEY, name TEXT NOT NULL)", &CreateTable{
			Table: ref("", "t"),
			Columns: []ColumnDef{
				{Name: "id", Type: bigint, PrimaryKey: true, NotNull: true},
				{Name: "name", Type: text, NotNull: true},
			},
		}},
		{"create user table full", `CREATE USER TABLE IF NOT EXISTS chat.messages (
			id BIGINT DEFAULT SNOWFLAKE_ID(),
			"Body" VARCHAR(255) NULL,
			price DECIMAL(10, 2) DEFAULT -1.5,
			ratio DOUBLE PRECISION DEFAULT 0,
			ok BOOLEAN DEFAULT TRUE,
			u UUID DEFAULT uuid_v7(),
			l TEXT DEFAULT ULID(),
			ts TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
			ts2 TIMESTAMP DEFAULT now(),
			who TEXT DEFAULT current_user(),
			who2 TEXT DEFAULT CURRENT_USER,
			s TEXT DEFAULT 'it''s' UNIQUE,
			n INT DEFAULT NULL,
			CONSTRAINT pk PRIMARY KEY (id)
		) WITH (FLUSH_POLICY = 'rows:1000', ttl_seconds = 3600, Compression = zstd)`, &CreateTable{
			Table:       ref("chat", "messages"),
			Type:        catalog.TableUser,
			IfNotExists: true,
			Columns: []ColumnDef{
				{Name: "id", Type: bigint, PrimaryKey: true, NotNull: true, Default: snow},
				{Name: "Body", Quoted: true, Type: text},
				{Name: "price", Type: catalog.DataType{Kind: catalog.TypeDecimal, Precision: 10, Scale: 2}, Default: lit("-1.5")},
				{Name: "ratio", Type: catalog.DataType{Kind: catalog.TypeDouble}, Default: lit("0")},
				{Name: "ok", Type: catalog.DataType{Kind: catalog.TypeBoolean}, Default: lit("TRUE")},
				{Name: "u", Type: catalog.DataType{Kind: catalog.TypeUUID}, Default: catalog.Default{Kind: catalog.DefaultUUIDv7}},
				{Name: "l", Type: text, Default: catalog.Default{Kind: catalog.DefaultULID}},
				{Name: "ts", Type: catalog.DataType{Kind: catalog.TypeTimestamp}, Default: catalog.Default{Kind: catalog.DefaultNow}},
				{Name: "ts2", Type: catalog.DataType{Kind: catalog.TypeTimestamp}, Default: catalog.Default{Kind: catalog.DefaultNow}},
				{Name: "who", Type: text, Default: catalog.Default{Kind: catalog.DefaultCurrentUser}},
				{Name: "who2", Type: text, Default: catalog.Default{Kind: catalog.DefaultCurrentUser}},
				{Name: "s", Type: text, Default: lit("'it''s'")},
				{Name: "n", Type: catalog.DataType{Kind: catalog.TypeInt}, Default: lit("NULL")},
			},
			Options: []Option{{Key: "FLUSH_POLICY", Value: "rows:1000"}, {Key: "TTL_SECONDS", Value: "3600"}, {Key: "COMPRESSION", Value: "zstd"}},
		}},
		{"create shared table", "CREATE SHARED TABLE s (id INT PRIMARY KEY)", &CreateTable{
			Table: ref("", "s"), Type: catalog.TableShared,
			Columns: []ColumnDef{{Name: "id", Type: catalog.DataType{Kind: catalog.TypeInt}, PrimaryKey: true, NotNull: true}},
		}},
		{"create stream table with type option", "CREATE TABLE e (id SERIAL, v JSON) WITH (TYPE = 'STREAM', TTL_SECONDS = 10)", &CreateTable{
			Table: ref("", "e"), Type: catalog.TableStream,
			Columns: []ColumnDef{{Name: "id", Type: bigint, Default: snow}, {Name: "v", Type: catalog.DataType{Kind: catalog.TypeJSON}}},
			Options: []Option{{Key: "TTL_SECONDS", Value: "10"}},
		}},
		{"keyword type wins over option", "CREATE SHARED TABLE e (id INT) WITH (TYPE='USER')", &CreateTable{
			Table: ref("", "e"), Type: catalog.TableShared,
			Columns: []ColumnDef{{Name: "id", Type: catalog.DataType{Kind: catalog.TypeInt}}},
		}},
		{"create table auto_increment and using", "CREATE TABLE t (id BIGINT AUTO_INCREMENT, PRIMARY KEY (id)) USING local", &CreateTable{
			Table:   ref("", "t"),
			Columns: []ColumnDef{{Name: "id", Type: bigint, Default: snow, PrimaryKey: true, NotNull: true}},
			Options: []Option{{Key: "USING", Value: "local"}},
		}},
		{"create table pk before column", "CREATE TABLE t (PRIMARY KEY (id), id BIGINT)", &CreateTable{
			Table:   ref("", "t"),
			Columns: []ColumnDef{{Name: "id", Type: bigint, PrimaryKey: true, NotNull: true}},
		}},
		{"create table bigserial decimal default", "CREATE TABLE t (id BIGSERIAL PRIMARY KEY, d NUMERIC DEFAULT +2)", &CreateTable{
			Table: ref("", "t"),
			Columns: []ColumnDef{
				{Name: "id", Type: bigint, Default: snow, PrimaryKey: true, NotNull: true},
				{Name: "d", Type: catalog.DataType{Kind: catalog.TypeDecimal, Precision: 38, Scale: 10}, Default: lit("+2")},
			},
		}},

		// DROP / ALTER TABLE.
		{"drop table", "DROP TABLE chat.messages", &DropTable{Table: ref("chat", "messages")}},
		{"drop user table if exists", "DROP USER TABLE IF EXISTS m", &DropTable{Table: ref("", "m"), IfExists: true}},
		{"drop shared table", "DROP SHARED TABLE m", &DropTable{Table: ref("", "m")}},
		{"drop stream table", "DROP STREAM TABLE m", &DropTable{Table: ref("", "m")}},
		{"alter add column", "ALTER TABLE t ADD COLUMN age INT NOT NULL DEFAULT 0", &AlterTable{
			Table: ref("", "t"), Op: AlterAddColumn,
			Column: ColumnDef{Name: "age", Type: catalog.DataType{Kind: catalog.TypeInt}, NotNull: true, Default: lit("0")},
		}},
		{"alter add", "ALTER TABLE t ADD age INT", &AlterTable{
			Table: ref("", "t"), Op: AlterAddColumn, Column: ColumnDef{Name: "age", Type: catalog.DataType{Kind: catalog.TypeInt}},
		}},
		{"alter drop column", "ALTER TABLE ns.t DROP COLUMN age", &AlterTable{Table: ref("ns", "t"), Op: AlterDropColumn, Name: "age"}},
		{"alter rename column", "ALTER TABLE t RENAME COLUMN a TO B", &AlterTable{Table: ref("", "t"), Op: AlterRenameColumn, Name: "a", NewName: "b"}},
		{"alter access level", "ALTER SHARED TABLE t SET ACCESS LEVEL public", &AlterTable{Table: ref("", "t"), Op: AlterSetAccessLevel, AccessLevel: catalog.AccessPublic}},

		// DML.
		{"insert values", "INSERT INTO chat.m (id, Body) VALUES (1, 'a, b'), (2, 'RETURNING') RETURNING id, body", &Insert{
			Table: ref("chat", "m"), Columns: []string{"id", "body"},
			Source: "VALUES (1, 'a, b'), (2, 'RETURNING')", Returning: "id, body",
		}},
		{"insert no columns", "insert into m values (1)", &Insert{Table: ref("", "m"), Source: "values (1)"}},
		{"insert select", "INSERT INTO m SELECT * FROM other WHERE x IN (SELECT 1) ;", &Insert{Table: ref("", "m"), Source: "SELECT * FROM other WHERE x IN (SELECT 1)"}},
		{"insert paren select", "INSERT INTO m (SELECT 1)", &Insert{Table: ref("", "m"), Source: "(SELECT 1)"}},
		{"insert with", "INSERT INTO m (a) WITH x AS (SELECT 1) SELECT * FROM x RETURNING *", &Insert{Table: ref("", "m"), Columns: []string{"a"}, Source: "WITH x AS (SELECT 1) SELECT * FROM x", Returning: "*"}},
		{"insert comments", "INSERT INTO m VALUES /* c */ (1) -- x\n RETURNING  a  ", &Insert{Table: ref("", "m"), Source: "VALUES /* c */ (1)", Returning: "a"}},
		{"update verbatim", "UPDATE t SET a = 'x, y', b = f(1, 2) WHERE id = 3 RETURNING *", &Update{
			Table: ref("", "t"),
			Set:   []Assignment{{Column: "a", Expr: "'x, y'"}, {Column: "b", Expr: "f(1, 2)"}},
			Where: "id = 3", Returning: "*",
		}},
		{"update alias", "UPDATE ns.t AS x SET \"A\" = x.a + 1 WHERE x.id IN (SELECT id FROM y WHERE z = 'WHERE')", &Update{
			Table: ref("ns", "t"), Alias: "x",
			Set:   []Assignment{{Column: "A", Expr: "x.a + 1"}},
			Where: "x.id IN (SELECT id FROM y WHERE z = 'WHERE')",
		}},
		{"update bare alias", "UPDATE t u SET a = CASE WHEN b THEN 1 ELSE 2 END", &Update{
			Table: ref("", "t"), Alias: "u", Set: []Assignment{{Column: "a", Expr: "CASE WHEN b THEN 1 ELSE 2 END"}},
		}},
		{"update named extensions", "UPDATE extensions SET a = 1", &Update{Table: ref("", "extensions"), Set: []Assignment{{Column: "a", Expr: "1"}}}},
		{"delete", "DELETE FROM t", &Delete{Table: ref("", "t")}},
		{"delete where returning", "DELETE FROM ns.t AS d WHERE d.id = 1 AND s = 'a;b' RETURNING id", &Delete{Table: ref("ns", "t"), Alias: "d", Where: "d.id = 1 AND s = 'a;b'", Returning: "id"}},
		{"delete bare alias", "DELETE FROM t x WHERE x.a > 1", &Delete{Table: ref("", "t"), Alias: "x", Where: "x.a > 1"}},

		// Users.
		{"create user", "CREATE USER 'alice' WITH PASSWORD 'S3cret!' ROLE developer EMAIL 'a@example.com'", &CreateUser{Name: "alice", Password: "S3cret!", Role: catalog.RoleService, Email: "a@example.com"}},
		{"create user default role", "CREATE USER IF NOT EXISTS bob WITH PASSWORD 'pw'", &CreateUser{Name: "bob", Password: "pw", Role: catalog.RoleUser, IfNotExists: true}},
		{"create user quoted role", "create user Bob with password 'pw' role 'admin'", &CreateUser{Name: "bob", Password: "pw", Role: catalog.RoleDBA}},
		{"alter user password", "ALTER USER alice SET PASSWORD 'new'", &AlterUser{Name: "alice", Password: strp("new")}},
		{"alter user role", "ALTER USER 'alice' SET ROLE dba", &AlterUser{Name: "alice", Role: &role}},
		{"alter user email", "ALTER USER alice SET EMAIL 'x@y.z'", &AlterUser{Name: "alice", Email: strp("x@y.z")}},
		{"drop user", "DROP USER alice", &DropUser{Name: "alice"}},
		{"drop user if exists quoted", "DROP USER IF EXISTS 'alice'", &DropUser{Name: "alice", IfExists: true}},

		// EXECUTE AS.
		{"execute as select", "EXECUTE AS USER 'alice' (SELECT * FROM t WHERE a = ')');", &ExecuteAs{User: "alice", Stmt: &Select{SQL: "SELECT * FROM t WHERE a = ')'"}}},
		{"execute as insert", "EXECUTE AS USER bob (INSERT INTO m (a) VALUES (1) RETURNING a)", &ExecuteAs{User: "bob", Stmt: &Insert{Table: ref("", "m"), Columns: []string{"a"}, Source: "VALUES (1)", Returning: "a"}}},
		{"execute as update", "EXECUTE AS USER bob (UPDATE t SET a = 1, b = 2 WHERE c = 3)", &ExecuteAs{User: "bob", Stmt: &Update{Table: ref("", "t"), Set: []Assignment{{"a", "1"}, {"b", "2"}}, Where: "c = 3"}}},

		// Storage, jobs, transactions, subscriptions.
		{"storage flush table", "STORAGE FLUSH TABLE chat.m", &StorageFlush{Table: &TableRef{Namespace: "chat", Name: "m"}}},
		{"storage flush all", "STORAGE FLUSH ALL", &StorageFlush{All: true}},
		{"storage flush all in", "STORAGE FLUSH ALL IN NAMESPACE chat", &StorageFlush{All: true, Namespace: "chat"}},
		{"storage compact table", "STORAGE COMPACT TABLE m", &StorageCompact{Table: &TableRef{Name: "m"}}},
		{"storage compact all in", "STORAGE COMPACT ALL IN chat", &StorageCompact{All: true, Namespace: "chat"}},
		{"kill job", "KILL JOB 'FL-123'", &KillJob{ID: "FL-123"}},
		{"begin", "BEGIN", &Begin{}},
		{"begin transaction", "begin transaction;", &Begin{}},
		{"start transaction", "START TRANSACTION", &Begin{}},
		{"commit", "COMMIT", &Commit{}},
		{"rollback", "ROLLBACK", &Rollback{}},
		{"subscribe", "SUBSCRIBE TO chat.m", &Subscribe{Table: ref("chat", "m")}},
		{"subscribe where options", "SUBSCRIBE TO m WHERE user_id = 'a' AND f(options) > 1 OPTIONS (last_rows = 10, batch = 'x')", &Subscribe{
			Table: ref("", "m"), Where: "user_id = 'a' AND f(options) > 1",
			Options: []Option{{Key: "LAST_ROWS", Value: "10"}, {Key: "BATCH", Value: "x"}},
		}},
		{"subscribe options only", "SUBSCRIBE TO m OPTIONS (last_rows=5)", &Subscribe{Table: ref("", "m"), Options: []Option{{Key: "LAST_ROWS", Value: "5"}}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.sql)
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestParseSyntaxErrors(t *testing.T) {
	cases := []struct {
		name string
		sql  string
		msg  string
		pos  int // -1: don't check
	}{
		{"empty", "", "empty statement", 0},
		{"only whitespace and comments", "  -- x\n /* y */ ", "empty statement", 16},
		{"only semicolon", ";", "empty statement", 0},
		{"multiple statements", "SELECT 1; DROP TABLE x", "multiple statements are not allowed", 10},
		{"multiple selects", "SELECT 1;SELECT 2;", "multiple statements are not allowed", 9},
		{"double semicolon", "SELECT 1;;", "multiple statements are not allowed", 9},
		{"multiple after ddl", "CREATE NAMESPACE a; DROP NAMESPACE b", "multiple statements are not allowed", 20},
		{"escape string hides quote", `SELECT E'\'';DROP TABLE x;--'`, "multiple statements are not allowed", 13},
		{"semicolon in brackets", "SELECT (1; DROP TABLE x)", "unexpected ';' inside brackets", 9},
		{"unterminated string", "SELECT 'abc", "unterminated string literal", 7},
		{"unterminated quoted ident", `SELECT "abc`, "unterminated quoted identifier", 7},
		{"unterminated comment", "SELECT 1 /* x", "unterminated block comment", 9},
		{"nested comment", "SELECT 1 /* /* */ ; DROP TABLE x; /* */", "nested block comments are not supported", 9},
		{"unterminated dollar", "SELECT $a$ x", "unterminated dollar-quoted string", 7},
		{"unclosed paren", "SELECT (1", "unclosed '('", 7},
		{"unexpected close", "SELECT 1)", "unexpected ')'", 8},
		{"mismatched bracket", "SELECT [1)", "unexpected ')'", 9},
		{"bad char", "SELECT `x`", "unexpected character '`'", 7},
		{"nul byte", "SELECT 1\x00", "NUL byte in statement", 8},
		{"unknown statement", "FROBNICATE x", "unsupported statement FROBNICATE", 0},
		{"unknown show", "SHOW FUNCTIONS", "unsupported statement SHOW FUNCTIONS", 5},
		{"show jobs empty where", "SHOW JOBS WHERE", "expected condition, found end of statement", 15},
		{"show users junk", "SHOW USERS x", "unexpected X, expected end of statement", 11},
		{"show stats junk", "SHOW STATS x", "expected FOR, found X", 11},
		{"number statement", "42", "unsupported statement 42", 0},
		{"with summarize", "WITH x AS (SELECT 1) SUMMARIZE x", "expected a query, found SUMMARIZE", 21},
		{"with dml after describe", "DESCRIBE WITH x AS (SELECT 1) DELETE FROM t", "expected a query, found DELETE", 30},
		{"summarize nothing", "SUMMARIZE", "expected a query or a table", 9},
		{"use dotted", "USE memory.main", "expected end of statement", 10},
		{"bad namespace", "CREATE NAMESPACE \"a-b\"", "may contain only letters", 17},
		{"bad table", "DROP TABLE 1x", "expected table name", 11},
		{"long identifier", "DROP TABLE " + strings.Repeat("a", 65), "longer than 64", 11},
		{"bad user", "DROP USER 'a b'", "user name: identifier", 10},
		{"create table no paren", "CREATE TABLE t", "expected '(', found end of statement", 14},
		{"create table no columns", "CREATE TABLE t ()", "expected column name, found )", 16},
		{"unknown type", "CREATE TABLE t (a FOO)", "unknown data type FOO", 18},
		{"bad decimal", "CREATE TABLE t (a DECIMAL(50, 2))", "precision must be 1..38", 18},
		{"composite inline", "CREATE TABLE t (a INT PRIMARY KEY, b INT PRIMARY KEY)", "composite primary keys are not supported", 35},
		{"composite table level", "CREATE TABLE t (a INT, b INT, PRIMARY KEY (a, b))", "composite primary keys are not supported", 46},
		{"pk unknown column", "CREATE TABLE t (a INT, PRIMARY KEY (b))", "primary key column \"b\" is not defined", 36},
		{"duplicate column", "CREATE TABLE t (a INT, A TEXT)", "duplicate column \"a\"", 23},
		{"default expression", "CREATE TABLE t (a INT DEFAULT 1 + 2)", "unsupported DEFAULT expression", 30},
		{"default function", "CREATE TABLE t (a TEXT DEFAULT random())", "unsupported DEFAULT expression", 31},
		{"default cast", "CREATE TABLE t (a INT DEFAULT '1'::INT)", "unsupported DEFAULT expression", 30},
		{"default now without parens", "CREATE TABLE t (a TIMESTAMP DEFAULT NOW)", "unsupported DEFAULT expression", 36},
		{"bad table type option", "CREATE TABLE t (a INT) WITH (TYPE = 'SYSTEM')", "unknown table type", 28},
		{"bad option", "CREATE TABLE t (a INT) WITH (x)", "expected '='", 30},
		{"trailing junk", "CREATE TABLE t (a INT) garbage", "unexpected GARBAGE", 23},
		{"alter bad op", "ALTER TABLE t TRUNCATE", "expected ADD, DROP, RENAME or SET", 14},
		{"alter bad level", "ALTER TABLE t SET ACCESS LEVEL secret", "unknown access level", 31},
		{"alter namespace", "ALTER NAMESPACE x", "unsupported statement ALTER NAMESPACE", 6},
		{"insert no source", "INSERT INTO t (a)", "expected VALUES or a query", 17},
		{"insert no into", "INSERT t VALUES (1)", "expected INTO", 7},
		{"insert empty returning", "INSERT INTO t VALUES (1) RETURNING", "expected RETURNING list", 34},
		{"insert with delete", "INSERT INTO t WITH x AS (DELETE FROM y RETURNING *) SELECT * FROM x", "expected a query, found DELETE", 25},
		{"update no set", "UPDATE t WHERE a = 1", "expected SET", 9},
		{"update empty expr", "UPDATE t SET a = WHERE b", "expected expression", 17},
		{"update from", "UPDATE t SET a = 1 FROM u", "UPDATE ... FROM is not supported", 19},
		{"update empty where", "UPDATE t SET a = 1 WHERE", "expected condition", 24},
		{"delete no from", "DELETE t", "expected FROM", 7},
		{"delete using", "DELETE FROM t USING u", "DELETE ... USING is not supported", 14},
		{"with delete", "WITH x AS (SELECT 1) DELETE FROM t", "expected a query, found DELETE", 21},
		{"with cte insert", "WITH x AS (INSERT INTO t VALUES (1) RETURNING *) SELECT * FROM x", "expected a query, found INSERT", 11},
		{"create user no password", "CREATE USER alice ROLE dba", "CREATE USER requires WITH PASSWORD", 26},
		{"create user bad role", "CREATE USER alice WITH PASSWORD 'x' ROLE god", "unknown role", 41},
		{"create user password not string", "CREATE USER alice WITH PASSWORD x", "expected password string", 32},
		{"alter user no set", "ALTER USER alice ROLE dba", "expected SET", 17},
		{"nested execute as", "EXECUTE AS USER a (EXECUTE AS USER b (SELECT 1))", "nested EXECUTE AS is not allowed", 19},
		{"execute as empty", "EXECUTE AS USER a ()", "empty statement", 19},
		{"execute as trailing", "EXECUTE AS USER a (SELECT 1) x", "unexpected X", 29},
		{"execute inner error position", "EXECUTE AS USER a (DROP TABLE 9)", "expected table name", 30},
		{"execute prepared", "EXECUTE stmt", "unsupported statement EXECUTE", 0},
		{"storage bad", "STORAGE FLUSH", "expected TABLE or ALL", 13},
		{"kill no id", "KILL JOB", "expected job id", 8},
		{"subscribe empty where", "SUBSCRIBE TO t WHERE OPTIONS (a=1)", "expected condition", 21},
		{"start no transaction", "START x", "expected TRANSACTION", 6},
		{"too long", "SELECT '" + strings.Repeat("x", 1<<20) + "'", "statement too long", 0},
		{"too deep", "SELECT " + strings.Repeat("(", 1001) + strings.Repeat(")", 1001), "statement nested too deeply", 7 + 1000},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			stmt, err := Parse(tc.sql)
			require.Error(t, err, "parsed as %#v", stmt)
			var se *SyntaxError
			require.True(t, errors.As(err, &se), "want *SyntaxError, got %T: %v", err, err)
			require.Contains(t, se.Msg, tc.msg)
			if tc.pos >= 0 {
				require.Equal(t, tc.pos, se.Pos, "error: %v", err)
			}
			require.Equal(t, catalog.KindInvalid, se.Kind())
			require.True(t, strings.HasPrefix(err.Error(), "syntax error at position "))
		})
	}
}

func TestParseDeepNestingOK(t *testing.T) {
	sql := "SELECT " + strings.Repeat("(", 1000) + "1" + strings.Repeat(")", 1000)
	got, err := Parse(sql)
	require.NoError(t, err)
	require.Equal(t, &Select{SQL: sql}, got)
}

func TestParseForbidden(t *testing.T) {
	cases := []struct {
		sql  string
		what string
	}{
		{"COPY t TO '/tmp/x.csv'", "COPY"},
		{"copy (select 1) to 'x'", "COPY"},
		{"ATTACH 'x.db' AS x", "ATTACH"},
		{"DETACH x", "DETACH"},
		{"INSTALL httpfs", "INSTALL"},
		{"LOAD httpfs", "LOAD"},
		{"FORCE INSTALL httpfs", "FORCE"},
		{"SET memory_limit = '1GB'", "SET"},
		{"SET enable_external_access = true", "SET"},
		{"RESET memory_limit", "RESET"},
		{"PRAGMA database_list", "PRAGMA"},
		{"EXPORT DATABASE 'x'", "EXPORT"},
		{"IMPORT DATABASE 'x'", "IMPORT"},
		{"CALL pragma_version()", "CALL"},
		{"CHECKPOINT", "CHECKPOINT"},
		{"VACUUM", "VACUUM"},
		{"ANALYZE", "ANALYZE"},
		{"EXPLAIN COPY t TO 'x'", "COPY"},
		{"CREATE SECRET s (TYPE s3)", "CREATE SECRET"},
		{"CREATE MACRO m(a) AS a", "CREATE MACRO"},
		{"CREATE FUNCTION f() AS 1", "CREATE FUNCTION"},
		{"CREATE VIEW v AS SELECT 1", "CREATE VIEW"},
		{"CREATE SCHEMA s", "CREATE SCHEMA"},
		{"CREATE TEMP TABLE t (a INT)", "CREATE TEMP"},
		{"CREATE OR REPLACE TABLE t (a INT)", "CREATE OR REPLACE"},
		{"CREATE INDEX i ON t (a)", "CREATE INDEX"},
		{"DROP SCHEMA s", "DROP SCHEMA"},
		{"DROP VIEW v", "DROP VIEW"},
		{"DROP SECRET s", "DROP SECRET"},
		{"ALTER VIEW v RENAME TO w", "ALTER VIEW"},
		{"UPDATE EXTENSIONS", "UPDATE EXTENSIONS"},
		{"UPDATE EXTENSIONS (httpfs)", "UPDATE EXTENSIONS"},
		{"EXECUTE AS USER a (COPY t TO 'x')", "COPY"},
	}
	for _, tc := range cases {
		t.Run(tc.sql, func(t *testing.T) {
			_, err := Parse(tc.sql)
			var fe *ForbiddenError
			require.True(t, errors.As(err, &fe), "want *ForbiddenError, got %T: %v", err, err)
			require.Equal(t, tc.what, fe.What)
			require.Equal(t, "permission denied: "+tc.what+" statements are not allowed", err.Error())
			require.Equal(t, catalog.KindPermission, fe.Kind())
		})
	}
}

func TestLexerTokens(t *testing.T) {
	src := `a "B""c" 'it''s' E'x\'y' $q$a'b$q$ 1.5e-3 .5 $1 ? $name <= >= <> != :: || -> ->> ( )`
	toks, err := lex(src)
	require.NoError(t, err)
	type tk struct {
		kind tokKind
		val  string
	}
	var got []tk
	for _, tok := range toks {
		got = append(got, tk{tok.kind, tok.val})
		if tok.kind != tokEOF {
			require.Equal(t, tok.end > tok.start, true)
		}
	}
	require.Equal(t, []tk{
		{tokIdent, "a"}, {tokQuoted, `B"c`}, {tokString, "it's"}, {tokString, "x'y"}, {tokString, "a'b"},
		{tokNumber, "1.5e-3"}, {tokNumber, ".5"}, {tokParam, "$1"}, {tokParam, "?"}, {tokParam, "$name"},
		{tokOp, "<="}, {tokOp, ">="}, {tokOp, "<>"}, {tokOp, "!="}, {tokOp, "::"}, {tokOp, "||"},
		{tokOp, "->"}, {tokOp, "->>"}, {tokOp, "("}, {tokOp, ")"}, {tokEOF, ""},
	}, got)
	// Offsets slice the source verbatim.
	require.Equal(t, `"B""c"`, src[toks[1].start:toks[1].end])
	require.Equal(t, `E'x\'y'`, src[toks[3].start:toks[3].end])
}

func TestIdentifierWithDollar(t *testing.T) {
	// PostgreSQL/DuckDB lex a$$ as one identifier, so the ';' ends the
	// statement; a dollar-quote reading would hide it.
	_, err := Parse("SELECT a$$ ; DROP TABLE x; $$")
	var se *SyntaxError
	require.True(t, errors.As(err, &se))
	require.Equal(t, "multiple statements are not allowed", se.Msg)
}

func FuzzParse(f *testing.F) {
	seeds := []string{
		"SELECT 1", "SELECT ';'", "CREATE TABLE t (id BIGINT PRIMARY KEY DEFAULT SNOWFLAKE_ID(), a TEXT) WITH (TYPE='USER')",
		"UPDATE t SET a = 'x, y', b = f(1, 2) WHERE id = 3 RETURNING *",
		"INSERT INTO t (a) VALUES (1) RETURNING a", "DELETE FROM t WHERE a = 1",
		"EXECUTE AS USER 'a' (SELECT 1)", "SUBSCRIBE TO t WHERE a = 1 OPTIONS (x=1)",
		"CREATE USER a WITH PASSWORD 'p' ROLE dba", "ALTER USER a SET ROLE user",
		"WITH x AS (SELECT 1) SELECT * FROM x", "SELECT $$a$$, E'\\'' /* c */ -- d",
		"STORAGE FLUSH ALL IN chat", "KILL JOB 'x'", "ALTER TABLE t ADD COLUMN c INT DEFAULT -1",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		stmt, err := Parse(sql)
		if err == nil && stmt == nil {
			t.Fatalf("nil statement without error for %q", sql)
		}
	})
}
