//go:build duckdb_arrow

package main

import (
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
)

// TestErrorsInUserTerms: error messages say what the user wrote wrong in
// the user's terms, and never show the server's rewrite (scoped relation
// names, the rewritten SQL) or internal package names.
func TestErrorsInUserTerms(t *testing.T) {
	ts := startServer(t, t.TempDir())
	root := connect(t, ts.addr, "root", testRootPassword)
	root.mustExec("CREATE NAMESPACE app")
	root.mustExec("CREATE SHARED TABLE app.products (sku TEXT PRIMARY KEY, name TEXT, price DOUBLE, tags TEXT)")
	root.mustExec("INSERT INTO app.products VALUES ('a', 'n', 1.0, 't')")
	for _, c := range []struct {
		sql, want string
		code      codes.Code
	}{
		{"INSERT INTO app.products VALUES ('b', 'x')", "INSERT has 2 values but app.products has 4 columns (sku, name, price, tags)", codes.InvalidArgument},
		{"INSERT INTO app.products (sku, name) VALUES ('b', 'x', 1)", "INSERT has 3 values but names 2 columns (sku, name)", codes.InvalidArgument},
		{"INSERT INTO app.products VALUES ('b', 'x', 1, 't'), ('c')", "INSERT has 1 values in row 2 but app.products has 4 columns", codes.InvalidArgument},
		{"INSERT INTO app.products VALUES ('a', 'n', 2.0, 't')", "duplicate primary key a in app.products", codes.AlreadyExists},
		{"SELECT nosuch FROM app.products", `Referenced column "nosuch" not found`, codes.InvalidArgument},
		{"SELECT p.nosuch FROM app.products p JOIN app.products q ON p.sku = q.sku", "nosuch", codes.InvalidArgument},
	} {
		for _, run := range []func() error{
			func() error { _, err := root.exec(c.sql); return err },
			func() error { _, _, err := root.query(c.sql); return err },
		} {
			err := run()
			requireCode(t, err, c.code, c.want)
			for _, leak := range []string{"__kdb", "hotstore", "LINE 1", "_seq"} {
				require.NotContains(t, err.Error(), leak, c.sql)
			}
		}
	}
}
