package auth

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/kalamdb/kalamdb-go/catalog"
)

// KV is the persistent metadata store (implemented by hotstore; every write
// durable).
type KV interface {
	// MetaGet returns the value stored at key and whether it exists.
	MetaGet(key []byte) ([]byte, bool, error)
	// MetaPut durably stores value at key.
	MetaPut(key, value []byte) error
	// MetaDelete durably removes key.
	MetaDelete(key []byte) error
	// MetaScan calls fn for every key with the given prefix, in key order.
	// The key and value slices are valid only during fn.
	MetaScan(prefix []byte, fn func(key, value []byte) error) error
}

// Metadata keys.
const (
	jwtKeyKey     = "auth/jwt_key"
	userKeyPrefix = "auth/user/"
	jwtKeyLen     = 32
)

// Defaults for Options.
const (
	DefaultTokenTTL   = 24 * time.Hour
	DefaultBcryptCost = 12
)

// Options configures Open.
type Options struct {
	// RootPassword comes from KALAMDB_ROOT_PASSWORD. "" means root may log
	// in with an empty password from loopback only (until a password is set).
	RootPassword string
	// TokenTTL is the lifetime of issued tokens; 0 means DefaultTokenTTL.
	TokenTTL time.Duration
	// BcryptCost is the cost of new password hashes; 0 means
	// DefaultBcryptCost. Tests may use bcrypt.MinCost.
	BcryptCost int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Sleep waits out the progressive delay of a login attempt after
	// failed ones (see LoginDelay); nil means time.Sleep. Tests with a
	// fake clock pass one that advances it (or does nothing).
	Sleep func(time.Duration)
	// Logger receives warnings (password-less root, lockouts); nil discards.
	Logger *slog.Logger
	// OIDCIssuers are the external identity providers whose RS256/ES256
	// tokens VerifyToken accepts (see OIDCIssuer); none by default.
	OIDCIssuers []OIDCIssuer
	// HTTPClient fetches JWKSURL key sets; nil means a client with a 10 s
	// timeout.
	HTTPClient *http.Client
	// JWKSRefresh is how long a loaded JWKS is used before it is loaded
	// again; 0 means DefaultJWKSRefresh (10 minutes).
	JWKSRefresh time.Duration
}

// Service authenticates users and manages accounts. It is safe for
// concurrent use. All methods return *catalog.Error values.
type Service struct {
	kv       KV
	now      func() time.Time
	sleep    func(time.Duration)
	log      *slog.Logger
	cost     int
	tokenTTL time.Duration
	key      []byte

	// writeMu serialises writers: each write goes to the KV first and
	// then, briefly under mu, into the users map. Readers only take mu.
	writeMu sync.Mutex
	mu      sync.RWMutex
	users   map[catalog.UserID]User

	cache *credCache
	guard *loginGuard

	dummyOnce sync.Once
	dummyHash []byte

	// oidc maps an issuer ("iss") to its state; read-only after Open.
	oidc        map[string]*oidcIssuer
	jwksRefresh time.Duration
}

