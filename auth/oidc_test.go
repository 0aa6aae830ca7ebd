package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/kalamdb/kalamdb-go/catalog"
)

const testIssuer = "https://idp.example.com"

var (
	rsaOnce sync.Once
	rsaKeys [2]*rsa.PrivateKey
)

// testRSAKeys generates two RSA-2048 keys once per test binary.
func testRSAKeys(t testing.TB) (*rsa.PrivateKey, *rsa.PrivateKey) {
	t.Helper()
	rsaOnce.Do(func() {
		for i := range rsaKeys {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			rsaKeys[i] = k
		}
	})
	return rsaKeys[0], rsaKeys[1]
}

func newECKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	return k
}

// testKey is a signing key with its key id.
type testKey struct {
	kid  string
	priv crypto.Signer
}

func b64u(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func jwkOf(k testKey) map[string]any {
	switch pub := k.priv.Public().(type) {
	case *rsa.PublicKey:
		return map[string]any{"kty": "RSA", "kid": k.kid, "use": "sig", "alg": "RS256",
			"n": b64u(pub.N.Bytes()), "e": b64u(big.NewInt(int64(pub.E)).Bytes())}
	case *ecdsa.PublicKey:
		return map[string]any{"kty": "EC", "kid": k.kid, "crv": "P-256",
			"x": b64u(pub.X.FillBytes(make([]byte, 32))), "y": b64u(pub.Y.FillBytes(make([]byte, 32)))}
	}
	panic("unknown key type")
}

func jwksJSON(t testing.TB, keys ...testKey) []byte {
	t.Helper()
	set := map[string]any{"keys": []any{}}
	for _, k := range keys {
		set["keys"] = append(set["keys"].([]any), jwkOf(k))
	}
	b, err := json.Marshal(set)
	require.NoError(t, err)
	return b
}

func writeJWKS(t testing.TB, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "jwks.json")
	require.NoError(t, os.WriteFile(p, data, 0o600))
	return p
}

// sign signs claims with k, choosing RS256 or ES256 by key type.
func sign(t testing.TB, k testKey, claims jwt.MapClaims) string {
	t.Helper()
	var m jwt.SigningMethod = jwt.SigningMethodRS256
	if _, ok := k.priv.(*ecdsa.PrivateKey); ok {
		m = jwt.SigningMethodES256
	}
	tok := jwt.NewWithClaims(m, claims)
	if k.kid != "" {
		tok.Header["kid"] = k.kid
	}
	s, err := tok.SignedString(k.priv)
	require.NoError(t, err)
	return s
}

func baseClaims(clk *fakeClock, sub string) jwt.MapClaims {
	now := clk.Now()
	return jwt.MapClaims{
		"iss": testIssuer,
		"sub": sub,
		"aud": "kalamdb",
		"iat": now.Unix(),
		"nbf": now.Unix(),
		"exp": now.Add(time.Hour).Unix(),
	}
}

func with(c jwt.MapClaims, kv ...any) jwt.MapClaims {
	out := jwt.MapClaims{}
	for k, v := range c {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
		} else {
			out[kv[i].(string)] = kv[i+1]
		}
	}
	return out
}

func openOIDC(t testing.TB, kv KV, clk *fakeClock, client *http.Client, issuers ...OIDCIssuer) *Service {
	t.Helper()
	s, err := Open(kv, Options{BcryptCost: bcrypt.MinCost, Now: clk.Now, TokenTTL: time.Hour,
		OIDCIssuers: issuers, HTTPClient: client})
	require.NoError(t, err)
	return s
}

func requireInvalidToken(t *testing.T, s *Service, tok, name string) {
	t.Helper()
	_, err := s.VerifyToken(tok)
	require.Error(t, err, name)
	require.Equal(t, catalog.KindUnauthenticated, catalog.KindOf(err), name)
	require.Equal(t, "invalid or expired token", err.Error(), name)
}

