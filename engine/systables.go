//go:build duckdb_arrow

package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/kalamdb/kalamdb-go/catalog"
)

// systemTable is a read-only view computed from the catalog or users.
type systemTable struct {
	columns []catalog.Column
	schema  *arrow.Schema
}

func sysCols(spec ...any) systemTable {
	var st systemTable
	for i := 0; i < len(spec); i += 2 {
		st.columns = append(st.columns, catalog.Column{ID: uint32(i/2 + 1), Name: spec[i].(string), Type: catalog.DataType{Kind: spec[i+1].(catalog.TypeKind)}})
	}
	st.schema = (&catalog.TableDef{Columns: st.columns}).UserSchema()
	return st
}

// systemTables are the tables of namespace system, with KalamDB's columns.
var systemTables = map[catalog.TableName]systemTable{
	"namespaces": sysCols("namespace_id", catalog.TypeText, "name", catalog.TypeText, "created_at", catalog.TypeTimestamp,
		"options", catalog.TypeJSON, "table_count", catalog.TypeInt),
	"tables": sysCols("namespace_id", catalog.TypeText, "table_name", catalog.TypeText, "table_type", catalog.TypeText,
		"storage_id", catalog.TypeText, "version", catalog.TypeInt, "options", catalog.TypeJSON,
		"created_at", catalog.TypeTimestamp, "updated_at", catalog.TypeTimestamp),
	"columns": sysCols("namespace_id", catalog.TypeText, "table_name", catalog.TypeText, "column_name", catalog.TypeText,
		"ordinal", catalog.TypeInt, "data_type", catalog.TypeText, "nullable", catalog.TypeBoolean,
		"primary_key", catalog.TypeBoolean, "default_value", catalog.TypeText),
	"audit_log": sysCols("audit_id", catalog.TypeText, "timestamp", catalog.TypeTimestamp, "actor_user_id", catalog.TypeText,
		"subject_user_id", catalog.TypeText, "action", catalog.TypeText, "target", catalog.TypeText,
		"details", catalog.TypeText, "ip_address", catalog.TypeText),
	"jobs": sysCols("job_id", catalog.TypeText, "job_type", catalog.TypeText, "status", catalog.TypeText,
		"parameters", catalog.TypeJSON, "message", catalog.TypeText, "error", catalog.TypeText, "idempotency_key", catalog.TypeText,
		"retry_count", catalog.TypeInt, "max_retries", catalog.TypeInt, "created_at", catalog.TypeTimestamp,
		"started_at", catalog.TypeTimestamp, "finished_at", catalog.TypeTimestamp, "node_id", catalog.TypeText),
	"storages": sysCols("storage_id", catalog.TypeText, "storage_name", catalog.TypeText, "storage_type", catalog.TypeText,
		"base_directory", catalog.TypeText, "created_at", catalog.TypeTimestamp),
	"users": sysCols("user_id", catalog.TypeText, "role", catalog.TypeText, "email", catalog.TypeText,
		"auth_type", catalog.TypeText, "created_at", catalog.TypeTimestamp, "updated_at", catalog.TypeTimestamp,
		"last_login_at", catalog.TypeTimestamp, "failed_login_attempts", catalog.TypeInt,
		"locked_until", catalog.TypeTimestamp, "deleted_at", catalog.TypeTimestamp),
}

var jobIDSchema = sysCols("job_id", catalog.TypeText, "table_name", catalog.TypeText)

var showStatsSchema = sysCols("namespace_id", catalog.TypeText, "table_name", catalog.TypeText, "table_type", catalog.TypeText,
	"schema_version", catalog.TypeInt, "partitions", catalog.TypeBigInt, "hot_rows", catalog.TypeBigInt,
	"segments", catalog.TypeBigInt, "cold_rows", catalog.TypeBigInt, "cold_bytes", catalog.TypeBigInt)

var describeTableSchema = sysCols("column_name", catalog.TypeText, "ordinal_position", catalog.TypeInt,
	"data_type", catalog.TypeText, "is_nullable", catalog.TypeBoolean, "is_primary_key", catalog.TypeBoolean,
	"column_default", catalog.TypeText)

// rowsBuilder builds a record batch row by row from Go values.
type rowsBuilder struct {
	b *array.RecordBuilder
}

