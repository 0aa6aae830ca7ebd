//go:build duckdb_arrow

package difftest

import (
	"strings"
	"testing"
)

// TestFloatValues replays the FLOAT findings of issue 13 on the server and
// on DuckDB, each case on a fresh table, as plain statements, as prepared
// statements and on the server that caches hot partitions in DuckDB: the
// values stored must be DuckDB's bit for bit (its DECIMAL to FLOAT cast is
// not always the nearest FLOAT, and -0e0 is a DOUBLE -0 where -0.0 is a
// DECIMAL 0), and a value out of FLOAT's range must fail on both sides.
func TestFloatValues(t *testing.T) {
	h := &harness{t: t}
	h.servers = []*flightSide{connect(t, startServer(t, false).addr), connect(t, startServer(t, true).addr)}
	for _, c := range []struct {
		name string
		sql  []string
	}{
		{"decimal literals", []string{
			// DECIMAL(12,12), (18,18) and (9,8): the unscaled values are
			// not exact FLOATs, so DuckDB's cast is not the nearest FLOAT.
			"INSERT INTO {ns}.t VALUES (90, 0.000570652918, 0.000570652918)",
			"INSERT INTO {ns}.t VALUES (91, -0.000737329424062027, -0.000737329424062027)",
			"INSERT INTO {ns}.t VALUES (92, 0.22302073, 0.22302073), (93, 16777217.5, 16777217.5), (94, 0.1000000000000000, 0.1000000000000000)",
			"UPDATE {ns}.t SET f = 0.22302073 WHERE k = 90",
		}},
		{"double expressions", []string{
			"INSERT INTO {ns}.t VALUES (73, (SELECT -6.3712482218404695e+07), (SELECT -6.3712482218404695e+07))",
			"INSERT INTO {ns}.t VALUES (74, -6.3712482218404695e+07, -6.3712482218404695e+07), (75, 1e-3 * 3, 1e-3 * 3)",
			"INSERT INTO {ns}.t SELECT 76, d, d FROM {ns}.t WHERE k = 73",
			"UPDATE {ns}.t SET f = d * 1.5 WHERE k = 74",
		}},
		{"negative zero", []string{
			"INSERT INTO {ns}.t VALUES (1, 1, 1), (2, 2, 2), (3, 3, 3), (4, -0.0, -0.0), (5, -0e0, -0e0), (6, '-0', '-0.0')",
			"UPDATE {ns}.t SET f = -0.0, d = -0.0 WHERE k = 1",
			"UPDATE {ns}.t SET f = -0e0, d = -0e0 WHERE k = 2",
			"UPDATE {ns}.t SET f = '-0.0', d = CAST('-0' AS DOUBLE) WHERE k = 3",
			"UPDATE {ns}.t SET f = -f, d = -d WHERE k = 4",
		}},
		{"out of FLOAT's range", []string{
			"INSERT INTO {ns}.t VALUES (151, 1e39, 1)",
			"INSERT INTO {ns}.t VALUES (152, -3.5e38, 1)",
			"INSERT INTO {ns}.t VALUES (153, '1e39', 1)",
			"INSERT INTO {ns}.t VALUES (154, 3.4028235e38, 3.4028235e38), (155, 1, 1)",
			"UPDATE {ns}.t SET f = 1e39 WHERE k = 155",
			"UPDATE {ns}.t SET f = d * 10 WHERE k = 154",
		}},
	} {
		for _, v := range []struct {
			name     string
			server   int
			prepared bool
		}{{"plain", 0, false}, {"prepared", 0, true}, {"cached", 1, false}} {
			t.Run(c.name+"/"+v.name, func(t *testing.T) {
				h.t = t
				s := h.open(v.server)
				defer s.close()
				sql := append([]string{"CREATE SHARED TABLE {ns}.t (k INT8 PRIMARY KEY, f REAL, d DOUBLE)"}, c.sql...)
				sql = append(sql, "SELECT k, f, d, f::VARCHAR AS fs, d::VARCHAR AS ds FROM {ns}.t ORDER BY k")
				for i, q := range sql {
					st := &step{id: i, mode: modeExec, sql: q, prepared: v.prepared,
						dml: strings.HasPrefix(q, "INSERT") || strings.HasPrefix(q, "UPDATE")}
					switch {
					case strings.HasPrefix(q, "CREATE"):
						st.ref = strings.Replace(q, "SHARED ", "", 1)
					case strings.HasPrefix(q, "SELECT"):
						st.mode, st.ordered = modeQuery, true
					}
					if _, d := s.step(st); d != nil {
						t.Errorf("%s: %s\n%s", q, d.kind, d.detail)
					}
				}
			})
		}
	}
}
