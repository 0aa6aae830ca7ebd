//go:build duckdb_arrow

package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/kalamdb/kalamdb-go/catalog"
	"github.com/kalamdb/kalamdb-go/engine/duck"
	"github.com/kalamdb/kalamdb-go/hotstore"
)

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// latencyRows turns two latency series into p50 and p99 rows.
func latencyRows(ours, base Latency, baseName string, p50Goal, p99Goal float64) []Row {
	p50 := Row{Metric: "p50", Unit: UnitMillis,
		Ours:     Value{V: ms(ours.P50), Min: ms(ours.RepP50Min), Max: ms(ours.RepP50Max)},
		Baseline: &Value{V: ms(base.P50), Min: ms(base.RepP50Min), Max: ms(base.RepP50Max)}, BaselineName: baseName}
	p99 := Row{Metric: "p99", Unit: UnitMillis, Ours: Value{V: ms(ours.P99)},
		Baseline: &Value{V: ms(base.P99)}, BaselineName: baseName}
	if p50Goal > 0 {
		p50.Target = &Target{Op: "<=", Value: p50Goal}
	}
	if p99Goal > 0 {
		p99.Target = &Target{Op: "<=", Value: p99Goal}
	}
	return []Row{p50, p99}
}

// runInsertSingle measures single-row INSERT latency over Flight SQL against
// the same single-row insert straight into the hot store (synced).
func runInsertSingle(ctx context.Context, env *Env) ([]Row, error) {
	cfg := env.Cfg
	c, err := env.Connect(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if _, err := c.Exec(ctx, "CREATE USER TABLE b.ins "+benchColumns); err != nil {
		return nil, err
	}
	store, err := hotstore.Open(filepath.Join(env.Scratch, "hot"), hotstore.Options{})
	if err != nil {
		return nil, err
	}
	defer store.Close()
	def := benchTableDef()
	user := catalog.RootUser
	b := array.NewRecordBuilder(memory.DefaultAllocator, def.UserSchema())
	defer b.Release()
	ts, _ := arrow.TimestampFromString("2024-01-01 00:00:00", arrow.Microsecond)
	lat, err := MeasureLatencies(ctx, cfg.Reps, cfg.Warmup, cfg.Iters, func(i int) error {
		_, err := c.Exec(ctx, fmt.Sprintf("INSERT INTO b.ins VALUES (%d, 'n%d', %d, %g, TIMESTAMP '2024-01-01 00:00:00')", i, i, i%100, float64(i)*0.5))
		return err
	}, func(i int) error {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		b.Field(1).(*array.StringBuilder).Append(fmt.Sprintf("n%d", i))
		b.Field(2).(*array.Int64Builder).Append(int64(i % 100))
		b.Field(3).(*array.Float64Builder).Append(float64(i) * 0.5)
		b.Field(4).(*array.TimestampBuilder).Append(ts)
		rec := b.NewRecordBatch()
		defer rec.Release()
		return store.Insert(ctx, def, user, rec, []int64{int64(i + 1)})
	})
	if err != nil {
		return nil, err
	}
	ours, base := lat[0], lat[1]
	env.Logf("ours: p50 %s p99 %s; hotstore: p50 %s p99 %s", ours.P50, ours.P99, base.P50, base.P99)
	return latencyRows(ours, base, "hotstore.Insert in-process, synced", 1, 5), nil
}

// benchTableDef is the hot-store definition of the benchmark table.
func benchTableDef() *catalog.TableDef {
	col := func(id uint32, name string, k catalog.TypeKind) catalog.Column {
		return catalog.Column{ID: id, Name: name, Type: catalog.DataType{Kind: k}}
	}
	cols := []catalog.Column{
		col(1, "id", catalog.TypeBigInt),
		col(2, "name", catalog.TypeText),
		col(3, "v", catalog.TypeBigInt),
		col(4, "x", catalog.TypeDouble),
		col(5, "ts", catalog.TypeTimestamp),
	}
	cols[0].PrimaryKey, cols[0].NotNull = true, true
	return (&catalog.TableDef{
		ID:           catalog.TableID{Namespace: "b", Name: "ins"},
		StoreID:      1,
		Type:         catalog.TableUser,
		Columns:      cols,
		NextColumnID: 6,
	}).Seal()
}

// openDuck opens an in-process DuckDB with the run's thread count and
// creates table tbl holding rows 0..n-1 of the benchmark data set (the same
// rows Client.LoadRange inserts). It returns the seconds the load took.
// SQL may read and write files under allowed only.
func openDuck(env *Env, n int, allowed ...string) (*duck.DB, *duck.Conn, float64, error) {
	db, err := duck.Open(duck.Options{Threads: env.Cfg.Threads, TempDir: env.Scratch, AllowedDirs: allowed})
	if err != nil {
		return nil, nil, 0, err
	}
	conn, err := db.Connect()
	if err != nil {
		db.Close()
		return nil, nil, 0, err
	}
	t0 := time.Now()
	err = conn.Exec("CREATE TABLE tbl " + benchColumns)
	if err == nil {
		err = conn.Exec(fmt.Sprintf("INSERT INTO tbl SELECT i, 'n'||i, i%%100, i*0.5, TIMESTAMP '2024-01-01' + to_seconds(i) FROM range(%d) r(i)", n))
	}
	if err != nil {
		conn.Close()
		db.Close()
		return nil, nil, 0, err
	}
	return db, conn, time.Since(t0).Seconds(), nil
}

// countRows drains a DuckDB result and closes it.
func countRows(rows *duck.Rows) (int64, error) {
	defer rows.Close()
	var n int64
	for {
		rec := rows.NextBatch(65536, 8<<20)
		if rec == nil {
			break
		}
		n += rec.NumRows()
		rec.Release()
	}
	return n, rows.Err()
}

// runPKLookup measures primary-key point lookups over Flight SQL on a
// 100k-row table against a prepared point query in DuckDB in process.
func runPKLookup(ctx context.Context, env *Env) ([]Row, error) {
	cfg := env.Cfg
	n := cfg.Rows(100_000)
	c, err := env.Connect(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if _, err := c.Exec(ctx, "CREATE USER TABLE b.pk "+benchColumns); err != nil {
		return nil, err
	}
	if err := c.LoadRange(ctx, "b.pk", 0, n); err != nil {
		return nil, err
	}
	db, conn, _, err := openDuck(env, n)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	defer conn.Close()
	p, err := conn.Prepare("SELECT * FROM tbl WHERE id = ?")
	if err != nil {
		return nil, err
	}
	defer p.Close()
	// Both sides look up the same pseudo-random id sequence.
	rngOurs, rngBase := rand.New(rand.NewPCG(1, 2)), rand.New(rand.NewPCG(1, 2))
	lat, err := MeasureLatencies(ctx, cfg.Reps, cfg.Warmup, cfg.Iters, func(int) error {
		id := rngOurs.IntN(n)
		got, err := c.Query(ctx, fmt.Sprintf("SELECT * FROM b.pk WHERE id = %d", id))
		if err == nil && got != 1 {
			err = fmt.Errorf("lookup of id %d returned %d rows", id, got)
		}
		return err
	}, func(int) error {
		id := rngBase.IntN(n)
		rows, err := p.Query(int64(id))
		if err != nil {
			return err
		}
		got, err := countRows(rows)
		if err == nil && got != 1 {
			err = fmt.Errorf("duckdb lookup of id %d returned %d rows", id, got)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	ours, base := lat[0], lat[1]
	env.Logf("ours: p50 %s p99 %s; duckdb: p50 %s p99 %s", ours.P50, ours.P99, base.P50, base.P99)
	rows := latencyRows(ours, base, "DuckDB in-process prepared", 2, 0)
	for i := range rows {
		rows[i].Metric += fmt.Sprintf(" (%d rows)", n)
	}
	return rows, nil
}