// Open loads (or, on first start, creates) the signing key and the users
// from kv, bootstrapping the root user as described in the package
// documentation.
func Open(kv KV, opts Options) (*Service, error) {
	if kv == nil {
		return nil, catalog.Errorf(catalog.KindInvalid, "auth: nil KV")
	}
	s := &Service{
		kv:       kv,
		now:      opts.Now,
		sleep:    opts.Sleep,
		log:      opts.Logger,
		cost:     opts.BcryptCost,
		tokenTTL: opts.TokenTTL,
		users:    make(map[catalog.UserID]User),
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.sleep == nil {
		s.sleep = time.Sleep
	}
	s.guard = newLoginGuard()
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.cost == 0 {
		s.cost = DefaultBcryptCost
	}
	if s.cost < bcrypt.MinCost || s.cost > bcrypt.MaxCost {
		return nil, catalog.Errorf(catalog.KindInvalid, "auth: bcrypt cost %d out of range %d..%d", s.cost, bcrypt.MinCost, bcrypt.MaxCost)
	}
	if s.tokenTTL == 0 {
		s.tokenTTL = DefaultTokenTTL
	}
	if s.tokenTTL < 0 {
		return nil, catalog.Errorf(catalog.KindInvalid, "auth: negative token TTL")
	}
	if len(opts.RootPassword) > MaxPasswordLen {
		return nil, catalog.Errorf(catalog.KindInvalid, "auth: root password longer than %d bytes", MaxPasswordLen)
	}
	var salt [32]byte
	_, _ = rand.Read(salt[:])
	s.cache = newCredCache(salt)

	if err := s.initOIDC(opts); err != nil {
		return nil, err
	}
	if err := s.loadKey(); err != nil {
		return nil, err
	}
	if err := s.loadUsers(); err != nil {
		return nil, err
	}
	if err := s.bootstrapRoot(opts.RootPassword); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Service) loadKey() error {
	v, ok, err := s.kv.MetaGet([]byte(jwtKeyKey))
	if err != nil {
		return catalog.WrapKind(catalog.KindInternal, err, "auth: load signing key")
	}
	if ok {
		if len(v) < jwtKeyLen {
			return catalog.Errorf(catalog.KindInternal, "auth: stored signing key is %d bytes, want %d", len(v), jwtKeyLen)
		}
		s.key = append([]byte(nil), v...)
		return nil
	}
	key := make([]byte, jwtKeyLen)
	_, _ = rand.Read(key)
	if err := s.kv.MetaPut([]byte(jwtKeyKey), key); err != nil {
		return catalog.WrapKind(catalog.KindInternal, err, "auth: store signing key")
	}
	s.key = key
	return nil
}

func (s *Service) loadUsers() error {
	err := s.kv.MetaScan([]byte(userKeyPrefix), func(key, value []byte) error {
		var u User
		if err := json.Unmarshal(value, &u); err != nil {
			return catalog.WrapKind(catalog.KindInternal, err, "auth: decode %s", key)
		}
		if want := strings.TrimPrefix(string(key), userKeyPrefix); string(u.ID) != want {
			return catalog.Errorf(catalog.KindInternal, "auth: user record %s holds user %q", key, u.ID)
		}
		s.users[u.ID] = u
		return nil
	})
	if err != nil {
		if isCatalogErr(err) {
			return err
		}
		return catalog.WrapKind(catalog.KindInternal, err, "auth: load users")
	}
	return nil
}

func isCatalogErr(err error) bool {
	var e *catalog.Error
	return errors.As(err, &e)
}

func (s *Service) bootstrapRoot(password string) error {
	now := s.now()
	root, ok := s.users[catalog.RootUser]
	switch {
	case !ok || root.Deleted():
		u := User{
			ID:        catalog.RootUser,
			Role:      catalog.RoleSystem,
			AuthType:  AuthTypePassword,
			CreatedAt: now,
			UpdatedAt: now,
		}
		if password != "" {
			h, err := s.hash(password)
			if err != nil {
				return err
			}
			u.PasswordHash = h
		}
		if err := s.putUser(u); err != nil {
			return err
		}
		s.log.Info("auth: created root user")
		root = u
	case password != "" && (root.PasswordHash == "" ||
		bcrypt.CompareHashAndPassword([]byte(root.PasswordHash), []byte(password)) != nil):
		h, err := s.hash(password)
		if err != nil {
			return err
		}
		root.PasswordHash = h
		root.UpdatedAt = now
		root.FailedLoginAttempts = 0
		root.LockedUntil = nil
		if err := s.putUser(root); err != nil {
			return err
		}
		s.log.Info("auth: root password set from KALAMDB_ROOT_PASSWORD")
	}
	if root.PasswordHash == "" {
		s.log.Warn("auth: root has no password and may log in without one from loopback only; set KALAMDB_ROOT_PASSWORD")
	} else if password != "" && len(password) < MinPasswordLen {
		s.log.Warn("auth: KALAMDB_ROOT_PASSWORD is shorter than the recommended minimum", "min", MinPasswordLen)
	}
	return nil
}

func (s *Service) hash(password string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(password), s.cost)
	if err != nil {
		return "", catalog.WrapKind(catalog.KindInternal, err, "auth: hash password")
	}
	return string(h), nil
}

