package flightsrv

import (
	"context"
	"errors"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/kalamdb/kalamdb-go/catalog"
)

// statusError maps a domain error to a gRPC status. It is the only place
// where error kinds become codes.
func statusError(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok && catalog.KindOf(err) == catalog.KindInternal {
		var ce *catalog.Error
		if !errors.As(err, &ce) {
			return err
		}
	}
	switch {
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "query cancelled")
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "query deadline exceeded")
	}
	code := codes.Internal
	switch catalog.KindOf(err) {
	case catalog.KindInvalid:
		code = codes.InvalidArgument
	case catalog.KindNotFound:
		code = codes.NotFound
	case catalog.KindAlreadyExists:
		code = codes.AlreadyExists
	case catalog.KindPermission:
		code = codes.PermissionDenied
	case catalog.KindUnauthenticated:
		code = codes.Unauthenticated
	case catalog.KindUnavailable:
		code = codes.Unavailable
	case catalog.KindResourceExhausted:
		code = codes.ResourceExhausted
	case catalog.KindDeadline:
		code = codes.DeadlineExceeded
	case catalog.KindCancelled:
		code = codes.Canceled
	case catalog.KindConflict:
		code = codes.Aborted
	case catalog.KindFailedPrecondition:
		code = codes.FailedPrecondition
	}
	return status.Error(code, userMessage(err))
}

// internalPrefixes are the packages whose sentinel errors a catalog.Error
// may wrap for the logs and for errors.Is; their text means nothing to a
// client ("duplicate primary key 7 in app.t: hotstore: duplicate primary
// key").
var internalPrefixes = []string{"hotstore: ", "coldstore: ", "jobs: ", "auth: ", "engine: "}

// userMessage is err's text with a trailing internal sentinel cut to its
// meaning, or cut when the message already says it.
func userMessage(err error) string {
	msg := err.Error()
	var ce *catalog.Error
	if !errors.As(err, &ce) || ce.Msg == "" || ce.Err == nil {
		return msg
	}
	var wrapped *catalog.Error
	if errors.As(ce.Err, &wrapped) {
		return msg
	}
	inner := ce.Err.Error()
	for _, p := range internalPrefixes {
		suffix := ": " + inner
		if !strings.HasPrefix(inner, p) || !strings.HasSuffix(msg, suffix) {
			continue
		}
		outer, what := strings.TrimSuffix(msg, suffix), strings.TrimPrefix(inner, p)
		if strings.Contains(outer, what) {
			return outer // "duplicate primary key 7 in app.t"
		}
		return outer + " (" + what + ")" // "…; retry the transaction (write conflict)"
	}
	return msg
}
