//go:build duckdb_arrow

package engine

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/kalamdb/kalamdb-go/catalog"
	"github.com/kalamdb/kalamdb-go/engine/duck"
	"github.com/kalamdb/kalamdb-go/engine/sqlparse"
)

// admin runs DDL, user management and SHOW/DESCRIBE statements.
func (e *Engine) admin(ctx context.Context, sub subject, stmt sqlparse.Statement) (*Result, error) {
	switch st := stmt.(type) {
	case *sqlparse.CreateNamespace:
		if err := requireRole(sub, catalog.RoleDBA, "CREATE NAMESPACE"); err != nil {
			return nil, err
		}
		if catalog.IsReservedNamespace(st.Name) {
			return nil, catalog.Errorf(catalog.KindInvalid, "namespace name %s is reserved", st.Name)
		}
		now := e.opts.Now().UTC()
		created, err := e.reg.createNamespace(&catalog.Namespace{ID: st.Name, CreatedAt: now, Options: map[string]string{}}, st.IfNotExists)
		if err != nil {
			return nil, err
		}
		if !created {
			return messageResult(fmt.Sprintf("Namespace %s already exists", st.Name)), nil
		}
		return messageResult(fmt.Sprintf("Namespace %s created", st.Name)), nil
	case *sqlparse.DropNamespace:
		if err := requireRole(sub, catalog.RoleDBA, "DROP NAMESPACE"); err != nil {
			return nil, err
		}
		if _, ok := e.reg.namespace(st.Name); !ok && st.IfExists {
			return messageResult(fmt.Sprintf("Namespace %s does not exist", st.Name)), nil
		}
		dropped, err := e.reg.dropNamespace(st.Name, st.Cascade)
		if err != nil {
			return nil, err
		}
		for _, t := range dropped {
			if err := e.dropTableData(ctx, t); err != nil {
				return nil, err
			}
		}
		return messageResult(fmt.Sprintf("Namespace %s dropped", st.Name)), nil
	case *sqlparse.ShowNamespaces:
		return e.showNamespaces()
	case *sqlparse.ShowTables:
		ns := st.Namespace
		if ns != "" {
			if _, ok := e.reg.namespace(ns); !ok && ns != catalog.SystemNamespace {
				return nil, catalog.Errorf(catalog.KindNotFound, "namespace %s does not exist", ns)
			}
		}
		return e.showTables(sub, ns)
	case *sqlparse.ShowCreateTable:
		t, err := e.describeTarget(sub, st.Table)
		if err != nil {
			return nil, err
		}
		return e.showCreateTable(t), nil
	case *sqlparse.DescribeTable:
		t, err := e.describeTarget(sub, st.Table)
		if err != nil {
			return nil, err
		}
		return describeTable(t)
	case *sqlparse.CreateTable:
		return e.createTable(sub, st)
	case *sqlparse.DropTable:
		if err := requireRole(sub, catalog.RoleDBA, "DROP TABLE"); err != nil {
			return nil, err
		}
		t, err := e.tableRef(sub, st.Table)
		if err != nil {
			if st.IfExists && catalog.KindOf(err) == catalog.KindNotFound {
				return messageResult("Table does not exist"), nil
			}
			return nil, err
		}
		if _, err := e.reg.dropTable(t.ID); err != nil {
			return nil, err
		}
		if err := e.dropTableData(ctx, t); err != nil {
			return nil, err
		}
		return messageResult(fmt.Sprintf("Table %s dropped", t.ID)), nil
	case *sqlparse.AlterTable:
		return e.alterTable(sub, st)
	case *sqlparse.CreateUser:
		return e.createUser(ctx, sub, st)
	case *sqlparse.AlterUser:
		return e.alterUser(sub, st)
	case *sqlparse.DropUser:
		return e.dropUser(ctx, sub, st)
	case *sqlparse.StorageFlush:
		tables, err := e.storageTargets(sub, st.Table, st.All, st.Namespace)
		if err != nil {
			return nil, err
		}
		return e.storageCommand(sub, jobFlush, tables, st.Table != nil)
	case *sqlparse.StorageCompact:
		tables, err := e.storageTargets(sub, st.Table, st.All, st.Namespace)
		if err != nil {
			return nil, err
		}
		return e.storageCommand(sub, jobCompact, tables, st.Table != nil)
	case *sqlparse.KillJob:
		if err := requireRole(sub, catalog.RoleDBA, "KILL JOB"); err != nil {
			return nil, err
		}
		if e.jobs == nil {
			return nil, catalog.Errorf(catalog.KindNotFound, "job %s does not exist", st.ID)
		}
		if err := e.jobs.Kill(st.ID); err != nil {
			return nil, err
		}
		return messageResult(fmt.Sprintf("Job %s cancelled", st.ID)), nil
	case *sqlparse.ShowStats:
		if st.Table.Name == "" {
			return e.showAllStats(ctx, sub)
		}
		t, err := e.tableRef(sub, st.Table)
		if err != nil {
			return nil, err
		}
		if err := checkRead(sub, t); err != nil {
			return nil, err
		}
		return e.showStats(ctx, sub, t)
	case *sqlparse.Subscribe:
		return nil, catalog.Errorf(catalog.KindInvalid, "SUBSCRIBE is not supported yet")
	}
	return nil, catalog.Errorf(catalog.KindInvalid, "unsupported statement %T", stmt)
}

