package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/kalamdb/kalamdb-go/catalog"
)

// maxTokenLen bounds the tokens VerifyToken will parse.
const maxTokenLen = 8 << 10

// tokenClaims are the claims of a session token.
type tokenClaims struct {
	Role string `json:"role"`
	// PWV fingerprints the password hash the token was issued under.
	PWV string `json:"pwv"`
	jwt.RegisteredClaims
}

// passwordVersion returns a short, one-way fingerprint of a password hash.
func passwordVersion(hash string) string {
	sum := sha256.Sum256([]byte("kalamdb-pwv\x00" + hash))
	return base64.RawURLEncoding.EncodeToString(sum[:9])
}

func invalidToken() error {
	return catalog.Errorf(catalog.KindUnauthenticated, "invalid or expired token")
}

// IssueToken returns an HS256 JWT for u valid for Options.TokenTTL. The
// token is bound to u's current record (looked up by u.ID, which must be a
// live user, else KindNotFound) and password: it stops verifying once the
// password changes or the user is dropped.
func (s *Service) IssueToken(u User) (string, error) {
	id := normID(u.ID)
	cur, ok := s.lookup(id)
	if !ok || cur.Deleted() {
		return "", notFound(id)
	}
	now := s.now()
	claims := tokenClaims{
		Role: cur.Role.String(),
		PWV:  passwordVersion(cur.PasswordHash),
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   string(cur.ID),
			ID:        randomTokenID(),
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(s.tokenTTL)),
		},
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(s.key)
	if err != nil {
		return "", catalog.WrapKind(catalog.KindInternal, err, "auth: sign token")
	}
	return tok, nil
}

// VerifyToken checks a token and returns the user's current record without
// its password hash.
//
// A token whose header says RS256 or ES256 is an external OIDC token: its
// "iss" must name a configured OIDCIssuer, and it is verified against that
// issuer's JWKS as described in the package documentation (this may fetch
// the JWKS; auto-creating a user may write to the store). Every other
// token must be one of ours: HS256 (no other algorithm is accepted) under
// our key, with no "iss" claim, unexpired, for a live user whose password
// is unchanged since issue; this path does no bcrypt and no store access.
//
// Every failure is KindUnauthenticated "invalid or expired token", except
// a store error while auto-creating an OIDC user (KindInternal).
func (s *Service) VerifyToken(tok string) (User, error) {
	if tok == "" || len(tok) > maxTokenLen {
		return User{}, invalidToken()
	}
	unverified, _, err := jwt.NewParser().ParseUnverified(tok, jwt.MapClaims{})
	if err != nil {
		return User{}, invalidToken()
	}
	if alg, _ := unverified.Header["alg"].(string); isOIDCAlg(alg) {
		return s.verifyOIDC(tok, alg, unverified)
	}
	var claims tokenClaims
	parser := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(s.now),
	)
	_, err = parser.ParseWithClaims(tok, &claims, func(*jwt.Token) (any, error) {
		return s.key, nil
	})
	// Our tokens carry no issuer; refusing any "iss" keeps an HS256 token
	// from ever passing for an external issuer's token.
	if err != nil || claims.Subject == "" || claims.IssuedAt == nil || claims.Issuer != "" {
		return User{}, invalidToken()
	}
	u, ok := s.lookup(catalog.UserID(claims.Subject))
	if !ok || u.Deleted() {
		return User{}, invalidToken()
	}
	if subtle.ConstantTimeCompare([]byte(claims.PWV), []byte(passwordVersion(u.PasswordHash))) != 1 {
		return User{}, invalidToken()
	}
	return u.public(), nil
}

// TokenTTL returns the lifetime of issued tokens.
func (s *Service) TokenTTL() time.Duration { return s.tokenTTL }

// randomTokenID makes every issued token distinct, so that each handshake
// (each client connection) gets a session of its own.
func randomTokenID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
