//go:build duckdb_arrow

package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/arrow-adbc/go/adbc"
	adbcflight "github.com/apache/arrow-adbc/go/adbc/driver/flightsql"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
)

// testPKI is a CA with a server certificate for 127.0.0.1 and a client
// certificate, written as PEM files.
type testPKI struct {
	dir                                       string
	caPEM, serverCert, serverKey              string
	clientCertPEM, clientKeyPEM, otherCertPEM string
	otherKeyPEM                               string
}

func newTestPKI(t *testing.T) *testPKI {
	t.Helper()
	dir := t.TempDir()
	mkCA := func(cn string) (*x509.Certificate, *ecdsa.PrivateKey, []byte) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn}, IsCA: true,
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), BasicConstraintsValid: true,
			KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		require.NoError(t, err)
		cert, err := x509.ParseCertificate(der)
		require.NoError(t, err)
		return cert, key, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	}
	leaf := func(ca *x509.Certificate, caKey *ecdsa.PrivateKey, serial int64, server bool) (certPEM, keyPEM []byte) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "leaf"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
		if server {
			tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
			tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		} else {
			tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		require.NoError(t, err)
		kb, err := x509.MarshalECPrivateKey(key)
		require.NoError(t, err)
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})
	}
	ca, caKey, caPEM := mkCA("kalamdb test CA")
	other, otherKey, _ := mkCA("untrusted CA")
	sc, sk := leaf(ca, caKey, 2, true)
	cc, ck := leaf(ca, caKey, 3, false)
	oc, ok := leaf(other, otherKey, 4, false)
	p := &testPKI{dir: dir, caPEM: string(caPEM), clientCertPEM: string(cc), clientKeyPEM: string(ck), otherCertPEM: string(oc), otherKeyPEM: string(ok)}
	write := func(name string, b []byte) string {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, b, 0o600))
		return path
	}
	write("ca.pem", caPEM)
	p.serverCert = write("server.pem", sc)
	p.serverKey = write("server.key", sk)
	return p
}