// createUser runs CREATE USER. Only dba and system create users, and only
// with a role they manage (canManage). A name whose former account's data
// is still being removed waits for that cleanup (see awaitUserCleanup).
func (e *Engine) createUser(ctx context.Context, sub subject, st *sqlparse.CreateUser) (*Result, error) {
	if err := requireRole(sub, catalog.RoleDBA, "CREATE USER"); err != nil {
		return nil, err
	}
	if err := checkGrant(sub, st.Role); err != nil {
		return nil, err
	}
	if _, ok := e.users.GetUser(st.Name); ok && st.IfNotExists {
		return messageResult(fmt.Sprintf("User %s already exists", st.Name)), nil
	}
	if err := e.awaitUserCleanup(ctx, st.Name); err != nil {
		return nil, err
	}
	create := func() error { return e.users.CreateUser(st.Name, st.Password, st.Role, st.Email) }
	if st.Internal {
		create = func() error { return e.users.CreateInternalUser(st.Name, st.Role, st.Email) }
	}
	if err := create(); err != nil {
		return nil, err
	}
	return messageResult(fmt.Sprintf("User %s created", st.Name)), nil
}

// alterUser runs ALTER USER. A user may change its own password and email;
// anything else, and any change to another account, needs a role that
// manages the account (and, for SET ROLE, the new role too). Every check
// passes before anything changes.
func (e *Engine) alterUser(sub subject, st *sqlparse.AlterUser) (*Result, error) {
	self := isSelf(sub, st.Name)
	if !self {
		if err := requireRole(sub, catalog.RoleDBA, "ALTER USER of another user"); err != nil {
			return nil, err
		}
	}
	u, ok := e.users.GetUser(st.Name)
	if !ok {
		return nil, catalog.Errorf(catalog.KindNotFound, "user %s does not exist", st.Name)
	}
	if !self {
		if err := checkManage(sub, "alter", u.ID, u.Role); err != nil {
			return nil, err
		}
	}
	if st.Role != nil {
		if err := checkManage(sub, "change the role of", u.ID, u.Role); err != nil {
			return nil, err
		}
		if err := checkGrant(sub, *st.Role); err != nil {
			return nil, err
		}
	}
	if st.Password != nil {
		if err := e.users.SetPassword(st.Name, *st.Password); err != nil {
			return nil, err
		}
	}
	if st.Role != nil {
		if err := e.users.SetRole(st.Name, *st.Role); err != nil {
			return nil, err
		}
	}
	if st.Email != nil {
		if err := e.users.SetEmail(st.Name, *st.Email); err != nil {
			return nil, err
		}
	}
	res := messageResult(fmt.Sprintf("User %s altered", st.Name))
	res.OwnPasswordChanged = self && st.Password != nil
	return res, nil
}

