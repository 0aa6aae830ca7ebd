// Package sqlparse is a hand-written lexer and recursive-descent parser for
// the KalamDB SQL dialect: DDL (namespaces, tables), user administration,
// DML (INSERT/UPDATE/DELETE), storage and job commands, transactions and
// SUBSCRIBE.
//
// Queries (statements starting with SELECT, WITH, FROM, VALUES, TABLE or
// '(') are not parsed: they are returned as a [Select] holding the original
// text, to be handed to DuckDB. The lexer still tokenizes them completely so
// that exactly one statement is accepted (a ';' inside a string, quoted
// identifier or comment does not end a statement) and so that statements
// DuckDB would treat as dangerous (COPY, ATTACH, INSTALL, SET, PRAGMA, ...)
// are rejected with a [*ForbiddenError].
//
// Expressions inside DML (VALUES lists, SET expressions, WHERE clauses,
// RETURNING lists) are not parsed either; they are returned as verbatim
// slices of the source text, cut at top-level keywords and commas.
//
// The lexer follows PostgreSQL/DuckDB lexical rules for string literals
// ('...' with doubled-quote escapes, E'...' with backslash escapes, $tag$...$tag$),
// quoted identifiers and comments, so that statement boundaries agree with
// DuckDB's. Nested block comments and NUL bytes are rejected outright.
package sqlparse
