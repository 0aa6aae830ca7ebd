package sqlparse

import (
	"fmt"

	"github.com/kalamdb/kalamdb-go/catalog"
)

// SyntaxError reports a statement that does not parse. Pos is the byte offset
// in the source text where the problem was detected.
type SyntaxError struct {
	Msg string
	Pos int
}

// Error implements error.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("syntax error at position %d: %s", e.Pos, e.Msg)
}

// Kind returns catalog.KindInvalid.
func (e *SyntaxError) Kind() catalog.ErrorKind { return catalog.KindInvalid }

// ForbiddenError reports a statement that clients may never run (COPY,
// ATTACH, INSTALL, SET, PRAGMA, CREATE SECRET, ...). What is the leading
// keyword(s), upper-case.
type ForbiddenError struct {
	What string
}

// Error implements error.
func (e *ForbiddenError) Error() string {
	return "permission denied: " + e.What + " statements are not allowed"
}

// Kind returns catalog.KindPermission.
func (e *ForbiddenError) Kind() catalog.ErrorKind { return catalog.KindPermission }

func synErr(pos int, format string, args ...any) *SyntaxError {
	return &SyntaxError{Msg: fmt.Sprintf(format, args...), Pos: pos}
}
