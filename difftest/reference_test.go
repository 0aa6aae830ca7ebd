//go:build duckdb_arrow

package difftest

import (
	"context"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/kalamdb/kalamdb-go/engine/duck"
)

// duckSide runs steps on DuckDB in process (engine/duck, the same library
// and version the server links), on plain tables of the same column types:
// the reference. Each run gets a fresh in-memory database.
type duckSide struct {
	db   *duck.DB
	conn *duck.Conn
	// inTx says the workload has a transaction open (BEGIN … COMMIT).
	inTx bool
}

func openDuck() (*duckSide, error) {
	db, err := duck.Open(duck.Options{Threads: 1})
	if err != nil {
		return nil, err
	}
	conn, err := db.Connect()
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	return &duckSide{db: db, conn: conn}, nil
}

func (d *duckSide) close() {
	d.conn.Close()
	_ = d.db.Close()
}

// run executes one step. Flush, compaction and fold mean nothing to DuckDB.
func (d *duckSide) run(_ context.Context, st *step, ns string) outcome {
	switch st.mode {
	case modeFlush, modeCompact, modeFold:
		return outcome{}
	}
	sql := st.refSQL(ns)
	switch w := strings.ToUpper(strings.Fields(sql + " x")[0]); {
	case w == "BEGIN" || w == "START":
		d.inTx = true
	case w == "COMMIT" || w == "END" || w == "ROLLBACK" || w == "ABORT":
		d.inTx = false
	}
	var o outcome
	runs := st.params
	if len(runs) == 0 {
		runs = [][]any{nil}
	}
	// The server runs the parameter rows of a prepared update as one
	// statement: all of them or none. Outside the workload's own
	// transaction that is DuckDB's transaction around the runs; inside
	// it, a failing run aborts it on both sides.
	batch := st.mode == modeExec && len(runs) > 1 && !d.inTx
	if batch {
		if err := d.conn.Exec("BEGIN"); err != nil {
			return outcome{err: err}
		}
	}
	for _, params := range runs {
		recs, schema, err := d.query(sql, params)
		defer release(recs)
		if err != nil {
			if batch {
				_ = d.conn.Exec("ROLLBACK")
			}
			return outcome{err: err}
		}
		o.schema = schema
		if st.mode == modeExec {
			o.hasCount = true
			if st.dml {
				n, err := countOf(recs)
				if err != nil {
					return outcome{err: err}
				}
				o.count += n
			}
			continue
		}
		for _, rec := range recs {
			o.rows = append(o.rows, recordRows(rec, st.signlessZero)...)
		}
	}
	if batch {
		if err := d.conn.Exec("COMMIT"); err != nil {
			return outcome{err: err}
		}
	}
	return o
}

func (d *duckSide) query(sql string, params []any) ([]arrow.RecordBatch, *arrow.Schema, error) {
	rows, err := d.conn.Query(sql, params...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	recs, err := rows.All()
	return recs, rows.Schema(), err
}

// countOf reads the row count DuckDB returns for INSERT, UPDATE and DELETE
// without RETURNING (one BIGINT column, one row).
func countOf(recs []arrow.RecordBatch) (int64, error) {
	for _, rec := range recs {
		if rec.NumRows() > 0 && rec.NumCols() == 1 {
			if c, ok := rec.Column(0).(*array.Int64); ok {
				return c.Value(0), nil
			}
		}
	}
	return 0, fmt.Errorf("no row count in DuckDB's answer")
}

// strings runs a query on the reference and returns its cells as text
// (the generator's view of the current keys).
func (d *duckSide) strings(sql string) ([][]string, error) {
	recs, _, err := d.query(sql, nil)
	defer release(recs)
	if err != nil {
		return nil, err
	}
	var out [][]string
	for _, rec := range recs {
		for r := 0; r < int(rec.NumRows()); r++ {
			row := make([]string, rec.NumCols())
			for c, col := range rec.Columns() {
				if col.IsNull(r) {
					row[c] = "NULL"
				} else {
					// A copy: Arrow strings alias buffers that DuckDB's
					// pool reuses once the batch is released.
					row[c] = strings.Clone(col.ValueStr(r))
				}
			}
			out = append(out, row)
		}
	}
	return out, nil
}

func release(recs []arrow.RecordBatch) {
	for _, r := range recs {
		r.Release()
	}
}
