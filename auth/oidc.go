package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/kalamdb/kalamdb-go/catalog"
)

// AuthTypeOIDC marks users created automatically from an external OIDC
// token (OIDCIssuer.AutoCreate). Such users have no password hash, so they
// cannot log in with a password until one is set.
const AuthTypeOIDC = "oidc"

// Defaults and limits for OIDC issuers.
const (
	// DefaultJWKSRefresh is how long a fetched JWKS is used before it is
	// fetched again (Options.JWKSRefresh = 0).
	DefaultJWKSRefresh = 10 * time.Minute
	// DefaultOIDCUserClaim is the claim mapped to the user name when
	// OIDCIssuer.UserClaim is empty.
	DefaultOIDCUserClaim = "sub"
	// JWKSMinRefetchInterval bounds how often one issuer's JWKS is fetched
	// (after the first load), whether because it is stale or because a
	// token names an unknown key id.
	JWKSMinRefetchInterval = 30 * time.Second

	defaultJWKSHTTPTimeout = 10 * time.Second
	maxJWKSBytes           = 1 << 20
	minRSABits             = 2048
	// oidcLeeway tolerates clock skew between the identity provider and us
	// when checking exp and nbf of external tokens.
	oidcLeeway = 30 * time.Second
)

// OIDCIssuer configures one trusted external identity provider whose
// RS256/ES256-signed JWTs VerifyToken accepts.
type OIDCIssuer struct {
	// Issuer must equal the token's "iss" claim exactly.
	Issuer string
	// Audience, when set, must be one of the token's "aud" values; the
	// claim is then required.
	Audience string
	// JWKSFile is a local JSON Web Key Set, read at Open (an unreadable or
	// key-less file fails Open) and re-read like a fetched set.
	JWKSFile string
	// JWKSURL is fetched lazily on first use and cached. It must be https,
	// or http to a loopback host. Exactly one of JWKSFile and JWKSURL is set.
	JWKSURL string
	// AutoCreate creates a missing user (RoleUser, AuthTypeOIDC, no
	// password) on its first valid token; otherwise unknown users are
	// rejected.
	AutoCreate bool
	// UserClaim names the string claim holding the user name; "" means
	// DefaultOIDCUserClaim ("sub"). The value is lower-cased and must be a
	// valid user name.
	UserClaim string
}

// jwk is one usable verification key of a JWKS.
type jwk struct {
	alg string // "RS256" or "ES256"
	key any    // *rsa.PublicKey or *ecdsa.PublicKey (P-256)
}

// oidcIssuer is the runtime state of one configured issuer.
type oidcIssuer struct {
	cfg       OIDCIssuer
	userClaim string
	load      func() ([]byte, error)

	mu        sync.RWMutex
	keys      map[string][]jwk // by kid ("" for keys without one)
	loaded    bool
	fetchedAt time.Time

	// fetchMu serialises loads; lastAttempt throttles them.
	fetchMu     sync.Mutex
	attempted   bool
	lastAttempt time.Time
}

// initOIDC validates the configured issuers and loads file-based key sets.
func (s *Service) initOIDC(opts Options) error {
	s.jwksRefresh = opts.JWKSRefresh
	if s.jwksRefresh == 0 {
		s.jwksRefresh = DefaultJWKSRefresh
	}
	if s.jwksRefresh < 0 {
		return catalog.Errorf(catalog.KindInvalid, "auth: negative JWKS refresh interval")
	}
	client := opts.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: defaultJWKSHTTPTimeout}
	}
	s.oidc = make(map[string]*oidcIssuer, len(opts.OIDCIssuers))
	for _, cfg := range opts.OIDCIssuers {
		if cfg.Issuer == "" {
			return catalog.Errorf(catalog.KindInvalid, "auth: OIDC issuer with empty Issuer")
		}
		if _, dup := s.oidc[cfg.Issuer]; dup {
			return catalog.Errorf(catalog.KindInvalid, "auth: OIDC issuer %q configured twice", cfg.Issuer)
		}
		if (cfg.JWKSFile == "") == (cfg.JWKSURL == "") {
			return catalog.Errorf(catalog.KindInvalid, "auth: OIDC issuer %q needs exactly one of JWKSFile and JWKSURL", cfg.Issuer)
		}
		iss := &oidcIssuer{cfg: cfg, userClaim: cfg.UserClaim}
		if iss.userClaim == "" {
			iss.userClaim = DefaultOIDCUserClaim
		}
		if cfg.JWKSFile != "" {
			path := cfg.JWKSFile
			iss.load = func() ([]byte, error) { return readJWKSFile(path) }
			if err := iss.refresh(s.now(), s); err != nil {
				return catalog.WrapKind(catalog.KindInvalid, err, "auth: OIDC issuer %q: load JWKS", cfg.Issuer)
			}
		} else {
			if err := checkJWKSURL(cfg.JWKSURL); err != nil {
				return catalog.WrapKind(catalog.KindInvalid, err, "auth: OIDC issuer %q", cfg.Issuer)
			}
			u := cfg.JWKSURL
			iss.load = func() ([]byte, error) { return fetchJWKS(client, u) }
		}
		s.oidc[cfg.Issuer] = iss
	}
	return nil
}

func readJWKSFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readLimited(f)
}

func readLimited(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxJWKSBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxJWKSBytes {
		return nil, fmt.Errorf("JWKS larger than %d bytes", maxJWKSBytes)
	}
	return b, nil
}

// checkJWKSURL accepts https URLs, and http URLs to loopback hosts only
// (an attacker able to alter a plain-http JWKS could mint any token).
func checkJWKSURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("invalid JWKSURL: %w", err)
	}
	if u.Host == "" {
		return fmt.Errorf("invalid JWKSURL %q: no host", raw)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if host == "localhost" {
			return nil
		}
		if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
			return nil
		}
		return fmt.Errorf("JWKSURL %q must use https (plain http is allowed to loopback hosts only)", raw)
	}
	return fmt.Errorf("JWKSURL %q must use https", raw)
}

func fetchJWKS(client *http.Client, u string) ([]byte, error) {
	ctx := context.Background()
	if client.Timeout == 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultJWKSHTTPTimeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json, application/jwk-set+json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxJWKSBytes))
		return nil, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return readLimited(resp.Body)
}

// refresh loads the key set unless another load happened less than
// JWKSMinRefetchInterval ago. It returns the load error, if any; on error
// the previous keys stay in use.
func (iss *oidcIssuer) refresh(now time.Time, s *Service) error {
	iss.fetchMu.Lock()
	defer iss.fetchMu.Unlock()
	return iss.refreshLocked(now, s)
}

func (iss *oidcIssuer) refreshLocked(now time.Time, s *Service) error {
	if iss.attempted {
		if d := now.Sub(iss.lastAttempt); d >= 0 && d < JWKSMinRefetchInterval {
			return nil // throttled, or another caller just loaded it
		}
	}
	iss.attempted = true
	iss.lastAttempt = now
	data, err := iss.load()
	var keys map[string][]jwk
	if err == nil {
		keys, err = parseJWKS(data)
	}
	if err != nil {
		s.log.Warn("auth: cannot load OIDC JWKS", "issuer", iss.cfg.Issuer, "err", err)
		return err
	}
	iss.mu.Lock()
	iss.keys = keys
	iss.loaded = true
	iss.fetchedAt = now
	iss.mu.Unlock()
	return nil
}

// pick returns the key for kid usable with alg. A token without kid
// matches only when the set holds exactly one key usable with alg.
func (iss *oidcIssuer) pick(kid, alg string) (any, bool, time.Time, bool) {
	iss.mu.RLock()
	defer iss.mu.RUnlock()
	var found any
	if kid != "" {
		for _, k := range iss.keys[kid] {
			if k.alg == alg {
				found = k.key
				break
			}
		}
	} else {
		n := 0
		for _, ks := range iss.keys {
			for _, k := range ks {
				if k.alg == alg {
					found = k.key
					n++
				}
			}
		}
		if n != 1 {
			found = nil
		}
	}
	return found, found != nil, iss.fetchedAt, iss.loaded
}

// key returns the verification key for (kid, alg), loading or refreshing
// the key set as needed: on first use, once it is older than
// Options.JWKSRefresh, or when kid is unknown (throttled per issuer).
func (iss *oidcIssuer) key(kid, alg string, s *Service) (any, bool) {
	now := s.now()
	k, ok, fetchedAt, loaded := iss.pick(kid, alg)
	stale := !loaded || now.Sub(fetchedAt) >= s.jwksRefresh || now.Before(fetchedAt)
	switch {
	case ok && !stale:
		return k, true
	case ok:
		// Known key, stale set: refresh unless a load is already running,
		// in which case keep using the current keys.
		if iss.fetchMu.TryLock() {
			_ = iss.refreshLocked(now, s)
			iss.fetchMu.Unlock()
		}
	default:
		_ = iss.refresh(now, s)
	}
	k, ok, _, _ = iss.pick(kid, alg)
	return k, ok
}

