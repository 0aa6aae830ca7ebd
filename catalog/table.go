package catalog

import (
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
)

// TableType is USER, SHARED, STREAM or SYSTEM.
type TableType uint8

// Table types.
const (
	TableUser TableType = iota + 1
	TableShared
	TableStream
	TableSystem
)

// String returns the SQL name.
func (t TableType) String() string {
	switch t {
	case TableUser:
		return "USER"
	case TableShared:
		return "SHARED"
	case TableStream:
		return "STREAM"
	case TableSystem:
		return "SYSTEM"
	}
	return "UNKNOWN"
}

// PerUser reports whether rows are partitioned by user (USER and STREAM).
func (t TableType) PerUser() bool { return t == TableUser || t == TableStream }

// AccessLevel governs SHARED tables.
type AccessLevel uint8

// Access levels; the zero value means PRIVATE.
const (
	AccessPrivate AccessLevel = iota
	AccessPublic
	AccessRestricted
	AccessDBA
)

// String returns the SQL name.
func (a AccessLevel) String() string {
	switch a {
	case AccessPublic:
		return "PUBLIC"
	case AccessRestricted:
		return "RESTRICTED"
	case AccessDBA:
		return "DBA"
	}
	return "PRIVATE"
}

// ParseAccessLevel parses PUBLIC, PRIVATE, RESTRICTED or DBA.
func ParseAccessLevel(s string) (AccessLevel, error) {
	switch strings.ToUpper(s) {
	case "PUBLIC":
		return AccessPublic, nil
	case "PRIVATE":
		return AccessPrivate, nil
	case "RESTRICTED":
		return AccessRestricted, nil
	case "DBA":
		return AccessDBA, nil
	}
	return 0, Errorf(KindInvalid, "unknown access level %q (want PUBLIC, PRIVATE, RESTRICTED or DBA)", s)
}

// DefaultKind is how a column's default value is produced.
type DefaultKind uint8

// Default kinds.
const (
	DefaultNone DefaultKind = iota
	DefaultLiteral
	DefaultSnowflakeID
	DefaultUUIDv7
	DefaultULID
	DefaultNow
	DefaultCurrentUser
)

// Default is a column default. Literal holds SQL text of a constant
// (e.g. 'x', 42, TRUE, NULL) when Kind is DefaultLiteral.
type Default struct {
	Kind    DefaultKind
	Literal string
}

// String renders the default as SQL.
func (d Default) String() string {
	switch d.Kind {
	case DefaultLiteral:
		return d.Literal
	case DefaultSnowflakeID:
		return "SNOWFLAKE_ID()"
	case DefaultUUIDv7:
		return "UUID_V7()"
	case DefaultULID:
		return "ULID()"
	case DefaultNow:
		return "NOW()"
	case DefaultCurrentUser:
		return "CURRENT_USER()"
	}
	return ""
}

// Column describes one user column. ID is stable across renames and is what
// the hot tier's row encoding stores.
type Column struct {
	ID         uint32
	Name       string
	Type       DataType
	NotNull    bool
	PrimaryKey bool
	Default    Default
	// Fill, when set, is what the row versions written before the column
	// existed hold in it: ALTER TABLE ADD COLUMN … DEFAULT gives every
	// existing row the default, evaluated once, as DuckDB and PostgreSQL
	// do, without rewriting any stored row.
	Fill *ColumnFill `json:",omitempty"`
}

// ColumnFill is the value that rows older than an added column read in it.
// A row version predates the column when its _seq is below Before (the
// first _seq drawn after the ALTER); a newer version that has no value in
// the column holds NULL there.
type ColumnFill struct {
	Before int64
	// SQL is the value as a DuckDB constant expression of the column's
	// DuckDB type (what segments written without the column read).
	SQL string
	// Value is the value in the hot tier's value encoding of a column of
	// this type (hotstore's value layout, without the column tag).
	Value []byte
}

// Names of the system columns every row carries.
const (
	SeqColumn     = "_seq"
	DeletedColumn = "_deleted"
)

// TableDef is an immutable table definition; ALTER produces a new one with a
// higher Version. StoreID is the internal numeric id that prefixes the
// table's hot keys, so DROP and re-CREATE of a name never see old rows.
type TableDef struct {
	ID           TableID
	StoreID      uint64
	Type         TableType
	Columns      []Column
	NextColumnID uint32
	Version      int
	// Options holds the WITH (...) options as given, upper-case keys.
	Options     map[string]string
	AccessLevel AccessLevel
	TTLSeconds  int64
	FlushPolicy string
	StorageID   string
	CreatedAt   time.Time
	UpdatedAt   time.Time

	schemaOnce *sync.Once
	schema     *arrow.Schema
}

// PrimaryKeyIndex returns the index of the primary key column, or -1.
func (t *TableDef) PrimaryKeyIndex() int {
	for i := range t.Columns {
		if t.Columns[i].PrimaryKey {
			return i
		}
	}
	return -1
}

// ColumnIndex returns the index of the named column (case-insensitive), or -1.
func (t *TableDef) ColumnIndex(name string) int {
	for i := range t.Columns {
		if strings.EqualFold(t.Columns[i].Name, name) {
			return i
		}
	}
	return -1
}

// ArrowSchema is the schema of the table's rows as handed to DuckDB: the user
// columns in order, then _seq (BIGINT, not null). Built once per TableDef.
func (t *TableDef) ArrowSchema() *arrow.Schema {
	if t.schemaOnce == nil {
		// A TableDef built as a literal without Seal: build without caching.
		return t.buildSchema()
	}
	t.schemaOnce.Do(func() { t.schema = t.buildSchema() })
	return t.schema
}

// UserSchema is ArrowSchema without _seq.
func (t *TableDef) UserSchema() *arrow.Schema {
	s := t.ArrowSchema()
	return arrow.NewSchema(s.Fields()[:len(t.Columns)], nil)
}

func (t *TableDef) buildSchema() *arrow.Schema {
	fields := make([]arrow.Field, 0, len(t.Columns)+1)
	for _, c := range t.Columns {
		md := arrow.NewMetadata([]string{"kalam_data_type"}, []string{c.Type.String()})
		fields = append(fields, arrow.Field{Name: c.Name, Type: c.Type.ArrowType(), Nullable: !c.NotNull, Metadata: md})
	}
	fields = append(fields, arrow.Field{Name: SeqColumn, Type: arrow.PrimitiveTypes.Int64})
	return arrow.NewSchema(fields, nil)
}

// Seal prepares the definition for sharing (enables the cached schema). Call
// it once after building or decoding a TableDef, before publishing it.
func (t *TableDef) Seal() *TableDef {
	t.schemaOnce = new(sync.Once)
	return t
}

// Clone returns a deep copy that the caller may modify before sealing it.
func (t *TableDef) Clone() *TableDef {
	c := *t
	c.Columns = append([]Column(nil), t.Columns...)
	c.Options = make(map[string]string, len(t.Options))
	for k, v := range t.Options {
		c.Options[k] = v
	}
	c.schemaOnce = nil
	c.schema = nil
	return &c
}

// Namespace is a schema holding tables.
type Namespace struct {
	ID        NamespaceID
	CreatedAt time.Time
	Options   map[string]string
}
