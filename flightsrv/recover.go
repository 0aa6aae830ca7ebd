package flightsrv

import (
	"context"
	"runtime/debug"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// errPanic is what a client gets for a call whose handler panicked; the
// details go to the log only.
var errPanic = status.Error(codes.Internal, "internal error (the server logged the details)")

// recoverUnary is the outermost unary interceptor: a panic in a handler (or
// in an inner interceptor) is logged with the method name and answered with
// codes.Internal, and the server keeps serving.
func (s *Server) recoverUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
	defer func() {
		if r := recover(); r != nil {
			s.logPanic(info.FullMethod, r)
			resp, err = nil, errPanic
		}
	}()
	return handler(ctx, req)
}

// recoverStream is recoverUnary for streaming calls. Goroutines a handler
// starts must recover their own panics (see DoGetStatement).
func (s *Server) recoverStream(srv any, stream grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
	defer func() {
		if r := recover(); r != nil {
			s.logPanic(info.FullMethod, r)
			err = errPanic
		}
	}()
	return handler(srv, stream)
}

// logPanic logs a recovered panic with its stack.
func (s *Server) logPanic(method string, r any) {
	s.log.Error("panic in handler", "method", method, "panic", r, "stack", string(debug.Stack()))
}