// jwkJSON is the wire form of one JSON Web Key (RFC 7517/7518).
type jwkJSON struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	N   string `json:"n"`
	E   string `json:"e"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
}

// parseJWKS decodes a JWKS, keeping the RSA (≥ 2048 bits) and P-256 EC
// signature keys and skipping all others. A set with no usable key is an
// error.
func parseJWKS(data []byte) (map[string][]jwk, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("decode JWKS: %w", err)
	}
	keys := make(map[string][]jwk)
	n := 0
	for _, raw := range set.Keys {
		var j jwkJSON
		if err := json.Unmarshal(raw, &j); err != nil {
			continue
		}
		k, err := j.parse()
		if err != nil {
			continue
		}
		keys[j.Kid] = append(keys[j.Kid], k)
		n++
	}
	if n == 0 {
		return nil, errors.New("JWKS holds no usable RS256 or ES256 signature key")
	}
	return keys, nil
}

func (j jwkJSON) parse() (jwk, error) {
	if j.Use != "" && j.Use != "sig" {
		return jwk{}, errors.New("not a signature key")
	}
	switch j.Kty {
	case "RSA":
		if j.Alg != "" && j.Alg != jwt.SigningMethodRS256.Alg() {
			return jwk{}, errors.New("unsupported alg")
		}
		n, err := b64Field(j.N)
		if err != nil || len(n) == 0 {
			return jwk{}, errors.New("bad n")
		}
		e, err := b64Field(j.E)
		if err != nil || len(e) == 0 || len(e) > 4 {
			return jwk{}, errors.New("bad e")
		}
		mod := new(big.Int).SetBytes(n)
		exp := new(big.Int).SetBytes(e)
		if mod.BitLen() < minRSABits || exp.Int64() < 3 || exp.Bit(0) == 0 {
			return jwk{}, errors.New("weak RSA key")
		}
		return jwk{alg: jwt.SigningMethodRS256.Alg(), key: &rsa.PublicKey{N: mod, E: int(exp.Int64())}}, nil
	case "EC":
		if j.Crv != "P-256" || (j.Alg != "" && j.Alg != jwt.SigningMethodES256.Alg()) {
			return jwk{}, errors.New("unsupported curve or alg")
		}
		x, errX := b64Field(j.X)
		y, errY := b64Field(j.Y)
		if errX != nil || errY != nil || len(x) != 32 || len(y) != 32 {
			return jwk{}, errors.New("bad x or y")
		}
		pt := append(append([]byte{4}, x...), y...)
		pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), pt)
		if err != nil {
			return jwk{}, err
		}
		return jwk{alg: jwt.SigningMethodES256.Alg(), key: pub}, nil
	}
	return jwk{}, errors.New("unsupported kty")
}

// b64Field decodes a base64url JWK member, tolerating padding.
func b64Field(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

// isOIDCAlg reports whether alg is one that only external issuers use.
func isOIDCAlg(alg string) bool {
	return alg == jwt.SigningMethodRS256.Alg() || alg == jwt.SigningMethodES256.Alg()
}

// verifyOIDC verifies an RS256/ES256 token from a configured issuer and
// maps it to a user; see VerifyToken.
func (s *Service) verifyOIDC(tok string, alg string, unverified *jwt.Token) (User, error) {
	issClaim, err := unverified.Claims.GetIssuer()
	if err != nil || issClaim == "" {
		return User{}, invalidToken()
	}
	iss := s.oidc[issClaim]
	if iss == nil {
		return User{}, invalidToken()
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{alg}),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(s.now),
		jwt.WithLeeway(oidcLeeway),
		jwt.WithIssuer(iss.cfg.Issuer),
	}
	if iss.cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(iss.cfg.Audience))
	}
	claims := jwt.MapClaims{}
	_, err = jwt.NewParser(opts...).ParseWithClaims(tok, claims, func(t *jwt.Token) (any, error) {
		kid := ""
		if v, ok := t.Header["kid"]; ok {
			if kid, ok = v.(string); !ok {
				return nil, errors.New("kid is not a string")
			}
		}
		if k, ok := iss.key(kid, alg, s); ok {
			return k, nil
		}
		return nil, errors.New("unknown key")
	})
	if err != nil {
		return User{}, invalidToken()
	}
	name, ok := claims[iss.userClaim].(string)
	if !ok {
		return User{}, invalidToken()
	}
	id, err := catalog.ParseUserID(name)
	if err != nil || id == catalog.RootUser {
		return User{}, invalidToken()
	}
	u, ok := s.lookup(id)
	switch {
	case ok && u.Deleted():
		return User{}, invalidToken()
	case ok:
		return u.public(), nil
	case !iss.cfg.AutoCreate:
		return User{}, invalidToken()
	}
	return s.createOIDCUser(id, iss.cfg.Issuer)
}

// createOIDCUser creates id as an AuthTypeOIDC user with RoleUser, or
// returns it if a concurrent call already did. A user dropped meanwhile is
// not revived.
func (s *Service) createOIDCUser(id catalog.UserID, issuer string) (User, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if u, ok := s.users[id]; ok {
		if u.Deleted() {
			return User{}, invalidToken()
		}
		return u.public(), nil
	}
	now := s.now()
	u := User{
		ID:        id,
		Role:      catalog.RoleUser,
		AuthType:  AuthTypeOIDC,
		CreatedAt: now,
		UpdatedAt: now,
	}
	if err := s.putUser(u); err != nil {
		return User{}, err
	}
	s.log.Info("auth: created user from OIDC token", "user", string(id), "issuer", issuer)
	return u.public(), nil
}
