//go:build duckdb_arrow

package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/apache/arrow-adbc/go/adbc"
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
)

// paramBatch builds a parameter batch of the schema's types from Go values
// (nil is NULL; a decimal is given as text).
func paramBatch(t testing.TB, schema *arrow.Schema, rows ...[]any) arrow.RecordBatch {
	t.Helper()
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for _, row := range rows {
		for i, v := range row {
			f := b.Field(i)
			if v == nil {
				f.AppendNull()
				continue
			}
			switch fb := f.(type) {
			case *array.Int64Builder:
				fb.Append(int64(v.(int)))
			case *array.Int32Builder:
				fb.Append(int32(v.(int)))
			case *array.Float64Builder:
				fb.Append(v.(float64))
			case *array.StringBuilder:
				fb.Append(v.(string))
			case *array.BooleanBuilder:
				fb.Append(v.(bool))
			case *array.TimestampBuilder:
				fb.Append(arrow.Timestamp(v.(time.Time).UnixMicro()))
			case *array.Decimal128Builder:
				dt := fb.Type().(*arrow.Decimal128Type)
				d, err := decimal128.FromString(v.(string), dt.Precision, dt.Scale)
				require.NoError(t, err)
				fb.Append(d)
			default:
				t.Fatalf("paramBatch: no case for %s", f.Type())
			}
		}
	}
	return b.NewRecordBatch()
}

// boundValues are the Go values the server binds for a batch's rows (as
// flightsrv reads parameters), to bind the same values in the reference.
func boundValues(rec arrow.RecordBatch) [][]any {
	out := make([][]any, rec.NumRows())
	for r := range out {
		row := make([]any, rec.NumCols())
		for c, col := range rec.Columns() {
			if col.IsNull(r) {
				continue
			}
			switch a := col.(type) {
			case *array.Int64:
				row[c] = a.Value(r)
			case *array.Int32:
				row[c] = a.Value(r)
			case *array.Float64:
				row[c] = a.Value(r)
			case *array.String:
				row[c] = a.Value(r)
			case *array.Boolean:
				row[c] = a.Value(r)
			case *array.Timestamp:
				row[c] = a.Value(r).ToTime(arrow.Microsecond)
			case *array.Decimal128:
				row[c] = a.ValueStr(r)
			}
		}
		out[r] = row
	}
	return out
}

// execMany runs a prepared statement bound to a batch of parameter rows
// (ADBC's executemany).
func (c *client) execMany(sql string, params arrow.RecordBatch) (int64, error) {
	ctx := context.Background()
	st, err := c.conn.NewStatement()
	if err != nil {
		return 0, err
	}
	defer st.Close()
	if err := st.SetSqlQuery(sql); err != nil {
		return 0, err
	}
	if err := st.Prepare(ctx); err != nil {
		return 0, err
	}
	if err := st.Bind(ctx, params); err != nil {
		return 0, err
	}
	return st.ExecuteUpdate(ctx)
}