// tamperSig flips one bit of the token's signature.
func tamperSig(t testing.TB, tok string) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	require.NoError(t, err)
	sig[len(sig)/2] ^= 0x01
	return parts[0] + "." + parts[1] + "." + b64u(sig)
}

func TestOIDCFileJWKS(t *testing.T) {
	r1, other := testRSAKeys(t)
	rk := testKey{"r1", r1}
	ek := testKey{"e1", newECKey(t)}
	clk := newClock()
	path := writeJWKS(t, jwksJSON(t, rk, ek))
	s := openOIDC(t, newMemKV(), clk, nil, OIDCIssuer{Issuer: testIssuer, Audience: "kalamdb", JWKSFile: path})
	require.NoError(t, s.CreateUser("alice", "password1", catalog.RoleDBA, ""))

	c := baseClaims(clk, "Alice")
	for name, tok := range map[string]string{
		"rs256":          sign(t, rk, c),
		"es256":          sign(t, ek, c),
		"aud list":       sign(t, rk, with(c, "aud", []string{"other", "kalamdb"})),
		"no nbf":         sign(t, ek, with(c, "nbf", nil)),
		"within leeway":  sign(t, rk, with(c, "nbf", clk.Now().Add(20*time.Second).Unix())),
		"exp in leeway":  sign(t, rk, with(c, "exp", clk.Now().Add(-20*time.Second).Unix())),
		"extra claims":   sign(t, rk, with(c, "email", "a@x", "groups", []string{"g"})),
		"lower-case sub": sign(t, ek, with(c, "sub", "alice")),
	} {
		u, err := s.VerifyToken(tok)
		require.NoError(t, err, name)
		require.Equal(t, catalog.UserID("alice"), u.ID, name)
		require.Equal(t, catalog.RoleDBA, u.Role, name)
		require.Empty(t, u.PasswordHash, name)
	}

	// Our own tokens keep working next to OIDC.
	own, err := s.IssueToken(User{ID: "alice"})
	require.NoError(t, err)
	_, err = s.VerifyToken(own)
	require.NoError(t, err)

	pubDER, err := x509.MarshalPKIXPublicKey(r1.Public())
	require.NoError(t, err)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	hs := func(key []byte, claims jwt.MapClaims) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
		tok.Header["kid"] = "r1"
		str, err := tok.SignedString(key)
		require.NoError(t, err)
		return str
	}
	none, err := jwt.NewWithClaims(jwt.SigningMethodNone, c).SignedString(jwt.UnsafeAllowNoneSignatureType)
	require.NoError(t, err)
	wrongAlgHeader := func() string {
		// ES256 signature, header claims RS256 with the EC key's kid.
		parts := strings.Split(sign(t, ek, c), ".")
		hdr := b64u([]byte(`{"alg":"RS256","kid":"e1","typ":"JWT"}`))
		return hdr + "." + parts[1] + "." + parts[2]
	}()
	rsPayloadSwap := func() string {
		good := strings.Split(sign(t, rk, c), ".")
		evil := strings.Split(sign(t, rk, with(c, "sub", "root")), ".")
		return good[0] + "." + evil[1] + "." + good[2]
	}()
	ownWithIss := func() string {
		u, _ := s.lookup("alice")
		tc := tokenClaims{Role: "user", PWV: passwordVersion(u.PasswordHash), RegisteredClaims: jwt.RegisteredClaims{
			Issuer: testIssuer, Subject: "alice", IssuedAt: jwt.NewNumericDate(clk.Now()), ExpiresAt: jwt.NewNumericDate(clk.Now().Add(time.Hour)),
		}}
		str, err := jwt.NewWithClaims(jwt.SigningMethodHS256, tc).SignedString(s.key)
		require.NoError(t, err)
		return str
	}()
	ps256 := func() string {
		tok := jwt.NewWithClaims(jwt.SigningMethodPS256, c)
		tok.Header["kid"] = "r1"
		str, err := tok.SignedString(r1)
		require.NoError(t, err)
		return str
	}()
	nonStringKid := func() string {
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
		tok.Header["kid"] = 7
		str, err := tok.SignedString(r1)
		require.NoError(t, err)
		return str
	}()

	require.NoError(t, s.CreateUser("bob", "password1", catalog.RoleUser, ""))
	require.NoError(t, s.DropUser("bob"))

	for name, tok := range map[string]string{
		"expired":               sign(t, rk, with(c, "exp", clk.Now().Add(-31*time.Second).Unix())),
		"no exp":                sign(t, rk, with(c, "exp", nil)),
		"not yet valid":         sign(t, rk, with(c, "nbf", clk.Now().Add(31*time.Second).Unix())),
		"wrong issuer":          sign(t, rk, with(c, "iss", "https://evil.example.com")),
		"issuer trailing slash": sign(t, rk, with(c, "iss", testIssuer+"/")),
		"no issuer":             sign(t, rk, with(c, "iss", nil)),
		"wrong audience":        sign(t, rk, with(c, "aud", "other")),
		"no audience":           sign(t, ek, with(c, "aud", nil)),
		"tampered rs256 sig":    tamperSig(t, sign(t, rk, c)),
		"tampered es256 sig":    tamperSig(t, sign(t, ek, c)),
		"payload swapped":       rsPayloadSwap,
		"alg none":              none,
		"hs256 with rsa pem":    hs(pubPEM, c),
		"hs256 with rsa der":    hs(pubDER, c),
		"hs256 with rsa n":      hs(r1.N.Bytes(), c),
		"own key with iss":      ownWithIss,
		"ps256":                 ps256,
		"other rsa key":         sign(t, testKey{"r1", other}, c),
		"unknown kid":           sign(t, testKey{"r9", r1}, c),
		"kid of other alg":      sign(t, testKey{"r1", ek.priv}, c),
		"alg header mismatch":   wrongAlgHeader,
		"non-string kid":        nonStringKid,
		"unknown user":          sign(t, rk, with(c, "sub", "carol")),
		"dropped user":          sign(t, rk, with(c, "sub", "bob")),
		"invalid user name":     sign(t, rk, with(c, "sub", "alice@example.com")),
		"non-string user":       sign(t, rk, with(c, "sub", 42)),
		"no user claim":         sign(t, rk, with(c, "sub", nil)),
		"root via oidc":         sign(t, rk, with(c, "sub", "root")),
		"garbage":               "not.a.token",
	} {
		requireInvalidToken(t, s, tok, name)
	}

	// A token without kid is accepted only while the set holds exactly
	// one key for its algorithm.
	u, err := s.VerifyToken(sign(t, testKey{"", r1}, c))
	require.NoError(t, err)
	require.Equal(t, catalog.UserID("alice"), u.ID)

	// Expiry with the fake clock.
	tok := sign(t, ek, c)
	clk.Advance(time.Hour + 29*time.Second)
	_, err = s.VerifyToken(tok)
	require.NoError(t, err)
	clk.Advance(2 * time.Second)
	requireInvalidToken(t, s, tok, "expired later")
}

