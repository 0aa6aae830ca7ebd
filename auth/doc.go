// Package auth manages KalamDB users, password authentication and JWT
// session tokens. It does no transport: the Flight server extracts
// credentials (see ParseBasic) and calls Authenticate or VerifyToken.
//
// # Storage
//
// Users and the token signing key live in the metadata store behind the KV
// interface: the HS256 key (32 random bytes) at "auth/jwt_key" and each user
// as JSON at "auth/user/<id>". Open loads everything into memory, and every
// write method updates the store first and the in-memory map second, so
// token verification never touches the store.
//
// # Root
//
// On first start Open creates the root user with RoleSystem. If
// Options.RootPassword (KALAMDB_ROOT_PASSWORD) is empty, root gets no
// password and may log in with an empty password from a loopback connection
// only. Setting the password later (by SetPassword, or by restarting with
// RootPassword set) secures it; when RootPassword is set Open re-hashes root
// whenever the stored hash does not match it.
//
// # Failed logins
//
// A failed login never distinguishes an unknown user from a wrong password:
// both return "invalid username or password" with KindUnauthenticated, and
// both spend a bcrypt comparison. Five consecutive failures lock an account
// for 15 minutes. Successful password checks are cached for 5 minutes
// (keyed by a salted SHA-256 of the credentials, never the plain password)
// so repeated logins do not pay for bcrypt.
//
// # Tokens
//
// Tokens are HS256 JWTs carrying sub (user id), role, iat, exp and pwv, a
// short fingerprint of the user's password hash: changing the password or
// dropping the user invalidates every token issued before. VerifyToken
// returns the user's current record, so role changes apply immediately.
package auth