// TestExecuteMany: a prepared statement bound to many parameter rows is one
// statement: it stores exactly what DuckDB's INSERT of each row stores, and
// a failing row (a cast, NOT NULL, bad JSON, a duplicate key, in the batch
// or already stored) writes nothing and is named in the error. So is a
// statement that runs row by row (an expression around a parameter, an
// UPDATE), and a failing batch in a transaction aborts it.
func TestExecuteMany(t *testing.T) {
	ts := startServer(t, t.TempDir())
	root := connect(t, ts.addr, "root", testRootPassword)
	root.mustExec("CREATE NAMESPACE em")

	t.Run("values as DuckDB", func(t *testing.T) {
		root.mustExec("CREATE SHARED TABLE em.v (" + valuesColumnsKalam + ")")
		ref := newRefDB(t)
		ref.mustExec("CREATE TABLE v (" + valuesColumnsDuck + ")")
		const cols = "(id, f, r, t, ts, d, n, i, si, b, tm)"
		schema := arrow.NewSchema([]arrow.Field{
			{Name: "id", Type: arrow.PrimitiveTypes.Int64}, {Name: "f", Type: arrow.PrimitiveTypes.Float64},
			{Name: "r", Type: arrow.BinaryTypes.String}, {Name: "t", Type: arrow.PrimitiveTypes.Int64},
			{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Microsecond}}, {Name: "d", Type: arrow.BinaryTypes.String},
			{Name: "n", Type: &arrow.Decimal128Type{Precision: 12, Scale: 4}}, {Name: "i", Type: arrow.PrimitiveTypes.Float64},
			{Name: "si", Type: arrow.BinaryTypes.String}, {Name: "b", Type: arrow.FixedWidthTypes.Boolean},
			{Name: "tm", Type: arrow.BinaryTypes.String},
		}, nil)
		ts1 := time.Date(2024, 1, 2, 3, 4, 5, 123456000, time.UTC)
		rec := paramBatch(t, schema,
			[]any{1, 0.86688874127962938, "1e-3", 42, ts1, "2024-02-03", "1.2345", 2.5, "7", true, nil},
			[]any{2, -0.0, "0.75", -1, ts1.Add(time.Hour), "2024-02-29 10:11:12", "-0.0005", 3.5, "-32768", false, nil},
			[]any{3, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil},
			[]any{4, 1e300, "3.4e38", 9007199254740993, ts1.AddDate(-30, 0, 0), "0001-01-01", "999999.9995", -0.5, "12.5", true, nil},
		)
		defer rec.Release()
		for _, p := range boundValues(rec) {
			require.NoError(t, ref.exec("INSERT INTO v "+cols+" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", p...))
		}
		n, err := root.execMany("INSERT INTO em.v "+cols+" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rec)
		require.NoError(t, err)
		require.EqualValues(t, 4, n)
		require.Equal(t, ref.mustQuery("SELECT * FROM v ORDER BY id"), root.mustCanon("SELECT * FROM em.v ORDER BY id"))
	})

	count := func(table string) string { return root.mustQuery("SELECT count(*) FROM " + table)[0][0] }
	kv := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}, {Name: "v", Type: arrow.BinaryTypes.String}}, nil)

	t.Run("a failing row writes nothing", func(t *testing.T) {
		root.mustExec("CREATE SHARED TABLE em.a (id BIGINT PRIMARY KEY, v TEXT NOT NULL, n INT, j JSON)")
		root.mustExec("INSERT INTO em.a VALUES (10, 'old', 1, NULL)")
		many := func(n int, bad int, badRow []any) arrow.RecordBatch {
			rows := make([][]any, n)
			for i := range rows {
				rows[i] = []any{100 + i, fmt.Sprintf("v%d", i), fmt.Sprint(i), `{"i":1}`}
			}
			rows[bad-1] = badRow
			return paramBatch(t, arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64},
				{Name: "v", Type: arrow.BinaryTypes.String}, {Name: "n", Type: arrow.BinaryTypes.String},
				{Name: "j", Type: arrow.BinaryTypes.String}}, nil), rows...)
		}
		for _, c := range []struct {
			name string
			bad  int
			row  []any
			code codes.Code
			msg  string
		}{
			{"not null", 4, []any{900, nil, "1", nil}, codes.InvalidArgument, "parameter row 4: null value in column v"},
			{"cast", 7, []any{900, "x", "seven", nil}, codes.InvalidArgument, "parameter row 7: Conversion Error"},
			{"json", 2, []any{900, "x", "1", `{"a" 1}`}, codes.InvalidArgument, "parameter row 2: invalid JSON in column j"},
			{"stored key", 5, []any{10, "x", "1", nil}, codes.AlreadyExists, "parameter row 5: duplicate primary key 10"},
			{"repeated key", 6, []any{101, "x", "1", nil}, codes.AlreadyExists, "parameter row 6: duplicate primary key 101"},
		} {
			rec := many(8, c.bad, c.row)
			_, err := root.execMany("INSERT INTO em.a VALUES ($1, $2, $3, $4)", rec)
			rec.Release()
			requireCode(t, err, c.code, c.msg)
			require.Equal(t, "1", count("em.a"), c.name)
		}

		// Row by row (an expression around a parameter), all or nothing too.
		rec := paramBatch(t, kv, []any{20, "a"}, []any{21, nil}, []any{22, "c"})
		_, err := root.execMany("INSERT INTO em.a (id, v) VALUES (?, upper(?))", rec)
		rec.Release()
		requireCode(t, err, codes.InvalidArgument, "parameter row 2: null value in column v")
		require.Equal(t, "1", count("em.a"))

		// UPDATE: the first row's update is not kept when the second fails.
		rec = paramBatch(t, kv, []any{10, "new"}, []any{10, nil})
		_, err = root.execMany("UPDATE em.a SET v = $2 WHERE id = $1", rec)
		rec.Release()
		requireCode(t, err, codes.InvalidArgument, "parameter row 2: null value in column v")
		require.Equal(t, [][]string{{"10", "old"}}, root.mustQuery("SELECT id, v FROM em.a"))

		// And a good batch, both ways.
		rec = paramBatch(t, kv, []any{30, "a"}, []any{31, "b"})
		n, err := root.execMany("INSERT INTO em.a (id, v) VALUES (?, ?)", rec)
		rec.Release()
		require.NoError(t, err)
		require.EqualValues(t, 2, n)
		rec = paramBatch(t, kv, []any{30, "x"}, []any{31, "y"})
		n, err = root.execMany("UPDATE em.a SET v = $2 WHERE id = $1", rec)
		rec.Release()
		require.NoError(t, err)
		require.EqualValues(t, 2, n)
		require.Equal(t, [][]string{{"10", "old"}, {"30", "x"}, {"31", "y"}}, root.mustQuery("SELECT id, v FROM em.a ORDER BY id"))
	})

	t.Run("transaction", func(t *testing.T) {
		root.mustExec("CREATE SHARED TABLE em.t (id BIGINT PRIMARY KEY, v TEXT)")
		tx := connect(t, ts.addr, "root", testRootPassword)
		require.NoError(t, tx.conn.(adbc.PostInitOptions).SetOption(adbc.OptionKeyAutoCommit, adbc.OptionValueDisabled))
		ctx := context.Background()
		rec := paramBatch(t, kv, []any{1, "a"}, []any{2, "b"})
		n, err := tx.execMany("INSERT INTO em.t VALUES (?, ?)", rec)
		rec.Release()
		require.NoError(t, err)
		require.EqualValues(t, 2, n)
		require.Equal(t, "0", count("em.t"))
		require.Equal(t, [][]string{{"2"}}, tx.mustQuery("SELECT count(*) FROM em.t"))
		// A failing batch aborts the transaction: its commit writes nothing.
		rec = paramBatch(t, kv, []any{3, "c"}, []any{1, "dup"})
		_, err = tx.execMany("INSERT INTO em.t VALUES (?, ?)", rec)
		rec.Release()
		requireCode(t, err, codes.AlreadyExists, "parameter row 2: duplicate primary key 1")
		require.Error(t, tx.conn.Commit(ctx))
		require.Equal(t, "0", count("em.t"))
	})
}
