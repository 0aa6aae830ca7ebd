//go:build duckdb_arrow

package engine

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"github.com/kalamdb/kalamdb-go/catalog"
	"github.com/kalamdb/kalamdb-go/engine/sqlparse"
)

// AuditEntry is one row of system.audit_log.
type AuditEntry struct {
	ID      string         `json:"audit_id"`
	Time    time.Time      `json:"timestamp"`
	Actor   catalog.UserID `json:"actor_user_id"`
	Subject catalog.UserID `json:"subject_user_id"`
	Action  string         `json:"action"`
	Target  string         `json:"target"`
	Details string         `json:"details"`
	IP      string         `json:"ip_address"`
}

// Meta key of audit entries: "audit/" + 8-byte big-endian id, so a prefix
// scan returns them in time order.
const metaAuditPrefix = "audit/"

// Audit records an entry durably. A failure to persist is logged and
// absorbed: auditing never fails the audited operation.
func (e *Engine) Audit(en AuditEntry) {
	id := e.seq.Next()
	en.ID = fmt.Sprintf("AU-%016x", id)
	if en.Time.IsZero() {
		en.Time = e.opts.Now().UTC()
	}
	if en.Subject == "" {
		en.Subject = en.Actor
	}
	b, err := json.Marshal(en)
	if err != nil {
		e.log.Error("encode audit entry", "err", err)
		return
	}
	key := make([]byte, 0, len(metaAuditPrefix)+8)
	key = append(key, metaAuditPrefix...)
	key = binary.BigEndian.AppendUint64(key, uint64(id))
	if err := e.hot.MetaPut(key, b); err != nil {
		e.log.Error("persist audit entry", "err", err, "action", en.Action)
	}
}

// auditEntries reads the audit log (oldest first).
func (e *Engine) auditEntries() ([]AuditEntry, error) {
	var out []AuditEntry
	err := e.hot.MetaScan([]byte(metaAuditPrefix), func(_, v []byte) error {
		var en AuditEntry
		if err := json.Unmarshal(v, &en); err != nil {
			return fmt.Errorf("decode audit entry: %w", err)
		}
		out = append(out, en)
		return nil
	})
	return out, err
}

// auditAction describes an audited statement without secrets (passwords
// never reach the log). ok=false for statements that are not audited
// (queries and DML, unless impersonated).
func auditAction(stmt sqlparse.Statement, ns catalog.NamespaceID) (action, target string, ok bool) {
	ref := func(r sqlparse.TableRef) string {
		if r.Namespace == "" {
			return string(ns) + "." + string(r.Name)
		}
		return string(r.Namespace) + "." + string(r.Name)
	}
	switch st := stmt.(type) {
	case *sqlparse.CreateNamespace:
		return "CREATE NAMESPACE", string(st.Name), true
	case *sqlparse.DropNamespace:
		return "DROP NAMESPACE", string(st.Name), true
	case *sqlparse.CreateTable:
		return "CREATE TABLE", ref(st.Table), true
	case *sqlparse.DropTable:
		return "DROP TABLE", ref(st.Table), true
	case *sqlparse.AlterTable:
		return "ALTER TABLE", ref(st.Table), true
	case *sqlparse.CreateUser:
		if st.Internal {
			return "CREATE USER", string(st.Name) + " role=" + st.Role.String() + " internal", true
		}
		return "CREATE USER", string(st.Name) + " role=" + st.Role.String(), true
	case *sqlparse.AlterUser:
		what := "ALTER USER"
		switch {
		case st.Password != nil:
			what = "ALTER USER SET PASSWORD"
		case st.Role != nil:
			return "ALTER USER SET ROLE", string(st.Name) + " role=" + st.Role.String(), true
		case st.Email != nil:
			what = "ALTER USER SET EMAIL"
		}
		return what, string(st.Name), true
	case *sqlparse.DropUser:
		return "DROP USER", string(st.Name), true
	case *sqlparse.KillJob:
		return "KILL JOB", st.ID, true
	case *sqlparse.Insert:
		return "INSERT", ref(st.Table), false
	case *sqlparse.Update:
		return "UPDATE", ref(st.Table), false
	case *sqlparse.Delete:
		return "DELETE", ref(st.Table), false
	case *sqlparse.Select:
		return "SELECT", "", false
	case *sqlparse.Explain:
		return "EXPLAIN", "", false
	case *sqlparse.Truncate:
		return "TRUNCATE", ref(st.Table), false
	}
	return fmt.Sprintf("%T", stmt)[len("*sqlparse."):], "", false
}
