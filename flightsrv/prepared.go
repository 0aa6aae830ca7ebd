//go:build duckdb_arrow

package flightsrv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"

	"github.com/kalamdb/kalamdb-go/catalog"
	"github.com/kalamdb/kalamdb-go/engine"
)

// Describer reports statement schemas without running them (implemented by
// *engine.Engine).
type Describer interface {
	Describe(ctx context.Context, s *engine.Session, sql string) (*engine.StatementInfo, error)
}

// prepared is a server-side prepared statement: its text, its description,
// and the parameter rows bound to it by the last DoPut.
type prepared struct {
	sql    string
	user   catalog.UserID
	info   *engine.StatementInfo
	params [][]any
	used   time.Time
	// txID is the Flight SQL transaction the statement was prepared in.
	txID []byte
}

// preparedFor resolves the calling session and one of its prepared
// statements.
func (s *Server) preparedFor(ctx context.Context, h []byte) (*engine.Session, *prepared, error) {
	sess, err := session(ctx)
	if err != nil {
		return nil, nil, err
	}
	p, err := s.getPrepared(h, sess.User)
	return sess, p, err
}

func (s *Server) getPrepared(h []byte, user catalog.UserID) (*prepared, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.mu.prepared[string(h)]
	if !ok || p.user != user {
		return nil, statusError(catalog.Errorf(catalog.KindNotFound, "unknown or closed prepared statement"))
	}
	p.used = time.Now()
	return p, nil
}

// CreatePreparedStatement describes the statement and returns a handle,
// with IsUpdate set and an empty dataset schema for DDL and DML (the JDBC
// driver relies on both to run them as updates).
func (s *Server) CreatePreparedStatement(ctx context.Context, req flightsql.ActionCreatePreparedStatementRequest) (flightsql.ActionCreatePreparedStatementResult, error) {
	var res flightsql.ActionCreatePreparedStatementResult
	sess, err := session(ctx)
	if err != nil {
		return res, err
	}
	if _, err := s.txFor(sess, req.GetTransactionId()); err != nil {
		return res, err
	}
	info, err := s.describe.Describe(ctx, sess, req.GetQuery())
	if err != nil {
		return res, statusError(err)
	}
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	s.mu.Lock()
	s.mu.prepared[h] = &prepared{sql: req.GetQuery(), user: sess.User, info: info, used: time.Now(), txID: req.GetTransactionId()}
	s.mu.Unlock()
	isUpdate := info.IsUpdate
	res.Handle = []byte(h)
	res.DatasetSchema = info.Schema
	res.ParameterSchema = info.Params
	res.IsUpdate = &isUpdate
	return res, nil
}

// ClosePreparedStatement forgets a handle.
func (s *Server) ClosePreparedStatement(ctx context.Context, req flightsql.ActionClosePreparedStatementRequest) error {
	sess, err := session(ctx)
	if err != nil {
		return err
	}
	if _, err := s.getPrepared(req.GetPreparedStatementHandle(), sess.User); err != nil {
		return err
	}
	s.mu.Lock()
	delete(s.mu.prepared, string(req.GetPreparedStatementHandle()))
	s.mu.Unlock()
	return nil
}

// DoPutPreparedStatementQuery binds parameter rows to a prepared query.
func (s *Server) DoPutPreparedStatementQuery(ctx context.Context, cmd flightsql.PreparedStatementQuery, rdr flight.MessageReader, _ flight.MetadataWriter) ([]byte, error) {
	_, p, err := s.preparedFor(ctx, cmd.GetPreparedStatementHandle())
	if err != nil {
		return nil, err
	}
	rows, err := readParams(rdr)
	if err != nil {
		return nil, statusError(err)
	}
	s.mu.Lock()
	p.params = rows
	s.mu.Unlock()
	return cmd.GetPreparedStatementHandle(), nil
}

// GetFlightInfoPreparedStatement executes a prepared query once per bound
// parameter row (once when none are bound) and returns a ticket for the
// rows of all runs, in order.
func (s *Server) GetFlightInfoPreparedStatement(ctx context.Context, cmd flightsql.PreparedStatementQuery, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	sess, p, err := s.preparedFor(ctx, cmd.GetPreparedStatementHandle())
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	params := p.params
	s.mu.Unlock()
	tx, err := s.txFor(sess, p.txID)
	if err != nil {
		return nil, err
	}
	return s.executeForInfo(ctx, sess, tx, p.sql, params, desc)
}

// GetSchemaPreparedStatement returns a prepared statement's result schema.
func (s *Server) GetSchemaPreparedStatement(ctx context.Context, cmd flightsql.PreparedStatementQuery, _ *flight.FlightDescriptor) (*flight.SchemaResult, error) {
	_, p, err := s.preparedFor(ctx, cmd.GetPreparedStatementHandle())
	if err != nil {
		return nil, err
	}
	return &flight.SchemaResult{Schema: flight.SerializeSchema(p.info.Schema, s.alloc)}, nil
}

