//go:build duckdb_arrow

package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Units of a Row's values.
const (
	UnitMillis     = "ms"
	UnitRowsPerSec = "rows/s"
	UnitMB         = "MB"
	UnitOpsPerSec  = "ops/s"
)

// Value is one figure with the spread (min..max) of its repetitions; Min
// and Max are both zero when there is no spread to report.
type Value struct {
	V   float64 `json:"value"`
	Min float64 `json:"min,omitempty"`
	Max float64 `json:"max,omitempty"`
}

// Target is a row's goal: Ours Op Value, or Ours Op Value×Baseline when
// OfBaseline is set. Op is one of "<=", "<", ">=", ">", or "report" for a
// figure that is reported without a pass/fail goal.
type Target struct {
	Op         string  `json:"op"`
	Value      float64 `json:"value"`
	OfBaseline bool    `json:"of_baseline,omitempty"`
}

// Row is one line of the result table.
type Row struct {
	// Scenario is set by the runner.
	Scenario string `json:"scenario"`
	// Metric says what is measured (e.g. "p50", "rows/s", "peak RSS").
	Metric string `json:"metric"`
	// Unit is the unit of Ours and Baseline.
	Unit string `json:"unit"`
	// Ours is the figure of the server under test.
	Ours Value `json:"ours"`
	// Baseline is the in-run baseline's figure (nil if none).
	Baseline *Value `json:"baseline,omitempty"`
	// BaselineName says what the baseline is.
	BaselineName string `json:"baseline_name,omitempty"`
	// Target is the goal (nil if none).
	Target *Target `json:"target,omitempty"`
	// Ratio is Ours/Baseline (filled by the report).
	Ratio *float64 `json:"ratio,omitempty"`
	// Met says whether the target is met (filled by the report).
	Met *bool `json:"met,omitempty"`
	// Note is free text shown under the table.
	Note string `json:"note,omitempty"`
}

func (r *Row) finish() {
	r.Ratio, r.Met = nil, nil
	if r.Baseline != nil && r.Baseline.V != 0 {
		v := r.Ours.V / r.Baseline.V
		r.Ratio = &v
	}
	if r.Target == nil {
		return
	}
	goal := r.Target.Value
	if r.Target.OfBaseline {
		if r.Baseline == nil {
			return
		}
		goal *= r.Baseline.V
	}
	var ok bool
	switch r.Target.Op {
	case "<=":
		ok = r.Ours.V <= goal
	case "<":
		ok = r.Ours.V < goal
	case ">=":
		ok = r.Ours.V >= goal
	case ">":
		ok = r.Ours.V > goal
	default:
		return
	}
	r.Met = &ok
}

// Report is the outcome of one run.
type Report struct {
	Started  time.Time `json:"started"`
	Elapsed  string    `json:"elapsed"`
	Command  string    `json:"command"`
	Scale    float64   `json:"scale"`
	Reps     int       `json:"reps"`
	Iters    int       `json:"iters"`
	Warmup   int       `json:"warmup"`
	Duration string    `json:"duration"`
	Threads  int       `json:"threads"`
	Machine  Machine   `json:"machine"`
	Rows     []Row     `json:"rows"`
	Errors   []string  `json:"errors,omitempty"`
}