func TestOIDCNoIssuersConfigured(t *testing.T) {
	r1, _ := testRSAKeys(t)
	clk := newClock()
	s := open(t, newMemKV(), clk, "")
	require.NoError(t, s.CreateUser("alice", "password1", catalog.RoleUser, ""))
	requireInvalidToken(t, s, sign(t, testKey{"r1", r1}, baseClaims(clk, "alice")), "rs256 without issuers")
}

func TestOIDCAutoCreate(t *testing.T) {
	ek := testKey{"e1", newECKey(t)}
	kv, clk := newMemKV(), newClock()
	path := writeJWKS(t, jwksJSON(t, ek))
	const other = "https://other.example.com"
	issuers := []OIDCIssuer{
		{Issuer: testIssuer, JWKSFile: path, AutoCreate: true, UserClaim: "preferred_username"},
		{Issuer: other, JWKSFile: path},
	}
	s := openOIDC(t, kv, clk, nil, issuers...)
	c := with(baseClaims(clk, "opaque-subject-id"), "preferred_username", "NewUser")

	before := kv.putCount()
	u, err := s.VerifyToken(sign(t, ek, c))
	require.NoError(t, err)
	require.Equal(t, catalog.UserID("newuser"), u.ID)
	require.Equal(t, catalog.RoleUser, u.Role)
	require.Equal(t, AuthTypeOIDC, u.AuthType)
	require.Equal(t, clk.Now(), u.CreatedAt)
	require.Equal(t, before+1, kv.putCount())
	stored, _ := s.lookup("newuser")
	require.Empty(t, stored.PasswordHash)

	// Second token: same user, no write.
	clk.Advance(time.Minute)
	u2, err := s.VerifyToken(sign(t, ek, with(c, "iat", clk.Now().Unix())))
	require.NoError(t, err)
	require.Equal(t, u.ID, u2.ID)
	require.Equal(t, before+1, kv.putCount())

	// Persisted; no password login; our own tokens work for it.
	s2 := openOIDC(t, kv, clk, nil, issuers...)
	got, ok := s2.GetUser("newuser")
	require.True(t, ok)
	require.Equal(t, AuthTypeOIDC, got.AuthType)
	_, err = s2.Authenticate("newuser", "", false)
	requireKind(t, err, catalog.KindUnauthenticated, "invalid username or password")
	_, err = s2.Authenticate("newuser", "", true)
	requireKind(t, err, catalog.KindUnauthenticated, "invalid username or password")
	own, err := s2.IssueToken(got)
	require.NoError(t, err)
	_, err = s2.VerifyToken(own)
	require.NoError(t, err)

	// The user claim is required and validated; the sub is ignored.
	requireInvalidToken(t, s, sign(t, ek, with(c, "preferred_username", nil)), "no preferred_username")
	requireInvalidToken(t, s, sign(t, ek, with(c, "preferred_username", "has space")), "bad name")
	requireInvalidToken(t, s, sign(t, ek, with(c, "preferred_username", "root")), "root")

	// A dropped user is not revived.
	require.NoError(t, s.DropUser("newuser"))
	requireInvalidToken(t, s, sign(t, ek, c), "dropped")

	// AutoCreate off for the other issuer.
	requireInvalidToken(t, s, sign(t, ek, with(c, "iss", other, "sub", "stranger")), "no autocreate")
	_, ok = s.GetUser("stranger")
	require.False(t, ok)

	// Store failure while creating: KindInternal, nothing created.
	kv.mu.Lock()
	kv.fail = os.ErrPermission
	kv.mu.Unlock()
	_, err = s.VerifyToken(sign(t, ek, with(c, "preferred_username", "dave")))
	requireKind(t, err, catalog.KindInternal, "")
	_, ok = s.GetUser("dave")
	require.False(t, ok)
}

