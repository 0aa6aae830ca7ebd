package lint

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const module = "github.com/kalamdb/kalamdb-go/"

// goFiles maps each package directory (relative to the repo root) to its
// non-test Go files' imports.
func goFiles(t *testing.T) map[string][]string {
	t.Helper()
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	out := map[string][]string{}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "bin" || d.Name() == "data") && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly|parser.ParseComments)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		out[rel] = append(out[rel], "")
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			out[rel] = append(out[rel], p)
		}
		return nil
	})
	require.NoError(t, err)
	return out
}

// TestImportBoundaries enforces DESIGN.md: Pebble only in hotstore, Parquet
// writing only in coldstore, DuckDB only in engine (and bench), catalog a
// leaf, and no production code importing testing.
func TestImportBoundaries(t *testing.T) {
	rules := []struct {
		prefix  string
		allowed []string
	}{
		{"github.com/cockroachdb/pebble", []string{"hotstore"}},
		{"github.com/apache/arrow-go/v18/parquet", []string{"coldstore", "bench"}},
		{"github.com/duckdb/", []string{"engine", "bench"}},
		{"testing", []string{"internal/testutil"}},
	}
	for dir, imports := range goFiles(t) {
		for _, imp := range imports {
			for _, r := range rules {
				if imp != r.prefix && !strings.HasPrefix(imp, r.prefix) {
					continue
				}
				ok := false
				for _, a := range r.allowed {
					if dir == a || strings.HasPrefix(dir, a+string(filepath.Separator)) {
						ok = true
					}
				}
				require.True(t, ok, "package %s imports %s, which only %v may import", dir, imp, r.allowed)
			}
			if dir == "catalog" && strings.HasPrefix(imp, module) {
				t.Errorf("catalog must stay a leaf package but imports %s", imp)
			}
		}
	}
}

// TestPackagesHaveDocs checks every package has a package doc comment.
func TestPackagesHaveDocs(t *testing.T) {
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	for dir := range goFiles(t) {
		pkgs, err := parser.ParseDir(token.NewFileSet(), filepath.Join(root, dir), func(fi os.FileInfo) bool {
			return !strings.HasSuffix(fi.Name(), "_test.go")
		}, parser.ParseComments|parser.PackageClauseOnly)
		require.NoError(t, err)
		for name, p := range pkgs {
			documented := false
			for _, f := range p.Files {
				if f.Doc != nil && strings.TrimSpace(f.Doc.Text()) != "" {
					documented = true
				}
			}
			require.True(t, documented, "package %s (%s) has no doc comment", name, dir)
		}
	}
}
