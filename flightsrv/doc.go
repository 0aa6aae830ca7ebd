// Package flightsrv serves the engine over Arrow Flight SQL.
//
// Authentication: a Handshake carrying `authorization: Basic …` (padded or
// unpadded base64) or `Bearer …` returns an HS256 JWT as `authorization:
// Bearer …` in both the response headers and trailers. Every other call
// carries the bearer token, or Basic credentials (checked through a cache so
// that bcrypt stays off the per-call path). Each token is its own session
// (USE applies to it).
//
// Statements execute when GetFlightInfo is called, so DDL and DML take effect
// even when a client never calls DoGet; the FlightInfo has exactly one
// endpoint whose ticket names the pending result, which DoGet streams.
//
// Errors become gRPC status codes in exactly one function, statusError.
package flightsrv