func TestOIDCAutoCreateConcurrent(t *testing.T) {
	ek := testKey{"e1", newECKey(t)}
	kv, clk := newMemKV(), newClock()
	s := openOIDC(t, kv, clk, nil, OIDCIssuer{Issuer: testIssuer, JWKSFile: writeJWKS(t, jwksJSON(t, ek)), AutoCreate: true})
	tok := sign(t, ek, baseClaims(clk, "eve"))
	before := kv.putCount()
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u, err := s.VerifyToken(tok)
			if err != nil || u.ID != "eve" {
				t.Errorf("verify: %v %v", u.ID, err)
			}
		}()
	}
	wg.Wait()
	require.Equal(t, before+1, kv.putCount())
}

// jwksServer serves a replaceable JWKS and counts requests.
type jwksServer struct {
	*httptest.Server
	mu     sync.Mutex
	body   []byte
	status int
	hits   atomic.Int32
}

func newJWKSServer(t *testing.T, body []byte) *jwksServer {
	js := &jwksServer{body: body, status: http.StatusOK}
	js.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		js.hits.Add(1)
		js.mu.Lock()
		body, status := js.body, js.status
		js.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}))
	t.Cleanup(js.Close)
	return js
}

func (js *jwksServer) set(body []byte, status int) {
	js.mu.Lock()
	js.body, js.status = body, status
	js.mu.Unlock()
}

