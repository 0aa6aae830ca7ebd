package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/kalamdb/kalamdb-go/catalog"
)

// FuzzTokenClaims signs arbitrary JWT headers and claims with the server's
// own key, so that parsing gets past the signature check that stops
// FuzzVerifyToken's inputs: VerifyToken must not panic, must refuse with
// KindUnauthenticated, and may accept only a token for the live user that
// carries our claims.
func FuzzTokenClaims(f *testing.F) {
	clk := newClock()
	s := open(f, newMemKV(), clk, "")
	if err := s.CreateUser("alice", "password1", catalog.RoleUser, ""); err != nil {
		f.Fatal(err)
	}
	tok, err := s.IssueToken(User{ID: "alice"})
	if err != nil {
		f.Fatal(err)
	}
	parts := strings.Split(tok, ".")
	b64 := base64.RawURLEncoding
	hdr, err := b64.DecodeString(parts[0])
	if err != nil {
		f.Fatal(err)
	}
	claims, err := b64.DecodeString(parts[1])
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(hdr), string(claims))
	f.Add(`{"alg":"HS256"}`, `{"sub":"alice","iat":1,"exp":99999999999,"pwv":""}`)
	f.Add(`{"alg":"none"}`, string(claims))
	f.Add(`{"alg":"RS256","kid":"x"}`, `{"iss":"https://idp","sub":"alice"}`)
	f.Add(`{"alg":"HS256"}`, `{"sub":"alice","iat":"x","exp":[1],"role":{"a":1},"nbf":1e400}`)
	f.Add(`{"alg":"HS256","crit":["b64"],"b64":false}`, `{"sub":"root","iat":1,"exp":1e19}`)
	f.Add(`[]`, `null`)
	f.Fuzz(func(t *testing.T, header, payload string) {
		input := b64.EncodeToString([]byte(header)) + "." + b64.EncodeToString([]byte(payload))
		mac := hmac.New(sha256.New, s.key)
		mac.Write([]byte(input))
		u, err := s.VerifyToken(input + "." + b64.EncodeToString(mac.Sum(nil)))
		if err != nil {
			if catalog.KindOf(err) != catalog.KindUnauthenticated {
				t.Fatalf("wrong kind: %v", err)
			}
			return
		}
		if u.ID != "alice" || u.PasswordHash != "" {
			t.Fatalf("accepted a token for %+v", u)
		}
	})
}
