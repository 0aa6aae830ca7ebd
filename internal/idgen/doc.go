// Package idgen generates identifiers: time-ordered 64-bit Snowflake ids for
// rows and messages, and UUIDv7 and ULID strings for SQL functions and
// external identifiers.
//
// # Snowflake layout
//
// A Snowflake id is a positive int64 laid out, from the most significant bit:
//
//	1 bit  zero (sign)
//	41 bits milliseconds since the Unix epoch
//	10 bits node id
//	12 bits per-millisecond counter
//
// A Snowflake generator never returns the same id twice and its ids strictly
// increase, even if the wall clock steps backwards or more than 4096 ids are
// requested within one millisecond: in both cases it keeps counting on from
// the last millisecond it used ("borrowing" future milliseconds), and catches
// up with the clock once the clock passes it again.
//
// The 41-bit timestamp covers the Unix epoch up to September 2039.
package idgen
