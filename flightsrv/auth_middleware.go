package flightsrv

import (
	"context"
	"crypto/sha256"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/kalamdb/kalamdb-go/auth"
	"github.com/kalamdb/kalamdb-go/catalog"
	"github.com/kalamdb/kalamdb-go/engine"
)

// Authenticator verifies credentials and tokens (implemented by *auth.Service).
type Authenticator interface {
	// AuthenticateFrom checks a password sent from client address addr
	// (failures are counted per name and address).
	AuthenticateFrom(user, password, addr string) (auth.User, error)
	IssueToken(u auth.User) (string, error)
	VerifyToken(tok string) (auth.User, error)
}

var _ Authenticator = (*auth.Service)(nil)

type sessionKey struct{}

// sessionIDKey carries the credential key a call's session is stored under.
type sessionIDKey struct{}

func (ss *sessions) drop(key string) bool {
	k := sha256.Sum256([]byte(key))
	ss.mu.Lock()
	e, ok := ss.mu.m[k]
	delete(ss.mu.m, k)
	ss.mu.Unlock()
	if ok {
		// Rolls back its open transaction (outside the lock: it waits
		// for a running statement of the transaction).
		e.s.Close()
	}
	return ok
}

// renew files the session stored under key also under the fresh token
// tok, and lets key's old token stand for it as long as tok verifies (no
// later password change, the user not dropped): the session that changed
// its own password keeps working whether or not its client takes up the
// fresh token (clients see streamed calls' headers late, if at all).
func (ss *sessions) renew(key, tok string) {
	k, t := sha256.Sum256([]byte(key)), sha256.Sum256([]byte("bearer:"+tok))
	ss.mu.Lock()
	defer ss.mu.Unlock()
	e, ok := ss.mu.m[k]
	if !ok {
		return
	}
	ss.mu.m[t] = e
	if ss.mu.renewed == nil {
		ss.mu.renewed = map[[32]byte]string{}
	}
	ss.mu.renewed[k] = tok
}

// renewedToken returns the fresh token a session's old credential key was
// renewed with.
func (ss *sessions) renewedToken(key string) (string, bool) {
	k := sha256.Sum256([]byte(key))
	ss.mu.Lock()
	defer ss.mu.Unlock()
	tok, ok := ss.mu.renewed[k]
	return tok, ok
}

// renewToken answers a statement that changed the caller's own password:
// the session's token no longer verifies (it carries the old password's
// version), so a fresh one goes back in the response headers (clients such
// as the ADBC driver take it up) and the session carries on under either
// (see sessions.renew). The user's other sessions end. Basic credentials
// are the client's to change.
func (s *Server) renewToken(ctx context.Context, sess *engine.Session) {
	key, _ := ctx.Value(sessionIDKey{}).(string)
	if !strings.HasPrefix(key, "bearer:") {
		return
	}
	tok, err := s.auth.IssueToken(auth.User{ID: sess.User})
	if err != nil {
		s.log.Warn("renew token after a password change", "user", sess.User, "err", err)
		return
	}
	if err := grpc.SetHeader(ctx, metadata.Pairs("authorization", "Bearer "+tok)); err != nil {
		s.log.Warn("send renewed token", "user", sess.User, "err", err)
		return
	}
	s.sessions.renew(key, tok)
}

// sessionFrom returns the call's session, set by the auth interceptors.
func sessionFrom(ctx context.Context) (*engine.Session, bool) {
	s, ok := ctx.Value(sessionKey{}).(*engine.Session)
	return s, ok
}

// sessions maps a credential (token hash, or user for Basic) to a Session.
type sessions struct {
	ttl time.Duration
	log *slog.Logger
	mu  struct {
		sync.Mutex
		m map[[32]byte]*sessionEntry
		// renewed maps the key of a token made stale by its own session's
		// password change to the fresh token it stands for.
		renewed map[[32]byte]string
	}
}

type sessionEntry struct {
	s    *engine.Session
	seen time.Time
}

