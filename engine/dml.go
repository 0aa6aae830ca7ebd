//go:build duckdb_arrow

package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/kalamdb/kalamdb-go/catalog"
	"github.com/kalamdb/kalamdb-go/engine/duck"
	"github.com/kalamdb/kalamdb-go/engine/sqlparse"
	"github.com/kalamdb/kalamdb-go/hotstore"
	"github.com/kalamdb/kalamdb-go/internal/idgen"
)

// insert evaluates the VALUES or SELECT source in DuckDB (cast to the
// table's column types, literal defaults applied), fills generated defaults,
// checks constraints and writes all rows in one durable batch.
func (e *Engine) insert(ctx context.Context, sub subject, st *sqlparse.Insert, params []any) (*Result, error) {
	t, err := e.tableRef(sub, st.Table)
	if err != nil {
		return nil, err
	}
	if err := checkWrite(sub, t); err != nil {
		return nil, err
	}
	names, given, err := insertColumns(t, st)
	if err != nil {
		return nil, err
	}
	if err := checkValuesWidth(t, st, names); err != nil {
		return nil, err
	}
	var rec arrow.RecordBatch
	if lits, ok := sqlparse.ValuesLiterals(st.Source); ok {
		rec, _ = literalRecord(t, given, lits, len(names))
	}
	if rec == nil {
		if rec, err = e.evalInsertSource(ctx, sub, t, st, names, given, params); err != nil {
			return nil, err
		}
	}
	defer rec.Release()
	n := rec.NumRows()
	if n > 0 {
		rec, err = e.fillDefaults(sub, t, rec, given)
		if err != nil {
			return nil, err
		}
		defer rec.Release()
		if err := checkConstraints(t, rec); err != nil {
			return nil, err
		}
		seqs := e.seq.NextN(int(n), nil)
		if err := e.insertRows(ctx, t, partition(sub, t), rec, seqs); err != nil {
			return nil, err
		}
		if st.Returning != "" {
			return e.returning(ctx, sub, t, "", rec, seqs, st.Returning, params)
		}
	}
	if st.Returning != "" {
		// No row: the RETURNING list's columns, empty.
		return e.returning(ctx, sub, t, "", rec, nil, st.Returning, params)
	}
	return affectedResult(n), nil
}

// insertRows writes new rows, refusing keys that exist in the hot tier or,
// for a partition with segments, in the cold tier.
func (e *Engine) insertRows(ctx context.Context, t *catalog.TableDef, user catalog.UserID, rec arrow.RecordBatch, seqs []int64) error {
	if e.cold != nil && t.PrimaryKeyIndex() >= 0 && t.Type != catalog.TableStream {
		l := e.coldState.lock(partKey{t.StoreID, user})
		l.RLock()
		defer l.RUnlock()
		if err := e.checkNewColdKeys(ctx, t, user, rec.Column(t.PrimaryKeyIndex())); err != nil {
			return err
		}
	}
	err := e.hot.Insert(ctx, t, user, rec, seqs)
	e.wrote(ctx, t, user, rec.NumRows(), err)
	return err
}

// checkNewColdKeys refuses keys whose newest version in the partition's
// segments is a live row; in a transaction it notes the segments checked
// for COMMIT. The caller holds the partition's lock shared.
func (e *Engine) checkNewColdKeys(ctx context.Context, t *catalog.TableDef, user catalog.UserID, keys arrow.Array) error {
	man, err := e.manifest(t, user)
	if err != nil {
		return err
	}
	e.noteInsertCheck(ctx, t, user, man)
	if len(man.Segments) == 0 {
		return nil
	}
	return e.checkColdDuplicates(ctx, t, user, man, keys)
}