// putUser persists u and then publishes it in the users map.
func (s *Service) putUser(u User) error {
	b, err := json.Marshal(u)
	if err != nil {
		return catalog.WrapKind(catalog.KindInternal, err, "auth: encode user %s", u.ID)
	}
	if err := s.kv.MetaPut([]byte(userKeyPrefix+string(u.ID)), b); err != nil {
		return catalog.WrapKind(catalog.KindInternal, err, "auth: store user %s", u.ID)
	}
	s.mu.Lock()
	s.users[u.ID] = u
	s.mu.Unlock()
	return nil
}

// storeLoginState records login bookkeeping (counters, lockout, last
// login). It always updates memory, so a lockout holds even if the store
// write fails; store errors are only logged.
func (s *Service) storeLoginState(u User) {
	if err := s.putUser(u); err != nil {
		s.log.Error("auth: persist login state", "user", string(u.ID), "err", err)
		s.mu.Lock()
		s.users[u.ID] = u
		s.mu.Unlock()
	}
}

// lookup returns the user record (including the hash) for id.
func (s *Service) lookup(id catalog.UserID) (User, bool) {
	s.mu.RLock()
	u, ok := s.users[id]
	s.mu.RUnlock()
	return u, ok
}

func invalidCredentials() error {
	return catalog.Errorf(catalog.KindUnauthenticated, "invalid username or password")
}

func lockedError(until time.Time) error {
	return catalog.Errorf(catalog.KindUnauthenticated, "too many failed logins: account locked for this client address until %s", until.UTC().Format(time.RFC3339))
}

// stillRemoving is the error for reusing the name of a dropped user whose
// data has not been removed yet.
func stillRemoving(id catalog.UserID) error {
	return catalog.Errorf(catalog.KindUnavailable, "user %s is still being removed; retry", id)
}

func notFound(id catalog.UserID) error {
	return catalog.Errorf(catalog.KindNotFound, "user %s does not exist", id)
}

// dummyCompare spends about as long as a real password check, so unknown
// users cannot be told apart from wrong passwords by timing.
func (s *Service) dummyCompare(password string) {
	s.dummyOnce.Do(func() {
		var pw [16]byte
		_, _ = rand.Read(pw[:])
		s.dummyHash, _ = bcrypt.GenerateFromPassword(pw[:], s.cost)
	})
	_ = bcrypt.CompareHashAndPassword(s.dummyHash, []byte(password))
}

// Authenticate is AuthenticateFrom for a caller that knows only whether
// the client is on loopback: every loopback client counts as 127.0.0.1 and
// every other client as one unknown address, so failures of remote
// clients share one lock. Prefer AuthenticateFrom.
func (s *Service) Authenticate(user, password string, loopback bool) (User, error) {
	return s.AuthenticateFrom(user, password, legacyAddr(loopback))
}