func newSessions(ttl time.Duration, log *slog.Logger) *sessions {
	s := &sessions{ttl: ttl, log: log}
	s.mu.m = map[[32]byte]*sessionEntry{}
	return s
}

// NamespaceHeader is the call header that sets a new session's default
// namespace (as USE would): e.g. ADBC's
// adbc.flight.sql.rpc.call_header.kalamdb-namespace option, or a JDBC URL
// property, which the Flight SQL JDBC driver sends as a header.
const NamespaceHeader = "kalamdb-namespace"

// namespaceHeader returns the namespace a call asks its new session to use.
func namespaceHeader(ctx context.Context) catalog.NamespaceID {
	md, _ := metadata.FromIncomingContext(ctx)
	if v := md.Get(NamespaceHeader); len(v) > 0 {
		if ns, err := catalog.ParseNamespaceID(v[0]); err == nil {
			return ns
		}
	}
	return ""
}

// get returns the session of a credential, creating it (with default
// namespace ns) on first use.
func (ss *sessions) get(key string, u auth.User, addr string, ns catalog.NamespaceID) *engine.Session {
	k := sha256.Sum256([]byte(key))
	now := time.Now()
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if e, ok := ss.mu.m[k]; ok && e.s.User == u.ID && e.s.Role == u.Role {
		e.seen = now
		return e.s
	}
	s := engine.NewSession(u.ID, u.Role)
	s.RemoteAddr = addr
	s.SetNamespace(ns)
	ss.mu.m[k] = &sessionEntry{s: s, seen: now}
	return s
}

// sweep drops sessions idle for longer than the TTL and rolls back SQL
// transactions idle for longer than txIdle.
func (ss *sessions) sweep(txIdle time.Duration) {
	cutoff := time.Now().Add(-ss.ttl)
	var expired, live []*engine.Session
	ss.mu.Lock()
	closing := map[*engine.Session]bool{}
	for k, e := range ss.mu.m {
		if e.seen.Before(cutoff) {
			delete(ss.mu.m, k)
			delete(ss.mu.renewed, k)
			if !closing[e.s] { // a renewed session is under two keys
				closing[e.s] = true
				expired = append(expired, e.s)
			}
		} else if !closing[e.s] {
			live = append(live, e.s)
		}
	}
	ss.mu.Unlock()
	for _, s := range expired {
		s.Close()
	}
	// A SQL transaction (BEGIN) left idle is rolled back like an idle
	// Flight SQL transaction; the session itself stays.
	for _, s := range live {
		if s.RollbackIdleTx(txIdle) {
			ss.log.Info("rolled back an idle SQL transaction", "user", s.User, "idle_for", txIdle)
		}
	}
}

// peerIP is the client's IP address ("" if unknown).
func peerIP(ctx context.Context) string {
	p, ok := peer.FromContext(ctx)
	if !ok || p.Addr == nil {
		return ""
	}
	host, _, err := net.SplitHostPort(p.Addr.String())
	if err != nil {
		return ""
	}
	return host
}

func authHeader(ctx context.Context) (scheme, cred string) {
	md, ok := metadata.FromIncomingContext(ctx)
	if !ok {
		return "", ""
	}
	vals := md.Get("authorization")
	if len(vals) == 0 {
		return "", ""
	}
	scheme, cred, _ = strings.Cut(strings.TrimSpace(vals[0]), " ")
	return scheme, strings.TrimLeft(cred, " ")
}

// authenticate resolves the call's credentials to a user and session key;
// failures are audited.
func (s *Server) authenticate(ctx context.Context) (auth.User, string, error) {
	u, key, err := s.credentials(ctx)
	if err != nil {
		s.exec.Audit(engine.AuditEntry{Actor: catalog.UserID(s.claimedUser(ctx)), Action: "LOGIN FAILED", Details: err.Error(), IP: peerIP(ctx)})
	}
	return u, key, err
}

