package coldstore

import (
	"errors"
	"fmt"

	"github.com/kalamdb/kalamdb-go/catalog"
)

// Sentinel errors. Each is returned wrapped in a *catalog.Error, so both
// errors.Is and catalog.KindOf work on the result.
var (
	// ErrSchemaMismatch: a record batch's schema is not SegmentSchema of the
	// writer's table.
	ErrSchemaMismatch = errors.New("coldstore: record schema does not match the segment schema")
	// ErrNullKey: a batch holds a null primary key, _seq or _deleted.
	ErrNullKey = errors.New("coldstore: null primary key or system column")
	// ErrEmptySegment: Commit was called on a writer that received no rows.
	ErrEmptySegment = errors.New("coldstore: empty segment")
	// ErrWriterDone: the writer was already committed, aborted or failed.
	ErrWriterDone = errors.New("coldstore: segment writer is done")
	// ErrUnsorted: rows were not in ascending primary-key order (only
	// detected when the invariant check is enabled, in tests).
	ErrUnsorted = errors.New("coldstore: rows not sorted by primary key")
	// ErrBadManifest: a manifest could not be decoded or is invalid.
	ErrBadManifest = errors.New("coldstore: invalid manifest")
)

func wrapErr(kind catalog.ErrorKind, sentinel error, format string, args ...any) error {
	return &catalog.Error{Kind: kind, Msg: fmt.Sprintf(format, args...), Err: sentinel}
}

// IOError reports a failed storage operation on a file or directory.
// Inspect it with errors.As; Unwrap returns the underlying error, so
// errors.Is(err, fs.ErrNotExist) and similar work.
type IOError struct {
	// Op is the operation: "create", "write", "sync", "close", "rename",
	// "remove", "mkdir", "walk" or "open".
	Op string
	// Table is the table concerned; zero when the operation spans tables.
	Table catalog.TableID
	// Path is the absolute path of the file or directory.
	Path string
	// Err is the underlying error.
	Err error
}

// Error implements error.
func (e *IOError) Error() string {
	if e.Table.Name != "" {
		return fmt.Sprintf("coldstore: %s %s (table %s): %v", e.Op, e.Path, e.Table, e.Err)
	}
	return fmt.Sprintf("coldstore: %s %s: %v", e.Op, e.Path, e.Err)
}

// Unwrap returns the underlying error.
func (e *IOError) Unwrap() error { return e.Err }

func ioErr(op string, table catalog.TableID, path string, err error) error {
	if err == nil {
		return nil
	}
	return &IOError{Op: op, Table: table, Path: path, Err: err}
}
