// Package hotstore is the hot tier of the database: a single Pebble
// database holding, for every table, the latest version of each row (one
// key per table, partition and primary key), plus a small metadata
// key/value space used by other packages for the catalog and users.
//
// Pebble is imported only by this package.
//
// # Key layout
//
// Row keys:
//
//	+-----+----------------------+----------------------+-----------------+
//	| 'r' | StoreID (8 bytes BE) | partition            | pk-bytes        |
//	+-----+----------------------+----------------------+-----------------+
//	                               per-user: user | 0x00
//	                               shared:   0x00
//
// The partition of a per-user table (catalog.TableType.PerUser) is the user
// id bytes followed by 0x00 (user ids may not contain 0x00); shared tables
// have the single partition 0x00. All rows of a table share the 9-byte
// prefix 'r' | StoreID, which DropTable deletes with one range deletion,
// and all rows of a partition share 'r' | StoreID | partition, which Scan
// uses as iterator bounds.
//
// pk-bytes is the order-preserving encoding of the primary-key value, so
// that byte order equals value order:
//
//	SMALLINT/INT/BIGINT    big-endian two's complement, sign bit flipped (2/4/8 bytes)
//	TIMESTAMP/TIME         as BIGINT (µs); DATE as INT (days)
//	BOOLEAN                1 byte, 0 or 1
//	FLOAT/DOUBLE           IEEE bits big-endian; negatives: all bits flipped,
//	                       others: sign bit flipped (-0 is stored as +0)
//	DECIMAL                16 bytes: high int64 with sign bit flipped, then low uint64, BE
//	TEXT/BYTES             raw bytes, 0x00 escaped as 0x00 0xFF, terminated by 0x00 0x01
//
// A table without a primary-key column is keyed by the row's _seq,
// encoded as BIGINT (8 bytes big-endian, sign bit flipped).
//
// Metadata keys:
//
//	+-----+------------------+
//	| 'm' | caller key bytes |
//	+-----+------------------+
//
// # Value layout
//
//	+---------+---------------+-------+--------------+------------------------+
//	| version | _seq          | flags | uvarint ncols| ncols × (tag | value)  |
//	| 1 byte  | 8 bytes LE    | 1 byte|              |                        |
//	+---------+---------------+-------+--------------+------------------------+
//
// version is 1. flags bit 0 marks a tombstone (a deleted row version, which
// has no columns). Only non-null columns are stored, in ascending column ID
// order; NULL columns are omitted. Each column starts with a tag,
// uvarint(columnID<<3 | wireType), where columnID is catalog.Column.ID and
// the wire type gives the value's size so that unknown columns can be
// skipped:
//
//	0  1 byte        BOOLEAN
//	1  2 bytes LE    SMALLINT
//	2  4 bytes LE    INT, FLOAT (IEEE bits), DATE
//	3  8 bytes LE    BIGINT, DOUBLE (IEEE bits), TIMESTAMP, TIME
//	4  16 bytes      DECIMAL: low uint64 LE then high int64 LE
//	5  uvarint length + bytes: TEXT (and JSON, UUID), BYTES
//
// Decoding maps each column ID to its current position in
// catalog.TableDef.Columns: IDs absent from the current definition
// (dropped columns) are skipped, and columns of the definition absent from
// the value (added columns, NULLs) decode as NULL, except that a column
// added with a default (catalog.Column.Fill) decodes as that default in row
// versions whose _seq predates the column. ALTER TABLE ADD, DROP and RENAME
// COLUMN therefore never rewrite stored rows.
//
// # Consistency
//
// Every write is a single Pebble batch committed with pebble.Sync, so an
// acknowledged write survives a crash. Insert's duplicate check and its
// commit run under a per-table mutex that Upsert, Delete and DropTable also
// take, so concurrent writers to one table are linearisable. The duplicate
// check only sees the hot tier.
package hotstore
