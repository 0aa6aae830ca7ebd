//go:build duckdb_arrow

package flightsrv

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/kalamdb/kalamdb-go/catalog"
	"github.com/kalamdb/kalamdb-go/engine"
)

// Version is reported in SqlInfo.
const Version = "0.1.0"

// Executor runs statements (implemented by *engine.Engine).
type Executor interface {
	Execute(ctx context.Context, s *engine.Session, sql string, params ...any) (*engine.Result, error)
	// ExecuteTx runs a statement inside a Flight SQL transaction.
	ExecuteTx(ctx context.Context, s *engine.Session, tx *engine.Tx, sql string, params ...any) (*engine.Result, error)
	// ExecuteEach runs a statement once per parameter row as one result.
	ExecuteEach(ctx context.Context, s *engine.Session, tx *engine.Tx, sql string, rows [][]any) (*engine.Result, error)
	// ExecuteMany runs a statement for many parameter rows, all or
	// nothing, and returns the summed count.
	ExecuteMany(ctx context.Context, s *engine.Session, tx *engine.Tx, sql string, rows [][]any) (*engine.Result, error)
	Begin(s *engine.Session) (*engine.Tx, error)
	Audit(e engine.AuditEntry)
}

// Options configure the server.
type Options struct {
	// ResultTTL is how long an executed statement's result waits for DoGet
	// before it is discarded (default 5m).
	ResultTTL time.Duration
	// SessionTTL is how long an idle session is kept (default 24h).
	SessionTTL time.Duration
	// TxIdleTimeout is how long a transaction (SQL BEGIN or Flight SQL
	// BeginTransaction) may run no statement before it is rolled back
	// (default DefaultTxIdleTimeout).
	TxIdleTimeout time.Duration
	// MaxRecvMsgSize bounds incoming messages, e.g. DoPut batches (default 64 MiB).
	MaxRecvMsgSize int
	// TLS, when set, serves Flight over TLS (with ClientAuth set, mTLS).
	TLS *tls.Config
	// HandshakeLimiter, when set, bounds handshakes per client IP.
	HandshakeLimiter RateLimiter
	// Logger (nil = discard).
	Logger *slog.Logger
}

// RateLimiter admits or refuses an event for a key (implemented by
// *auth.RateLimiter).
type RateLimiter interface {
	Allow(key string) bool
}

// Server is the Flight SQL service.
type Server struct {
	flightsql.BaseServer

	exec     Executor
	catalog  Catalog
	auth     Authenticator
	opts     Options
	log      *slog.Logger
	sessions *sessions
	alloc    memory.Allocator

	mu struct {
		sync.Mutex
		pending  map[string]*pendingResult
		prepared map[string]*prepared
		txs      map[string]*flightTx
	}
	describe Describer
	ingest   Ingester

	grpc     *grpc.Server
	listener net.Listener
	stop     chan struct{}
	wg       sync.WaitGroup
}

type pendingResult struct {
	res       *engine.Result
	user      catalog.UserID
	created   time.Time
	streaming bool // taken by DoGet; kept listed so CancelFlightInfo can reach it
}

// New builds the server; Serve starts it.
func New(exec Executor, cat Catalog, desc Describer, ing Ingester, a Authenticator, opts Options) *Server {
	if opts.ResultTTL <= 0 {
		opts.ResultTTL = 5 * time.Minute
	}
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = 24 * time.Hour
	}
	if opts.TxIdleTimeout <= 0 {
		opts.TxIdleTimeout = DefaultTxIdleTimeout
	}
	if opts.MaxRecvMsgSize <= 0 {
		opts.MaxRecvMsgSize = 64 << 20
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Server{exec: exec, catalog: cat, describe: desc, ingest: ing, auth: a, opts: opts, log: opts.Logger, sessions: newSessions(opts.SessionTTL, opts.Logger),
		alloc: memory.DefaultAllocator, stop: make(chan struct{})}
	s.mu.pending = map[string]*pendingResult{}
	s.mu.prepared = map[string]*prepared{}
	s.mu.txs = map[string]*flightTx{}
	s.registerSQLInfo()
	return s
}

// Serve listens on addr and serves until Close. It returns once listening
// (the actual address is Addr()).
func (s *Server) Serve(addr string) error {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", addr, err)
	}
	return s.ServeListener(lis)
}

