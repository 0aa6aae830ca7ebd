package main

import (
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	const pass = `{"Action":"run","Package":"p","Test":"TestA"}
{"Action":"output","Package":"p","Test":"TestA","Output":"=== RUN   TestA\n"}
{"Action":"output","Package":"p","Test":"TestA","Output":"--- PASS: TestA (1.50s)\n"}
{"Action":"pass","Package":"p","Test":"TestA","Elapsed":1.5}
{"Action":"pass","Package":"p","Test":"TestB","Elapsed":0.2}
{"Action":"output","Package":"p","Output":"ok  \tp\t1.7s\n"}
{"Action":"pass","Package":"p","Elapsed":1.7}
`
	var out strings.Builder
	if code := run(strings.NewReader(pass), &out); code != 0 {
		t.Fatalf("exit %d for a passing run:\n%s", code, out.String())
	}
	got := out.String()
	if !strings.Contains(got, "ok  \tp\t1.7s") || strings.Contains(got, "=== RUN") {
		t.Fatalf("package line missing or test noise printed:\n%s", got)
	}
	if strings.Index(got, "p TestA") > strings.Index(got, "p TestB") || !strings.Contains(got, "1.5s  p TestA") {
		t.Fatalf("slowest tests not listed slowest first:\n%s", got)
	}

	const fail = `{"Action":"output","Package":"q","Test":"TestC","Output":"    c_test.go:3: boom\n"}
{"Action":"fail","Package":"q","Test":"TestC","Elapsed":0.1}
{"Action":"output","Package":"q","Output":"FAIL\tq\t0.1s\n"}
{"Action":"fail","Package":"q","Elapsed":0.1}
`
	out.Reset()
	if code := run(strings.NewReader(pass+fail), &out); code != 1 {
		t.Fatalf("exit %d for a failing run", code)
	}
	if !strings.Contains(out.String(), "boom") || !strings.Contains(out.String(), "FAIL\tq") {
		t.Fatalf("failing test's output missing:\n%s", out.String())
	}

	const buildFail = `{"ImportPath":"r","Action":"build-output","Output":"r/x.go:1: syntax error\n"}
{"ImportPath":"r","Action":"build-fail"}
{"Action":"fail","Package":"r","Elapsed":0}
`
	out.Reset()
	if code := run(strings.NewReader(buildFail), &out); code != 1 || !strings.Contains(out.String(), "syntax error") {
		t.Fatalf("a build failure: exit %d, output:\n%s", code, out.String())
	}
	if code := run(strings.NewReader(""), &out); code != 1 {
		t.Fatal("no package result at all must fail")
	}
}