// AuthenticateFrom checks a user name and password sent from client
// address addr (an IP address; "" if unknown). Only from a loopback
// address may a root without a password log in with an empty password.
//
// Unknown users, dropped users, wrong passwords and passwords longer than
// MaxPasswordLen (which bcrypt would cut) all fail with the same
// KindUnauthenticated "invalid username or password" and about the same
// time. Failures are counted per (name, addr) pair, known name or not:
// from the third consecutive failure each attempt of the pair first waits
// LoginDelay, and the fifth locks the pair, and only that pair, for
// LockoutDuration ("account locked for this client address until <time>").
// A system account is never locked from a loopback address, only delayed,
// so that the machine's operator can always log in. The returned copy has
// no password hash.
func (s *Service) AuthenticateFrom(user, password, addr string) (User, error) {
	id := normID(catalog.UserID(user))
	loopback := isLoopbackAddr(addr)
	exempt := false
	if u, ok := s.lookup(id); ok && !u.Deleted() && u.Role == catalog.RoleSystem && loopback {
		exempt = true
	}
	key := pairKey(id, addr)
	att := s.guard.begin(key, s.now(), exempt)
	switch {
	case !att.lockedUntil.IsZero():
		return User{}, lockedError(att.lockedUntil)
	case att.busy:
		return User{}, invalidCredentials()
	}
	if att.delay > 0 {
		s.sleep(att.delay)
	}
	now := s.now()
	u, hash, good := s.check(id, password, loopback, now)
	if !good {
		until := s.guard.end(key, false, now, exempt)
		if u.ID != "" {
			s.recordFailure(id, hash, now, until)
		}
		return User{}, invalidCredentials()
	}
	s.guard.end(key, true, now, exempt)
	return s.recordSuccess(id, hash, now)
}