// evalInsertSource evaluates an INSERT's VALUES or SELECT source in DuckDB,
// cast to the table's column types with literal defaults applied.
func (e *Engine) evalInsertSource(ctx context.Context, sub subject, t *catalog.TableDef, st *sqlparse.Insert, names []string, given []int, params []any) (arrow.RecordBatch, error) {
	_, recs, err := e.queryAll(ctx, sub, insertSourceSQL(t, st, names, given), params, nil)
	if err != nil {
		return nil, err
	}
	defer releaseAll(recs)
	return e.tableRecord(t, recs)
}

// insertSourceSQL is the SELECT that evaluates an INSERT's source: values
// cast to the column types, literal defaults for columns not given.
func insertSourceSQL(t *catalog.TableDef, st *sqlparse.Insert, names []string, given []int) string {
	var b strings.Builder
	b.WriteString("SELECT ")
	for i, c := range t.Columns {
		if i > 0 {
			b.WriteString(", ")
		}
		switch {
		case given[i] >= 0:
			fmt.Fprintf(&b, "CAST(__kdb_src.__kdb_c%d AS %s)", given[i], c.Type.DuckDBType())
		case c.Default.Kind == catalog.DefaultLiteral:
			fmt.Fprintf(&b, "CAST(%s AS %s)", c.Default.Literal, c.Type.DuckDBType())
		default:
			fmt.Fprintf(&b, "CAST(NULL AS %s)", c.Type.DuckDBType())
		}
		b.WriteString(" AS ")
		b.WriteString(duck.QuoteIdent(c.Name))
	}
	b.WriteString(" FROM (")
	b.WriteString(valuesCast(t, st.Source, names))
	b.WriteString(") AS __kdb_src(")
	for pos := range names {
		if pos > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "__kdb_c%d", pos)
	}
	b.WriteString(")")
	return b.String()
}

// valuesCast rewrites a VALUES source so that each item is cast to its
// target column's type on its own, as DuckDB's INSERT … VALUES does; a
// VALUES list read as a query would first unify each column's items to one
// type (0 and '0.75' to INTEGER, DATE '…' and a timestamp string to DATE),
// storing other values than DuckDB's INSERT. Any other source is returned
// as is: DuckDB's INSERT … SELECT casts the query's columns, as the caller
// does.
func valuesCast(t *catalog.TableDef, source string, names []string) string {
	rows, ok := sqlparse.ValuesItems(source)
	if !ok {
		return source
	}
	types := make([]string, len(names))
	for pos, n := range names {
		types[pos] = t.Columns[t.ColumnIndex(n)].Type.DuckDBType()
	}
	for _, row := range rows {
		if len(row) != len(names) {
			return source // DuckDB reports the mismatch
		}
	}
	var b strings.Builder
	b.WriteString("VALUES ")
	for r, row := range rows {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for pos, item := range row {
			if pos > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "CAST((%s) AS %s)", item, types[pos])
		}
		b.WriteByte(')')
	}
	return b.String()
}

// update evaluates the new row versions in DuckDB, each with the _seq of
// the version it was computed from, and writes them only if those are still
// the newest versions (see rmw).
func (e *Engine) update(ctx context.Context, sub subject, st *sqlparse.Update, params []any) (*Result, error) {
	t, err := e.tableRef(sub, st.Table)
	if err != nil {
		return nil, err
	}
	if err := checkWrite(sub, t); err != nil {
		return nil, err
	}
	user := partition(sub, t)
	if u, ok := parseKeyUpdate(t, st); ok && len(params) == 0 {
		if res, handled, err := e.keyUpdate(ctx, u, user); handled {
			return res, err
		}
	}
	sql, moves, err := updateSQL(t, st)
	if err != nil {
		return nil, err
	}
	return e.rmw(ctx, t, user, func(a *rmwAttempt) (*Result, error) {
		_, recs, err := e.queryAll(ctx, sub, sql, params, nil)
		if err != nil {
			return nil, err
		}
		base := baseSeqs(recs, len(t.Columns))
		var old arrow.Array
		if moves {
			if old, err = oldKeys(t, recs); err != nil {
				releaseAll(recs)
				return nil, err
			}
			defer old.Release()
		}
		rec, err := e.tableRecord(t, recs)
		releaseAll(recs)
		if err != nil {
			return nil, err
		}
		defer rec.Release()
		n := rec.NumRows()
		if n == 0 {
			if st.Returning != "" {
				return e.returning(ctx, sub, t, st.Alias, rec, nil, st.Returning, params)
			}
			return affectedResult(0), nil
		}
		if err := checkConstraints(t, rec); err != nil {
			return nil, err
		}
		seqs := e.seq.NextN(int(n), nil)
		if moves {
			tombs := e.seq.NextN(int(n), nil)
			err = a.write(func() error { return e.moveRows(ctx, t, user, rec, seqs, old, base, tombs, a.tracked) })
		} else {
			err = a.write(func() error { return e.hot.UpsertVersions(ctx, t, user, rec, seqs, base) })
		}
		e.wrote(ctx, t, user, n, err)
		if err != nil {
			return nil, err
		}
		if st.Returning != "" {
			return e.returning(ctx, sub, t, st.Alias, rec, seqs, st.Returning, params)
		}
		return affectedResult(n), nil
	})
}

