package catalog

import (
	"fmt"
	"strings"
)

// NamespaceID names a namespace (a schema), e.g. "chat".
type NamespaceID string

// TableName names a table inside a namespace.
type TableName string

// UserID is a user's login name; it is also the partition key of USER and
// STREAM tables.
type UserID string

// TableID identifies a table. It is comparable and so usable as a map key.
type TableID struct {
	Namespace NamespaceID
	Name      TableName
}

// String returns "namespace.table".
func (t TableID) String() string { return string(t.Namespace) + "." + string(t.Name) }

// SystemNamespace holds the read-only system tables.
const SystemNamespace NamespaceID = "system"

// reservedNamespaces may not be created by users.
var reservedNamespaces = map[string]bool{
	"system": true, "sys": true, "root": true, "kalamdb": true, "kalam": true, "main": true,
	"default": true, "sql": true, "admin": true, "internal": true, "information_schema": true,
	"pg_catalog": true, "temp": true, "memory": true,
}

// MaxIdentifierLen bounds every identifier.
const MaxIdentifierLen = 64

// ValidIdentifier reports whether s is a valid name: 1..64 of [A-Za-z0-9_],
// not starting with a digit.
func ValidIdentifier(s string) error {
	if s == "" {
		return Errorf(KindInvalid, "empty identifier")
	}
	if len(s) > MaxIdentifierLen {
		return Errorf(KindInvalid, "identifier %q is longer than %d characters", s, MaxIdentifierLen)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
		if !ok {
			return Errorf(KindInvalid, "identifier %q may contain only letters, digits and '_'", s)
		}
	}
	if s[0] >= '0' && s[0] <= '9' {
		return Errorf(KindInvalid, "identifier %q may not start with a digit", s)
	}
	return nil
}

// ParseNamespaceID validates and lower-cases a namespace name.
func ParseNamespaceID(s string) (NamespaceID, error) {
	if err := ValidIdentifier(s); err != nil {
		return "", err
	}
	return NamespaceID(strings.ToLower(s)), nil
}

// IsReservedNamespace reports whether users may not create ns.
func IsReservedNamespace(ns NamespaceID) bool { return reservedNamespaces[string(ns)] }

// ParseTableName validates and lower-cases a table name.
func ParseTableName(s string) (TableName, error) {
	if err := ValidIdentifier(s); err != nil {
		return "", err
	}
	return TableName(strings.ToLower(s)), nil
}

// ParseUserID validates and lower-cases a user name.
func ParseUserID(s string) (UserID, error) {
	if err := ValidIdentifier(s); err != nil {
		return "", fmt.Errorf("user name: %w", err)
	}
	return UserID(strings.ToLower(s)), nil
}

// RootUser is created at first start with RoleSystem.
const RootUser UserID = "root"