// check verifies a password against the live user id, spending a bcrypt
// comparison whatever the outcome (or a cache hit for a recently verified
// password). It returns the user's record (zero if there is none) and the
// hash it checked against.
func (s *Service) check(id catalog.UserID, password string, loopback bool, now time.Time) (User, string, bool) {
	u, ok := s.lookup(id)
	if !ok || u.Deleted() {
		s.dummyCompare(password)
		return User{}, "", false
	}
	if len(password) > MaxPasswordLen {
		// bcrypt would ignore the rest: such a password is never right.
		s.dummyCompare(password)
		return u, u.PasswordHash, false
	}
	hash := u.PasswordHash
	if hash == "" {
		return u, hash, id == catalog.RootUser && password == "" && loopback
	}
	k := s.cache.key(id, password)
	if s.cache.hit(k, id, hash, now) {
		return u, hash, true
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil {
		s.cache.put(k, id, hash, now)
		return u, hash, true
	}
	return u, hash, false
}

// loginStateCurrent reports whether a successful login at now needs no
// write: no failures to reset, no expired lock to clear, and LastLoginAt
// fresh enough.
func loginStateCurrent(u User, now time.Time) bool {
	return u.FailedLoginAttempts == 0 && (u.LockedUntil == nil || now.Before(*u.LockedUntil)) &&
		u.LastLoginAt != nil && now.Sub(*u.LastLoginAt) < lastLoginGranularity && !now.Before(*u.LastLoginAt)
}

func (s *Service) recordSuccess(id catalog.UserID, hash string, now time.Time) (User, error) {
	u, ok := s.lookup(id)
	if !ok || u.Deleted() || u.PasswordHash != hash {
		return User{}, invalidCredentials() // changed while we were checking
	}
	if loginStateCurrent(u, now) {
		return u.public(), nil
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	u, ok = s.users[id] // writers hold writeMu, so this read is stable
	if !ok || u.Deleted() || u.PasswordHash != hash {
		return User{}, invalidCredentials()
	}
	if loginStateCurrent(u, now) {
		return u.public(), nil
	}
	u.FailedLoginAttempts = 0
	if u.LockedUntil != nil && !now.Before(*u.LockedUntil) {
		u.LockedUntil = nil
	}
	if u.LastLoginAt == nil || now.Sub(*u.LastLoginAt) >= lastLoginGranularity || now.Before(*u.LastLoginAt) {
		u.LastLoginAt = timePtr(now)
	}
	s.storeLoginState(u)
	return u.public(), nil
}

// recordFailure updates the account's informational failure bookkeeping:
// one more failed login and, when the attempt locked its client address
// (lockedUntil not zero), the latest lock end.
func (s *Service) recordFailure(id catalog.UserID, hash string, now, lockedUntil time.Time) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	u, ok := s.users[id]
	if !ok || u.Deleted() || u.PasswordHash != hash {
		return
	}
	u.FailedLoginAttempts++
	if u.LockedUntil != nil && !now.Before(*u.LockedUntil) {
		u.LockedUntil = nil
	}
	if !lockedUntil.IsZero() {
		if u.LockedUntil == nil || lockedUntil.After(*u.LockedUntil) {
			u.LockedUntil = timePtr(lockedUntil)
		}
		s.log.Warn("auth: client address locked out of account after failed logins", "user", string(id), "until", lockedUntil)
	}
	s.storeLoginState(u)
}

// CreateInternalUser creates a user without a password (AuthType
// "internal"): it can never log in and is reached only by impersonation
// (EXECUTE AS USER), e.g. an application's end users or agents.
func (s *Service) CreateInternalUser(id catalog.UserID, role catalog.Role, email string) error {
	id, err := parseID(id)
	if err != nil {
		return err
	}
	if err := validateUser(role, email); err != nil {
		return err
	}
	return s.insertUser(User{ID: id, Role: role, Email: email, AuthType: AuthTypeInternal})
}

// AuthTypeInternal marks users created WITH INTERNAL: no password, no login.
const AuthTypeInternal = "internal"

// CreateUser creates a user. The name must be a valid identifier (stored
// lower-case), the password 8..72 bytes and the role one of the four
// roles; otherwise KindInvalid. An existing user fails with
// KindAlreadyExists. A dropped user's name may be reused once its data has
// been removed (MarkPurged); before that CreateUser fails with
// KindUnavailable ("user x is still being removed; retry").
func (s *Service) CreateUser(id catalog.UserID, password string, role catalog.Role, email string) error {
	id, err := parseID(id)
	if err != nil {
		return err
	}
	if err := validatePassword(password); err != nil {
		return err
	}
	if err := validateUser(role, email); err != nil {
		return err
	}
	if u, ok := s.lookup(id); ok && !u.Deleted() {
		return catalog.Errorf(catalog.KindAlreadyExists, "user %s already exists", id)
	} else if ok && u.PurgePending() {
		return stillRemoving(id)
	}
	h, err := s.hash(password) // outside the writer lock: bcrypt is slow
	if err != nil {
		return err
	}
	return s.insertUser(User{ID: id, Role: role, Email: email, AuthType: AuthTypePassword, PasswordHash: h})
}

func validateUser(role catalog.Role, email string) error {
	if err := validateRole(role); err != nil {
		return err
	}
	return validateEmail(email)
}

// insertUser stores a new user u (ID, role, email and credentials set)
// unless a live user with its id exists (KindAlreadyExists) or a dropped
// one whose data is still being removed (KindUnavailable): a new account
// must never see a former account's rows.
func (s *Service) insertUser(u User) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if old, ok := s.users[u.ID]; ok && !old.Deleted() {
		return catalog.Errorf(catalog.KindAlreadyExists, "user %s already exists", u.ID)
	} else if ok && old.PurgePending() {
		return stillRemoving(u.ID)
	}
	u.CreatedAt = s.now()
	u.UpdatedAt = u.CreatedAt
	if err := s.putUser(u); err != nil {
		return err
	}
	s.cache.invalidate(u.ID)
	return nil
}

// update applies fn to the live user id under the writer lock and
// persists the result. Missing or dropped users fail with KindNotFound.
func (s *Service) update(id catalog.UserID, fn func(*User) error) error {
	id = normID(id)
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	u, ok := s.users[id]
	if !ok || u.Deleted() {
		return notFound(id)
	}
	if err := fn(&u); err != nil {
		return err
	}
	u.UpdatedAt = s.now()
	return s.putUser(u)
}

