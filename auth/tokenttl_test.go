package auth

import (
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"
)

func TestTokenTTLOption(t *testing.T) {
	for _, tc := range []struct {
		opt, want time.Duration
	}{{0, DefaultTokenTTL}, {90 * time.Second, 90 * time.Second}, {48 * time.Hour, 48 * time.Hour}} {
		clk := newClock()
		s, err := Open(newMemKV(), Options{BcryptCost: bcrypt.MinCost, Now: clk.Now, TokenTTL: tc.opt})
		require.NoError(t, err)
		require.Equal(t, tc.want, s.TokenTTL())
		tok, err := s.IssueToken(User{ID: "root"})
		require.NoError(t, err)
		var claims tokenClaims
		_, _, err = jwt.NewParser().ParseUnverified(tok, &claims)
		require.NoError(t, err)
		require.Equal(t, clk.Now().Add(tc.want).Unix(), claims.ExpiresAt.Unix())
		clk.Advance(tc.want - time.Second)
		_, err = s.VerifyToken(tok)
		require.NoError(t, err)
		clk.Advance(time.Second)
		_, err = s.VerifyToken(tok)
		require.Error(t, err)
	}
	_, err := Open(newMemKV(), Options{BcryptCost: bcrypt.MinCost, TokenTTL: -time.Second})
	require.Error(t, err)
}