// dropUser runs DROP USER: the account is dropped at once and its rows and
// segments in every USER and STREAM table are removed by a user cleanup
// job; its name is free again once that job is done.
func (e *Engine) dropUser(ctx context.Context, sub subject, st *sqlparse.DropUser) (*Result, error) {
	if err := requireRole(sub, catalog.RoleDBA, "DROP USER"); err != nil {
		return nil, err
	}
	u, ok := e.users.GetUser(st.Name)
	if !ok {
		if st.IfExists {
			return messageResult(fmt.Sprintf("User %s does not exist", st.Name)), nil
		}
		return nil, catalog.Errorf(catalog.KindNotFound, "user %s does not exist", st.Name)
	}
	if err := checkManage(sub, "drop", u.ID, u.Role); err != nil {
		return nil, err
	}
	if err := e.users.DropUser(st.Name); err != nil {
		return nil, err
	}
	job, err := e.scheduleUserCleanup(ctx, st.Name)
	if err != nil {
		return nil, fmt.Errorf("user %s dropped, but removing its data: %w", st.Name, err)
	}
	if job != "" {
		return messageResult(fmt.Sprintf("User %s dropped; its data is being removed by job %s", st.Name, job)), nil
	}
	return messageResult(fmt.Sprintf("User %s dropped", st.Name)), nil
}

// describeTarget resolves the table DESCRIBE TABLE or SHOW CREATE TABLE
// names, system tables included, and checks that the subject may read it.
func (e *Engine) describeTarget(sub subject, ref sqlparse.TableRef) (*catalog.TableDef, error) {
	id, err := e.resolveTable(sub, string(ref.Namespace), string(ref.Name))
	if err != nil {
		return nil, err
	}
	var t *catalog.TableDef
	if id.Namespace == catalog.SystemNamespace || id.Namespace == infoSchemaNamespace {
		st, ok := virtualTable(id)
		if !ok {
			return nil, catalog.Errorf(catalog.KindNotFound, "table %s does not exist", id)
		}
		t = (&catalog.TableDef{ID: id, Type: catalog.TableSystem, Columns: st.columns}).Seal()
	} else if t, err = e.tableRef(sub, ref); err != nil {
		return nil, err
	}
	return t, checkRead(sub, t)
}

func (e *Engine) createTable(sub subject, st *sqlparse.CreateTable) (*Result, error) {
	ns := st.Table.Namespace
	if ns == "" {
		ns = sub.ns
		if ns == "" {
			return nil, catalog.Errorf(catalog.KindInvalid, "no namespace selected: qualify the table as namespace.table or run USE namespace")
		}
	}
	if ns == catalog.SystemNamespace || catalog.IsReservedNamespace(ns) {
		return nil, permissionDenied("tables cannot be created in reserved namespace %s", ns)
	}
	typ := st.Type
	if typ == 0 {
		typ = catalog.TableShared
	}
	if typ == catalog.TableShared {
		if err := requireRole(sub, catalog.RoleService, "CREATE SHARED TABLE"); err != nil {
			return nil, err
		}
	}
	if len(st.Columns) == 0 {
		return nil, catalog.Errorf(catalog.KindInvalid, "a table needs at least one column")
	}
	now := e.opts.Now().UTC()
	t := &catalog.TableDef{
		ID:        catalog.TableID{Namespace: ns, Name: st.Table.Name},
		Type:      typ,
		Version:   1,
		Options:   map[string]string{},
		StorageID: "local",
		CreatedAt: now,
		UpdatedAt: now,
	}
	seen := map[string]bool{}
	for _, cd := range st.Columns {
		name := strings.ToLower(cd.Name)
		if seen[name] {
			return nil, catalog.Errorf(catalog.KindInvalid, "column %s is defined more than once", cd.Name)
		}
		seen[name] = true
		if strings.HasPrefix(name, "_") && (name == catalog.SeqColumn || name == catalog.DeletedColumn || strings.HasPrefix(name, "__kdb")) {
			return nil, catalog.Errorf(catalog.KindInvalid, "column name %s is reserved", cd.Name)
		}
		if err := e.checkColumnName(cd.Name, cd.Quoted); err != nil {
			return nil, err
		}
		t.NextColumnID++
		col := catalog.Column{ID: t.NextColumnID, Name: cd.Name, Type: cd.Type, NotNull: cd.NotNull || cd.PrimaryKey, PrimaryKey: cd.PrimaryKey, Default: cd.Default}
		if err := e.checkDefault(col); err != nil {
			return nil, err
		}
		t.Columns = append(t.Columns, col)
	}
	if typ != catalog.TableStream && t.PrimaryKeyIndex() < 0 {
		return nil, catalog.Errorf(catalog.KindInvalid, "%s tables need a PRIMARY KEY column", typ)
	}
	if err := applyTableOptions(t, st.Options); err != nil {
		return nil, err
	}
	created, err := e.reg.createTable(t, st.IfNotExists)
	if err != nil {
		return nil, err
	}
	if !created {
		return messageResult(fmt.Sprintf("Table %s already exists", t.ID)), nil
	}
	return messageResult(fmt.Sprintf("Table %s created", t.ID)), nil
}

