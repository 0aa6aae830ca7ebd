//go:build duckdb_arrow

package main

import (
	"context"
	"testing"

	"github.com/apache/arrow-adbc/go/adbc"
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"
)

func TestPreparedStatements(t *testing.T) {
	ts := startServer(t, t.TempDir())
	root := connect(t, ts.addr, "root", testRootPassword)
	root.mustExec("CREATE NAMESPACE ps")
	root.mustExec("CREATE SHARED TABLE ps.t (id BIGINT PRIMARY KEY, name TEXT, x DOUBLE)")
	ctx := context.Background()

	// A prepared INSERT bound to many parameter rows.
	st, err := root.conn.NewStatement()
	require.NoError(t, err)
	defer st.Close()
	require.NoError(t, st.SetSqlQuery("INSERT INTO ps.t VALUES (?, ?, ?)"))
	require.NoError(t, st.Prepare(ctx))
	ps, err := st.GetParameterSchema()
	require.NoError(t, err)
	require.Equal(t, 3, ps.NumFields())
	schema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}, {Name: "name", Type: arrow.BinaryTypes.String}, {Name: "x", Type: arrow.PrimitiveTypes.Float64}}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	for i := 0; i < 5; i++ {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		b.Field(1).(*array.StringBuilder).Append("n")
		b.Field(2).(*array.Float64Builder).Append(float64(i) / 2)
	}
	rec := b.NewRecordBatch()
	b.Release()
	require.NoError(t, st.Bind(ctx, rec))
	rec.Release()
	n, err := st.ExecuteUpdate(ctx)
	require.NoError(t, err)
	require.EqualValues(t, 5, n)
	require.Equal(t, [][]string{{"5", "5"}}, root.mustQuery("SELECT count(*), sum(x)::BIGINT FROM ps.t"))

	// A prepared query with a parameter, executed twice with new bindings.
	q, err := root.conn.NewStatement()
	require.NoError(t, err)
	defer q.Close()
	require.NoError(t, q.SetSqlQuery("SELECT name, x FROM ps.t WHERE id = $1"))
	require.NoError(t, q.Prepare(ctx))
	for _, id := range []int64{2, 4} {
		pb := array.NewRecordBuilder(memory.DefaultAllocator, arrow.NewSchema([]arrow.Field{{Name: "p", Type: arrow.PrimitiveTypes.Int64}}, nil))
		pb.Field(0).(*array.Int64Builder).Append(id)
		prec := pb.NewRecordBatch()
		pb.Release()
		require.NoError(t, q.Bind(ctx, prec))
		prec.Release()
		rdr, _, err := q.ExecuteQuery(ctx)
		require.NoError(t, err)
		require.True(t, rdr.Next())
		got := rdr.RecordBatch()
		require.EqualValues(t, 1, got.NumRows())
		require.Equal(t, float64(id)/2, got.Column(1).(*array.Float64).Value(0))
		rdr.Release()
	}

	// ExecuteSchema describes without running; DDL and DML describe as updates.
	es, err := root.conn.NewStatement()
	require.NoError(t, err)
	defer es.Close()
	require.NoError(t, es.SetSqlQuery("SELECT id, name, x * 2 AS y FROM ps.t"))
	sch, err := es.(adbc.StatementExecuteSchema).ExecuteSchema(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"id", "name", "y"}, fieldNames(sch))
	require.Equal(t, arrow.PrimitiveTypes.Float64, sch.Field(2).Type)
	require.Equal(t, [][]string{{"5"}}, root.mustQuery("SELECT count(*) FROM ps.t"), "describing ran nothing")

	// Prepared DDL runs as an update.
	ddl, err := root.conn.NewStatement()
	require.NoError(t, err)
	defer ddl.Close()
	require.NoError(t, ddl.SetSqlQuery("CREATE SHARED TABLE ps.u (id INT PRIMARY KEY)"))
	require.NoError(t, ddl.Prepare(ctx))
	_, err = ddl.ExecuteUpdate(ctx)
	require.NoError(t, err)
	require.Equal(t, [][]string{{"0"}}, root.mustQuery("SELECT count(*) FROM ps.u"))
}

