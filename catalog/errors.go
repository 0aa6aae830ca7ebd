package catalog

import (
	"errors"
	"fmt"
)

// ErrorKind classifies an error for the client; flightsrv maps each kind to
// one gRPC status code in a single place.
type ErrorKind uint8

// Error kinds.
const (
	KindInternal ErrorKind = iota
	KindInvalid
	KindNotFound
	KindAlreadyExists
	KindPermission
	KindUnauthenticated
	KindUnavailable
	KindResourceExhausted
	KindDeadline
	KindCancelled
	// KindConflict: a transaction lost a write-write race and was aborted;
	// retrying it may succeed.
	KindConflict
	// KindFailedPrecondition: the statement is not valid in the current
	// state (COMMIT without a transaction, DDL inside one).
	KindFailedPrecondition
)

// Error is a domain error with a kind and a message meant for the client.
type Error struct {
	Kind ErrorKind
	Msg  string
	Err  error
}

// Error implements error.
func (e *Error) Error() string {
	if e.Err != nil && e.Msg == "" {
		return e.Err.Error()
	}
	if e.Err != nil {
		return e.Msg + ": " + e.Err.Error()
	}
	return e.Msg
}

// Unwrap returns the wrapped error.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error of the given kind.
func Errorf(kind ErrorKind, format string, args ...any) error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// WrapKind wraps err with a kind and message.
func WrapKind(kind ErrorKind, err error, format string, args ...any) error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...), Err: err}
}

// KindOf returns the kind of the outermost *Error in err's chain, or
// KindInternal.
func KindOf(err error) ErrorKind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}
