//go:build duckdb_arrow

package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/apache/arrow-adbc/go/adbc"
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/kalamdb/kalamdb-go/engine/duck"
)

// ingestBatchRows is the size of the batches bulk_ingest sends.
const ingestBatchRows = 65536

// ingestSchema is the Arrow schema of the bulk_ingest data: the benchmark
// table's five columns.
var ingestSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "name", Type: arrow.BinaryTypes.String},
	{Name: "v", Type: arrow.PrimitiveTypes.Int64},
	{Name: "x", Type: arrow.PrimitiveTypes.Float64},
	{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Microsecond}},
}, nil)

// ingestBatches builds rows 0..n-1 of the benchmark data set (the rows
// Client.LoadRange inserts: id i, name 'n'||i, v i%100, x i*0.5, ts
// 2024-01-01 + i s) as batches of ingestBatchRows rows. It returns the
// batches and sum(v).
func ingestBatches(n int) ([]arrow.RecordBatch, int64) {
	b := array.NewRecordBuilder(memory.DefaultAllocator, ingestSchema)
	defer b.Release()
	epoch := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	var out []arrow.RecordBatch
	var sumV int64
	for lo := 0; lo < n; lo += ingestBatchRows {
		hi := min(lo+ingestBatchRows, n)
		ids := b.Field(0).(*array.Int64Builder)
		names := b.Field(1).(*array.StringBuilder)
		vs := b.Field(2).(*array.Int64Builder)
		xs := b.Field(3).(*array.Float64Builder)
		tss := b.Field(4).(*array.TimestampBuilder)
		for _, f := range b.Fields() {
			f.Reserve(hi - lo)
		}
		var buf []byte
		for i := lo; i < hi; i++ {
			ids.UnsafeAppend(int64(i))
			buf = strconv.AppendInt(append(buf[:0], 'n'), int64(i), 10)
			names.BinaryBuilder.Append(buf)
			vs.UnsafeAppend(int64(i % 100))
			sumV += int64(i % 100)
			xs.UnsafeAppend(float64(i) * 0.5)
			tss.UnsafeAppend(arrow.Timestamp(epoch + int64(i)*1_000_000))
		}
		out = append(out, b.NewRecordBatch())
	}
	return out, sumV
}

// Ingest bulk-loads recs into a new SHARED table ns.table (ADBC statement
// ingest, create mode: Flight SQL DoPut CommandStatementIngest) and returns
// the row count the server reports.
func (c *Client) Ingest(ctx context.Context, ns, table string, recs []arrow.RecordBatch) (int64, error) {
	stmt, err := c.conn.NewStatement()
	if err != nil {
		return 0, err
	}
	defer stmt.Close()
	for k, v := range map[string]string{
		adbc.OptionKeyIngestTargetTable:      table,
		adbc.OptionValueIngestTargetDBSchema: ns,
		adbc.OptionKeyIngestMode:             adbc.OptionValueIngestModeCreate,
	} {
		if err := stmt.SetOption(k, v); err != nil {
			return 0, fmt.Errorf("ingest option %s: %w", k, err)
		}
	}
	rdr, err := array.NewRecordReader(ingestSchema, recs)
	if err != nil {
		return 0, err
	}
	defer rdr.Release()
	if err := stmt.BindStream(ctx, rdr); err != nil {
		return 0, err
	}
	n, err := stmt.ExecuteUpdate(ctx)
	if err != nil {
		return n, fmt.Errorf("ingest into %s.%s: %w", ns, table, err)
	}
	return n, nil
}

