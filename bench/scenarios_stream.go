//go:build duckdb_arrow

package main

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// streamBatchRows is the batch size of the raw DoGet baseline.
const streamBatchRows = 65536

// runStream measures reading a large generated result through ADBC against
// (a) a raw arrow-go Flight DoGet of the same rows pre-built in memory and
// (b) DuckDB in process, and samples the server's peak RSS while streaming.
func runStream(ctx context.Context, env *Env) ([]Row, error) {
	cfg := env.Cfg
	n := cfg.Rows(10_000_000)
	sql := fmt.Sprintf("SELECT i, i*2 AS j, i%%7 AS k FROM range(%d) t(i)", n)
	c, err := env.Connect(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	doget, err := startRawDoGet(n)
	if err != nil {
		return nil, fmt.Errorf("raw DoGet baseline: %w", err)
	}
	defer doget.Close()
	db, conn, _, err := openDuck(env, 0)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	defer conn.Close()
	rate := func(got int64, t0 time.Time, err error, what string) (float64, error) {
		if err == nil && got != int64(n) {
			err = fmt.Errorf("%s returned %d rows, want %d", what, got, n)
		}
		return float64(got) / time.Since(t0).Seconds(), err
	}
	idle, _ := env.Server.RSS()
	sampler := SampleRSS(env.Server.PID, 50*time.Millisecond)
	ts, err := MeasureInterleaved(ctx, cfg.Reps, func() (float64, error) {
		t0 := time.Now()
		got, err := c.Query(ctx, sql)
		return rate(got, t0, err, "ADBC stream")
	}, func() (float64, error) {
		t0 := time.Now()
		got, err := doget.Read(ctx)
		return rate(got, t0, err, "raw DoGet")
	}, func() (float64, error) {
		t0 := time.Now()
		rows, err := conn.Query(sql)
		if err != nil {
			return 0, err
		}
		got, err := countRows(rows)
		return rate(got, t0, err, "duckdb")
	})
	peak := sampler.Stop()
	if err != nil {
		return nil, err
	}
	ours, raw, duckRate := ts[0], ts[1], ts[2]
	env.Logf("ours %.2f, raw DoGet %.2f, duckdb %.2f M rows/s; server peak RSS %d MB",
		ours.Median/1e6, raw.Median/1e6, duckRate.Median/1e6, peak>>20)

	oursV := Value{V: ours.Median, Min: ours.Min, Max: ours.Max}
	rowsMetric := fmt.Sprintf("rows/s (%d rows)", n)
	return []Row{
		{Metric: rowsMetric, Unit: UnitRowsPerSec, Ours: oursV,
			Baseline:     &Value{V: raw.Median, Min: raw.Min, Max: raw.Max},
			BaselineName: "raw arrow-go Flight DoGet, 64k-row batches, loopback",
			Target:       &Target{Op: ">=", Value: 0.9, OfBaseline: true}},
		{Metric: rowsMetric, Unit: UnitRowsPerSec, Ours: oursV,
			Baseline:     &Value{V: duckRate.Median, Min: duckRate.Min, Max: duckRate.Max},
			BaselineName: "DuckDB in-process"},
		{Metric: "server peak RSS", Unit: UnitMB, Ours: Value{V: float64(peak) / (1 << 20)},
			Target: &Target{Op: "<", Value: 200},
			Note:   fmt.Sprintf("VmRSS sampled every 50 ms during the scenario (the server is idle during the baseline reps); %.0f MB before streaming", float64(idle)/(1<<20))},
	}, nil
}

// streamSchema is the schema of the stream scenario's rows.
var streamSchema = arrow.NewSchema([]arrow.Field{
	{Name: "i", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "j", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "k", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
}, nil)

// buildStreamBatches builds rows (i, 2i, i%7) for i in [0, n) as batches.
func buildStreamBatches(n int) []arrow.RecordBatch {
	var out []arrow.RecordBatch
	b := array.NewRecordBuilder(memory.DefaultAllocator, streamSchema)
	defer b.Release()
	for lo := 0; lo < n; lo += streamBatchRows {
		hi := min(lo+streamBatchRows, n)
		ib, jb, kb := b.Field(0).(*array.Int64Builder), b.Field(1).(*array.Int64Builder), b.Field(2).(*array.Int64Builder)
		ib.Reserve(hi - lo)
		jb.Reserve(hi - lo)
		kb.Reserve(hi - lo)
		for i := lo; i < hi; i++ {
			ib.UnsafeAppend(int64(i))
			jb.UnsafeAppend(int64(2 * i))
			kb.UnsafeAppend(int64(i % 7))
		}
		out = append(out, b.NewRecordBatch())
	}
	return out
}

// rawDoGetServer serves its pre-built batches to every DoGet.
type rawDoGetServer struct {
	flight.BaseFlightServer
	recs []arrow.RecordBatch
}

// DoGet writes every batch to the stream.
func (s *rawDoGetServer) DoGet(_ *flight.Ticket, fs flight.FlightService_DoGetServer) error {
	w := flight.NewRecordWriter(fs, ipc.WithSchema(streamSchema))
	defer w.Close()
	for _, rec := range s.recs {
		if err := w.Write(rec); err != nil {
			return err
		}
	}
	return nil
}

// rawDoGet is a Flight server in this process serving pre-built batches,
// with a client connected to it over loopback.
type rawDoGet struct {
	recs   []arrow.RecordBatch
	srv    flight.Server
	served chan error
	cl     flight.Client
}

// startRawDoGet builds n rows and starts serving them.
func startRawDoGet(n int) (*rawDoGet, error) {
	d := &rawDoGet{recs: buildStreamBatches(n), srv: flight.NewServerWithMiddleware(nil), served: make(chan error, 1)}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		d.release()
		return nil, err
	}
	d.srv.InitListener(lis)
	d.srv.RegisterFlightService(&rawDoGetServer{recs: d.recs})
	go func() { d.served <- d.srv.Serve() }()
	d.cl, err = flight.NewClientWithMiddleware(lis.Addr().String(), nil, nil, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// Read fetches every row with one DoGet and returns the row count.
func (d *rawDoGet) Read(ctx context.Context) (int64, error) {
	stream, err := d.cl.DoGet(ctx, &flight.Ticket{Ticket: []byte("all")})
	if err != nil {
		return 0, err
	}
	rdr, err := flight.NewRecordReader(stream)
	if err != nil {
		return 0, err
	}
	defer rdr.Release()
	var got int64
	for rdr.Next() {
		got += rdr.RecordBatch().NumRows()
	}
	return got, rdr.Err()
}

// Close stops the server and frees the batches.
func (d *rawDoGet) Close() {
	if d.cl != nil {
		_ = d.cl.Close()
	}
	d.srv.Shutdown()
	<-d.served
	d.release()
}

func (d *rawDoGet) release() {
	for _, r := range d.recs {
		r.Release()
	}
	d.recs = nil
}