func newRowsBuilder(schema *arrow.Schema) *rowsBuilder {
	return &rowsBuilder{b: array.NewRecordBuilder(memory.DefaultAllocator, schema)}
}

func (r *rowsBuilder) add(vals ...any) {
	for i, v := range vals {
		f := r.b.Field(i)
		if v == nil {
			f.AppendNull()
			continue
		}
		switch x := v.(type) {
		case string:
			f.(*array.StringBuilder).Append(x)
		case int:
			f.(*array.Int32Builder).Append(int32(x))
		case int64:
			f.(*array.Int64Builder).Append(x)
		case bool:
			f.(*array.BooleanBuilder).Append(x)
		case time.Time:
			if x.IsZero() {
				f.AppendNull()
			} else {
				f.(*array.TimestampBuilder).Append(arrow.Timestamp(x.UnixMicro()))
			}
		case *time.Time:
			if x == nil || x.IsZero() {
				f.AppendNull()
			} else {
				f.(*array.TimestampBuilder).Append(arrow.Timestamp(x.UnixMicro()))
			}
		default:
			panic(fmt.Sprintf("rowsBuilder: unsupported %T", v))
		}
	}
}

func (r *rowsBuilder) record() arrow.RecordBatch {
	defer r.b.Release()
	return r.b.NewRecordBatch()
}

