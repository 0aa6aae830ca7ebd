//go:build duckdb_arrow

// Command bench is the end-to-end benchmark harness of kalamdb.
//
// It builds the server, starts it on loopback with a fresh temporary data
// directory, runs every scenario against it together with an in-process
// baseline measured in the same run, stops the server and prints one table:
// scenario | ours | baseline | ratio | target | met?. The same figures, with
// a description of the machine, are written to bench/results/<timestamp>.md
// and .json.
//
// Run it with `make bench` (extra flags through BENCHFLAGS), for example
//
//	make bench BENCHFLAGS='-scale 0.1 -only pk_lookup,stream_10m'
//
// Row counts are multiplied by -scale; latency figures are pooled over -reps
// repetitions (at least 5) of -iters timed operations each, after -warmup
// untimed ones.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	cfg := DefaultConfig()
	fs := flag.NewFlagSet("bench", flag.ExitOnError)
	cfg.RegisterFlags(fs)
	_ = fs.Parse(os.Args[1:])
	cfg.Command = strings.TrimSpace("go run -tags=" + BuildTags + " ./bench " + strings.Join(os.Args[1:], " "))
	if err := cfg.Validate(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	rep, err := Run(ctx, cfg, os.Stderr)
	if rep != nil {
		fmt.Println(rep.Table())
		if paths, werr := rep.WriteFiles(cfg.OutDir); werr != nil {
			fmt.Fprintln(os.Stderr, "bench: write results:", werr)
			if err == nil {
				err = werr
			}
		} else {
			fmt.Fprintf(os.Stderr, "bench: wrote %s (%s total)\n", strings.Join(paths, ", "), time.Since(start).Round(time.Second))
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}
