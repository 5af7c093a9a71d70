package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

// MasterKeySize is the length of the master key: AES-256.
const MasterKeySize = 32

// nonceSize is the standard GCM nonce length. Random 96-bit nonces are safe
// for well under 2^32 seals per key, far more than keyhub ever makes (one per
// signing key or signing secret).
const nonceSize = 12

// ErrOpen is returned when sealed data cannot be opened: the master key or
// the additional data is wrong, or the data was altered. The cases are not
// told apart, as AEAD cannot and an attacker should not learn which.
var ErrOpen = errors.New("secret: cannot open sealed data (wrong master key, wrong context or tampered)")

// Seal encrypts plaintext under master with AES-256-GCM. additionalData is
// authenticated but not encrypted: bind the ciphertext to what it belongs
// to (for a signing key, its kid) so that a ciphertext copied onto another
// row fails to open. The result is the random 12-byte nonce followed by the
// ciphertext and tag.
func Seal(master, plaintext, additionalData []byte) ([]byte, error) {
	aead, err := newGCM(master)
	if err != nil {
		return nil, err
	}
	out := make([]byte, nonceSize, nonceSize+len(plaintext)+aead.Overhead())
	if _, err := rand.Read(out); err != nil {
		return nil, fmt.Errorf("secret: reading random nonce: %w", err)
	}
	return aead.Seal(out, out, plaintext, additionalData), nil
}

// Open decrypts what Seal returned, given the same master key and
// additional data. Any mismatch or alteration yields ErrOpen.
func Open(master, sealed, additionalData []byte) ([]byte, error) {
	aead, err := newGCM(master)
	if err != nil {
		return nil, err
	}
	if len(sealed) < nonceSize+aead.Overhead() {
		return nil, ErrOpen
	}
	pt, err := aead.Open(nil, sealed[:nonceSize], sealed[nonceSize:], additionalData)
	if err != nil {
		return nil, ErrOpen
	}
	return pt, nil
}

func newGCM(master []byte) (cipher.AEAD, error) {
	if len(master) != MasterKeySize {
		return nil, fmt.Errorf("secret: master key must be %d bytes, got %d", MasterKeySize, len(master))
	}
	block, err := aes.NewCipher(master)
	if err != nil {
		return nil, fmt.Errorf("secret: %w", err)
	}
	return cipher.NewGCM(block)
}
