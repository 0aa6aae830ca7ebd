package auth

import (
	"crypto/sha256"
	"sync"
	"time"

	"github.com/kalamdb/kalamdb-go/catalog"
)

const (
	credCacheSize = 1024
	credCacheTTL  = 5 * time.Minute
)

type credKey [sha256.Size]byte

type credEntry struct {
	user    catalog.UserID
	hash    string // the bcrypt hash the password was verified against
	expires time.Time
}

// credCache remembers recently verified (user, password) pairs so repeated
// logins skip bcrypt. Keys are salted SHA-256 digests; the plain password is
// never stored. An entry only counts while the user's hash is unchanged.
type credCache struct {
	salt [32]byte
	mu   sync.Mutex
	m    map[credKey]credEntry
}

func newCredCache(salt [32]byte) *credCache {
	return &credCache{salt: salt, m: make(map[credKey]credEntry)}
}

func (c *credCache) key(user catalog.UserID, password string) credKey {
	h := sha256.New()
	h.Write([]byte(user))
	h.Write([]byte{0})
	h.Write([]byte(password))
	h.Write(c.salt[:])
	var k credKey
	h.Sum(k[:0])
	return k
}

// hit reports whether k was verified for user against hash and is unexpired.
func (c *credCache) hit(k credKey, user catalog.UserID, hash string, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok {
		return false
	}
	if e.user != user || e.hash != hash || !now.Before(e.expires) {
		delete(c.m, k)
		return false
	}
	return true
}

func (c *credCache) put(k credKey, user catalog.UserID, hash string, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[k]; !ok && len(c.m) >= credCacheSize {
		for k2, e := range c.m {
			if !now.Before(e.expires) {
				delete(c.m, k2)
			}
		}
		// Still full: evict an arbitrary entry (map order is randomised).
		for k2 := range c.m {
			if len(c.m) < credCacheSize {
				break
			}
			delete(c.m, k2)
		}
	}
	c.m[k] = credEntry{user: user, hash: hash, expires: now.Add(credCacheTTL)}
}

// invalidate drops every entry for user.
func (c *credCache) invalidate(user catalog.UserID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.m {
		if e.user == user {
			delete(c.m, k)
		}
	}
}

func (c *credCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