// ServeListener is Serve on a listener the caller bound (and the server
// now owns).
func (s *Server) ServeListener(lis net.Listener) error {
	s.listener = lis
	opts := []grpc.ServerOption{
		// Recovery comes first, so that it also covers authentication.
		grpc.ChainUnaryInterceptor(s.recoverUnary, s.unaryInterceptor),
		grpc.ChainStreamInterceptor(s.recoverStream, s.streamInterceptor),
		grpc.MaxRecvMsgSize(s.opts.MaxRecvMsgSize),
		grpc.MaxSendMsgSize(1<<31 - 1),
	}
	if s.opts.TLS != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(s.opts.TLS)))
	}
	s.grpc = grpc.NewServer(opts...)
	flight.RegisterFlightServiceServer(s.grpc, s.flightService())
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		if err := s.grpc.Serve(lis); err != nil {
			s.log.Error("flight server stopped", "err", err)
		}
	}()
	go func() {
		defer s.wg.Done()
		s.janitor()
	}()
	return nil
}

// flightService is the service gRPC serves: the Flight SQL dispatcher for
// s, its DoPut streams checked (see flightService).
func (s *Server) flightService() *flightService {
	return &flightService{
		FlightServer: flightsql.NewFlightServerWithAllocator(s, s.alloc),
		maxDecoded:   maxDecodedBytes(s.opts.MaxRecvMsgSize),
	}
}

// maxDecodedBytes bounds what the compressed buffers of one DoPut message
// may decompress to: 16 times the largest message, at least 256 MiB.
func maxDecodedBytes(maxRecv int) int64 {
	return max(16*int64(maxRecv), 256<<20)
}

// Addr is the listening address.
func (s *Server) Addr() string { return s.listener.Addr().String() }

// Close stops accepting calls, lets running calls finish (up to timeout),
// and discards pending results. Idempotent.
func (s *Server) Close(timeout time.Duration) {
	select {
	case <-s.stop:
		return
	default:
	}
	close(s.stop)
	if s.grpc != nil {
		done := make(chan struct{})
		go func() { s.grpc.GracefulStop(); close(done) }()
		select {
		case <-done:
		case <-time.After(timeout):
			s.grpc.Stop()
		}
	}
	s.wg.Wait()
	s.mu.Lock()
	for k, p := range s.mu.pending {
		p.res.Close()
		delete(s.mu.pending, k)
	}
	s.mu.Unlock()
}

func (s *Server) janitor() {
	// Every 30 s, or often enough to honour a short transaction timeout.
	t := time.NewTicker(min(30*time.Second, max(s.opts.TxIdleTimeout/4, 10*time.Millisecond)))
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		cutoff := time.Now().Add(-s.opts.ResultTTL)
		var expired []*pendingResult
		s.mu.Lock()
		for k, p := range s.mu.pending {
			if p.created.Before(cutoff) && !p.streaming {
				expired = append(expired, p)
				delete(s.mu.pending, k)
			}
		}
		s.mu.Unlock()
		for _, p := range expired {
			p.res.Close()
		}
		s.mu.Lock()
		for h, p := range s.mu.prepared {
			if p.used.Before(time.Now().Add(-s.opts.SessionTTL)) {
				delete(s.mu.prepared, h)
			}
		}
		s.mu.Unlock()
		s.expireTxs(time.Now())
		s.sessions.sweep(s.opts.TxIdleTimeout)
	}
}

func session(ctx context.Context) (*engine.Session, error) {
	sess, ok := sessionFrom(ctx)
	if !ok {
		return nil, statusError(catalog.Errorf(catalog.KindUnauthenticated, "authentication required"))
	}
	return sess, nil
}

// GetFlightInfoStatement executes the statement now and returns one endpoint
// whose ticket streams its result.
func (s *Server) GetFlightInfoStatement(ctx context.Context, cmd flightsql.StatementQuery, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	sess, err := session(ctx)
	if err != nil {
		return nil, err
	}
	tx, err := s.txFor(sess, cmd.GetTransactionId())
	if err != nil {
		return nil, err
	}
	return s.executeForInfo(ctx, sess, tx, cmd.GetQuery(), nil, desc)
}

