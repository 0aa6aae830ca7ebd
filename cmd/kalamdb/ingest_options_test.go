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

// TestIngestOptionsFromStockDrivers: the Go ADBC driver refuses unknown
// statement options, so kalamdb.table_type and kalamdb.primary_key travel
// as call headers; and a user-role account's ingest creates a USER table
// without any option.
func TestIngestOptionsFromStockDrivers(t *testing.T) {
	ts := startServer(t, t.TempDir())
	root := connect(t, ts.addr, "root", testRootPassword)
	root.mustExec("CREATE NAMESPACE io")
	ingest := func(c *client, table string, opts map[string]string) error {
		schema := arrow.NewSchema([]arrow.Field{{Name: "k", Type: arrow.PrimitiveTypes.Int64}, {Name: "v", Type: arrow.BinaryTypes.String}}, nil)
		b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
		defer b.Release()
		b.Field(0).(*array.Int64Builder).AppendValues([]int64{1, 2}, nil)
		b.Field(1).(*array.StringBuilder).AppendValues([]string{"a", "b"}, nil)
		rec := b.NewRecordBatch()
		defer rec.Release()
		st, err := c.conn.NewStatement()
		require.NoError(t, err)
		defer st.Close()
		for k, v := range map[string]string{adbc.OptionKeyIngestTargetTable: table, adbc.OptionValueIngestTargetDBSchema: "io",
			adbc.OptionKeyIngestMode: adbc.OptionValueIngestModeCreate} {
			require.NoError(t, st.SetOption(k, v))
		}
		for k, v := range opts {
			if err := st.SetOption(k, v); err != nil {
				return err
			}
		}
		rdr, err := array.NewRecordReader(schema, []arrow.RecordBatch{rec})
		require.NoError(t, err)
		defer rdr.Release()
		require.NoError(t, st.BindStream(context.Background(), rdr))
		_, err = st.ExecuteUpdate(context.Background())
		return err
	}
	info := func(table string) [][]string {
		return root.mustQuery("SELECT t.table_type, c.column_name FROM system.tables t JOIN system.columns c USING (namespace_id, table_name) " +
			"WHERE t.namespace_id = 'io' AND t.table_name = '" + table + "' AND c.primary_key")
	}

	// The driver refuses the option itself.
	require.Error(t, ingest(root, "refused", map[string]string{"kalamdb.table_type": "USER"}))
	// The call headers carry it.
	hdr := "adbc.flight.sql.rpc.call_header."
	require.NoError(t, ingest(root, "byhdr", map[string]string{hdr + "kalamdb-table-type": "USER", hdr + "kalamdb-primary-key": "k"}))
	require.Equal(t, [][]string{{"USER", "k"}}, info("byhdr"))
	require.Equal(t, [][]string{{"1", "a"}, {"2", "b"}}, root.mustQuery("SELECT k, v FROM io.byhdr ORDER BY k"))

	// A user-role account may create USER tables only: its ingest makes one.
	ivy := newUser(t, ts.addr, root, "ivy")
	require.NoError(t, ingest(ivy, "mine", map[string]string{hdr + "kalamdb-primary-key": "k"}))
	require.Equal(t, [][]string{{"USER", "k"}}, info("mine"))
	require.Equal(t, [][]string{{"2"}}, ivy.mustQuery("SELECT count(*) FROM io.mine"))
	require.Equal(t, [][]string{{"0"}}, root.mustQuery("SELECT count(*) FROM io.mine"))
}