func TestTLSAndMTLS(t *testing.T) {
	pki := newTestPKI(t)
	ts := startServerWith(t, t.TempDir(), []string{"--tls-cert", pki.serverCert, "--tls-key", pki.serverKey}, nil)
	base := map[string]string{adbc.OptionKeyURI: "grpc+tls://" + ts.addr, adbc.OptionKeyUsername: "root", adbc.OptionKeyPassword: testRootPassword}
	with := func(extra map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	c, err := tryConnectOpts(with(map[string]string{adbcflight.OptionSSLRootCerts: pki.caPEM}))
	require.NoError(t, err)
	c.t = t
	require.Equal(t, [][]string{{"1"}}, c.mustQuery("SELECT 1"))
	c.close()
	// A client that does not trust the CA, or speaks plaintext, cannot talk.
	_, err = tryConnectOpts(base)
	require.Error(t, err)
	_, err = tryConnect(ts.addr, "root", testRootPassword)
	require.Error(t, err)
	ts.stop()

	// mTLS: a client certificate signed by the client CA is required.
	ts = startServerWith(t, t.TempDir(), []string{"--tls-cert", pki.serverCert, "--tls-key", pki.serverKey,
		"--tls-client-ca", filepath.Join(pki.dir, "ca.pem")}, nil)
	base[adbc.OptionKeyURI] = "grpc+tls://" + ts.addr
	c, err = tryConnectOpts(with(map[string]string{adbcflight.OptionSSLRootCerts: pki.caPEM,
		adbcflight.OptionMTLSCertChain: pki.clientCertPEM, adbcflight.OptionMTLSPrivateKey: pki.clientKeyPEM}))
	require.NoError(t, err)
	c.t = t
	require.Equal(t, [][]string{{"1"}}, c.mustQuery("SELECT 1"))
	c.close()
	_, err = tryConnectOpts(with(map[string]string{adbcflight.OptionSSLRootCerts: pki.caPEM}))
	require.Error(t, err, "no client certificate")
	_, err = tryConnectOpts(with(map[string]string{adbcflight.OptionSSLRootCerts: pki.caPEM,
		adbcflight.OptionMTLSCertChain: pki.otherCertPEM, adbcflight.OptionMTLSPrivateKey: pki.otherKeyPEM}))
	require.Error(t, err, "client certificate from an untrusted CA")
}

func TestOIDCTokens(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	dir := t.TempDir()
	jwks := map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "kid": "k1", "alg": "RS256", "use": "sig",
		"n": base64.RawURLEncoding.EncodeToString(key.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes()),
	}}}
	jb, _ := json.Marshal(jwks)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "jwks.json"), jb, 0o600))
	cfg := []map[string]any{{"issuer": "https://idp.test", "audience": "kalamdb", "jwks_file": filepath.Join(dir, "jwks.json"), "auto_create": true}}
	cb, _ := json.Marshal(cfg)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "oidc.json"), cb, 0o600))
	ts := startServerWith(t, t.TempDir(), []string{"--oidc-config", filepath.Join(dir, "oidc.json")}, nil)

	sign := func(claims jwt.MapClaims) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
		tok.Header["kid"] = "k1"
		s, err := tok.SignedString(key)
		require.NoError(t, err)
		return s
	}
	good := sign(jwt.MapClaims{"iss": "https://idp.test", "aud": "kalamdb", "sub": "Olivia", "exp": time.Now().Add(time.Hour).Unix()})
	olivia, err := tryConnectOpts(map[string]string{adbc.OptionKeyURI: "grpc+tcp://" + ts.addr,
		adbcflight.OptionAuthorizationHeader: "Bearer " + good})
	require.NoError(t, err)
	olivia.t = t
	defer olivia.close()
	require.Equal(t, [][]string{{"olivia"}}, olivia.mustQuery("SELECT CURRENT_USER()"))
	root := connect(t, ts.addr, "root", testRootPassword)
	require.Equal(t, [][]string{{"olivia", "user", "oidc"}}, root.mustQuery("SELECT user_id, role, auth_type FROM system.users WHERE user_id = 'olivia'"))

	// A Bearer handshake (the JDBC driver's token= mode) answers with the token.
	cl := newFlightSQLClient(t, ts.addr)
	var hdr metadata.MD
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+good)
	stream, err := cl.Client.Handshake(ctx, grpc.Header(&hdr))
	require.NoError(t, err)
	require.NoError(t, stream.CloseSend())
	_, err = stream.Recv()
	require.ErrorIs(t, err, io.EOF)
	require.Equal(t, []string{"Bearer " + good}, hdr.Get("authorization"))
	_, err = cl.Execute(ctx, "SELECT 1")
	require.NoError(t, err)

	for name, tok := range map[string]string{
		"expired":      sign(jwt.MapClaims{"iss": "https://idp.test", "aud": "kalamdb", "sub": "olivia", "exp": time.Now().Add(-time.Hour).Unix()}),
		"wrong issuer": sign(jwt.MapClaims{"iss": "https://evil.test", "aud": "kalamdb", "sub": "olivia", "exp": time.Now().Add(time.Hour).Unix()}),
		"wrong aud":    sign(jwt.MapClaims{"iss": "https://idp.test", "aud": "other", "sub": "olivia", "exp": time.Now().Add(time.Hour).Unix()}),
		"root":         sign(jwt.MapClaims{"iss": "https://idp.test", "aud": "kalamdb", "sub": "root", "exp": time.Now().Add(time.Hour).Unix()}),
		"tampered":     good[:len(good)-4] + "AAAA",
	} {
		_, err := cl.Execute(metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+tok), "SELECT 1")
		require.Equal(t, codes.Unauthenticated, grpcCode(err), name)
	}
}
