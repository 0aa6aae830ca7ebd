package engine

import (
	"sync"
	"time"

	"github.com/kalamdb/kalamdb-go/catalog"
)

// Session is one client's state: who it is and its default namespace. A
// session may be used by concurrent calls; its fields are guarded.
type Session struct {
	User catalog.UserID
	Role catalog.Role
	// RemoteAddr is the client's address, for the audit log.
	RemoteAddr string

	mu struct {
		sync.Mutex
		namespace catalog.NamespaceID
		// tx is the transaction opened by SQL BEGIN, if any.
		tx *Tx
	}
}

// NewSession returns a session for an authenticated user.
func NewSession(user catalog.UserID, role catalog.Role) *Session {
	return &Session{User: user, Role: role}
}

// Namespace returns the session's default namespace ("" if none).
func (s *Session) Namespace() catalog.NamespaceID {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mu.namespace
}

// SetNamespace sets the default namespace (USE).
func (s *Session) SetNamespace(ns catalog.NamespaceID) {
	s.mu.Lock()
	s.mu.namespace = ns
	s.mu.Unlock()
}

// Tx returns the transaction opened with SQL BEGIN (nil if none).
func (s *Session) Tx() *Tx {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mu.tx
}

// setTx installs (or, with nil, clears) the session's SQL transaction.
func (s *Session) setTx(tx *Tx) {
	s.mu.Lock()
	s.mu.tx = tx
	s.mu.Unlock()
}

// Close rolls back the session's open transaction, if any.
func (s *Session) Close() {
	s.rollbackTxIf(func(*Tx) bool { return true })
}

// RollbackIdleTx rolls back the session's SQL transaction when it has run
// no statement for longer than idle, and reports whether it did.
func (s *Session) RollbackIdleTx(idle time.Duration) bool {
	return s.rollbackTxIf(func(tx *Tx) bool { return tx.IdleFor() > idle })
}

// rollbackTxIf detaches the session's transaction when cond holds for it
// and rolls it back outside the session lock (Rollback waits for a running
// statement of the transaction); it reports whether it did.
func (s *Session) rollbackTxIf(cond func(*Tx) bool) bool {
	s.mu.Lock()
	tx := s.mu.tx
	if tx == nil || !cond(tx) {
		s.mu.Unlock()
		return false
	}
	s.mu.tx = nil
	s.mu.Unlock()
	tx.Rollback()
	return true
}

// subject is who a statement runs as: the session's user, or the target of
// EXECUTE AS USER.
type subject struct {
	user catalog.UserID
	role catalog.Role
	// actor is the authenticated caller (differs from user under EXECUTE AS).
	actor catalog.UserID
	ns    catalog.NamespaceID
}