// delete finds the matching keys in DuckDB and writes tombstones.
func (e *Engine) delete(ctx context.Context, sub subject, st *sqlparse.Delete, params []any) (*Result, error) {
	t, err := e.tableRef(sub, st.Table)
	if err != nil {
		return nil, err
	}
	if err := checkWrite(sub, t); err != nil {
		return nil, err
	}
	sql, keyCol := deleteSQL(t, st)
	user := partition(sub, t)
	return e.rmw(ctx, t, user, func(a *rmwAttempt) (*Result, error) {
		return e.deleteAttempt(ctx, sub, t, user, st, sql, keyCol, params, a)
	})
}

// deleteAttempt is one try of a DELETE: find the matching keys and the
// versions matched, then write tombstones if those are still the newest.
func (e *Engine) deleteAttempt(ctx context.Context, sub subject, t *catalog.TableDef, user catalog.UserID, st *sqlparse.Delete,
	sql, keyCol string, params []any, a *rmwAttempt) (*Result, error) {
	schema, recs, err := e.queryAll(ctx, sub, sql, params, nil)
	if err != nil {
		return nil, err
	}
	defer releaseAll(recs)
	keyIdx := schema.FieldIndices(keyCol)
	seqIdx := schema.FieldIndices(catalog.SeqColumn)
	if len(keyIdx) == 0 || len(seqIdx) == 0 {
		return nil, fmt.Errorf("delete from %s: key column %s or %s missing from result", t.ID, keyCol, catalog.SeqColumn)
	}
	var parts []arrow.Array
	var base []int64
	var n int64
	for _, r := range recs {
		parts = append(parts, r.Column(keyIdx[0]))
		base = append(base, r.Column(seqIdx[0]).(*array.Int64).Int64Values()...)
		n += r.NumRows()
	}
	if n == 0 {
		if st.Returning != "" {
			return e.deleteReturning(ctx, sub, t, st.Alias, schema, recs, st.Returning, params, 0)
		}
		return affectedResult(0), nil
	}
	keys, err := array.Concatenate(parts, memory.DefaultAllocator)
	if err != nil {
		return nil, fmt.Errorf("collect keys to delete: %w", err)
	}
	defer keys.Release()
	seqs := e.seq.NextN(int(n), nil)
	var deleted int64
	err = a.write(func() error {
		var err error
		deleted, err = e.hot.DeleteVersions(ctx, t, user, keys, seqs, base)
		return err
	})
	e.wrote(ctx, t, user, n, err)
	if err != nil {
		return nil, err
	}
	// The hot store counts only keys that were live there; every matched
	// row (hot or cold) was deleted.
	deleted = n
	if st.Returning != "" {
		return e.deleteReturning(ctx, sub, t, st.Alias, schema, recs, st.Returning, params, deleted)
	}
	return affectedResult(deleted), nil
}

