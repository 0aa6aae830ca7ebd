// Package coldstore is the cold tier of kalamdb-go: immutable Parquet
// segment files holding row versions that a flush moved out of the hot tier.
//
// It is the only package that writes Parquet. It imports catalog and
// arrow-go's parquet packages and nothing else of this module; the jobs and
// engine packages reach it through interfaces of their own.
//
// # File layout
//
// Every partition (one user of a USER table, or the single partition of a
// SHARED table) owns one directory under Options.Dir:
//
//	<Dir>/
//	  <namespace>/
//	    <table>/
//	      <user_id> | shared/
//	        seg-<max _seq, 16 hex>-<8 random hex>.parquet   committed segment
//	        pending-<8 random hex>.parquet.tmp              segment being written
//
// A segment's id is the file name without ".parquet". The 16 hex digits are
// the largest _seq in the file, zero padded, so a directory listing sorts
// segments by age. Segment.File holds the path relative to Dir with '/'
// separators, e.g. "chat/messages/alice/seg-0001d2c3b4a59687-9f3e0c1a.parquet".
//
// A segment is written to the temporary file, closed, fsynced, renamed to its
// final name and the directory fsynced, so after a crash a final name always
// holds a complete file. Temporary files, and committed files that no
// manifest lists (the process died between the rename and the manifest
// update), are deleted by Store.RemoveOrphans at start.
//
// # Segment contents
//
// The Parquet schema is SegmentSchema: the table's user columns in order,
// then _seq (INT64, required) and _deleted (BOOLEAN, required). A tombstone
// row has _deleted = true and every user column null except the primary key;
// hence every non-key user column is nullable in a segment even when the
// table declares it NOT NULL. Types map as catalog.DataType.ArrowType does
// (JSON and UUID as strings, TIMESTAMP as microseconds without a time zone,
// DECIMAL stored as INT32/INT64 when its precision allows). The Arrow schema
// is embedded (ARROW:schema), and the key-value metadata records the table
// ("kalamdb.table") and its definition version ("kalamdb.table_version").
//
// Rows must be written in ascending primary-key order (the hot tier scans in
// key order); the file's sorting_columns declare that order. Columns are
// zstd-compressed, row groups hold Options.RowGroupRows rows, and every
// column carries min/max statistics so that DuckDB can prune row groups.
// Dictionary encoding is on, except for columns whose values are usually
// unique (the primary key, _seq, FLOAT, DOUBLE, TIMESTAMP, TIME, UUID and
// BYTES); the other columns drop their dictionary after the first page when
// it does not pay (see Store.writerProperties).
//
// # Manifests
//
// A partition's Manifest lists its segments in order and is stored by the
// caller (in the hot tier, updated atomically with the deletion of the
// flushed hot keys). Segment carries what a reader needs without opening
// the file: row and tombstone counts, the _seq range and the primary-key
// range, from which Manifest.Overlaps tells whether a reader may skip the
// newest-version-per-key merge.
//
// # Concurrency
//
// A Store is safe for concurrent use. A SegmentWriter is used by one
// goroutine at a time.
package coldstore
