package engine

import (
	"github.com/kalamdb/kalamdb-go/auth"
	"github.com/kalamdb/kalamdb-go/catalog"
)

// checkRead enforces who may read a table. USER and STREAM tables are always
// scoped to the subject's own partition, so any role may read them; SHARED
// tables follow their access level.
func checkRead(sub subject, t *catalog.TableDef) error {
	if t.Type != catalog.TableShared {
		return nil
	}
	switch t.AccessLevel {
	case catalog.AccessPublic:
		return nil
	case catalog.AccessDBA:
		if sub.role.AtLeast(catalog.RoleDBA) {
			return nil
		}
		return permissionDenied("table %s is readable by dba and system roles only", t.ID)
	default:
		if sub.role.AtLeast(catalog.RoleService) {
			return nil
		}
		return permissionDenied("table %s is %s: readable by service, dba and system roles only", t.ID, t.AccessLevel)
	}
}

// checkWrite enforces who may change a table's rows.
func checkWrite(sub subject, t *catalog.TableDef) error {
	if t.Type != catalog.TableShared {
		return nil
	}
	if t.AccessLevel == catalog.AccessDBA {
		if sub.role.AtLeast(catalog.RoleDBA) {
			return nil
		}
		return permissionDenied("table %s is writable by dba and system roles only", t.ID)
	}
	if sub.role.AtLeast(catalog.RoleService) {
		return nil
	}
	return permissionDenied("table %s is writable by service, dba and system roles only", t.ID)
}

// requireRole refuses a statement below the given role.
func requireRole(sub subject, min catalog.Role, what string) error {
	if sub.role.AtLeast(min) {
		return nil
	}
	return permissionDenied("%s requires the %s role or higher", what, min)
}

// impersonate checks EXECUTE AS USER: system → anyone; dba →
// dba/service/user; service → service/user; user → only itself.
func (e *Engine) impersonate(s *Session, target catalog.UserID) (auth.User, error) {
	u, ok := e.users.GetUser(target)
	if !ok || u.DeletedAt != nil {
		return auth.User{}, catalog.Errorf(catalog.KindNotFound, "user %s does not exist", target)
	}
	if target == s.User {
		return u, nil
	}
	allowed := false
	switch s.Role {
	case catalog.RoleSystem:
		allowed = true
	case catalog.RoleDBA:
		allowed = u.Role <= catalog.RoleDBA
	case catalog.RoleService:
		allowed = u.Role <= catalog.RoleService
	}
	if !allowed {
		return auth.User{}, permissionDenied("role %s may not execute as user %s (role %s)", s.Role, target, u.Role)
	}
	return u, nil
}

// canManage reports whether role actor may manage accounts of role target
// (create, drop, alter, grant): system manages everyone, dba manages
// service and user accounts, and service and user manage nobody. In
// particular only a system account changes a system account, and no role
// grants a role it could not manage.
func canManage(actor, target catalog.Role) bool {
	switch actor {
	case catalog.RoleSystem:
		return true
	case catalog.RoleDBA:
		return target < catalog.RoleDBA
	}
	return false
}

// checkManage refuses an account operation (what, e.g. "drop") on user
// target, which has role targetRole, unless the subject's role manages it.
func checkManage(sub subject, what string, target catalog.UserID, targetRole catalog.Role) error {
	if canManage(sub.role, targetRole) {
		return nil
	}
	return permissionDenied("role %s may not %s user %s (role %s): an account is managed only by a higher role, or by a system account", sub.role, what, target, targetRole)
}

// checkGrant refuses giving role r (CREATE USER ... ROLE, ALTER USER SET
// ROLE) unless the subject's role manages accounts of that role.
func checkGrant(sub subject, r catalog.Role) error {
	if canManage(sub.role, r) {
		return nil
	}
	return permissionDenied("role %s may not grant role %s: only roles below one's own may be granted, except by a system account", sub.role, r)
}

// isSelf reports whether the statement acts on the caller's own account:
// the authenticated caller, not impersonating anyone, names itself.
func isSelf(sub subject, target catalog.UserID) bool {
	return target == sub.actor && sub.user == sub.actor
}