// deleteReturning evaluates a DELETE's RETURNING list over the rows it
// deleted (none gives the list's columns, empty).
func (e *Engine) deleteReturning(ctx context.Context, sub subject, t *catalog.TableDef, alias string, schema *arrow.Schema, recs []arrow.RecordBatch,
	list string, params []any, deleted int64) (*Result, error) {
	full, err := duck.ConcatRecords(schema, recs)
	if err != nil {
		return nil, err
	}
	defer full.Release()
	res, err := e.queryAs(ctx, sub, returningSQL(t, alias, list), params,
		map[catalog.TableID][]arrow.RecordBatch{t.ID: {full}}, returningStatement(t.ID))
	if err != nil {
		return nil, err
	}
	res.RowsAffected = deleted
	return res, nil
}

// returningStatement turns the scoped `SELECT <list> FROM <rows> AS <alias>`
// of a RETURNING list into `DELETE FROM <rows> AS <alias> RETURNING <list>`
// over the connection's own temporary copy of the rows written (or, to
// describe it, an empty one), so that DuckDB names the columns as its
// RETURNING does: by the bound expressions (x + 1 on a DOUBLE is
// "(x + CAST(1 AS DOUBLE))"), where a SELECT names them as written. Any
// other shape runs as the SELECT.
func returningStatement(id catalog.TableID) func(*scopedQuery) string {
	return func(q *scopedQuery) string {
		for _, l := range q.loads {
			if l.table == nil || l.id != id || strings.Count(q.sql, l.temp) != 1 {
				continue
			}
			from := " FROM " + l.temp + " AS "
			i := strings.LastIndex(q.sql, from)
			if i < 0 || !strings.HasPrefix(q.sql, "SELECT ") || !plainAlias(q.sql[i+len(from):]) {
				continue
			}
			return "DELETE FROM " + l.temp + " AS " + q.sql[i+len(from):] + " RETURNING " + q.sql[len("SELECT "):i]
		}
		return q.sql
	}
}