func applyTableOptions(t *catalog.TableDef, opts []sqlparse.Option) error {
	for _, o := range opts {
		t.Options[o.Key] = o.Value
		switch o.Key {
		case "TTL_SECONDS":
			n, err := strconv.ParseInt(o.Value, 10, 64)
			if err != nil || n <= 0 {
				return catalog.Errorf(catalog.KindInvalid, "TTL_SECONDS must be a positive integer, got %q", o.Value)
			}
			if t.Type != catalog.TableStream {
				return catalog.Errorf(catalog.KindInvalid, "TTL_SECONDS applies to STREAM tables only")
			}
			t.TTLSeconds = n
		case "ACCESS_LEVEL":
			if t.Type != catalog.TableShared {
				return catalog.Errorf(catalog.KindInvalid, "ACCESS_LEVEL applies to SHARED tables only")
			}
			a, err := catalog.ParseAccessLevel(o.Value)
			if err != nil {
				return err
			}
			t.AccessLevel = a
		case "FLUSH_POLICY":
			if err := validateFlushPolicy(o.Value); err != nil {
				return err
			}
			t.FlushPolicy = o.Value
		case "STORAGE_ID":
			if o.Value != "local" {
				return catalog.Errorf(catalog.KindNotFound, "storage %s does not exist", o.Value)
			}
			t.StorageID = o.Value
		case "USE_USER_STORAGE", "DELETED_RETENTION_HOURS", "TYPE":
		default:
			return catalog.Errorf(catalog.KindInvalid, "unknown table option %s", o.Key)
		}
	}
	if t.Type == catalog.TableStream && t.TTLSeconds == 0 {
		return catalog.Errorf(catalog.KindInvalid, "STREAM tables need WITH (TTL_SECONDS=n)")
	}
	return nil
}

// validateFlushPolicy accepts 'rows:N', 'interval:S' or both, comma-separated.
func validateFlushPolicy(p string) error {
	for _, part := range strings.Split(p, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), ":")
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if !ok || err != nil || n <= 0 {
			return catalog.Errorf(catalog.KindInvalid, "invalid FLUSH_POLICY %q: want 'rows:N', 'interval:S' or both", p)
		}
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "rows":
			if n >= 1_000_000 {
				return catalog.Errorf(catalog.KindInvalid, "FLUSH_POLICY rows must be below 1000000")
			}
		case "interval":
			if n >= 86_400 {
				return catalog.Errorf(catalog.KindInvalid, "FLUSH_POLICY interval must be below 86400 seconds")
			}
		default:
			return catalog.Errorf(catalog.KindInvalid, "invalid FLUSH_POLICY %q: want 'rows:N', 'interval:S' or both", p)
		}
	}
	return nil
}

