//go:build duckdb_arrow

package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"

	"github.com/kalamdb/kalamdb-go/engine/duck"
)

// Machine describes where a run happened.
type Machine struct {
	Cores    int    `json:"cores"`
	MemoryMB int64  `json:"memory_mb"`
	CPU      string `json:"cpu"`
	OS       string `json:"os"`
	Go       string `json:"go"`
	DuckDB   string `json:"duckdb"`
	Commit   string `json:"commit"`
}

// DescribeMachine gathers the machine's cores, memory, CPU model, the Go and
// DuckDB versions and the git commit (suffixed "-dirty" with local changes).
func DescribeMachine() Machine {
	m := Machine{
		Cores:  runtime.NumCPU(),
		OS:     runtime.GOOS + "/" + runtime.GOARCH,
		Go:     runtime.Version(),
		DuckDB: duck.Version(),
		CPU:    cpuModel(),
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				if f := strings.Fields(rest); len(f) > 0 {
					kb, _ := strconv.ParseInt(f[0], 10, 64)
					m.MemoryMB = kb >> 10
				}
			}
		}
	}
	root, _ := moduleRoot()
	git := func(args ...string) string {
		cmd := exec.Command("git", args...)
		cmd.Dir = root
		b, err := cmd.Output()
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(b))
	}
	m.Commit = git("rev-parse", "--short", "HEAD")
	if m.Commit == "" {
		m.Commit = "unknown"
	} else if git("status", "--porcelain", "--untracked-files=no") != "" {
		m.Commit += "-dirty"
	}
	return m
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// String is a one-line description.
func (m Machine) String() string {
	return fmt.Sprintf("%d cores (%s), %d MB RAM, %s, %s, DuckDB %s, commit %s",
		m.Cores, m.CPU, m.MemoryMB, m.OS, m.Go, m.DuckDB, m.Commit)
}
