package idgen

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"time"
)

// UUIDv7 returns a random RFC 9562 version 7 UUID for the given time, in the
// canonical lower-case hyphenated form (xxxxxxxx-xxxx-7xxx-yxxx-xxxxxxxxxxxx).
// The 48-bit timestamp is milliseconds since the Unix epoch (clamped at
// zero); the remaining 74 bits come from crypto/rand.
func UUIDv7(now time.Time) string {
	var b [16]byte
	ms := uint64(unixMs(now))
	var ts [8]byte
	binary.BigEndian.PutUint64(ts[:], ms)
	copy(b[0:6], ts[2:8]) // low 48 bits, big-endian
	_, _ = rand.Read(b[6:])
	b[6] = b[6]&0x0F | 0x70 // version 7
	b[8] = b[8]&0x3F | 0x80 // variant 10
	return formatUUID(b)
}

func formatUUID(b [16]byte) string {
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:36], b[10:16])
	return string(out[:])
}

// ValidUUID reports whether s is a UUID in the canonical 36-character
// hyphenated form (8-4-4-4-12 hex digits, either case). It does not check
// the version or variant.
func ValidUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !isHex(c) {
				return false
			}
		}
	}
	return true
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// crockford is Crockford's base32 alphabet (no I, L, O, U).
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// ULID returns a ULID for the given time: 26 upper-case Crockford base32
// characters encoding a 48-bit millisecond timestamp (clamped at zero)
// followed by 80 random bits from crypto/rand. ULIDs of different
// milliseconds sort lexicographically by time.
func ULID(now time.Time) string {
	var b [16]byte
	ms := uint64(unixMs(now))
	var ts [8]byte
	binary.BigEndian.PutUint64(ts[:], ms)
	copy(b[0:6], ts[2:8])
	_, _ = rand.Read(b[6:])
	return encodeULID(b)
}

// encodeULID encodes 128 bits as 26 base32 digits (the first digit carries
// only the top 3 bits, so it is at most '7').
func encodeULID(b [16]byte) string {
	hi := binary.BigEndian.Uint64(b[0:8])
	lo := binary.BigEndian.Uint64(b[8:16])
	var out [26]byte
	// Emit from the least significant 5-bit group upwards.
	for i := 25; i >= 0; i-- {
		out[i] = crockford[lo&0x1F]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out[:])
}