// checkDefault verifies a default fits the column type: literals are cast by
// DuckDB once, generated defaults need a compatible type.
func (e *Engine) checkDefault(c catalog.Column) error {
	k := c.Type.Kind
	switch c.Default.Kind {
	case catalog.DefaultNone:
		return nil
	case catalog.DefaultSnowflakeID:
		if k != catalog.TypeBigInt && k != catalog.TypeText {
			return catalog.Errorf(catalog.KindInvalid, "SNOWFLAKE_ID() default needs a BIGINT or TEXT column, %s is %s", c.Name, c.Type)
		}
	case catalog.DefaultUUIDv7:
		if k != catalog.TypeUUID && k != catalog.TypeText {
			return catalog.Errorf(catalog.KindInvalid, "UUID_V7() default needs a UUID or TEXT column, %s is %s", c.Name, c.Type)
		}
	case catalog.DefaultULID, catalog.DefaultCurrentUser:
		if k != catalog.TypeText {
			return catalog.Errorf(catalog.KindInvalid, "%s default needs a TEXT column, %s is %s", c.Default, c.Name, c.Type)
		}
	case catalog.DefaultNow:
		if k != catalog.TypeTimestamp && k != catalog.TypeDate && k != catalog.TypeText {
			return catalog.Errorf(catalog.KindInvalid, "NOW() default needs a TIMESTAMP, DATE or TEXT column, %s is %s", c.Name, c.Type)
		}
	case catalog.DefaultLiteral:
		c2, err := e.conn()
		if err != nil {
			return err
		}
		err = c2.Exec(fmt.Sprintf("SELECT CAST(%s AS %s)", c.Default.Literal, c.Type.DuckDBType()))
		e.release(c2, false)
		if err != nil {
			return catalog.Errorf(catalog.KindInvalid, "default %s does not fit column %s %s: %v", c.Default.Literal, c.Name, c.Type, err)
		}
		if k == catalog.TypeJSON || k == catalog.TypeUUID {
			// Text an INSERT would refuse (checkConstraints).
			arr, err := e.evalConstant(c, fmt.Sprintf("CAST(%s AS %s)", c.Default.Literal, c.Type.DuckDBType()))
			if err != nil {
				return err
			}
			nullable := c
			nullable.NotNull = false
			one := (&catalog.TableDef{Columns: []catalog.Column{nullable}}).Seal()
			rec := array.NewRecordBatch(one.UserSchema(), []arrow.Array{arr}, 1)
			err = checkConstraints(one, rec)
			rec.Release()
			arr.Release()
			if err != nil {
				return catalog.Errorf(catalog.KindInvalid, "default %s of column %s: %v", c.Default.Literal, c.Name, err)
			}
		}
	}
	return nil
}

