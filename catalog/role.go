package catalog

import "strings"

// Role orders privileges: RoleUser < RoleService < RoleDBA < RoleSystem.
type Role uint8

// Roles, in increasing privilege.
const (
	RoleUser Role = iota + 1
	RoleService
	RoleDBA
	RoleSystem
)

// String returns the role's SQL name.
func (r Role) String() string {
	switch r {
	case RoleUser:
		return "user"
	case RoleService:
		return "service"
	case RoleDBA:
		return "dba"
	case RoleSystem:
		return "system"
	}
	return "unknown"
}

// ParseRole accepts the role names and KalamDB's aliases (admin→dba,
// developer/analyst→service, viewer/readonly→user).
func ParseRole(s string) (Role, error) {
	switch strings.ToLower(s) {
	case "user", "viewer", "readonly":
		return RoleUser, nil
	case "service", "developer", "analyst":
		return RoleService, nil
	case "dba", "admin":
		return RoleDBA, nil
	case "system":
		return RoleSystem, nil
	}
	return 0, Errorf(KindInvalid, "unknown role %q (want user, service, dba or system)", s)
}

// AtLeast reports whether r has at least the privileges of min.
func (r Role) AtLeast(min Role) bool { return r >= min }
