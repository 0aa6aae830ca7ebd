//go:build duckdb_arrow

package main

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/kalamdb/kalamdb-go/engine/duck"
)

// QueryStrings runs one query and returns every value rendered as a string
// (row-major).
func (c *Client) QueryStrings(ctx context.Context, sql string) ([][]string, error) {
	stmt, err := c.conn.NewStatement()
	if err != nil {
		return nil, err
	}
	defer stmt.Close()
	if err := stmt.SetSqlQuery(sql); err != nil {
		return nil, err
	}
	rdr, _, err := stmt.ExecuteQuery(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", abbrev(sql), err)
	}
	defer rdr.Release()
	var out [][]string
	for rdr.Next() {
		rec := rdr.RecordBatch()
		for i := 0; i < int(rec.NumRows()); i++ {
			row := make([]string, rec.NumCols())
			for j, col := range rec.Columns() {
				row[j] = col.ValueStr(i)
			}
			out = append(out, row)
		}
	}
	if err := rdr.Err(); err != nil {
		return out, fmt.Errorf("%s: %w", abbrev(sql), err)
	}
	return out, nil
}

// jobPoll is how often WaitJob polls system.jobs; it bounds the error of a
// timed flush (on average half of it).
const jobPoll = 10 * time.Millisecond

// FlushTable runs STORAGE FLUSH TABLE and waits for its job to complete.
func (c *Client) FlushTable(ctx context.Context, table string) error {
	rows, err := c.QueryStrings(ctx, "STORAGE FLUSH TABLE "+table)
	if err != nil {
		return err
	}
	if len(rows) != 1 || len(rows[0]) < 1 {
		return fmt.Errorf("STORAGE FLUSH TABLE %s returned %d rows, want 1", table, len(rows))
	}
	return c.WaitJob(ctx, rows[0][0])
}

// WaitJob polls system.jobs until job id completes; failed or cancelled
// jobs are errors.
func (c *Client) WaitJob(ctx context.Context, id string) error {
	q := "SELECT status, error FROM system.jobs WHERE job_id = " + duck.QuoteString(id)
	for {
		rows, err := c.QueryStrings(ctx, q)
		if err != nil {
			return err
		}
		if len(rows) == 1 {
			switch rows[0][0] {
			case "completed":
				return nil
			case "failed", "cancelled":
				return fmt.Errorf("job %s %s: %s", id, rows[0][0], rows[0][1])
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(jobPoll):
		}
	}
}

// TableStats returns SHOW STATS FOR TABLE as column name → value.
func (c *Client) TableStats(ctx context.Context, table string) (map[string]string, error) {
	rows, err := c.QueryStrings(ctx, "SHOW STATS FOR TABLE "+table)
	if err != nil {
		return nil, err
	}
	if len(rows) != 1 {
		return nil, fmt.Errorf("SHOW STATS FOR TABLE %s returned %d rows", table, len(rows))
	}
	cols := []string{"namespace_id", "table_name", "table_type", "schema_version", "partitions", "hot_rows", "segments", "cold_rows", "cold_bytes"}
	if len(rows[0]) != len(cols) {
		return nil, fmt.Errorf("SHOW STATS FOR TABLE %s returned %d columns, want %d", table, len(rows[0]), len(cols))
	}
	m := map[string]string{}
	for i, k := range cols {
		m[k] = rows[0][i]
	}
	return m, nil
}

// segmentDir is where the server keeps a partition's Parquet segments.
func segmentDir(srv *Server, table, partition string) string {
	return filepath.Join(srv.DataDir, "storage", benchNamespace, table, partition)
}

// segmentFiles lists a partition's Parquet segments.
func segmentFiles(srv *Server, table, partition string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(segmentDir(srv, table, partition), "*.parquet"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no Parquet segments in %s", segmentDir(srv, table, partition))
	}
	sort.Strings(files)
	return files, nil
}

// parquetList renders files as a DuckDB list literal for read_parquet.
func parquetList(files []string) string {
	q := make([]string, len(files))
	for i, f := range files {
		q[i] = duck.QuoteString(f)
	}
	return "[" + strings.Join(q, ", ") + "]"
}
