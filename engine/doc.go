// Package engine turns one SQL statement from an authenticated session into a
// result: parse → authorize → plan → execute.
//
// DDL, admin statements and DML are parsed by engine/sqlparse. Every SELECT —
// and every expression of a DML statement, which the engine evaluates by
// building a SELECT — goes through DuckDB's own parser (json_serialize_sql),
// is checked against an allowlist (no files, extensions, settings or
// introspection), and has each table reference replaced by the caller's
// scoped relation: the rows of the caller's partition, loaded from the hot
// tier into a temporary table private to the query's DuckDB connection.
// Results stream from DuckDB as Arrow record batches.
//
// # Dependencies
//
// The engine reaches storage and users only through the narrow interfaces in
// interfaces.go (HotStore, Users); cmd wires the implementations.
package engine