// plainAlias reports whether s is one identifier, bare or double-quoted.
func plainAlias(s string) bool {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return !strings.Contains(strings.ReplaceAll(s[1:len(s)-1], `""`, ""), `"`)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '_' && (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return s != ""
}

// returningSQL is the SELECT of a RETURNING list over the rows written,
// under the statement's alias if it has one (RETURNING x.id after
// UPDATE t AS x).
func returningSQL(t *catalog.TableDef, alias, list string) string {
	sql := "SELECT " + list + " FROM " + quoteTable(t.ID)
	if alias != "" {
		sql += " AS " + duck.QuoteIdent(alias)
	}
	return sql
}

func quoteTable(id catalog.TableID) string {
	return duck.QuoteIdent(string(id.Namespace)) + "." + duck.QuoteIdent(string(id.Name))
}

func writeFromWhere(b *strings.Builder, t *catalog.TableDef, alias, where string) {
	b.WriteString(" FROM ")
	b.WriteString(quoteTable(t.ID))
	b.WriteString(" AS ")
	if alias == "" {
		alias = string(t.ID.Name)
	}
	b.WriteString(duck.QuoteIdent(alias))
	if where != "" {
		b.WriteString(" WHERE ")
		b.WriteString(where)
	}
}

// returning evaluates a RETURNING list over the rows just written.
func (e *Engine) returning(ctx context.Context, sub subject, t *catalog.TableDef, alias string, rec arrow.RecordBatch, seqs []int64, list string, params []any) (*Result, error) {
	sb := array.NewInt64Builder(memory.DefaultAllocator)
	sb.AppendValues(seqs, nil)
	seqCol := sb.NewArray()
	sb.Release()
	defer seqCol.Release()
	cols := append(append([]arrow.Array(nil), rec.Columns()...), seqCol)
	full := array.NewRecordBatch(t.ArrowSchema(), cols, rec.NumRows())
	defer full.Release()
	res, err := e.queryAs(ctx, sub, returningSQL(t, alias, list), params,
		map[catalog.TableID][]arrow.RecordBatch{t.ID: {full}}, returningStatement(t.ID))
	if err != nil {
		return nil, err
	}
	res.RowsAffected = rec.NumRows()
	return res, nil
}

// tableRecord concatenates DuckDB's batches into one record with the table's
// user schema, checking that DuckDB produced the column types expected.
func (e *Engine) tableRecord(t *catalog.TableDef, recs []arrow.RecordBatch) (arrow.RecordBatch, error) {
	schema := t.UserSchema()
	for _, r := range recs {
		for i := range t.Columns {
			if !arrow.TypeEqual(r.Column(i).DataType(), schema.Field(i).Type) {
				return nil, fmt.Errorf("column %s: DuckDB produced %s, want %s", t.Columns[i].Name, r.Column(i).DataType(), schema.Field(i).Type)
			}
		}
	}
	return duck.ConcatRecords(schema, recs)
}

// fillDefaults replaces the columns not given by the INSERT whose default is
// generated (SNOWFLAKE_ID, UUID_V7, ULID, NOW, CURRENT_USER).
func (e *Engine) fillDefaults(sub subject, t *catalog.TableDef, rec arrow.RecordBatch, given []int) (arrow.RecordBatch, error) {
	cols := append([]arrow.Array(nil), rec.Columns()...)
	n := int(rec.NumRows())
	var made []arrow.Array
	defer func() {
		for _, m := range made {
			m.Release()
		}
	}()
	now := e.opts.Now()
	for i, c := range t.Columns {
		if given[i] >= 0 || c.Default.Kind == catalog.DefaultNone || c.Default.Kind == catalog.DefaultLiteral {
			continue
		}
		bld := array.NewBuilder(memory.DefaultAllocator, c.Type.ArrowType())
		for r := 0; r < n; r++ {
			var err error
			switch c.Default.Kind {
			case catalog.DefaultSnowflakeID:
				err = appendGenerated(bld, e.seq.Next(), "")
			case catalog.DefaultUUIDv7:
				err = appendGenerated(bld, 0, idgen.UUIDv7(now))
			case catalog.DefaultULID:
				err = appendGenerated(bld, 0, idgen.ULID(now))
			case catalog.DefaultCurrentUser:
				err = appendGenerated(bld, 0, string(sub.user))
			case catalog.DefaultNow:
				err = appendNow(bld, now)
			}
			if err != nil {
				bld.Release()
				return nil, catalog.Errorf(catalog.KindInvalid, "default of column %s: %v", c.Name, err)
			}
		}
		arr := bld.NewArray()
		bld.Release()
		made = append(made, arr)
		cols[i] = arr
	}
	return array.NewRecordBatch(rec.Schema(), cols, rec.NumRows()), nil
}

func appendGenerated(b array.Builder, n int64, s string) error {
	switch bb := b.(type) {
	case *array.Int64Builder:
		bb.Append(n)
	case *array.StringBuilder:
		if s == "" {
			s = strconv.FormatInt(n, 10)
		}
		bb.Append(s)
	default:
		return fmt.Errorf("cannot store a generated value in %s", b.Type())
	}
	return nil
}

func appendNow(b array.Builder, now time.Time) error {
	switch bb := b.(type) {
	case *array.TimestampBuilder:
		bb.Append(arrow.Timestamp(now.UnixMicro()))
	case *array.Date32Builder:
		bb.Append(arrow.Date32FromTime(now.UTC()))
	case *array.StringBuilder:
		bb.Append(now.UTC().Format(time.RFC3339Nano))
	default:
		return fmt.Errorf("cannot store NOW() in %s", b.Type())
	}
	return nil
}

// checkConstraints enforces NOT NULL (and the primary key), UUID format
// and JSON syntax.
func checkConstraints(t *catalog.TableDef, rec arrow.RecordBatch) error {
	for i, c := range t.Columns {
		col := rec.Column(i)
		if (c.NotNull || c.PrimaryKey) && col.NullN() > 0 {
			return catalog.Errorf(catalog.KindInvalid, "null value in column %s violates not-null constraint", c.Name)
		}
		if c.Type.Kind == catalog.TypeUUID {
			s := col.(*array.String)
			for r := 0; r < s.Len(); r++ {
				if s.IsValid(r) && !idgen.ValidUUID(s.Value(r)) {
					return catalog.Errorf(catalog.KindInvalid, "invalid UUID %q for column %s", s.Value(r), c.Name)
				}
			}
		}
	}
	return checkJSON(t, rec)
}

// keyArray builds an array of primary-key values from constant text; ok is
// false when a value does not convert (the caller then scans).
func keyArray(t *catalog.TableDef, keys []string) (arrow.Array, bool) {
	c := t.Columns[t.PrimaryKeyIndex()]
	b := array.NewBuilder(memory.DefaultAllocator, c.Type.ArrowType())
	defer b.Release()
	for _, k := range keys {
		switch bb := b.(type) {
		case *array.Int64Builder:
			v, err := strconv.ParseInt(k, 10, 64)
			if err != nil {
				return nil, false
			}
			bb.Append(v)
		case *array.Int32Builder:
			v, err := strconv.ParseInt(k, 10, 32)
			if err != nil {
				return nil, false
			}
			bb.Append(int32(v))
		case *array.Int16Builder:
			v, err := strconv.ParseInt(k, 10, 16)
			if err != nil {
				return nil, false
			}
			bb.Append(int16(v))
		case *array.StringBuilder:
			bb.Append(k)
		default:
			return nil, false
		}
	}
	return b.NewArray(), true
}

// insertColumns resolves an INSERT's column list: the names in source
// order, and for each table column its position in the source (or -1).
// checkValuesWidth refuses a VALUES row whose width is not the number of
// columns the INSERT fills, in the user's terms.
func checkValuesWidth(t *catalog.TableDef, st *sqlparse.Insert, names []string) error {
	rows, ok := sqlparse.ValuesItems(st.Source)
	if !ok {
		return nil
	}
	for r, row := range rows {
		if len(row) == len(names) {
			continue
		}
		where := ""
		if len(rows) > 1 {
			where = fmt.Sprintf(" in row %d", r+1)
		}
		if st.Columns == nil {
			return catalog.Errorf(catalog.KindInvalid, "INSERT has %d values%s but %s has %d columns (%s)",
				len(row), where, t.ID, len(names), strings.Join(names, ", "))
		}
		return catalog.Errorf(catalog.KindInvalid, "INSERT has %d values%s but names %d columns (%s)",
			len(row), where, len(names), strings.Join(names, ", "))
	}
	return nil
}

func insertColumns(t *catalog.TableDef, st *sqlparse.Insert) ([]string, []int, error) {
	given := make([]int, len(t.Columns))
	for i := range given {
		given[i] = -1
	}
	names := st.Columns
	if len(names) == 0 {
		for _, c := range t.Columns {
			names = append(names, c.Name)
		}
	}
	for pos, n := range names {
		i := t.ColumnIndex(n)
		if i < 0 {
			return nil, nil, catalog.Errorf(catalog.KindInvalid, "column %s does not exist in table %s", n, t.ID)
		}
		if given[i] >= 0 {
			return nil, nil, catalog.Errorf(catalog.KindInvalid, "column %s is given more than once", n)
		}
		given[i] = pos
	}
	return names, given, nil
}

// updateSQL is the SELECT computing an UPDATE's new row versions, then the
// _seq of the version each was computed from; when the primary key is
// assigned (moves), then the key each row had.
func updateSQL(t *catalog.TableDef, st *sqlparse.Update) (string, bool, error) {
	pk := t.PrimaryKeyIndex()
	if pk < 0 {
		return "", false, catalog.Errorf(catalog.KindInvalid, "UPDATE needs a primary key; table %s has none", t.ID)
	}
	exprs := make([]string, len(t.Columns))
	for _, a := range st.Set {
		i := t.ColumnIndex(a.Column)
		if i < 0 {
			return "", false, catalog.Errorf(catalog.KindInvalid, "column %s does not exist in table %s", a.Column, t.ID)
		}
		if i == pk && t.Type == catalog.TableStream {
			return "", false, catalog.Errorf(catalog.KindInvalid, "cannot update primary key column %s", t.Columns[i].Name)
		}
		if exprs[i] != "" {
			return "", false, catalog.Errorf(catalog.KindInvalid, "column %s is assigned more than once", a.Column)
		}
		exprs[i] = a.Expr
	}
	var b strings.Builder
	b.WriteString("SELECT ")
	for i, c := range t.Columns {
		if i > 0 {
			b.WriteString(", ")
		}
		if exprs[i] != "" {
			fmt.Fprintf(&b, "CAST((%s) AS %s) AS %s", exprs[i], c.Type.DuckDBType(), duck.QuoteIdent(c.Name))
		} else {
			b.WriteString(duck.QuoteIdent(c.Name))
		}
	}
	b.WriteString(", " + catalog.SeqColumn)
	moves := exprs[pk] != ""
	if moves {
		alias := st.Alias
		if alias == "" {
			alias = string(t.ID.Name)
		}
		fmt.Fprintf(&b, ", CAST(%s.%s AS %s) AS %s", duck.QuoteIdent(alias), duck.QuoteIdent(t.Columns[pk].Name),
			t.Columns[pk].Type.DuckDBType(), oldKeyColumn)
	}
	writeFromWhere(&b, t, st.Alias, st.Where)
	return b.String(), moves, nil
}

// deleteSQL is the SELECT finding the rows a DELETE removes (their keys, or
// whole rows for RETURNING), and the key column's name.
func deleteSQL(t *catalog.TableDef, st *sqlparse.Delete) (string, string) {
	pk := t.PrimaryKeyIndex()
	keyCol := catalog.SeqColumn
	if pk >= 0 {
		keyCol = t.Columns[pk].Name
	}
	var b strings.Builder
	switch {
	case st.Returning != "":
		b.WriteString("SELECT *, " + catalog.SeqColumn) // the full rows, for RETURNING
	case keyCol == catalog.SeqColumn:
		b.WriteString("SELECT " + catalog.SeqColumn)
	default:
		// The key, and the version matched (checked when writing).
		b.WriteString("SELECT " + duck.QuoteIdent(keyCol) + ", " + catalog.SeqColumn)
	}
	writeFromWhere(&b, t, st.Alias, st.Where)
	return b.String(), keyCol
}

// Read-modify-write statements (UPDATE, DELETE … WHERE) read rows in DuckDB
// with the _seq of each version read, compute their writes from them, and
// write only if every version read is still the newest: the hot tier checks
// its keys in the same step as the synced write (hotstore.UpsertVersions),
// and a key with no hot version was read from the cold tier, which is
// unchanged if the partition's manifest is byte-for-byte the one seen before
// the read (checked while holding off flushes and compactions across the
// write). A statement that loses the race is retried from a fresh read
// (rmwTries times, with jittered backoff; retries of one partition take
// turns), then fails with KindConflict (gRPC Aborted). Inside a transaction
// the versions are recorded instead and checked at COMMIT.
const (
	rmwTries      = 20
	rmwBackoff    = time.Millisecond
	rmwMaxBackoff = 40 * time.Millisecond
)

// baseSeqs collects column n (the _seq of the versions read) of recs.
func baseSeqs(recs []arrow.RecordBatch, n int) []int64 {
	var out []int64
	for _, r := range recs {
		if int(r.NumCols()) > n {
			if c, ok := r.Column(n).(*array.Int64); ok {
				out = append(out, c.Int64Values()...)
			}
		}
	}
	return out
}

// rmwAttempt is one try of a read-modify-write statement on one partition.
type rmwAttempt struct {
	e    *Engine
	t    *catalog.TableDef
	user catalog.UserID
	// cold is the partition's manifest before the read; tracked says there
	// is a cold tier to check.
	cold    []byte
	tracked bool
}

// beginRMW starts an attempt: it notes the partition's manifest before the
// statement reads anything (in a transaction, on its first statement
// touching the partition).
func (e *Engine) beginRMW(ctx context.Context, t *catalog.TableDef, user catalog.UserID) (*rmwAttempt, error) {
	a := &rmwAttempt{e: e, t: t, user: user}
	if e.cold == nil || t.Type == catalog.TableStream {
		return a, nil
	}
	if tx := txOf(ctx); tx != nil {
		return a, tx.noteColdRead(ctx, t, user)
	}
	cold, _, err := e.hot.MetaGet([]byte(manifestKey(t.StoreID, user)))
	if err != nil {
		return nil, err
	}
	a.cold, a.tracked = cold, true
	return a, nil
}

// write runs the attempt's versioned hot write. Outside a transaction it
// holds off flushes and compactions of the partition and fails with a
// conflict if one committed since the read (a version read from the cold
// tier may no longer be the newest, or the read may have missed rows).
func (a *rmwAttempt) write(fn func() error) error {
	if !a.tracked {
		return fn()
	}
	l := a.e.coldState.lock(partKey{a.t.StoreID, a.user})
	l.RLock()
	defer l.RUnlock()
	cur, _, err := a.e.hot.MetaGet([]byte(manifestKey(a.t.StoreID, a.user)))
	if err != nil {
		return err
	}
	if !bytes.Equal(cur, a.cold) {
		return catalog.WrapKind(catalog.KindConflict, hotstore.ErrConflict, "table %s was flushed or compacted while the statement read it", a.t.ID)
	}
	return fn()
}

// rmw runs a read-modify-write statement. Inside a transaction it runs once
// (COMMIT checks the versions read). In autocommit, an attempt that loses a
// race with another writer is retried from a fresh read; once a partition
// has retries pending, its statements take turns (a lane), so that a hot
// row makes progress instead of every writer failing in turn.
func (e *Engine) rmw(ctx context.Context, t *catalog.TableDef, user catalog.UserID, attempt func(*rmwAttempt) (*Result, error)) (*Result, error) {
	if txOf(ctx) != nil {
		a, err := e.beginRMW(ctx, t, user)
		if err != nil {
			return nil, err
		}
		return attempt(a)
	}
	lane := e.coldState.lane(partKey{t.StoreID, user})
	backoff := rmwBackoff
	for try := 1; ; try++ {
		queued := try > 1 || lane.waiting.Load() > 0
		if queued {
			lane.waiting.Add(1)
			lane.mu.Lock()
		}
		res, err := e.rmwOnce(ctx, t, user, attempt)
		if queued {
			lane.mu.Unlock()
			lane.waiting.Add(-1)
		}
		if err == nil || !errors.Is(err, hotstore.ErrConflict) {
			return res, err
		}
		if try == rmwTries {
			return nil, catalog.WrapKind(catalog.KindConflict, err, "statement aborted after %d tries lost to concurrent writers; retry it", try)
		}
		d := backoff/2 + rand.N(backoff)
		if backoff < rmwMaxBackoff {
			backoff *= 2
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(d):
		}
	}
}

func (e *Engine) rmwOnce(ctx context.Context, t *catalog.TableDef, user catalog.UserID, attempt func(*rmwAttempt) (*Result, error)) (*Result, error) {
	a, err := e.beginRMW(ctx, t, user)
	if err != nil {
		return nil, err
	}
	return attempt(a)
}