func (e *Engine) alterTable(sub subject, st *sqlparse.AlterTable) (*Result, error) {
	t, err := e.tableRef(sub, st.Table)
	if err != nil {
		return nil, err
	}
	if err := requireRole(sub, catalog.RoleDBA, "ALTER TABLE"); err != nil {
		return nil, err
	}
	nt := t.Clone()
	nt.Version++
	nt.UpdatedAt = e.opts.Now().UTC()
	var msg string
	switch st.Op {
	case sqlparse.AlterAddColumn:
		cd := st.Column
		if nt.ColumnIndex(cd.Name) >= 0 {
			return nil, catalog.Errorf(catalog.KindAlreadyExists, "column %s already exists in %s", cd.Name, t.ID)
		}
		if cd.PrimaryKey {
			return nil, catalog.Errorf(catalog.KindInvalid, "cannot add a primary key column")
		}
		if err := e.checkColumnName(cd.Name, cd.Quoted); err != nil {
			return nil, err
		}
		if cd.NotNull && cd.Default.Kind == catalog.DefaultNone {
			return nil, catalog.Errorf(catalog.KindInvalid, "a NOT NULL column added to an existing table needs a DEFAULT")
		}
		nt.NextColumnID++
		col := catalog.Column{ID: nt.NextColumnID, Name: cd.Name, Type: cd.Type, NotNull: cd.NotNull, Default: cd.Default}
		if err := e.checkDefault(col); err != nil {
			return nil, err
		}
		// Drawn before the new definition is published: every row
		// version written with it has a higher _seq.
		fill, err := e.columnFill(col, nt.UpdatedAt, e.seq.Next())
		if err != nil {
			return nil, err
		}
		col.Fill = fill
		nt.Columns = append(nt.Columns, col)
		msg = fmt.Sprintf("Column %s added to %s", cd.Name, t.ID)
	case sqlparse.AlterDropColumn:
		i := nt.ColumnIndex(st.Name)
		if i < 0 {
			return nil, catalog.Errorf(catalog.KindNotFound, "column %s does not exist in %s", st.Name, t.ID)
		}
		if nt.Columns[i].PrimaryKey {
			return nil, catalog.Errorf(catalog.KindInvalid, "cannot drop primary key column %s", st.Name)
		}
		if len(nt.Columns) == 1 {
			return nil, catalog.Errorf(catalog.KindInvalid, "cannot drop the last column of %s", t.ID)
		}
		nt.Columns = append(nt.Columns[:i], nt.Columns[i+1:]...)
		msg = fmt.Sprintf("Column %s dropped from %s", st.Name, t.ID)
	case sqlparse.AlterRenameColumn:
		// Segments find renamed columns by column ID; ones written before
		// IDs were recorded cannot, until compaction rewrites them.
		if legacy, err := e.legacySegments(t.StoreID); err != nil || legacy {
			if err != nil {
				return nil, err
			}
			return nil, catalog.Errorf(catalog.KindFailedPrecondition, "RENAME COLUMN needs the flushed data of %s rewritten first (its segments predate column IDs): run STORAGE COMPACT TABLE %s", t.ID, t.ID)
		}
		i := nt.ColumnIndex(st.Name)
		if i < 0 {
			return nil, catalog.Errorf(catalog.KindNotFound, "column %s does not exist in %s", st.Name, t.ID)
		}
		if err := e.checkColumnName(st.NewName, st.NewNameQuoted); err != nil {
			return nil, err
		}
		if j := nt.ColumnIndex(st.NewName); j >= 0 && j != i {
			return nil, catalog.Errorf(catalog.KindAlreadyExists, "column %s already exists in %s", st.NewName, t.ID)
		}
		nt.Columns[i].Name = st.NewName
		msg = fmt.Sprintf("Column %s renamed to %s in %s", st.Name, st.NewName, t.ID)
	case sqlparse.AlterRenameTable:
		name, err := catalog.ParseTableName(st.NewName)
		if err != nil {
			return nil, catalog.WrapKind(catalog.KindInvalid, err, "")
		}
		nt.ID = catalog.TableID{Namespace: t.ID.Namespace, Name: name}
		if err := e.reg.renameTable(t.ID, nt); err != nil {
			return nil, err
		}
		e.dropTableCache(t.StoreID)
		return messageResult(fmt.Sprintf("Table %s renamed to %s", t.ID, nt.ID)), nil
	case sqlparse.AlterSetAccessLevel:
		if nt.Type != catalog.TableShared {
			return nil, catalog.Errorf(catalog.KindInvalid, "ACCESS LEVEL applies to SHARED tables only")
		}
		nt.AccessLevel = st.AccessLevel
		nt.Options["ACCESS_LEVEL"] = st.AccessLevel.String()
		msg = fmt.Sprintf("Access level of %s set to %s", t.ID, st.AccessLevel)
	default:
		return nil, catalog.Errorf(catalog.KindInvalid, "unsupported ALTER TABLE operation")
	}
	if err := e.reg.replaceTable(nt); err != nil {
		return nil, err
	}
	// Cached hot relations have the old columns.
	e.dropTableCache(t.StoreID)
	return messageResult(msg), nil
}

var _ = duck.QuoteIdent

// storageTargets resolves STORAGE FLUSH/COMPACT's tables.
func (e *Engine) storageTargets(sub subject, ref *sqlparse.TableRef, all bool, ns catalog.NamespaceID) ([]*catalog.TableDef, error) {
	if ref != nil {
		t, err := e.tableRef(sub, *ref)
		if err != nil {
			return nil, err
		}
		return []*catalog.TableDef{t}, nil
	}
	if ns != "" {
		if _, ok := e.reg.namespace(ns); !ok {
			return nil, catalog.Errorf(catalog.KindNotFound, "namespace %s does not exist", ns)
		}
	}
	return e.reg.tables(ns), nil
}

// dropTableData removes a dropped table's hot rows and cold segments.
func (e *Engine) dropTableData(ctx context.Context, t *catalog.TableDef) error {
	e.dropTableCache(t.StoreID)
	if err := e.hot.DropTable(ctx, t.StoreID); err != nil {
		return fmt.Errorf("drop rows of %s: %w", t.ID, err)
	}
	if e.cold != nil {
		if err := e.dropTableSegments(t.StoreID); err != nil {
			return fmt.Errorf("drop segments of %s: %w", t.ID, err)
		}
	}
	return nil
}