// SetPassword replaces a user's password (8..72 bytes, else KindInvalid).
// It also clears the user's lockouts (for every client address), and
// invalidates the user's cached logins and every token issued before.
func (s *Service) SetPassword(id catalog.UserID, password string) error {
	if err := validatePassword(password); err != nil {
		return err
	}
	id = normID(id)
	if u, ok := s.lookup(id); !ok || u.Deleted() {
		return notFound(id)
	}
	h, err := s.hash(password)
	if err != nil {
		return err
	}
	err = s.update(id, func(u *User) error {
		u.PasswordHash = h
		u.FailedLoginAttempts = 0
		u.LockedUntil = nil
		return nil
	})
	s.cache.invalidate(id)
	if err == nil {
		s.guard.forget(id)
	}
	return err
}

// SetRole changes a user's role. Root's role cannot be changed
// (KindPermission).
func (s *Service) SetRole(id catalog.UserID, role catalog.Role) error {
	if err := validateRole(role); err != nil {
		return err
	}
	id = normID(id)
	if id == catalog.RootUser && role != catalog.RoleSystem {
		return catalog.Errorf(catalog.KindPermission, "the role of user %s cannot be changed", id)
	}
	return s.update(id, func(u *User) error {
		u.Role = role
		return nil
	})
}

// SetEmail changes a user's email ("" clears it).
func (s *Service) SetEmail(id catalog.UserID, email string) error {
	if err := validateEmail(email); err != nil {
		return err
	}
	return s.update(id, func(u *User) error {
		u.Email = email
		return nil
	})
}

// DropUser soft-deletes a user: it sets DeletedAt and clears the password
// hash, so the user can no longer log in and its tokens stop verifying.
// The name stays reserved until the caller has removed the user's data and
// called MarkPurged. Root cannot be dropped (KindPermission); a missing or
// already dropped user fails with KindNotFound.
func (s *Service) DropUser(id catalog.UserID) error {
	id = normID(id)
	if id == catalog.RootUser {
		return catalog.Errorf(catalog.KindPermission, "user %s cannot be dropped", id)
	}
	err := s.update(id, func(u *User) error {
		u.DeletedAt = timePtr(s.now())
		u.PurgedAt = nil
		u.PasswordHash = ""
		u.FailedLoginAttempts = 0
		u.LockedUntil = nil
		return nil
	})
	s.cache.invalidate(id)
	return err
}

// PendingPurge returns the record of user id if it has been dropped and
// its data not yet removed (see MarkPurged), without its password hash.
func (s *Service) PendingPurge(id catalog.UserID) (User, bool) {
	u, ok := s.lookup(normID(id))
	if !ok || !u.PurgePending() {
		return User{}, false
	}
	return u.public(), true
}

// MarkPurged records that the data of dropped user id, dropped at
// deletedAt, has been removed, which frees its name for a new account. It
// does nothing if that drop is already marked purged, and fails with
// KindFailedPrecondition if id is not that dropped user (it was re-created
// or dropped again since), so a stale cleanup can never release a name.
func (s *Service) MarkPurged(id catalog.UserID, deletedAt time.Time) error {
	id = normID(id)
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	u, ok := s.users[id]
	if !ok || u.DeletedAt == nil || !u.DeletedAt.Equal(deletedAt) {
		return catalog.Errorf(catalog.KindFailedPrecondition, "user %s is not the user dropped at %s", id, deletedAt.UTC().Format(time.RFC3339Nano))
	}
	if u.PurgedAt != nil {
		return nil
	}
	u.PurgedAt = timePtr(s.now())
	u.UpdatedAt = *u.PurgedAt
	return s.putUser(u)
}

// GetUser returns a live (not dropped) user, without its password hash.
func (s *Service) GetUser(id catalog.UserID) (User, bool) {
	u, ok := s.lookup(normID(id))
	if !ok || u.Deleted() {
		return User{}, false
	}
	return u.public(), true
}

// ListUsers returns every user record sorted by id, including dropped users
// (DeletedAt set), with password hashes cleared.
func (s *Service) ListUsers() []User {
	s.mu.RLock()
	out := make([]User, 0, len(s.users))
	for _, u := range s.users {
		out = append(out, u.public())
	}
	s.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
