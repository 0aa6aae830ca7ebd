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
// both spend a bcrypt comparison. A password longer than MaxPasswordLen
// (72 bytes, all bcrypt reads) is refused at login as at creation, with
// the same answer, rather than checked on its first 72 bytes.
//
// Failures are counted per (user name, client address) pair, for unknown
// names exactly as for known ones, so the answers and their timing do not
// tell them apart either. From the third consecutive failure each attempt
// of the pair first waits LoginDelay (250 ms, 500 ms, 1 s, … capped at
// MaxLoginDelay); the fifth locks the pair, and only that pair, for
// LockoutDuration (15 minutes): other addresses still log in, so nobody can
// lock an account out by failing on purpose. Attempts still running count
// as failures, so parallel attempts cannot outrun the limit. A system
// account is never locked from a loopback address, only delayed: the
// machine's operator always has a way in. Pair state lives in memory
// (bounded; a restart forgets it). A successful login resets its pair, and
// SetPassword resets every pair of the user.
//
// The stored User keeps two informational fields, shown in system.users:
// FailedLoginAttempts (failed logins from any address since the last
// successful one) and LockedUntil (the latest end of a lock of one of its
// client addresses). Neither blocks a login.
//
// Successful password checks are cached for 5 minutes (keyed by a salted
// SHA-256 of the credentials, never the plain password) so repeated logins
// do not pay for bcrypt.
//
// # Dropped users
//
// DropUser keeps the record with DeletedAt set, and the name stays
// reserved until the caller (the engine's user cleanup job) has removed the
// user's rows and calls MarkPurged: until then CreateUser of that name
// fails with KindUnavailable, so a new account never sees a former
// account's data.
//
// # Tokens
//
// Tokens are HS256 JWTs carrying sub (user id), role, iat, exp and pwv, a
// short fingerprint of the user's password hash: changing the password or
// dropping the user invalidates every token issued before. VerifyToken
// returns the user's current record, so role changes apply immediately.
// Our tokens never carry an "iss" claim; VerifyToken rejects any HS256
// token that has one, so our key can only ever vouch for our own tokens.
//
// # External OIDC tokens
//
// Options.OIDCIssuers lists trusted identity providers. VerifyToken routes
// a token by its header: alg RS256 or ES256 (P-256) means an external
// token, anything else is checked as one of ours (HS256 only; alg "none",
// HS384/512, PS256 etc. are always rejected, and an HS256 token signed with
// an issuer's public key fails because only our secret verifies HS256).
//
// An external token's "iss" must equal one configured Issuer exactly. Its
// key is chosen by "kid" from that issuer's JSON Web Key Set — RSA keys
// (n, e; at least 2048 bits) verify RS256, EC P-256 keys (crv, x, y) verify
// ES256; keys with another use, alg or curve are ignored. A token without
// "kid" is accepted only while the set holds exactly one key for its
// algorithm. "exp" is required; "exp" and "nbf" are checked with 30 s of
// leeway for clock skew; "aud" must contain Audience when one is
// configured.
//
// The user is named by the UserClaim claim ("sub" by default): a string
// that, lower-cased, is a valid user name. "root" is never accepted from
// an external token. An existing live user is returned as is (with its
// role); a dropped user is rejected and never revived; a missing user is
// rejected unless AutoCreate is set, in which case it is created with
// RoleUser, AuthType AuthTypeOIDC and no password (so it cannot log in
// with a password). Every issuer maps into the same user namespace.
//
// A JWKSFile is read at Open (Open fails if it is unreadable or holds no
// usable key); a JWKSURL (https, or http to a loopback host) is fetched on
// first use. Either is loaded again once older than Options.JWKSRefresh
// (10 minutes by default) or when a token names an unknown kid, but at
// most once per JWKSMinRefetchInterval (30 s) per issuer, so forged kids
// cannot hammer the provider. A failed reload keeps the previous keys.
//
// # Rate limiting
//
// RateLimiter is a per-key (client IP) token bucket for the Flight server
// to throttle handshakes; this package does not call it itself.
package auth
