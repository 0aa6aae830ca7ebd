//go:build duckdb_arrow

package engine

import "testing"

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
