package oauth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"

	jose "github.com/go-jose/go-jose/v4"
)

// jwsSigner signs compact JWS (RFC 7515 §7.1) with the standard library
// directly: the protected header, the same for every token of a key, is
// encoded once, and a signature builds the token in one buffer, without
// the JOSE object graph a general library makes per call.
type jwsSigner struct {
	// header is the base64url of the protected header.
	header string
	sign   func(signingInput []byte) ([]byte, error)
	// sigLen is the length of a signature, for the buffer's size.
	sigLen int
}

// newSigner builds the signer once per key, with the kid and the typ of
// RFC 9068 §2.1 in its header.
func newSigner(priv crypto.Signer, kid string, alg jose.SignatureAlgorithm) (*jwsSigner, error) {
	h, err := json.Marshal(struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
		Typ string `json:"typ"`
	}{string(alg), kid, "at+jwt"})
	if err != nil {
		return nil, err
	}
	s := &jwsSigner{header: base64.RawURLEncoding.EncodeToString(h)}
	switch k := priv.(type) {
	case *ecdsa.PrivateKey:
		if alg != jose.ES256 || !keyFitsAlgorithm(&k.PublicKey, alg) {
			break
		}
		// RFC 7518 §3.4: R and S as 32-byte big-endian integers, not DER.
		s.sigLen = 64
		s.sign = func(in []byte) ([]byte, error) {
			d := sha256.Sum256(in)
			der, err := ecdsa.SignASN1(rand.Reader, k, d[:])
			if err != nil {
				return nil, err
			}
			return rawECDSA(der, 32)
		}
		return s, nil
	case ed25519.PrivateKey:
		if alg != jose.EdDSA {
			break
		}
		s.sigLen = ed25519.SignatureSize
		s.sign = func(in []byte) ([]byte, error) { return ed25519.Sign(k, in), nil }
		return s, nil
	case *rsa.PrivateKey:
		if alg != jose.RS256 {
			break
		}
		s.sigLen = k.Size()
		s.sign = func(in []byte) ([]byte, error) {
			d := sha256.Sum256(in)
			return rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, d[:])
		}
		return s, nil
	}
	return nil, fmt.Errorf("oauth: signer for key %s: the key does not sign %s", kid, alg)
}

// Sign answers the compact serialization header.payload.signature.
func (s *jwsSigner) Sign(payload []byte) (string, error) {
	enc := base64.RawURLEncoding
	buf := make([]byte, 0, len(s.header)+2+enc.EncodedLen(len(payload))+enc.EncodedLen(s.sigLen))
	buf = append(buf, s.header...)
	buf = append(buf, '.')
	buf = enc.AppendEncode(buf, payload)
	sig, err := s.sign(buf)
	if err != nil {
		return "", err
	}
	buf = append(buf, '.')
	buf = enc.AppendEncode(buf, sig)
	return string(buf), nil
}

// rawECDSA turns the DER signature SEQUENCE { INTEGER r, INTEGER s } that
// crypto/ecdsa makes into r‖s, each left-padded to size bytes, without
// going through big.Int.
func rawECDSA(der []byte, size int) ([]byte, error) {
	bad := fmt.Errorf("oauth: malformed ECDSA signature")
	if len(der) < 2 || der[0] != 0x30 || int(der[1]) != len(der)-2 || der[1] >= 0x80 {
		return nil, bad
	}
	rest := der[2:]
	out := make([]byte, 2*size)
	for i := range 2 {
		if len(rest) < 2 || rest[0] != 0x02 || int(rest[1]) > len(rest)-2 {
			return nil, bad
		}
		n := int(rest[1])
		v := rest[2 : 2+n]
		rest = rest[2+n:]
		for len(v) > 0 && v[0] == 0 {
			v = v[1:]
		}
		if len(v) > size {
			return nil, bad
		}
		copy(out[(i+1)*size-len(v):(i+1)*size], v)
	}
	if len(rest) != 0 {
		return nil, bad
	}
	return out, nil
}
