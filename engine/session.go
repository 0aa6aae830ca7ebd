package engine

import (
	"sync"

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

// subject is who a statement runs as: the session's user, or the target of
// EXECUTE AS USER.
type subject struct {
	user catalog.UserID
	role catalog.Role
	// actor is the authenticated caller (differs from user under EXECUTE AS).
	actor catalog.UserID
	ns    catalog.NamespaceID
}
