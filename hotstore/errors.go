package hotstore

import (
	"errors"
	"fmt"

	"github.com/kalamdb/kalamdb-go/catalog"
)

// ErrDuplicateKey is the sentinel wrapped by the error Insert returns when a
// primary key already has a live row (or repeats within the inserted batch).
// The returned error is a *catalog.Error of kind catalog.KindAlreadyExists,
// so both errors.Is(err, ErrDuplicateKey) and catalog.KindOf(err) work.
var ErrDuplicateKey = errors.New("hotstore: duplicate primary key")

// ErrClosed is returned (wrapped in a *catalog.Error of kind
// catalog.KindUnavailable) by every operation on a closed Store.
var ErrClosed = errors.New("hotstore: store is closed")

// ErrCorrupt is wrapped by errors reporting undecodable stored keys or values.
var ErrCorrupt = errors.New("hotstore: corrupt data")

func errCorrupt(format string, args ...any) error {
	return &catalog.Error{Kind: catalog.KindInternal, Msg: fmt.Sprintf(format, args...), Err: ErrCorrupt}
}

func errClosed() error {
	return &catalog.Error{Kind: catalog.KindUnavailable, Msg: "hot store", Err: ErrClosed}
}

// DuplicateKeyError is what the error of a refused duplicate key wraps: it
// is ErrDuplicateKey (errors.Is) and tells which key, as the key column's
// Arrow ValueStr, so that a caller can tell which of its rows was refused.
type DuplicateKeyError struct {
	Key string
}

func (e *DuplicateKeyError) Error() string { return ErrDuplicateKey.Error() }

// Is makes a DuplicateKeyError match ErrDuplicateKey.
func (e *DuplicateKeyError) Is(target error) bool { return target == ErrDuplicateKey }

func errDuplicate(value string, t *catalog.TableDef) error {
	return &catalog.Error{
		Kind: catalog.KindAlreadyExists,
		Msg:  fmt.Sprintf("duplicate primary key %s in %s", value, t.ID),
		Err:  &DuplicateKeyError{Key: value},
	}
}

// wrapStorage wraps a Pebble error as an internal catalog error.
func wrapStorage(err error, op string) error {
	if err == nil {
		return nil
	}
	var ce *catalog.Error
	if errors.As(err, &ce) {
		return err
	}
	return catalog.WrapKind(catalog.KindInternal, err, "hotstore: %s", op)
}

// ErrConflict is wrapped (in a *catalog.Error of kind catalog.KindConflict)
// by the error of a versioned write or a transaction commit that lost a race:
// a row it computed from was changed by another writer meanwhile.
var ErrConflict = errors.New("hotstore: write conflict")

func errConflict(format string, args ...any) error {
	return &catalog.Error{Kind: catalog.KindConflict, Msg: fmt.Sprintf(format, args...), Err: ErrConflict}
}