// runBulkIngest measures bulk ingest of n rows through the Go ADBC driver
// into a new SHARED table (a new table per repetition; the batches are built
// in memory before timing) against DuckDB's appender in process appending
// the same batches to a new native table with the same columns.
func runBulkIngest(ctx context.Context, env *Env) ([]Row, error) {
	cfg := env.Cfg
	n := cfg.Rows(10_000_000)
	recs, sumV := ingestBatches(n)
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	// The warm-up (first call of each op) ingests one batch only.
	warm, warmSum := ingestBatches(min(n, ingestBatchRows))
	defer func() {
		for _, r := range warm {
			r.Release()
		}
	}()
	c, err := env.Connect(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	db, conn, _, err := openDuck(env, 0)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	defer conn.Close()
	k, kd := 0, 0
	ts, err := MeasureInterleaved(ctx, cfg.Reps, func() (float64, error) {
		batches, rows, sum := recs, n, sumV
		if k == 0 {
			batches, rows, sum = warm, min(n, ingestBatchRows), warmSum
		}
		table := fmt.Sprintf("ing%d", k)
		k++
		t0 := time.Now()
		got, err := c.Ingest(ctx, benchNamespace, table, batches)
		secs := time.Since(t0).Seconds()
		if err != nil {
			return 0, err
		}
		if got >= 0 && got != int64(rows) {
			return 0, fmt.Errorf("ingest into %s reported %d rows, want %d", table, got, rows)
		}
		q := "SELECT count(*), sum(v) FROM " + benchNamespace + "." + table
		res, err := c.QueryStrings(ctx, q)
		if err != nil {
			return 0, err
		}
		if len(res) != 1 || res[0][0] != strconv.Itoa(rows) || res[0][1] != strconv.FormatInt(sum, 10) {
			return 0, fmt.Errorf("%s: got %v, want %d rows, sum(v) %d", q, res, rows, sum)
		}
		// Drop the table so that the next repetition starts alike (untimed).
		if _, err := c.Exec(ctx, "DROP TABLE "+benchNamespace+"."+table); err != nil {
			return 0, err
		}
		return float64(rows) / secs, nil
	}, func() (float64, error) {
		batches, rows := recs, n
		if kd == 0 {
			batches, rows = warm, min(n, ingestBatchRows)
		}
		table := fmt.Sprintf("ing%d", kd)
		kd++
		if err := conn.Exec("CREATE TABLE " + table + " " + benchColumns); err != nil {
			return 0, err
		}
		t0 := time.Now()
		err := conn.AppendRecord(table, false, batches...)
		secs := time.Since(t0).Seconds()
		if err != nil {
			return 0, err
		}
		got, err := duckCount(conn, table)
		if err != nil {
			return 0, err
		}
		if got != int64(rows) {
			return 0, fmt.Errorf("duckdb appender: %d rows in %s, want %d", got, table, rows)
		}
		return float64(rows) / secs, conn.Exec("DROP TABLE " + table)
	})
	if err != nil {
		return nil, err
	}
	ours, base := ts[0], ts[1]
	env.Logf("ours: %.2f M rows/s; duckdb appender: %.2f M rows/s", ours.Median/1e6, base.Median/1e6)
	return []Row{{Metric: fmt.Sprintf("rows/s (%d rows)", n), Unit: UnitRowsPerSec,
		Ours:         Value{V: ours.Median, Min: ours.Min, Max: ours.Max},
		Baseline:     &Value{V: base.Median, Min: base.Min, Max: base.Max},
		BaselineName: "DuckDB in-process appender, in-memory table with PRIMARY KEY id",
		Target:       &Target{Op: ">=", Value: 1_000_000},
		Note: fmt.Sprintf("ADBC statement ingest (Flight SQL DoPut CommandStatementIngest, create mode) of %d pre-built %d-row batches (id, name, v, x, ts[us]) into a new SHARED table per repetition, timed until ExecuteUpdate returns (durable); count(*) and sum(v) verified after each; baseline appends the same batches with conn.AppendRecord (not durable: in-memory DuckDB)",
			len(recs), ingestBatchRows)}}, nil
}

// duckCount is count(*) of a table of the in-process DuckDB baseline (-1
// when the query returns no row).
func duckCount(conn *duck.Conn, table string) (int64, error) {
	rs, err := conn.Query("SELECT count(*) FROM " + table)
	if err != nil {
		return 0, err
	}
	defer rs.Close()
	got := int64(-1)
	if r := rs.NextBatch(1, 1<<20); r != nil {
		got = r.Column(0).(*array.Int64).Value(0)
		r.Release()
	}
	return got, rs.Err()
}
