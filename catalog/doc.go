// Package catalog is the leaf package of kalamdb-go: typed identifiers
// (NamespaceID, TableName, TableID, UserID), roles, table and column
// definitions, data types and the error kinds every layer returns.
//
// It imports none of this module's packages, so every other package may
// depend on it. Values defined here are immutable once shared: a schema
// change produces a new *TableDef rather than mutating the old one.
//
// # Identifiers
//
// Namespace, table, column and user names match [A-Za-z0-9_]+ and are stored
// lower-case (unquoted SQL identifiers are case-insensitive). A TableID is
// comparable and usable as a map key.
package catalog