// executeForInfo runs a statement now and returns a FlightInfo whose single
// endpoint's ticket streams the result.
func (s *Server) executeForInfo(ctx context.Context, sess *engine.Session, tx *engine.Tx, sql string, params [][]any, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	start := time.Now()
	res, err := s.exec.ExecuteEach(ctx, sess, tx, sql, params)
	if err != nil {
		s.log.Debug("statement failed", "user", sess.User, "err", err)
		return nil, statusError(err)
	}
	if res.OwnPasswordChanged {
		s.renewToken(ctx, sess)
	}
	handle := s.addPending(res, sess.User)
	tkt, err := flightsql.CreateStatementQueryTicket([]byte(handle))
	if err != nil {
		s.donePending(handle)
		res.Close()
		return nil, statusError(err)
	}
	s.log.Debug("statement executed", "user", sess.User, "took", time.Since(start))
	// For DML the record count is the number of rows changed: DB-API
	// drivers report it as the cursor's rowcount.
	total := int64(-1)
	if res.IsUpdate {
		total = res.RowsAffected
	}
	return &flight.FlightInfo{
		Schema:           flight.SerializeSchema(res.Schema(), s.alloc),
		FlightDescriptor: desc,
		Endpoint:         []*flight.FlightEndpoint{{Ticket: &flight.Ticket{Ticket: tkt}}},
		TotalRecords:     total,
		TotalBytes:       -1,
	}, nil
}

func (s *Server) addPending(res *engine.Result, user catalog.UserID) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	s.mu.Lock()
	s.mu.pending[h] = &pendingResult{res: res, user: user, created: time.Now()}
	s.mu.Unlock()
	return h
}

// takePending removes and returns a pending result; only the user who ran
// the statement may fetch it.
func (s *Server) takePending(h string, user catalog.UserID) (*engine.Result, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.mu.pending[h]
	if !ok || p.user != user || p.streaming {
		return nil, false
	}
	p.streaming = true
	return p.res, true
}

// donePending forgets a result once its stream has ended.
func (s *Server) donePending(h string) {
	s.mu.Lock()
	delete(s.mu.pending, h)
	s.mu.Unlock()
}

// DoGetStatement streams a pending result.
func (s *Server) DoGetStatement(ctx context.Context, tkt flightsql.StatementQueryTicket) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	sess, err := session(ctx)
	if err != nil {
		return nil, nil, err
	}
	handle := string(tkt.GetStatementHandle())
	res, ok := s.takePending(handle, sess.User)
	if !ok {
		return nil, nil, statusError(catalog.Errorf(catalog.KindNotFound, "unknown or expired statement ticket"))
	}
	res.Watch(ctx)
	ch := make(chan flight.StreamChunk, 2)
	go func() {
		defer close(ch)
		defer s.donePending(handle)
		defer res.Close()
		defer func() {
			if r := recover(); r != nil {
				s.logPanic("DoGet (result stream)", r)
				select {
				case ch <- flight.StreamChunk{Err: statusError(fmt.Errorf("internal error while streaming"))}:
				case <-ctx.Done():
				}
			}
		}()
		for {
			rec := res.Next()
			if rec == nil {
				break
			}
			select {
			case ch <- flight.StreamChunk{Data: rec}:
			case <-ctx.Done():
				rec.Release()
				return
			}
		}
		if err := res.Err(); err != nil {
			select {
			case ch <- flight.StreamChunk{Err: statusError(err)}:
			case <-ctx.Done():
			}
		}
	}()
	return res.Schema(), ch, nil
}

// DoPutCommandStatementUpdate executes a statement and returns the number of
// rows it changed.
func (s *Server) DoPutCommandStatementUpdate(ctx context.Context, cmd flightsql.StatementUpdate) (int64, error) {
	sess, err := session(ctx)
	if err != nil {
		return 0, err
	}
	tx, err := s.txFor(sess, cmd.GetTransactionId())
	if err != nil {
		return 0, err
	}
	res, err := s.exec.ExecuteTx(ctx, sess, tx, cmd.GetQuery())
	if err != nil {
		return 0, statusError(err)
	}
	res.Close()
	if res.OwnPasswordChanged {
		s.renewToken(ctx, sess)
	}
	return res.RowsAffected, nil
}