func fieldNames(s *arrow.Schema) []string {
	out := make([]string, s.NumFields())
	for i, f := range s.Fields() {
		out[i] = f.Name
	}
	return out
}

func TestMetadataCalls(t *testing.T) {
	ts := startServer(t, t.TempDir())
	root := connect(t, ts.addr, "root", testRootPassword)
	root.mustExec("CREATE NAMESPACE md")
	root.mustExec("CREATE SHARED TABLE md.items (id BIGINT PRIMARY KEY, name TEXT NOT NULL, price DECIMAL(10,2))")
	root.mustExec("CREATE USER TABLE md.notes (k TEXT PRIMARY KEY, body TEXT)")
	ctx := context.Background()

	info, err := root.conn.GetInfo(ctx, []adbc.InfoCode{adbc.InfoVendorName, adbc.InfoVendorVersion})
	require.NoError(t, err)
	vals := map[adbc.InfoCode]string{}
	for info.Next() {
		r := info.RecordBatch()
		codes := r.Column(0).(*array.Uint32)
		u := r.Column(1).(*array.DenseUnion)
		for i := 0; i < int(r.NumRows()); i++ {
			child := u.Field(u.ChildID(i))
			vals[adbc.InfoCode(codes.Value(i))] = child.ValueStr(int(u.ValueOffset(i)))
		}
	}
	info.Release()
	require.Equal(t, "KalamDB", vals[adbc.InfoVendorName])

	types, err := root.conn.GetTableTypes(ctx)
	require.NoError(t, err)
	var tt []string
	for types.Next() {
		c := types.RecordBatch().Column(0).(*array.String)
		for i := 0; i < c.Len(); i++ {
			tt = append(tt, c.Value(i))
		}
	}
	types.Release()
	require.ElementsMatch(t, []string{"USER", "SHARED", "STREAM", "SYSTEM"}, tt)

	ns := "md"
	sch, err := root.conn.GetTableSchema(ctx, nil, &ns, "items")
	require.NoError(t, err)
	require.Equal(t, []string{"id", "name", "price"}, fieldNames(sch))
	require.Equal(t, &arrow.Decimal128Type{Precision: 10, Scale: 2}, sch.Field(2).Type)
	require.False(t, sch.Field(1).Nullable)

	objs, err := root.conn.GetObjects(ctx, adbc.ObjectDepthAll, nil, nil, nil, nil, nil)
	require.NoError(t, err)
	found := map[string]bool{}
	for objs.Next() {
		r := objs.RecordBatch()
		catalogs := r.Column(0).(*array.String)
		schemas := r.Column(1).(*array.List)
		for i := 0; i < catalogs.Len(); i++ {
			require.Equal(t, "kalamdb", catalogs.Value(i))
			st := schemas.ListValues().(*array.Struct)
			start, end := schemas.ValueOffsets(i)
			for j := int(start); j < int(end); j++ {
				schemaName := st.Field(0).(*array.String).Value(j)
				tables := st.Field(1).(*array.List)
				ts := tables.ListValues().(*array.Struct)
				ts0, ts1 := tables.ValueOffsets(j)
				for k := int(ts0); k < int(ts1); k++ {
					found[schemaName+"."+ts.Field(0).(*array.String).Value(k)+":"+ts.Field(1).(*array.String).Value(k)] = true
				}
			}
		}
	}
	require.NoError(t, objs.Err())
	objs.Release()
	require.True(t, found["md.items:SHARED"], "%v", found)
	require.True(t, found["md.notes:USER"], "%v", found)
	require.True(t, found["system.users:SYSTEM"], "%v", found)
}