func TestOIDCURLJWKSAndRotation(t *testing.T) {
	r1, r2 := testRSAKeys(t)
	k1, k2 := testKey{"k1", r1}, testKey{"k2", r2}
	e1 := testKey{"e1", newECKey(t)}
	js := newJWKSServer(t, jwksJSON(t, k1, e1))
	clk := newClock()
	s := openOIDC(t, newMemKV(), clk, js.Client(), OIDCIssuer{Issuer: testIssuer, JWKSURL: js.URL + "/jwks"})
	require.NoError(t, s.CreateUser("alice", "password1", catalog.RoleUser, ""))
	require.Zero(t, js.hits.Load(), "fetched lazily")

	c := baseClaims(clk, "alice")
	verify := func(k testKey) error {
		_, err := s.VerifyToken(sign(t, k, with(c, "exp", clk.Now().Add(time.Hour).Unix())))
		return err
	}
	require.NoError(t, verify(k1))
	require.NoError(t, verify(e1))
	require.NoError(t, verify(k1))
	require.EqualValues(t, 1, js.hits.Load(), "cached")

	// Rotation: the IdP publishes k2 and retires k1. A token with the new
	// kid triggers a refetch at once.
	clk.Advance(JWKSMinRefetchInterval)
	js.set(jwksJSON(t, k2), http.StatusOK)
	require.NoError(t, verify(k2))
	require.EqualValues(t, 2, js.hits.Load())
	require.Error(t, verify(k1), "retired key")
	require.Error(t, verify(e1), "retired key")
	require.EqualValues(t, 2, js.hits.Load(), "unknown kids refetch at most once per 30s")

	// Unknown kids cannot hammer the IdP.
	for i := 0; i < 20; i++ {
		require.Error(t, verify(testKey{"nope", r1}))
	}
	require.EqualValues(t, 2, js.hits.Load())
	clk.Advance(JWKSMinRefetchInterval)
	require.Error(t, verify(testKey{"nope", r1}))
	require.EqualValues(t, 3, js.hits.Load())

	// Staleness: after JWKSRefresh a known kid triggers a refetch too.
	clk.Advance(DefaultJWKSRefresh - time.Second)
	require.NoError(t, verify(k2))
	require.EqualValues(t, 3, js.hits.Load())
	clk.Advance(time.Second)
	require.NoError(t, verify(k2))
	require.EqualValues(t, 4, js.hits.Load())

	// A failing IdP keeps the cached keys in use.
	js.set([]byte("oops"), http.StatusInternalServerError)
	clk.Advance(DefaultJWKSRefresh)
	require.NoError(t, verify(k2))
	require.EqualValues(t, 5, js.hits.Load())
	js.set([]byte(`{"keys":[]}`), http.StatusOK)
	clk.Advance(JWKSMinRefetchInterval)
	require.NoError(t, verify(k2), "a key-less set is a failed fetch")
	require.EqualValues(t, 6, js.hits.Load())

	// Once the IdP drops k2, a stale refresh removes it.
	js.set(jwksJSON(t, e1), http.StatusOK)
	clk.Advance(DefaultJWKSRefresh)
	require.Error(t, verify(k2))
	require.EqualValues(t, 7, js.hits.Load())
	require.NoError(t, verify(e1))
}

