// Package duck drives DuckDB through duckdb-go-bindings (the C API), not
// database/sql: results are fetched chunk by chunk with streaming execution
// and converted to Arrow record batches, so a large result never sits whole in
// memory (duckdb-go's database/sql driver materialises every result), and rows
// are handed to DuckDB by appending Arrow-converted data chunks to temporary
// tables (duckdb-go's Arrow view registration ignores pushed-down projections
// and filters). See ../shared/DEPENDENCIES.md for the measurements behind both
// choices.
//
// # Sandbox
//
// Open applies the lockdown sequence once per database, in this order:
// no extension install/autoload, temp_directory private, allowed_directories,
// enable_external_access=false, lock_configuration=true. It is the second wall;
// the engine's statement allowlist is the first.
//
// # Concurrency
//
// A *DB is safe for concurrent use. A *Conn is not: one goroutine at a time,
// except Interrupt, which may be called from any goroutine.
package duck