func jsonText(m map[string]string) string {
	if len(m) == 0 {
		return "{}"
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// systemRows computes the rows of a system table now.
func (e *Engine) systemRows(name catalog.TableName, sub subject) (arrow.RecordBatch, error) {
	st, ok := systemTables[name]
	if !ok {
		return nil, catalog.Errorf(catalog.KindNotFound, "table system.%s does not exist", name)
	}
	rb := newRowsBuilder(st.schema)
	switch name {
	case "namespaces":
		counts := map[catalog.NamespaceID]int{}
		for _, t := range e.reg.tables("") {
			counts[t.ID.Namespace]++
		}
		for _, ns := range e.reg.namespaces() {
			rb.add(string(ns.ID), string(ns.ID), ns.CreatedAt, jsonText(ns.Options), counts[ns.ID])
		}
	case "tables":
		e.tableRows(rb, "", sub)
	case "jobs":
		if e.jobs != nil {
			for _, j := range e.jobs.List() {
				var errText any
				if j.Error != "" {
					errText = j.Error
				}
				rb.add(j.ID, string(j.Type), string(j.Status), jsonText(j.Parameters), j.Message, errText, j.IdempotencyKey,
					j.RetryCount, j.MaxRetries, j.CreatedAt, j.StartedAt, j.FinishedAt, j.NodeID)
			}
		}
	case "storages":
		rb.add("local", "Local filesystem", "filesystem", e.opts.ColdDir, e.started)
	case "audit_log":
		entries, err := e.auditEntries()
		if err != nil {
			return nil, err
		}
		for _, a := range entries {
			rb.add(a.ID, a.Time, string(a.Actor), string(a.Subject), a.Action, a.Target, a.Details, a.IP)
		}
	case "columns":
		for _, t := range e.reg.tables("") {
			for i, c := range t.Columns {
				var def any
				if c.Default.Kind != catalog.DefaultNone {
					def = c.Default.String()
				}
				rb.add(string(t.ID.Namespace), string(t.ID.Name), c.Name, i+1, c.Type.String(), !c.NotNull, c.PrimaryKey, def)
			}
		}
	case "users":
		users := e.users.ListUsers()
		sort.Slice(users, func(i, j int) bool { return users[i].ID < users[j].ID })
		for _, u := range users {
			if !sub.role.AtLeast(catalog.RoleDBA) && u.ID != sub.user {
				continue
			}
			var email any
			if u.Email != "" {
				email = u.Email
			}
			rb.add(string(u.ID), u.Role.String(), email, u.AuthType, u.CreatedAt, u.UpdatedAt, u.LastLoginAt,
				u.FailedLoginAttempts, u.LockedUntil, u.DeletedAt)
		}
	}
	return rb.record(), nil
}

// tableRows adds the rows of ns's tables (all namespaces for "") that
// sub may read.
func (e *Engine) tableRows(rb *rowsBuilder, ns catalog.NamespaceID, sub subject) {
	for _, t := range e.reg.tables(ns) {
		if checkRead(sub, t) != nil {
			continue
		}
		rb.add(string(t.ID.Namespace), string(t.ID.Name), t.Type.String(), t.StorageID, t.Version,
			jsonText(t.Options), t.CreatedAt, t.UpdatedAt)
	}
}

func (e *Engine) showNamespaces() (*Result, error) {
	rec, err := e.systemRows("namespaces", subject{role: catalog.RoleSystem})
	if err != nil {
		return nil, err
	}
	return recordsResult(rec.Schema(), []arrow.RecordBatch{rec}), nil
}

// showTables lists ns's tables that sub may read (see Engine.Tables).
func (e *Engine) showTables(sub subject, ns catalog.NamespaceID) (*Result, error) {
	st := systemTables["tables"]
	rb := newRowsBuilder(st.schema)
	if ns == catalog.SystemNamespace {
		names := make([]string, 0, len(systemTables))
		for n := range systemTables {
			names = append(names, string(n))
		}
		sort.Strings(names)
		for _, n := range names {
			rb.add(string(catalog.SystemNamespace), n, catalog.TableSystem.String(), nil, 1, "{}", nil, nil)
		}
	} else {
		e.tableRows(rb, ns, sub)
	}
	rec := rb.record()
	return recordsResult(rec.Schema(), []arrow.RecordBatch{rec}), nil
}

func describeTable(t *catalog.TableDef) (*Result, error) {
	rb := newRowsBuilder(describeTableSchema.schema)
	for i, c := range t.Columns {
		var def any
		if c.Default.Kind != catalog.DefaultNone {
			def = c.Default.String()
		}
		rb.add(c.Name, i+1, c.Type.String(), !c.NotNull, c.PrimaryKey, def)
	}
	rec := rb.record()
	return recordsResult(rec.Schema(), []arrow.RecordBatch{rec}), nil
}

// showStats reports a table's tiers: over every partition for dba and
// system, over the caller's own partition otherwise.
func (e *Engine) showStats(ctx context.Context, sub subject, t *catalog.TableDef) (*Result, error) {
	rb := newRowsBuilder(showStatsSchema.schema)
	if err := e.statsRow(ctx, rb, sub, t); err != nil {
		rb.b.Release()
		return nil, err
	}
	rec := rb.record()
	return recordsResult(rec.Schema(), []arrow.RecordBatch{rec}), nil
}

// showAllStats is bare SHOW STATS: showStats of every table sub may read
// (visibleTables, without the system tables, which have no storage).
func (e *Engine) showAllStats(ctx context.Context, sub subject) (*Result, error) {
	rb := newRowsBuilder(showStatsSchema.schema)
	for _, t := range e.visibleTables(sub) {
		if t.Type == catalog.TableSystem {
			continue
		}
		if err := e.statsRow(ctx, rb, sub, t); err != nil {
			rb.b.Release()
			return nil, err
		}
	}
	rec := rb.record()
	return recordsResult(rec.Schema(), []arrow.RecordBatch{rec}), nil
}

// statsRow adds t's row of SHOW STATS to rb.
func (e *Engine) statsRow(ctx context.Context, rb *rowsBuilder, sub subject, t *catalog.TableDef) error {
	parts := []catalog.UserID{partition(sub, t)}
	if sub.role.AtLeast(catalog.RoleDBA) && t.Type.PerUser() {
		var err error
		if parts, err = e.partitionsOf(ctx, t); err != nil {
			return err
		}
	}
	var hot, segs, coldRows, coldBytes int64
	for _, u := range parts {
		n, err := e.hot.CountLive(ctx, t, u)
		if err != nil {
			return err
		}
		hot += n
		if e.cold == nil {
			continue
		}
		m, err := e.manifest(t, u)
		if err != nil {
			return err
		}
		for _, s := range m.Segments {
			segs++
			coldRows += s.Rows - s.Tombstones
			coldBytes += s.Bytes
		}
	}
	rb.add(string(t.ID.Namespace), string(t.ID.Name), t.Type.String(), t.Version, int64(len(parts)), hot, segs, coldRows, coldBytes)
	return nil
}