func TestOIDCURLUnreachableAtFirstUse(t *testing.T) {
	ek := testKey{"e1", newECKey(t)}
	js := newJWKSServer(t, []byte("down"))
	js.set([]byte("down"), http.StatusServiceUnavailable)
	clk := newClock()
	s := openOIDC(t, newMemKV(), clk, js.Client(), OIDCIssuer{Issuer: testIssuer, JWKSURL: js.URL, AutoCreate: true})
	tok := sign(t, ek, baseClaims(clk, "alice"))
	requireInvalidToken(t, s, tok, "idp down")
	requireInvalidToken(t, s, tok, "idp down, throttled")
	require.EqualValues(t, 1, js.hits.Load())
	js.set(jwksJSON(t, ek), http.StatusOK)
	clk.Advance(JWKSMinRefetchInterval)
	u, err := s.VerifyToken(tok)
	require.NoError(t, err)
	require.Equal(t, catalog.UserID("alice"), u.ID)
	require.EqualValues(t, 2, js.hits.Load())
}

func TestOIDCFileReloadOnUnknownKid(t *testing.T) {
	e1, e2 := testKey{"e1", newECKey(t)}, testKey{"e2", newECKey(t)}
	clk := newClock()
	path := writeJWKS(t, jwksJSON(t, e1))
	s := openOIDC(t, newMemKV(), clk, nil, OIDCIssuer{Issuer: testIssuer, JWKSFile: path, AutoCreate: true})
	require.NoError(t, os.WriteFile(path, jwksJSON(t, e1, e2), 0o600))
	tok := sign(t, e2, baseClaims(clk, "alice"))
	requireInvalidToken(t, s, tok, "throttled right after Open")
	clk.Advance(JWKSMinRefetchInterval)
	_, err := s.VerifyToken(tok)
	require.NoError(t, err)
	// An unreadable file later keeps the loaded keys.
	require.NoError(t, os.Remove(path))
	clk.Advance(DefaultJWKSRefresh)
	_, err = s.VerifyToken(sign(t, e1, baseClaims(clk, "alice")))
	require.NoError(t, err)
}

func TestOIDCConcurrentVerify(t *testing.T) {
	e1, e2 := testKey{"e1", newECKey(t)}, testKey{"e2", newECKey(t)}
	js := newJWKSServer(t, jwksJSON(t, e1, e2))
	clk := newClock()
	s := openOIDC(t, newMemKV(), clk, js.Client(), OIDCIssuer{Issuer: testIssuer, JWKSURL: js.URL, AutoCreate: true})
	t1 := sign(t, e1, with(baseClaims(clk, "alice"), "exp", clk.Now().Add(24*time.Hour).Unix()))
	t2 := sign(t, e2, with(baseClaims(clk, "bob"), "exp", clk.Now().Add(24*time.Hour).Unix()))
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 30; i++ {
				tok := t1
				if (w+i)%2 == 0 {
					tok = t2
				}
				if _, err := s.VerifyToken(tok); err != nil {
					t.Error(err)
				}
				if i%10 == 0 {
					clk.Advance(time.Minute)
				}
			}
		}()
	}
	wg.Wait()
	require.GreaterOrEqual(t, js.hits.Load(), int32(1))
}

