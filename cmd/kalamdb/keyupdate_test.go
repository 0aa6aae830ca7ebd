//go:build duckdb_arrow

package main

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestKeyUpdateMatchesDuckDB runs each statement of the shape the engine
// applies without DuckDB (UPDATE t SET c = c ± n | c = n WHERE pk = k) on one
// table, and the same statement with the key in parentheses (which DuckDB
// runs) on a twin table: rows affected, errors and the rows left agree,
// for hot and flushed rows, NULLs, the integer limits and missing keys.
func TestKeyUpdateMatchesDuckDB(t *testing.T) {
	ts := startServer(t, t.TempDir())
	root := connect(t, ts.addr, "root", testRootPassword)
	root.mustExec("CREATE NAMESPACE ku")
	for _, tbl := range []string{"fast", "slow"} {
		root.mustExec("CREATE SHARED TABLE ku." + tbl + " (id INT PRIMARY KEY, s SMALLINT, i INT, b BIGINT, nn BIGINT NOT NULL, x TEXT)")
		root.mustExec("INSERT INTO ku." + tbl + " VALUES (4, 4, 4, 4, 4, 'cold')")
		flush(t, root, "ku."+tbl)
		root.mustExec("INSERT INTO ku." + tbl + " VALUES (1, 1, 1, 1, 1, 'one'), (2, NULL, NULL, NULL, 2, NULL), " +
			"(3, 32767, 2147483647, 9223372036854775807, -9223372036854775808, 'max')")
	}
	for _, stmt := range []string{
		"UPDATE %s SET b = b + 1 WHERE id = 1",
		"UPDATE %s SET b = b - 5 WHERE id = 1",
		"UPDATE %s SET b=b+7 WHERE id=1",
		"UPDATE %s SET i = 42 WHERE id = 1",
		"UPDATE %s SET s = -32768 WHERE id = 1",
		"UPDATE %s SET i = i + 1 WHERE id = 2",
		"UPDATE %s SET nn = nn + 1 WHERE id = 2",
		"UPDATE %s SET s = s + 1 WHERE id = 3",
		"UPDATE %s SET b = b + 1 WHERE id = 3",
		"UPDATE %s SET nn = nn - 1 WHERE id = 3",
		"UPDATE %s SET i = 3000000000 WHERE id = 1",
		"UPDATE %s SET b = b + 1 WHERE id = 99",
		"UPDATE %s SET b = b + 1 WHERE id = 3000000000",
		"UPDATE %s SET b = b + 1 WHERE id = 4",
		"UPDATE %s SET b = b + 1 WHERE id = 4",
		"UPDATE %s SET B = b + 1 WHERE ID = 1",
		"UPDATE %s SET id = id + 1 WHERE id = 1",
		"UPDATE %s SET nosuch = nosuch + 1 WHERE id = 1",
	} {
		fast := fmt.Sprintf(stmt, "ku.fast")
		slow := strings.Replace(fmt.Sprintf(stmt, "ku.slow"), "WHERE id = ", "WHERE (id) = ", 1)
		nf, errF := root.exec(fast)
		ns, errS := root.exec(slow)
		if errS != nil {
			require.Error(t, errF, fast)
			require.Equal(t, grpcCode(errS), grpcCode(errF), fast)
			require.Equal(t, strings.ReplaceAll(errS.Error(), "slow", "fast"), errF.Error(), fast)
			continue
		}
		require.NoError(t, errF, fast)
		require.Equal(t, ns, nf, fast)
		require.Equal(t, root.mustQuery("SELECT * FROM ku.slow ORDER BY id"), root.mustQuery("SELECT * FROM ku.fast ORDER BY id"), fast)
	}
	require.Equal(t, root.mustQuery("SELECT * FROM ku.slow ORDER BY id"), root.mustQuery("SELECT * FROM ku.fast ORDER BY id"))

	// A USER table: each user updates their own row only, in and out of
	// transactions, and a rolled-back update leaves nothing.
	root.mustExec("CREATE USER TABLE ku.c (id INT PRIMARY KEY, v BIGINT)")
	ann, bob := newUser(t, ts.addr, root, "ann"), newUser(t, ts.addr, root, "bob")
	ann.mustExec("INSERT INTO ku.c VALUES (0, 10)")
	bob.mustExec("INSERT INTO ku.c VALUES (0, 20)")
	require.EqualValues(t, 1, ann.mustExec("UPDATE ku.c SET v = v + 1 WHERE id = 0"))
	ann.mustExec("BEGIN")
	ann.mustExec("UPDATE ku.c SET v = v + 5 WHERE id = 0")
	require.Equal(t, [][]string{{"16"}}, ann.mustQuery("SELECT v FROM ku.c WHERE id = 0"))
	ann.mustExec("ROLLBACK")
	ann.mustExec("BEGIN")
	ann.mustExec("UPDATE ku.c SET v = v + 100 WHERE id = 0")
	ann.mustExec("COMMIT")
	require.Equal(t, [][]string{{"111"}}, ann.mustQuery("SELECT v FROM ku.c"))
	require.Equal(t, [][]string{{"20"}}, bob.mustQuery("SELECT v FROM ku.c"))
}

