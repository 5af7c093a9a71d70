// Package secret generates and parses keyhub's secrets: API keys in the
// GitHub-style format of DESIGN.md §3, and OAuth client secrets.
package secret

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"hash/crc32"
	"unsafe"
)

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// Key body layout: 32 random base62 characters, then 6 base62 characters of
// the CRC32 of everything before them (prefix, '_' and the random part).
const (
	randomLen   = 32
	checksumLen = 6
	BodyLen     = randomLen + checksumLen
	// MaxPrefixLen bounds a tenant's key prefix.
	MaxPrefixLen = 32
	// StartLen is how many body characters the display hint keeps.
	StartLen = 4
)

// ErrMalformed is returned for a string that is not a well-formed key or
// whose checksum does not match. It never includes the input.
var ErrMalformed = errors.New("malformed API key")

// ValidPrefix reports whether p may prefix keys: 1–32 characters, a
// lowercase letter first, then lowercase letters, digits and '_', not
// ending in '_'.
func ValidPrefix(p string) bool {
	if len(p) == 0 || len(p) > MaxPrefixLen || p[0] < 'a' || p[0] > 'z' || p[len(p)-1] == '_' {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// NewKey returns a new key with the given prefix. The prefix must be valid.
func NewKey(prefix string) string {
	b := make([]byte, 0, len(prefix)+1+BodyLen)
	b = append(b, prefix...)
	b = append(b, '_')
	b = appendRandomBase62(b, randomLen)
	return string(appendChecksum(b, crc32.ChecksumIEEE(b)))
}

// appendRandomBase62 appends n uniformly random base62 characters, by
// rejection sampling so that no character is more likely than another.
func appendRandomBase62(b []byte, n int) []byte {
	var buf [64]byte
	for n > 0 {
		if _, err := rand.Read(buf[:]); err != nil {
			panic("secret: crypto/rand failed: " + err.Error())
		}
		for _, c := range buf {
			if c >= 248 { // 248 = 4*62: keep the distribution uniform
				continue
			}
			b = append(b, base62[c%62])
			n--
			if n == 0 {
				break
			}
		}
	}
	return b
}

func appendChecksum(b []byte, sum uint32) []byte {
	var c [checksumLen]byte
	for i := checksumLen - 1; i >= 0; i-- {
		c[i] = base62[sum%62]
		sum /= 62
	}
	return append(b, c[:]...)
}

var base62Index = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i := 0; i < len(base62); i++ {
		t[base62[i]] = int8(i)
	}
	return t
}()

// Parse checks the format and checksum of key and returns its prefix. It
// touches no store and allocates nothing: a malformed key is rejected here.
func Parse(key string) (prefix string, err error) {
	n := len(key)
	if n < 1+1+BodyLen || n > MaxPrefixLen+1+BodyLen || key[n-BodyLen-1] != '_' {
		return "", ErrMalformed
	}
	prefix = key[:n-BodyLen-1]
	if !ValidPrefix(prefix) {
		return "", ErrMalformed
	}
	// 6 base62 digits hold more than 32 bits: sum them in 64 so that only the
	// canonical encoding of the CRC32 matches, not CRC32 + k·2³².
	var sum uint64
	for i := n - BodyLen; i < n; i++ {
		v := base62Index[key[i]]
		if v < 0 {
			return "", ErrMalformed
		}
		if i >= n-checksumLen {
			sum = sum*62 + uint64(v)
		}
	}
	if uint64(crc32.ChecksumIEEE(bytesOf(key[:n-checksumLen]))) != sum {
		return "", ErrMalformed
	}
	return prefix, nil
}

// Hash returns the SHA-256 of a key or secret: the only form stored.
func Hash(s string) [sha256.Size]byte { return sha256.Sum256(bytesOf(s)) }

// Start returns the display hint of a well-formed key: its prefix and the
// first StartLen characters of its body.
func Start(key string) string {
	n := len(key)
	return key[:n-BodyLen+StartLen]
}

// Equal compares two digests in constant time.
func Equal(a, b []byte) bool { return subtle.ConstantTimeCompare(a, b) == 1 }

// NewClientSecret returns a client secret of 256 random bits, base64url.
func NewClientSecret() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("secret: crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// bytesOf views s as bytes without copying, for functions that only read
// their input (CRC, SHA-256): the verification path then allocates nothing
// to check or hash a key.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// NewToken returns a bearer token of 256 random bits, base64url: portal
// session cookies and one-time sign-in links. Only its Hash is stored.
func NewToken() string { return NewClientSecret() }
