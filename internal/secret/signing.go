package secret

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
)

// SigningSecretSize is the length of a signing key's HMAC-SHA256 secret.
const SigningSecretSize = 32

// NewSigningSecret returns a new signing secret: 32 random bytes, and the
// standard base64 the holder is shown once.
func NewSigningSecret() (raw []byte, shown string) {
	raw = make([]byte, SigningSecretSize)
	if _, err := rand.Read(raw); err != nil {
		panic("secret: crypto/rand failed: " + err.Error())
	}
	return raw, base64.StdEncoding.EncodeToString(raw)
}

// signingDigestContext separates signing-key digests from the digests of
// bearer keys: no bearer key begins with it (Parse allows only lowercase
// letters, digits and '_' before a key's body).
const signingDigestContext = "keyhub signing key\x00"

// SigningDigest is the lookup digest (APIKey.Hash) of the signing key with
// this id. A signing key has no bearer secret to digest, and a ticket names
// its key by id (kid): the digest of its id lets tickets find it through
// the same unique index and verification cache as bearer keys, and its
// changes invalidate caches the same way. The digest is no credential:
// only a key that parses (Parse) is ever looked up by its own digest, and
// the ticket path looks up only this one.
func SigningDigest(id string) [sha256.Size]byte {
	return sha256.Sum256([]byte(signingDigestContext + id))
}

// signingSealContext binds a sealed signing secret to its key: a sealed
// secret copied onto another key's row does not open.
const signingSealContext = "keyhub signing secret\x00"

// SealSigningSecret seals a signing key's secret under master for the key
// with this id.
func SealSigningSecret(master, raw []byte, id string) ([]byte, error) {
	return Seal(master, raw, []byte(signingSealContext+id))
}

// OpenSigningSecret opens what SealSigningSecret sealed for id.
func OpenSigningSecret(master, sealed []byte, id string) ([]byte, error) {
	return Open(master, sealed, []byte(signingSealContext+id))
}
