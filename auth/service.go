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
		log:      opts.Logger,
		cost:     opts.BcryptCost,
		tokenTTL: opts.TokenTTL,
		users:    make(map[catalog.UserID]User),
	}
	if s.now == nil {
		s.now = time.Now
	}
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
	return catalog.Errorf(catalog.KindUnauthenticated, "account locked until %s", until.UTC().Format(time.RFC3339))
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

// Authenticate checks a user name and password. loopback reports whether
// the client connected from a loopback address; only then may a root
// without a password log in with an empty password. Unknown users, dropped
// users and wrong passwords all fail with the same KindUnauthenticated
// "invalid username or password"; a locked account fails with "account
// locked until <time>". The returned copy has no password hash.
func (s *Service) Authenticate(user, password string, loopback bool) (User, error) {
	now := s.now()
	id := normID(catalog.UserID(user))
	u, ok := s.lookup(id)
	if !ok || u.Deleted() {
		s.dummyCompare(password)
		return User{}, invalidCredentials()
	}
	if u.LockedAt(now) {
		return User{}, lockedError(*u.LockedUntil)
	}
	hash := u.PasswordHash
	good := false
	if hash == "" {
		good = id == catalog.RootUser && password == "" && loopback
	} else {
		k := s.cache.key(id, password)
		if s.cache.hit(k, id, hash, now) {
			good = true
		} else if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil {
			good = true
			s.cache.put(k, id, hash, now)
		}
	}
	if !good {
		return User{}, s.recordFailure(id, hash, now)
	}
	return s.recordSuccess(id, hash, now)
}

// loginStateCurrent reports whether a successful login at now needs no
// write: no failure bookkeeping to reset and LastLoginAt fresh enough.
func loginStateCurrent(u User, now time.Time) bool {
	return u.FailedLoginAttempts == 0 && u.LockedUntil == nil &&
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
	if u.LockedAt(now) {
		return User{}, lockedError(*u.LockedUntil)
	}
	if loginStateCurrent(u, now) {
		return u.public(), nil
	}
	u.FailedLoginAttempts = 0
	u.LockedUntil = nil
	if u.LastLoginAt == nil || now.Sub(*u.LastLoginAt) >= lastLoginGranularity || now.Before(*u.LastLoginAt) {
		u.LastLoginAt = timePtr(now)
	}
	s.storeLoginState(u)
	return u.public(), nil
}

func (s *Service) recordFailure(id catalog.UserID, hash string, now time.Time) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	u, ok := s.users[id]
	if !ok || u.Deleted() || u.PasswordHash != hash {
		return invalidCredentials()
	}
	if u.LockedAt(now) {
		return invalidCredentials()
	}
	u.LockedUntil = nil
	u.FailedLoginAttempts++
	if u.FailedLoginAttempts >= MaxFailedLogins {
		u.FailedLoginAttempts = 0
		u.LockedUntil = timePtr(now.Add(LockoutDuration))
		s.log.Warn("auth: account locked after failed logins", "user", string(id), "until", *u.LockedUntil)
	}
	s.storeLoginState(u)
	return invalidCredentials()
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
// KindAlreadyExists; a dropped user's name may be reused.
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
// unless a live user with its id exists (KindAlreadyExists).
func (s *Service) insertUser(u User) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if old, ok := s.users[u.ID]; ok && !old.Deleted() {
		return catalog.Errorf(catalog.KindAlreadyExists, "user %s already exists", u.ID)
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
// It also clears any lockout, and invalidates the user's cached logins and
// every token issued before.
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
// Root cannot be dropped (KindPermission); a missing or already dropped user
// fails with KindNotFound.
func (s *Service) DropUser(id catalog.UserID) error {
	id = normID(id)
	if id == catalog.RootUser {
		return catalog.Errorf(catalog.KindPermission, "user %s cannot be dropped", id)
	}
	err := s.update(id, func(u *User) error {
		u.DeletedAt = timePtr(s.now())
		u.PasswordHash = ""
		u.FailedLoginAttempts = 0
		u.LockedUntil = nil
		return nil
	})
	s.cache.invalidate(id)
	return err
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
