// Command testreport reads `go test -json` on stdin and prints what a
// plain `go test` run prints — each package's result line, and the output
// of failing tests and failed builds — then the slowest tests. It exits 1
// when any package or test failed, so that `go test -json ./... |
// testreport` fails like `go test ./...` even in a shell without pipefail.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"
)

// event is one line of test2json output.
type event struct {
	Action     string
	Package    string
	Test       string
	Elapsed    float64
	Output     string
	ImportPath string
}

// slowest is how many tests the summary lists.
const slowest = 15

func main() {
	os.Exit(run(os.Stdin, os.Stdout))
}

func run(in io.Reader, out io.Writer) int {
	type key struct{ pkg, test string }
	outputs := map[key][]string{}
	type timing struct {
		name    string
		elapsed float64
	}
	var times []timing
	failed, packages := false, 0
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			fmt.Fprintln(out, sc.Text()) // not JSON: go test's own message
			continue
		}
		k := key{e.Package, e.Test}
		switch e.Action {
		case "output", "build-output":
			if e.Test == "" && e.Action == "output" && isRunNoise(e.Output) {
				continue
			}
			if e.Test == "" {
				fmt.Fprint(out, e.Output) // package lines: ok/FAIL/coverage
				continue
			}
			outputs[k] = append(outputs[k], e.Output)
		case "pass", "skip":
			if e.Test != "" && !strings.Contains(e.Test, "/") && e.Action == "pass" {
				times = append(times, timing{e.Package + " " + e.Test, e.Elapsed})
			}
			if e.Test == "" {
				packages++
			}
			delete(outputs, k)
		case "fail", "build-fail":
			failed = true
			if e.Test != "" {
				fmt.Fprint(out, strings.Join(outputs[k], ""))
			} else {
				packages++
			}
			delete(outputs, k)
		}
	}
	sort.Slice(times, func(i, j int) bool { return times[i].elapsed > times[j].elapsed })
	if len(times) > slowest {
		times = times[:slowest]
	}
	fmt.Fprintf(out, "\nslowest tests:\n")
	for _, t := range times {
		fmt.Fprintf(out, "  %8s  %s\n", (time.Duration(t.elapsed * float64(time.Second))).Round(10*time.Millisecond), t.name)
	}
	if failed || packages == 0 {
		return 1
	}
	return 0
}

// isRunNoise reports the per-test progress lines test2json also sends as
// package output.
func isRunNoise(s string) bool {
	for _, p := range []string{"=== RUN", "=== PAUSE", "=== CONT", "=== NAME", "--- PASS", "--- SKIP", "PASS\n"} {
		if strings.HasPrefix(strings.TrimLeft(s, " "), p) {
			return true
		}
	}
	return false
}