// claimedUser is the user name in Basic credentials, for the audit log.
func (s *Server) claimedUser(ctx context.Context) string {
	scheme, cred := authHeader(ctx)
	if strings.EqualFold(scheme, "Basic") {
		if user, _, ok := auth.ParseBasic(scheme + " " + cred); ok && len(user) <= catalog.MaxIdentifierLen {
			return user
		}
	}
	return ""
}

func (s *Server) credentials(ctx context.Context) (auth.User, string, error) {
	scheme, cred := authHeader(ctx)
	switch {
	case strings.EqualFold(scheme, "Bearer") && cred != "":
		u, err := s.auth.VerifyToken(cred)
		if err != nil {
			tok, ok := s.sessions.renewedToken("bearer:" + cred)
			if !ok {
				return auth.User{}, "", err
			}
			if u, err = s.auth.VerifyToken(tok); err != nil {
				return auth.User{}, "", err
			}
		}
		return u, "bearer:" + cred, nil
	case strings.EqualFold(scheme, "Basic") && cred != "":
		user, pass, ok := auth.ParseBasic(scheme + " " + cred)
		if !ok {
			return auth.User{}, "", catalog.Errorf(catalog.KindUnauthenticated, "malformed Basic credentials")
		}
		u, err := s.auth.AuthenticateFrom(user, pass, peerIP(ctx))
		if err != nil {
			return auth.User{}, "", err
		}
		// One session per account: a user dropped and re-created under
		// the same name is a new account (its creation time differs) and
		// must not inherit the old one's session.
		return u, "basic:" + string(u.ID) + ":" + strconv.FormatInt(u.CreatedAt.UnixNano(), 10), nil
	case scheme == "":
		return auth.User{}, "", catalog.Errorf(catalog.KindUnauthenticated, "authentication required: send Basic credentials or a Bearer token")
	}
	return auth.User{}, "", catalog.Errorf(catalog.KindUnauthenticated, "unsupported authorization scheme %q", scheme)
}

func (s *Server) unaryInterceptor(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	u, key, err := s.authenticate(ctx)
	if err != nil {
		return nil, statusError(err)
	}
	ctx = context.WithValue(ctx, sessionIDKey{}, key)
	return handler(context.WithValue(ctx, sessionKey{}, s.sessions.get(key, u, peerIP(ctx), namespaceHeader(ctx))), req)
}

type wrappedStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (w *wrappedStream) Context() context.Context { return w.ctx }

func (s *Server) streamInterceptor(srv any, stream grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	ctx := stream.Context()
	handshake := strings.HasSuffix(info.FullMethod, "/Handshake")
	if handshake && s.opts.HandshakeLimiter != nil && !s.opts.HandshakeLimiter.Allow(peerIP(ctx)) {
		return status.Error(codes.ResourceExhausted, "too many handshakes from this address; retry later")
	}
	u, key, err := s.authenticate(ctx)
	if err != nil {
		return statusError(err)
	}
	if handshake {
		scheme, cred := authHeader(ctx)
		tok := cred
		if !strings.EqualFold(scheme, "Bearer") {
			if tok, err = s.auth.IssueToken(u); err != nil {
				return status.Error(codes.Internal, "issue token")
			}
			key = "bearer:" + tok
		}
		md := metadata.Pairs("authorization", "Bearer "+tok)
		if err := stream.SetHeader(md); err != nil {
			return status.Error(codes.Internal, "send handshake header")
		}
		stream.SetTrailer(md)
		s.sessions.get(key, u, peerIP(ctx), namespaceHeader(ctx))
		s.exec.Audit(engine.AuditEntry{Actor: u.ID, Action: "LOGIN", Details: "handshake " + strings.ToLower(scheme), IP: peerIP(ctx)})
		s.log.Debug("handshake", "user", u.ID)
		return handler(srv, stream)
	}
	ctx = context.WithValue(ctx, sessionIDKey{}, key)
	ctx = context.WithValue(ctx, sessionKey{}, s.sessions.get(key, u, peerIP(ctx), namespaceHeader(ctx)))
	return handler(srv, &wrappedStream{ServerStream: stream, ctx: ctx})
}
