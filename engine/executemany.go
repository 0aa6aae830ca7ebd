//go:build duckdb_arrow

package engine

import (
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
)

// ExecuteMany runs one statement for many parameter rows (a Flight SQL
// DoPut of a prepared update, a driver's executemany) and returns the
// summed count. The rows take effect all together or not at all, and an
// error names the parameter row (1-based) it came from:
//
//   - `INSERT … VALUES (?, …)` whose items are all bare parameters runs as
//     ONE statement: DuckDB casts every row's values to the columns' types
//     in one query (the casts its INSERT applies to bound values), then one
//     duplicate check and one synced write.
//   - any other INSERT, UPDATE or DELETE runs once per row inside one
//     transaction: the session's or tx if there is one (a failed row aborts
//     it, as any failed statement does), else one of its own, committed
//     after the last row (retried from the first row if the commit loses a
//     race, as a single statement is).
//   - anything else runs once per row, as before.
//
// tx is the Flight SQL transaction the rows came with, or nil.
func (e *Engine) ExecuteMany(ctx context.Context, s *Session, tx *Tx, sql string, rows [][]any) (*Result, error) {
	if len(rows) <= 1 {
		var params []any
		if len(rows) == 1 {
			params = rows[0]
		}
		return e.ExecuteTx(ctx, s, tx, sql, params...)
	}
	stmt, err := sqlparse.Parse(sql)
	if err != nil {
		return e.executeEachRow(ctx, s, tx, sql, rows) // reports the error as one row would
	}
	if ins, ok := stmt.(*sqlparse.Insert); ok {
		if b, ok := batchParams(ins, rows); ok {
			return e.executeTx(ctx, s, tx, sql, nil, b)
		}
	}
	if !isDML(stmt) || tx != nil || s.Tx() != nil {
		return e.executeEachRow(ctx, s, tx, sql, rows)
	}
	backoff := rmwBackoff
	for try := 1; ; try++ {
		res, err := e.executeAllOrNothing(ctx, s, sql, rows)
		if err == nil || !errors.Is(err, hotstore.ErrConflict) || try == rmwTries {
			return res, err
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

// executeAllOrNothing runs the statement once per row in a transaction of
// its own and commits it.
func (e *Engine) executeAllOrNothing(ctx context.Context, s *Session, sql string, rows [][]any) (*Result, error) {
	tx, err := e.Begin(s)
	if err != nil {
		return nil, err
	}
	res, err := e.executeEachRow(ctx, s, tx, sql, rows)
	if err != nil {
		tx.Rollback()
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, err
	}
	return res, nil
}

// executeEachRow runs the statement once per row and sums the counts.
func (e *Engine) executeEachRow(ctx context.Context, s *Session, tx *Tx, sql string, rows [][]any) (*Result, error) {
	var total int64
	for i, params := range rows {
		res, err := e.ExecuteTx(ctx, s, tx, sql, params...)
		if err != nil {
			return nil, paramRowError(i, err)
		}
		res.Close()
		total += res.RowsAffected
	}
	return affectedResult(total), nil
}

// isDML reports whether stmt writes rows (EXECUTE AS included).
func isDML(stmt sqlparse.Statement) bool {
	if ea, ok := stmt.(*sqlparse.ExecuteAs); ok {
		stmt = ea.Stmt
	}
	switch stmt.(type) {
	case *sqlparse.Insert, *sqlparse.Update, *sqlparse.Delete:
		return true
	}
	return false
}

// paramRowError names the parameter row (0-based i) an error came from.
func paramRowError(i int, err error) error {
	return catalog.WrapKind(catalog.KindOf(err), err, "parameter row %d", i+1)
}

// paramType is the DuckDB type a Go parameter value binds as (see
// duck.Prepared's bind): the batch path must cast exactly those values.
type paramType uint8

const (
	paramNull paramType = iota
	paramBool
	paramInt8
	paramInt16
	paramInt32
	paramInt64
	paramFloat
	paramDouble
	paramVarchar
	paramBlob
)

// paramTypeOf returns the type v binds as; ok is false for a value the
// batch path does not take.
func paramTypeOf(v any) (paramType, bool) {
	switch v.(type) {
	case nil:
		return paramNull, true
	case bool:
		return paramBool, true
	case int8:
		return paramInt8, true
	case int16, uint8:
		return paramInt16, true
	case int32, uint16:
		return paramInt32, true
	case int, int64, uint32:
		return paramInt64, true
	case float32:
		return paramFloat, true
	case float64:
		return paramDouble, true
	case string, time.Time:
		return paramVarchar, true
	case []byte:
		return paramBlob, true
	}
	return 0, false
}

// duckType is the DuckDB column type holding values of the type; a
// parameter that is NULL in every row is held as VARCHAR (NULL casts to
// anything).
func (p paramType) duckType() string {
	return [...]string{"VARCHAR", "BOOLEAN", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "FLOAT", "DOUBLE", "VARCHAR", "BLOB"}[p]
}

func (p paramType) arrowType() arrow.DataType {
	return [...]arrow.DataType{arrow.BinaryTypes.String, arrow.FixedWidthTypes.Boolean, arrow.PrimitiveTypes.Int8,
		arrow.PrimitiveTypes.Int16, arrow.PrimitiveTypes.Int32, arrow.PrimitiveTypes.Int64, arrow.PrimitiveTypes.Float32,
		arrow.PrimitiveTypes.Float64, arrow.BinaryTypes.String, arrow.BinaryTypes.Binary}[p]
}

// paramBatch is the parameter rows of an INSERT … VALUES whose items are
// bare parameters, each parameter of one type in every row (NULL aside).
type paramBatch struct {
	rows [][]any
	// items[j] is the parameter (0-based) the j-th VALUES item is.
	items []int
	// types[p] is the type parameter p binds as.
	types []paramType
}

// batchParams returns the rows as one batch when the INSERT can run once
// for all of them: one VALUES row of bare parameters ($n, or ? numbered
// in order), no RETURNING (a DoPut returns only the count), every row with
// exactly the statement's parameters, and each parameter of one type.
// Anything else runs row by row, where DuckDB reports what is wrong.
func batchParams(ins *sqlparse.Insert, rows [][]any) (*paramBatch, bool) {
	if ins.Returning != "" {
		return nil, false
	}
	vals, ok := sqlparse.ValuesItems(ins.Source)
	if !ok || len(vals) != 1 {
		return nil, false
	}
	width := len(rows[0])
	b := &paramBatch{rows: rows, items: make([]int, len(vals[0])), types: make([]paramType, width)}
	used := make([]bool, width)
	question, dollar := 0, false
	for j, item := range vals[0] {
		p := -1
		switch {
		case item == "?" && !dollar:
			p = question
			question++
		case strings.HasPrefix(item, "$") && question == 0:
			n, err := strconv.Atoi(item[1:])
			if err != nil || n < 1 || strconv.Itoa(n) != item[1:] {
				return nil, false
			}
			p, dollar = n-1, true
		}
		if p < 0 || p >= width {
			return nil, false
		}
		b.items[j], used[p] = p, true
	}
	for _, u := range used {
		if !u {
			return nil, false
		}
	}
	seen := make([]bool, width)
	for _, row := range rows {
		if len(row) != width {
			return nil, false
		}
		for p, v := range row {
			pt, ok := paramTypeOf(v)
			switch {
			case !ok:
				return nil, false
			case pt == paramNull:
			case !seen[p]:
				b.types[p], seen[p] = pt, true
			case b.types[p] != pt:
				return nil, false
			}
		}
	}
	return b, true
}

// record builds the parameters as Arrow columns p0, p1, … of their types.
func (b *paramBatch) record() arrow.RecordBatch {
	fields := make([]arrow.Field, len(b.types))
	for p, pt := range b.types {
		fields[p] = arrow.Field{Name: fmt.Sprintf("p%d", p), Type: pt.arrowType(), Nullable: true}
	}
	rb := array.NewRecordBuilder(memory.DefaultAllocator, arrow.NewSchema(fields, nil))
	defer rb.Release()
	rb.Reserve(len(b.rows))
	for _, row := range b.rows {
		for p, v := range row {
			f := rb.Field(p)
			if v == nil {
				f.AppendNull()
				continue
			}
			switch x := v.(type) {
			case bool:
				f.(*array.BooleanBuilder).Append(x)
			case int8:
				f.(*array.Int8Builder).Append(x)
			case int16:
				f.(*array.Int16Builder).Append(x)
			case uint8:
				f.(*array.Int16Builder).Append(int16(x))
			case int32:
				f.(*array.Int32Builder).Append(x)
			case uint16:
				f.(*array.Int32Builder).Append(int32(x))
			case int:
				f.(*array.Int64Builder).Append(int64(x))
			case int64:
				f.(*array.Int64Builder).Append(x)
			case uint32:
				f.(*array.Int64Builder).Append(int64(x))
			case float32:
				f.(*array.Float32Builder).Append(x)
			case float64:
				f.(*array.Float64Builder).Append(x)
			case string:
				f.(*array.StringBuilder).Append(x)
			case time.Time:
				// As duck.Prepared binds a time.Time.
				f.(*array.StringBuilder).Append(x.UTC().Format("2006-01-02 15:04:05.999999"))
			case []byte:
				f.(*array.BinaryBuilder).Append(x)
			}
		}
	}
	return rb.NewRecordBatch()
}

// insertMany is insert for the parameter rows of a batch: one evaluation
// of all rows in DuckDB, one constraint and duplicate check, one durable
// write (staged, in a transaction).
func (e *Engine) insertMany(ctx context.Context, sub subject, st *sqlparse.Insert, b *paramBatch) (*Result, error) {
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
	if len(b.items) != len(names) {
		// DuckDB's own error, as for one row.
		rec, err := e.evalInsertSource(ctx, sub, t, st, names, given, b.rows[0])
		if err == nil {
			rec.Release()
			err = catalog.Errorf(catalog.KindInvalid, "INSERT into %s names %d columns but gives %d values", t.ID, len(names), len(b.items))
		}
		return nil, paramRowError(0, err)
	}
	rec, err := e.evalParamBatch(ctx, t, given, b)
	if err != nil {
		return nil, err
	}
	defer rec.Release()
	rec, err = e.fillDefaults(sub, t, rec, given)
	if err != nil {
		return nil, err
	}
	defer rec.Release()
	if err := checkConstraints(t, rec); err != nil {
		return nil, constraintRow(t, rec, err)
	}
	n := rec.NumRows()
	seqs := e.seq.NextN(int(n), nil)
	if err := e.insertRows(ctx, t, partition(sub, t), rec, seqs); err != nil {
		return nil, duplicateRow(t, rec, err)
	}
	return affectedResult(n), nil
}

// evalParamBatch loads the parameters into a temporary DuckDB table and
// evaluates the INSERT's source over all of it in one query: each item
// cast to its column's type (as insertSourceSQL and valuesCast cast a
// bound parameter), literal defaults for the columns not given. A failed
// cast names the first parameter row that fails it.
func (e *Engine) evalParamBatch(ctx context.Context, t *catalog.TableDef, given []int, b *paramBatch) (arrow.RecordBatch, error) {
	src := b.record()
	defer src.Release()
	c, err := e.conn()
	if err != nil {
		return nil, err
	}
	raw := "__kdb_params_" + randomToken()
	name := "temp.main." + duck.QuoteIdent(raw)
	var ddl strings.Builder
	ddl.WriteString("CREATE TEMP TABLE " + name + " (")
	for p, pt := range b.types {
		if p > 0 {
			ddl.WriteString(", ")
		}
		fmt.Fprintf(&ddl, "p%d %s", p, pt.duckType())
	}
	ddl.WriteString(")")
	if err := c.Exec(ddl.String()); err != nil {
		e.release(c, true)
		return nil, fmt.Errorf("create parameter table for %s: %w", t.ID, err)
	}
	var sel, failed strings.Builder
	sel.WriteString("SELECT ")
	for i, col := range t.Columns {
		if i > 0 {
			sel.WriteString(", ")
		}
		typ := col.Type.DuckDBType()
		switch {
		case given[i] >= 0:
			p := b.items[given[i]]
			fmt.Fprintf(&sel, "CAST(p%d AS %s)", p, typ)
			if failed.Len() > 0 {
				failed.WriteString(" OR ")
			}
			fmt.Fprintf(&failed, "(p%d IS NOT NULL AND TRY_CAST(p%d AS %s) IS NULL)", p, p, typ)
		case col.Default.Kind == catalog.DefaultLiteral:
			fmt.Fprintf(&sel, "CAST(%s AS %s)", col.Default.Literal, typ)
		default:
			fmt.Fprintf(&sel, "CAST(NULL AS %s)", typ)
		}
		sel.WriteString(" AS " + duck.QuoteIdent(col.Name))
	}
	sel.WriteString(" FROM " + name)
	recs, err := func() ([]arrow.RecordBatch, error) {
		if err := c.AppendRecord(raw, true, src); err != nil {
			return nil, fmt.Errorf("load parameters for %s: %w", t.ID, err)
		}
		rows, err := c.QueryContext(ctx, sel.String())
		if err != nil {
			return nil, e.paramCastError(ctx, c, name, failed.String(), duckError(err, nil))
		}
		defer rows.Close()
		recs, err := rows.All()
		if err != nil {
			return nil, e.paramCastError(ctx, c, name, failed.String(), duckError(err, nil))
		}
		return recs, nil
	}()
	e.release(c, c.Exec("DROP TABLE IF EXISTS "+name) != nil)
	if err != nil {
		return nil, err
	}
	defer releaseAll(recs)
	return e.tableRecord(t, recs)
}

// paramCastError names the first parameter row whose values do not cast
// (the rowid of the parameter table is the row's index).
func (e *Engine) paramCastError(ctx context.Context, c *duck.Conn, table, failed string, err error) error {
	if failed == "" || ctx.Err() != nil {
		return err
	}
	rows, qerr := c.QueryContext(ctx, "SELECT CAST(min(rowid) AS BIGINT) FROM "+table+" WHERE "+failed)
	if qerr != nil {
		return err
	}
	recs, qerr := rows.All()
	rows.Close()
	if qerr != nil {
		return err
	}
	defer releaseAll(recs)
	if len(recs) == 1 && recs[0].NumRows() == 1 {
		if col, ok := recs[0].Column(0).(*array.Int64); ok && col.IsValid(0) {
			return paramRowError(int(col.Value(0)), err)
		}
	}
	return err
}

// constraintRow names the first row of rec that fails checkConstraints
// (err, the error of all rows).
func constraintRow(t *catalog.TableDef, rec arrow.RecordBatch, err error) error {
	for r := int64(0); r < rec.NumRows(); r++ {
		one := rec.NewSlice(r, r+1)
		rerr := checkConstraints(t, one)
		one.Release()
		if rerr != nil {
			// The row's own statement has one row: a JSONError says row 1.
			return paramRowError(int(r), rerr)
		}
	}
	return err
}

// duplicateRow names the row of rec whose primary key err refuses: the
// second row with the key if it repeats within rec, else the row with it.
func duplicateRow(t *catalog.TableDef, rec arrow.RecordBatch, err error) error {
	var de *hotstore.DuplicateKeyError
	pk := t.PrimaryKeyIndex()
	if !errors.As(err, &de) || pk < 0 {
		return err
	}
	col := rec.Column(pk)
	found := -1
	for r := 0; r < col.Len(); r++ {
		if col.IsValid(r) && col.ValueStr(r) == de.Key {
			if found >= 0 {
				return paramRowError(r, err)
			}
			found = r
		}
	}
	if found >= 0 {
		return paramRowError(found, err)
	}
	return err
}
