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
	// LastLoginAt is the last successful login (minute granularity).
	// LockedUntil is the latest end of a lock of this account for one
	// client address (see the package documentation, "Failed logins"):
	// it is informational, since a lock never holds for other addresses,
	// and it is not cleared by a success from another address. DeletedAt
	// is set once the user is dropped, PurgedAt once its data (rows and
	// cold segments of every USER and STREAM table) has been removed
	// after that.
	LastLoginAt, LockedUntil, DeletedAt, PurgedAt *time.Time
	// FailedLoginAttempts counts failed logins of this account, from any
	// client address, since its last successful login. Informational:
	// locks are decided per client address.
	FailedLoginAttempts int
}

// Deleted reports whether the user has been dropped.
func (u User) Deleted() bool { return u.DeletedAt != nil }

// PurgePending reports whether the user has been dropped and its data has
// not been removed yet: its name cannot be reused until it is.
func (u User) PurgePending() bool { return u.DeletedAt != nil && u.PurgedAt == nil }

// LockedAt reports whether some client address was locked out of the
// account at time now (other addresses may log in).
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
