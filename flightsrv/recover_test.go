//go:build duckdb_arrow

package flightsrv

import (
	"bytes"
	"context"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestRecoverInterceptors(t *testing.T) {
	var logs bytes.Buffer
	s := New(stubExec{}, stubCatalog{}, stubDescriber{}, &readingIngester{}, nil, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})

	_, err := s.recoverUnary(t.Context(), nil, &grpc.UnaryServerInfo{FullMethod: "/test/Unary"}, func(context.Context, any) (any, error) {
		var m map[string]int
		m["boom"]++ // a nil-map write panics
		return nil, nil
	})
	require.Equal(t, codes.Internal, status.Code(err))
	require.Contains(t, logs.String(), "method=/test/Unary")

	err = s.recoverStream(nil, &fakeStream{ctx: t.Context()}, &grpc.StreamServerInfo{FullMethod: "/test/Stream"}, func(any, grpc.ServerStream) error {
		panic("boom")
	})
	require.Equal(t, codes.Internal, status.Code(err))
	require.Contains(t, logs.String(), "method=/test/Stream")
	require.Contains(t, logs.String(), "panic=boom")

	// Without a panic the handler's answer passes through.
	resp, err := s.recoverUnary(t.Context(), nil, &grpc.UnaryServerInfo{FullMethod: "/test/Unary"}, func(context.Context, any) (any, error) {
		return "ok", status.Error(codes.NotFound, "nope")
	})
	require.Equal(t, "ok", resp)
	require.Equal(t, codes.NotFound, status.Code(err))
}

func TestLike(t *testing.T) {
	cases := []struct {
		pattern, s string
		want       bool
	}{
		{"", "", true},
		{"", "a", false},
		{"%", "", true},
		{"%", "anything", true},
		{"a%", "ABC", true},
		{"%c", "abc", true},
		{"%b%", "abc", true},
		{"a_c", "abc", true},
		{"a_c", "ac", false},
		{"a\\_c", "a_c", true},
		{"a\\_c", "abc", false},
		{"a\\%", "a%", true},
		{"a\\%", "ab", false},
		{"a\\", "a\\", true},
		{"%a%a%a%a%a%a%a%a%a%a%a%a%a%b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false},
		{"%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%x", "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy", false},
		{"mess%s", "messages", true},
		{"_%_", "a", false},
		{"_%_", "ab", true},
	}
	for _, tc := range cases {
		t.Run(tc.pattern+"~"+tc.s, func(t *testing.T) {
			require.Equal(t, tc.want, like(tc.pattern, tc.s))
		})
	}
}
