//go:build duckdb_arrow

package engine

import (
	"strconv"
	"testing"
)

func TestSwapNonFinite(t *testing.T) {
	in := `{"a":Infinity,"b":[-Infinity, NaN],"s":"Infinity \"NaN\" -Infinity","n":1e5,"t":"x\\"}`
	mid := `{"a":1e999999999,"b":[-1e999999999, 2e999999999],"s":"Infinity \"NaN\" -Infinity","n":1e5,"t":"x\\"}`
	if got := string(swapNonFinite([]byte(in), true)); got != mid {
		t.Fatalf("to sentinels:\n got %s\nwant %s", got, mid)
	}
	if got := string(swapNonFinite([]byte(mid), false)); got != in {
		t.Fatalf("back:\n got %s\nwant %s", got, in)
	}
	if _, err := decodeTree([]byte(in)); err != nil {
		t.Fatalf("decodeTree: %v", err)
	}
}

// TestDuckDoubleName: the names DuckDB 1.5.6 gives the columns of
// SELECT 1e-3, -0e0, 1.5e300, 2e0, 1e20, 123.456e0, 1e-7.
func TestDuckDoubleName(t *testing.T) {
	for text, want := range map[string]string{
		"0.001": "0.001", "-0.0": "-0.0", "1.5e300": "1.5e+300", "2.0": "2.0",
		"100000000000000000000.0": "1e+20", "123.456": "123.456", "1e-7": "1e-07",
	} {
		f, err := strconv.ParseFloat(text, 64)
		if err != nil {
			t.Fatal(err)
		}
		if got := duckDoubleName(f, text); got != want {
			t.Errorf("duckDoubleName(%s) = %q, want %q", text, got, want)
		}
	}
}