// Table renders the result table as Markdown, with notes and errors below.
func (r *Report) Table() string {
	var b strings.Builder
	b.WriteString("| scenario | ours | baseline (same run) | ratio ours/base | target | met? |\n")
	b.WriteString("|---|---|---|---|---|---|\n")
	var notes []string
	for i := range r.Rows {
		row := &r.Rows[i]
		row.finish()
		base, ratio, target, met := "—", "—", "—", "—"
		if row.Baseline != nil {
			base = formatValue(*row.Baseline, row.Unit) + " (" + row.BaselineName + ")"
		}
		if row.Ratio != nil {
			ratio = fmt.Sprintf("%.2f×", *row.Ratio)
		}
		if t := row.Target; t != nil && t.Op == "report" {
			target = "report"
		} else if t != nil {
			op := map[string]string{"<=": "≤", ">=": "≥", "<": "<", ">": ">"}[t.Op]
			if t.OfBaseline {
				target = fmt.Sprintf("%s %g× baseline", op, t.Value)
			} else {
				target = fmt.Sprintf("%s %s", op, formatNumber(t.Value, row.Unit))
			}
		}
		if row.Met != nil {
			met = "yes"
			if !*row.Met {
				met = "**NO**"
			}
		}
		fmt.Fprintf(&b, "| %s %s | %s | %s | %s | %s | %s |\n", row.Scenario, row.Metric,
			formatValue(row.Ours, row.Unit), base, ratio, target, met)
		if row.Note != "" {
			notes = append(notes, fmt.Sprintf("- %s %s: %s", row.Scenario, row.Metric, row.Note))
		}
	}
	if len(notes) > 0 {
		b.WriteString("\n" + strings.Join(notes, "\n") + "\n")
	}
	fmt.Fprintf(&b, "\nscale %g, %d reps (latency: %d warm-up + %d×%d timed ops), server --threads %d; spread in parentheses = min..max over repetitions (of per-rep p50 for latencies).\n",
		r.Scale, r.Reps, r.Warmup, r.Reps, r.Iters, r.Threads)
	for _, e := range r.Errors {
		fmt.Fprintf(&b, "\nERROR %s\n", e)
	}
	return b.String()
}

// Markdown renders the whole report: machine, command and table.
func (r *Report) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# kalamdb benchmark %s\n\n", r.Started.Format(time.RFC3339))
	fmt.Fprintf(&b, "- command: `%s`\n", r.Command)
	fmt.Fprintf(&b, "- scale: %g, reps: %d, iters: %d, warm-up: %d, duration: %s, threads: %d\n", r.Scale, r.Reps, r.Iters, r.Warmup, r.Duration, r.Threads)
	fmt.Fprintf(&b, "- machine: %s\n", r.Machine)
	fmt.Fprintf(&b, "- elapsed: %s\n\n", r.Elapsed)
	b.WriteString(r.Table())
	return b.String()
}

// WriteFiles writes <timestamp>.md and <timestamp>.json into dir and returns
// their paths. An empty dir writes nothing.
func (r *Report) WriteFiles(dir string) ([]string, error) {
	if dir == "" {
		return nil, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	md := r.Markdown() // also fills Ratio and Met
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, err
	}
	base := filepath.Join(dir, r.Started.UTC().Format("20060102T150405Z"))
	if err := os.WriteFile(base+".md", []byte(md), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(base+".json", append(js, '\n'), 0o644); err != nil {
		return nil, err
	}
	return []string{base + ".md", base + ".json"}, nil
}

func formatValue(v Value, unit string) string {
	s := formatNumber(v.V, unit)
	if v.Min != 0 || v.Max != 0 {
		s += fmt.Sprintf(" (%s..%s)", trimUnit(formatNumber(v.Min, unit), unit), trimUnit(formatNumber(v.Max, unit), unit))
	}
	return s
}

func trimUnit(s, unit string) string {
	s = strings.TrimSuffix(s, " "+unit)
	return strings.TrimSuffix(s, " M")
}

// formatNumber renders a figure with three significant digits and its unit.
func formatNumber(v float64, unit string) string {
	switch unit {
	case UnitRowsPerSec:
		return sig3(v/1e6) + " M rows/s"
	case "":
		return sig3(v)
	}
	return sig3(v) + " " + unit
}

func sig3(v float64) string {
	a := math.Abs(v)
	switch {
	case a == 0:
		return "0"
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	case a >= 1:
		return fmt.Sprintf("%.2f", v)
	case a >= 0.1:
		return fmt.Sprintf("%.3f", v)
	}
	return fmt.Sprintf("%.3g", v)
}