func TestOIDCOpenErrors(t *testing.T) {
	r1, _ := testRSAKeys(t)
	good := writeJWKS(t, jwksJSON(t, testKey{"r1", r1}))
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	p384JWK := `{"keys":[{"kty":"EC","kid":"x","crv":"P-384","x":"` + b64u(p384.X.Bytes()) + `","y":"` + b64u(p384.Y.Bytes()) + `"}]}`
	cases := map[string]Options{
		"missing file":    {OIDCIssuers: []OIDCIssuer{{Issuer: testIssuer, JWKSFile: filepath.Join(t.TempDir(), "nope.json")}}},
		"garbage file":    {OIDCIssuers: []OIDCIssuer{{Issuer: testIssuer, JWKSFile: writeJWKS(t, []byte("{nope"))}}},
		"empty set":       {OIDCIssuers: []OIDCIssuer{{Issuer: testIssuer, JWKSFile: writeJWKS(t, []byte(`{"keys":[]}`))}}},
		"weak rsa only":   {OIDCIssuers: []OIDCIssuer{{Issuer: testIssuer, JWKSFile: writeJWKS(t, jwksJSON(t, testKey{"w", weak}))}}},
		"p384 only":       {OIDCIssuers: []OIDCIssuer{{Issuer: testIssuer, JWKSFile: writeJWKS(t, []byte(p384JWK))}}},
		"file and url":    {OIDCIssuers: []OIDCIssuer{{Issuer: testIssuer, JWKSFile: good, JWKSURL: "https://idp.example.com/jwks"}}},
		"no key source":   {OIDCIssuers: []OIDCIssuer{{Issuer: testIssuer}}},
		"empty issuer":    {OIDCIssuers: []OIDCIssuer{{JWKSFile: good}}},
		"duplicate":       {OIDCIssuers: []OIDCIssuer{{Issuer: testIssuer, JWKSFile: good}, {Issuer: testIssuer, JWKSFile: good}}},
		"http remote url": {OIDCIssuers: []OIDCIssuer{{Issuer: testIssuer, JWKSURL: "http://idp.example.com/jwks"}}},
		"ftp url":         {OIDCIssuers: []OIDCIssuer{{Issuer: testIssuer, JWKSURL: "ftp://127.0.0.1/jwks"}}},
		"no host":         {OIDCIssuers: []OIDCIssuer{{Issuer: testIssuer, JWKSURL: "https:///jwks"}}},
		"negative TTL":    {JWKSRefresh: -time.Second},
	}
	for name, opts := range cases {
		opts.BcryptCost = bcrypt.MinCost
		_, err := Open(newMemKV(), opts)
		require.Error(t, err, name)
		require.Equal(t, catalog.KindInvalid, catalog.KindOf(err), "%s: %v", name, err)
	}
	for _, u := range []string{"https://idp.example.com/jwks", "http://127.0.0.1:8080/jwks", "http://[::1]/jwks", "http://localhost/jwks"} {
		_, err := Open(newMemKV(), Options{BcryptCost: bcrypt.MinCost, OIDCIssuers: []OIDCIssuer{{Issuer: testIssuer, JWKSURL: u}}})
		require.NoError(t, err, u)
	}
}

func TestParseJWKS(t *testing.T) {
	r1, _ := testRSAKeys(t)
	ec := newECKey(t)
	rsaJWK := jwkOf(testKey{"r1", r1})
	ecJWK := jwkOf(testKey{"e1", ec})
	enc := jwkOf(testKey{"enc", r1})
	enc["use"] = "enc"
	ps := jwkOf(testKey{"ps", r1})
	ps["alg"] = "PS256"
	padded := jwkOf(testKey{"padded", ec})
	padded["x"] = base64.URLEncoding.EncodeToString(ec.X.FillBytes(make([]byte, 32)))
	offCurve := jwkOf(testKey{"off", ec})
	offCurve["y"] = b64u(make([]byte, 32))
	evenE := jwkOf(testKey{"even", r1})
	evenE["e"] = b64u([]byte{1, 0, 0})
	sym := map[string]any{"kty": "oct", "kid": "hmac", "k": b64u([]byte("secret"))}
	data, err := json.Marshal(map[string]any{"keys": []any{rsaJWK, ecJWK, enc, ps, padded, offCurve, evenE, sym, "junk"}})
	require.NoError(t, err)
	keys, err := parseJWKS(data)
	require.NoError(t, err)
	var kids []string
	for kid := range keys {
		kids = append(kids, kid)
	}
	require.ElementsMatch(t, []string{"r1", "e1", "padded"}, kids)
	require.Equal(t, "RS256", keys["r1"][0].alg)
	require.True(t, keys["r1"][0].key.(*rsa.PublicKey).Equal(r1.Public()))
	require.Equal(t, "ES256", keys["e1"][0].alg)
	require.True(t, keys["e1"][0].key.(*ecdsa.PublicKey).Equal(ec.Public()))
}
