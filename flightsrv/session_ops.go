//go:build duckdb_arrow

package flightsrv

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	gen "github.com/apache/arrow-go/v18/arrow/flight/gen/flight"

	"github.com/kalamdb/kalamdb-go/catalog"
	"github.com/kalamdb/kalamdb-go/engine/duck"
)

// SetSessionOptions accepts "catalog" (must be kalamdb) and "schema" (a
// namespace: the same as USE).
func (s *Server) SetSessionOptions(ctx context.Context, req *flight.SetSessionOptionsRequest) (*flight.SetSessionOptionsResult, error) {
	sess, err := session(ctx)
	if err != nil {
		return nil, err
	}
	res := &flight.SetSessionOptionsResult{Errors: map[string]*flight.SetSessionOptionsResultError{}}
	bad := func(name string, v gen.SetSessionOptionsResult_ErrorValue) {
		res.Errors[name] = &flight.SetSessionOptionsResultError{Value: v}
	}
	for name, v := range req.GetSessionOptions() {
		switch name {
		case "catalog":
			if c := v.GetStringValue(); c != "" && c != CatalogName {
				bad(name, flight.SetSessionOptionsResultErrorInvalidValue)
			}
		case "schema":
			ns, err := catalog.ParseNamespaceID(v.GetStringValue())
			if err != nil {
				bad(name, flight.SetSessionOptionsResultErrorInvalidValue)
				continue
			}
			r, err := s.exec.Execute(ctx, sess, "USE "+duck.QuoteIdent(string(ns)))
			if err != nil {
				bad(name, flight.SetSessionOptionsResultErrorInvalidValue)
				continue
			}
			r.Close()
		default:
			bad(name, flight.SetSessionOptionsResultErrorInvalidName)
		}
	}
	return res, nil
}

// GetSessionOptions reports the session's catalog and schema (namespace).
func (s *Server) GetSessionOptions(ctx context.Context, _ *flight.GetSessionOptionsRequest) (*flight.GetSessionOptionsResult, error) {
	sess, err := session(ctx)
	if err != nil {
		return nil, err
	}
	opts, err := flight.NewSessionOptionValues(map[string]any{"catalog": CatalogName, "schema": string(sess.Namespace())})
	if err != nil {
		return nil, statusError(err)
	}
	return &flight.GetSessionOptionsResult{SessionOptions: opts}, nil
}

// CloseSession forgets the session (its namespace); the credentials stay
// valid and a later call starts a fresh session.
func (s *Server) CloseSession(ctx context.Context, _ *flight.CloseSessionRequest) (*flight.CloseSessionResult, error) {
	if _, err := session(ctx); err != nil {
		return nil, err
	}
	key, _ := ctx.Value(sessionIDKey{}).(string)
	if s.sessions.drop(key) {
		return &flight.CloseSessionResult{Status: flight.CloseSessionResultClosed}, nil
	}
	return &flight.CloseSessionResult{Status: flight.CloseSessionResultNotCloseable}, nil
}

// CancelFlightInfo cancels a statement: a result not yet fetched is
// discarded, a streaming one is interrupted (its stream ends with
// Cancelled).
func (s *Server) CancelFlightInfo(ctx context.Context, req *flight.CancelFlightInfoRequest) (flight.CancelFlightInfoResult, error) {
	sess, err := session(ctx)
	if err != nil {
		return flight.CancelFlightInfoResult{}, err
	}
	info := req.GetInfo()
	if info == nil || len(info.Endpoint) == 0 || info.Endpoint[0].Ticket == nil {
		return flight.CancelFlightInfoResult{}, statusError(catalog.Errorf(catalog.KindInvalid, "CancelFlightInfo needs the FlightInfo of a statement"))
	}
	tkt, err := flightsql.GetStatementQueryTicket(info.Endpoint[0].Ticket)
	if err != nil {
		return flight.CancelFlightInfoResult{}, statusError(catalog.Errorf(catalog.KindInvalid, "not a statement ticket"))
	}
	h := string(tkt.GetStatementHandle())
	s.mu.Lock()
	p, ok := s.mu.pending[h]
	if ok && p.user != sess.User {
		ok = false
	}
	streaming := ok && p.streaming
	if ok && !streaming {
		delete(s.mu.pending, h)
	}
	s.mu.Unlock()
	// The result type holds a protobuf mutex: return literals, never copies.
	switch {
	case !ok:
		return flight.CancelFlightInfoResult{Status: flight.CancelStatusNotCancellable}, nil
	case streaming:
		p.res.Cancel()
		return flight.CancelFlightInfoResult{Status: flight.CancelStatusCancelling}, nil
	default:
		p.res.Close()
		return flight.CancelFlightInfoResult{Status: flight.CancelStatusCancelled}, nil
	}
}
