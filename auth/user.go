package auth

import (
	"strings"
	"time"

	"github.com/kalamdb/kalamdb-go/catalog"
)

// AuthTypePassword is the only authentication type: bcrypt password hashes.
const AuthTypePassword = "password"

// Password length bounds in bytes (bcrypt ignores input past 72 bytes).
const (
	MinPasswordLen = 8
	MaxPasswordLen = 72
)

// Lockout policy.
const (
	// MaxFailedLogins consecutive failures lock the account.
	MaxFailedLogins = 5
	// LockoutDuration is how long a locked account stays locked.
	LockoutDuration = 15 * time.Minute
	// lastLoginGranularity bounds how often LastLoginAt is persisted.
	lastLoginGranularity = time.Minute
)

// User is one account as stored (JSON) in the metadata store.
type User struct {
	// ID is the lower-case user name.
	ID catalog.UserID
	// Role is the user's privilege level.
	Role catalog.Role
	// Email is optional contact information.
	Email string
	// AuthType is how the user authenticates; always AuthTypePassword.
	AuthType string
	// PasswordHash is the bcrypt hash; empty for a password-less root and
	// for dropped users. Copies returned by this package have it cleared.
	PasswordHash string `json:",omitempty"`
	// CreatedAt and UpdatedAt track the record's lifetime.
	CreatedAt, UpdatedAt time.Time
	// LastLoginAt is the last successful login (minute granularity),
	// LockedUntil is set while the account is locked after failed logins,
	// DeletedAt is set once the user is dropped.
	LastLoginAt, LockedUntil, DeletedAt *time.Time
	// FailedLoginAttempts counts consecutive failed logins.
	FailedLoginAttempts int
}

// Deleted reports whether the user has been dropped.
func (u User) Deleted() bool { return u.DeletedAt != nil }

// LockedAt reports whether the account is locked at time now.
func (u User) LockedAt(now time.Time) bool {
	return u.LockedUntil != nil && now.Before(*u.LockedUntil)
}

// public returns a copy of u safe to hand out: no password hash.
func (u User) public() User {
	u.PasswordHash = ""
	return u
}

func timePtr(t time.Time) *time.Time { return &t }

// normID lower-cases a user name for lookup (user names are stored
// lower-case, matching catalog.ParseUserID).
func normID(id catalog.UserID) catalog.UserID {
	return catalog.UserID(strings.ToLower(string(id)))
}

// parseID validates and normalises a user name for the write methods.
func parseID(id catalog.UserID) (catalog.UserID, error) {
	return catalog.ParseUserID(string(id))
}

func validatePassword(pw string) error {
	if len(pw) < MinPasswordLen || len(pw) > MaxPasswordLen {
		return catalog.Errorf(catalog.KindInvalid, "password must be %d to %d bytes long", MinPasswordLen, MaxPasswordLen)
	}
	return nil
}

func validateRole(r catalog.Role) error {
	if r < catalog.RoleUser || r > catalog.RoleSystem {
		return catalog.Errorf(catalog.KindInvalid, "invalid role %d", r)
	}
	return nil
}

func validateEmail(email string) error {
	if email == "" {
		return nil
	}
	if len(email) > 254 || !strings.Contains(email, "@") {
		return catalog.Errorf(catalog.KindInvalid, "invalid email address %q", email)
	}
	for _, c := range email {
		if c <= ' ' || c == 0x7F {
			return catalog.Errorf(catalog.KindInvalid, "invalid email address %q", email)
		}
	}
	return nil
}
