package auth

import (
	"encoding/base64"
	"strings"
)

// ParseBasic parses an HTTP/gRPC "Authorization" value of the form
// "Basic <base64(user:password)>". The scheme is case-insensitive and the
// base64 may be padded (StdEncoding) or unpadded (RawStdEncoding). The
// password may contain ':'; the user name may not.
func ParseBasic(header string) (user, pass string, ok bool) {
	header = strings.TrimSpace(header)
	const scheme = "basic "
	if len(header) < len(scheme) || !strings.EqualFold(header[:len(scheme)], scheme) {
		return "", "", false
	}
	enc := strings.TrimSpace(header[len(scheme):])
	raw, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		raw, err = base64.RawStdEncoding.DecodeString(enc)
		if err != nil {
			return "", "", false
		}
	}
	user, pass, ok = strings.Cut(string(raw), ":")
	if !ok {
		return "", "", false
	}
	return user, pass, true
}
