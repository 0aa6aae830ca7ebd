//go:build duckdb_arrow

package engine

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/kalamdb/kalamdb-go/catalog"
	"github.com/kalamdb/kalamdb-go/engine/duck"
	"github.com/kalamdb/kalamdb-go/engine/sqlparse"
)

// StatementInfo describes a statement without running it.
type StatementInfo struct {
	// Schema is the result's schema; it has no fields for an update.
	Schema *arrow.Schema
	// IsUpdate is true for DDL and DML without RETURNING (clients execute
	// them as updates and read a row count).
	IsUpdate bool
	// Params has one field per parameter ($1… or ?), typed as DuckDB infers
	// it (arrow.Null when any type is accepted).
	Params *arrow.Schema
}

var emptySchema = arrow.NewSchema(nil, nil)

// Describe reports a statement's result and parameter schemas without
// executing it or touching any row.
func (e *Engine) Describe(ctx context.Context, s *Session, sql string) (*StatementInfo, error) {
	stmt, err := sqlparse.Parse(sql)
	if err != nil {
		return nil, parseError(err)
	}
	sub := subject{user: s.User, role: s.Role, actor: s.User, ns: s.Namespace()}
	if ea, ok := stmt.(*sqlparse.ExecuteAs); ok {
		target, err := e.impersonate(s, ea.User)
		if err != nil {
			return nil, err
		}
		sub.user, sub.role = target.ID, target.Role
		stmt = ea.Stmt
	}
	update := func(params *arrow.Schema) *StatementInfo {
		if params == nil {
			params = emptySchema
		}
		return &StatementInfo{Schema: emptySchema, IsUpdate: true, Params: params}
	}
	switch st := stmt.(type) {
	case *sqlparse.Select:
		return e.describeSelect(ctx, sub, st.SQL)
	case *sqlparse.Explain:
		info, err := e.describeSelect(ctx, sub, st.Query)
		if err != nil {
			return nil, err
		}
		return &StatementInfo{Schema: explainSchema, Params: info.Params}, nil
	case *sqlparse.Insert:
		t, err := e.tableRef(sub, st.Table)
		if err != nil {
			return nil, err
		}
		names, given, err := insertColumns(t, st)
		if err != nil {
			return nil, err
		}
		if err := checkValuesWidth(t, st, names); err != nil {
			return nil, err
		}
		info, err := e.describeDML(ctx, sub, t, insertSourceSQL(t, st, names, given), "", st.Returning, update)
		if err != nil {
			return nil, err
		}
		// DuckDB cannot type parameters inside VALUES; in the common
		// `VALUES (?, ?, …)` each one takes its target column's type.
		if n, ok := sqlparse.ParamRow(st.Source); ok && n == len(names) && info.Params.NumFields() == n {
			fields := make([]arrow.Field, n)
			for i, name := range names {
				c := t.Columns[t.ColumnIndex(name)]
				fields[i] = arrow.Field{Name: fmt.Sprintf("parameter_%d", i+1), Type: c.Type.ArrowType(), Nullable: true}
			}
			info.Params = arrow.NewSchema(fields, nil)
		}
		return info, nil
	case *sqlparse.Update:
		t, err := e.tableRef(sub, st.Table)
		if err != nil {
			return nil, err
		}
		sql, _, err := updateSQL(t, st)
		if err != nil {
			return nil, err
		}
		return e.describeDML(ctx, sub, t, sql, st.Alias, st.Returning, update)
	case *sqlparse.Delete:
		t, err := e.tableRef(sub, st.Table)
		if err != nil {
			return nil, err
		}
		sql, _ := deleteSQL(t, st)
		return e.describeDML(ctx, sub, t, sql, st.Alias, st.Returning, update)
	case *sqlparse.ShowNamespaces:
		return &StatementInfo{Schema: systemTables["namespaces"].schema, Params: emptySchema}, nil
	case *sqlparse.ShowTables:
		return &StatementInfo{Schema: systemTables["tables"].schema, Params: emptySchema}, nil
	case *sqlparse.DescribeTable:
		return &StatementInfo{Schema: describeTableSchema.schema, Params: emptySchema}, nil
	case *sqlparse.ShowCreateTable:
		return &StatementInfo{Schema: showCreateSchema, Params: emptySchema}, nil
	case *sqlparse.ShowStats:
		return &StatementInfo{Schema: showStatsSchema.schema, Params: emptySchema}, nil
	case *sqlparse.StorageFlush, *sqlparse.StorageCompact:
		return &StatementInfo{Schema: jobIDSchema.schema, Params: emptySchema}, nil
	}
	return update(nil), nil
}

// describeDML describes INSERT/UPDATE/DELETE: an update, unless RETURNING
// makes it a query; parameters are those of its evaluating SELECT.
func (e *Engine) describeDML(ctx context.Context, sub subject, t *catalog.TableDef, sql, alias, returning string, update func(*arrow.Schema) *StatementInfo) (*StatementInfo, error) {
	info, err := e.describeSelect(ctx, sub, sql)
	if err != nil {
		return nil, err
	}
	if returning == "" {
		return update(info.Params), nil
	}
	ret, err := e.describeSelectAs(ctx, sub, returningSQL(t, alias, returning), returningStatement(t.ID))
	if err != nil {
		return nil, err
	}
	return &StatementInfo{Schema: ret.Schema, Params: info.Params}, nil
}

// describeSelect prepares a scoped SELECT over empty relations of the right
// shape to learn its result and parameter types.
func (e *Engine) describeSelect(ctx context.Context, sub subject, sql string) (*StatementInfo, error) {
	return e.describeSelectAs(ctx, sub, sql, nil)
}

// describeSelectAs is describeSelect preparing as(q) in place of the scoped
// SELECT q when as is not nil (see queryAs).
func (e *Engine) describeSelectAs(ctx context.Context, sub subject, sql string, as func(*scopedQuery) string) (*StatementInfo, error) {
	sql, err := e.expandPivots(ctx, sub, sql)
	if err != nil {
		return nil, err
	}
	c, err := e.conn()
	if err != nil {
		return nil, err
	}
	// as rewrites a RETURNING list, whose relation stays a plain table
	// reference (see scoper.plainRefs).
	q, err := e.scope(ctx, c, sub, sql, nil, as != nil)
	if err != nil {
		e.release(c, ctx.Err() != nil)
		return nil, err
	}
	broken := false
	defer func() {
		broken = broken || e.dropTemps(c, q) != nil
		e.release(c, broken)
	}()
	for _, l := range q.loads {
		var ddl string
		if l.table == nil {
			st, _ := virtualTable(l.id)
			ddl = createTempSQL(l.temp, st.columns, false)
		} else {
			ddl = createTempSQL(l.temp, l.table.Columns, true)
		}
		if err := c.Exec(ddl); err != nil {
			broken = true
			return nil, fmt.Errorf("describe: %w", err)
		}
	}
	stmt := q.sql
	if as != nil {
		stmt = as(q)
	}
	p, err := c.Prepare(stmt)
	if err != nil {
		return nil, duckError(err, q)
	}
	defer p.Close()
	schema, err := p.Schema()
	if err != nil {
		return nil, duckError(err, q)
	}
	return &StatementInfo{Schema: schema, Params: p.ParamSchema()}, nil
}

var _ = duck.QuoteIdent