// TestKeyUpdateBatchOverflow: concurrent increments batched together stop
// exactly at the column's maximum; the ones past it fail with DuckDB's
// overflow error and change nothing.
func TestKeyUpdateBatchOverflow(t *testing.T) {
	ts := startServer(t, t.TempDir())
	root := connect(t, ts.addr, "root", testRootPassword)
	root.mustExec("CREATE NAMESPACE kb")
	root.mustExec("CREATE SHARED TABLE kb.c (id INT PRIMARY KEY, v SMALLINT)")
	root.mustExec("INSERT INTO kb.c VALUES (0, 32700)")
	const sessions, each = 8, 12
	var ok, failed atomic.Int64
	var wg sync.WaitGroup
	for range sessions {
		c := connect(t, ts.addr, "root", testRootPassword)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				if _, err := c.exec("UPDATE kb.c SET v = v + 1 WHERE id = 0"); err != nil {
					if !strings.Contains(err.Error(), "out of range") && !strings.Contains(err.Error(), "Overflow") {
						t.Errorf("unexpected error: %v", err)
					}
					failed.Add(1)
					continue
				}
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	require.EqualValues(t, 67, ok.Load(), "increments up to 32767")
	require.EqualValues(t, sessions*each-67, failed.Load())
	require.Equal(t, [][]string{{"32767"}}, root.mustQuery("SELECT v FROM kb.c"))
}

// TestNonFiniteConstants: constants DuckDB reads as infinite doubles pass
// through the scoper (its parse tree spells them as bare Infinity).
func TestNonFiniteConstants(t *testing.T) {
	ts := startServer(t, t.TempDir())
	root := connect(t, ts.addr, "root", testRootPassword)
	root.mustExec("CREATE NAMESPACE nf")
	root.mustExec("CREATE SHARED TABLE nf.d (id INT PRIMARY KEY, f DOUBLE, s TEXT)")
	root.mustExec("INSERT INTO nf.d VALUES (1, 1e400, 'Infinity'), (2, -1e400, 'NaN')")
	require.Equal(t, [][]string{{"1", "+Inf", "Infinity"}, {"2", "-Inf", "NaN"}}, root.mustQuery("SELECT * FROM nf.d ORDER BY id"))
	require.Equal(t, [][]string{{"1"}}, root.mustQuery("SELECT id FROM nf.d WHERE f = 1e400"))

	// Exponent literals stay DOUBLE (DuckDB's type), -0e0 keeps its sign,
	// and a literal column keeps DuckDB's name.
	rows, schema, err := root.query("SELECT typeof(1e-3), typeof(-0e0), signbit(-0e0), 1e-3, 1e20, 2e0, x * 1e-3 AS y FROM (SELECT 5 AS x)")
	require.NoError(t, err)
	require.Equal(t, [][]string{{"DOUBLE", "DOUBLE", "true", "0.001", "1e+20", "2", "0.005"}}, rows)
	require.Equal(t, []string{"typeof(1e-3)", "typeof(-0e0)", "signbit(-0e0)", "0.001", "1e+20", "2.0", "y"}[3:6], fieldNames(schema)[3:6])
	root.mustExec("INSERT INTO nf.d VALUES (3, (-0e0)::DOUBLE, 'negative zero')")
	require.Equal(t, [][]string{{"true"}}, root.mustQuery("SELECT signbit(f) FROM nf.d WHERE id = 3"))
}