// GetSchemaStatement returns a statement's result schema without running it
// (ADBC ExecuteSchema).
func (s *Server) GetSchemaStatement(ctx context.Context, cmd flightsql.StatementQuery, _ *flight.FlightDescriptor) (*flight.SchemaResult, error) {
	sess, err := session(ctx)
	if err != nil {
		return nil, err
	}
	info, err := s.describe.Describe(ctx, sess, cmd.GetQuery())
	if err != nil {
		return nil, statusError(err)
	}
	return &flight.SchemaResult{Schema: flight.SerializeSchema(info.Schema, s.alloc)}, nil
}

// DoPutPreparedStatementUpdate executes a prepared update for every bound
// parameter row (once when none are bound) and returns the total count:
// the rows take effect all together or not at all (see
// engine.Engine.ExecuteMany), and an error names the parameter row.
func (s *Server) DoPutPreparedStatementUpdate(ctx context.Context, cmd flightsql.PreparedStatementUpdate, rdr flight.MessageReader) (int64, error) {
	sess, p, err := s.preparedFor(ctx, cmd.GetPreparedStatementHandle())
	if err != nil {
		return 0, err
	}
	rows, err := readParams(rdr)
	if err != nil {
		return 0, statusError(err)
	}
	if len(rows) == 0 {
		s.mu.Lock()
		rows = p.params
		s.mu.Unlock()
	}
	tx, err := s.txFor(sess, p.txID)
	if err != nil {
		return 0, err
	}
	res, err := s.exec.ExecuteMany(ctx, sess, tx, p.sql, rows)
	if err != nil {
		return 0, statusError(err)
	}
	res.Close()
	return res.RowsAffected, nil
}

// readParams reads every parameter row of a DoPut stream (a stream with no
// batches binds nothing), validating each batch before it reads it.
func readParams(rdr flight.MessageReader) ([][]any, error) {
	br, err := newBatchReader(rdr)
	if err != nil {
		return nil, err
	}
	var rows [][]any
	for {
		rec, err := br.Next()
		if err != nil {
			return nil, catalog.WrapKind(catalog.KindInvalid, err, "read parameters")
		}
		if rec == nil {
			return rows, nil
		}
		for r := 0; r < int(rec.NumRows()); r++ {
			row := make([]any, rec.NumCols())
			for c, col := range rec.Columns() {
				v, err := paramValue(col, r)
				if err != nil {
					return nil, catalog.WrapKind(catalog.KindInvalid, err, "parameter %d", c+1)
				}
				row[c] = v
			}
			rows = append(rows, row)
		}
	}
}

// paramValue converts one Arrow value to the Go value bound to DuckDB.
func paramValue(col arrow.Array, i int) (any, error) {
	if _, ok := col.(*array.Null); ok || col.IsNull(i) {
		return nil, nil
	}
	switch a := col.(type) {
	case *array.Boolean:
		return a.Value(i), nil
	case *array.Int8:
		return a.Value(i), nil
	case *array.Int16:
		return a.Value(i), nil
	case *array.Int32:
		return a.Value(i), nil
	case *array.Int64:
		return a.Value(i), nil
	case *array.Uint8:
		return a.Value(i), nil
	case *array.Uint16:
		return a.Value(i), nil
	case *array.Uint32:
		return a.Value(i), nil
	case *array.Uint64:
		return int64(a.Value(i)), nil
	case *array.Float32:
		return a.Value(i), nil
	case *array.Float64:
		return a.Value(i), nil
	case *array.String:
		return a.Value(i), nil
	case *array.LargeString:
		return a.Value(i), nil
	case *array.StringView:
		return a.Value(i), nil
	case *array.Binary:
		return append([]byte(nil), a.Value(i)...), nil
	case *array.LargeBinary:
		return append([]byte(nil), a.Value(i)...), nil
	case *array.Timestamp:
		unit := a.DataType().(*arrow.TimestampType).Unit
		return a.Value(i).ToTime(unit), nil
	case *array.Date32:
		return a.Value(i).ToTime().Format("2006-01-02"), nil
	case *array.Date64:
		return a.Value(i).ToTime().Format("2006-01-02"), nil
	case *array.Decimal128:
		return a.ValueStr(i), nil
	case *array.DenseUnion:
		// ADBC binds untyped (Null-typed) parameters through a union.
		child := a.Field(a.ChildID(i))
		return paramValue(child, int(a.ValueOffset(i)))
	}
	return nil, fmt.Errorf("unsupported parameter type %s", col.DataType())
}
