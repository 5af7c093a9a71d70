package oauth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
)

// Signing algorithms keyhub signs with.
const (
	ES256 = string(jose.ES256)
	EdDSA = string(jose.EdDSA)
	RS256 = string(jose.RS256)
)

// asymmetric lists every algorithm we ever accept. HS* and "none" are
// absent on purpose (RFC 8725 §3.1–3.2): with an HMAC algorithm a public
// key would become a shared secret that anyone can sign with.
var asymmetric = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512, jose.EdDSA,
}

// parseAlgorithm returns alg if it is an allowed asymmetric algorithm.
func parseAlgorithm(alg string) (jose.SignatureAlgorithm, error) {
	for _, a := range asymmetric {
		if string(a) == alg {
			return a, nil
		}
	}
	return "", fmt.Errorf("signature algorithm %q is not allowed (use one of RS256, ES256, EdDSA, …; never none or HS*)", alg)
}

// generateKey makes a new private key for one of the algorithms keyhub
// signs with.
func generateKey(alg jose.SignatureAlgorithm) (crypto.Signer, error) {
	switch alg {
	case jose.ES256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case jose.EdDSA:
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		return priv, err
	case jose.RS256:
		// 2048 bits is the floor of RFC 7518 §3.3 and NIST through 2030;
		// larger keys make every signature markedly slower.
		return rsa.GenerateKey(rand.Reader, 2048)
	}
	return nil, fmt.Errorf("keyhub cannot sign with %s; use ES256, EdDSA or RS256", alg)
}

// keyFitsAlgorithm reports whether a public key may verify signatures of
// alg. Checking the key type against the header stops algorithm
// substitution even among allowed algorithms (RFC 8725 §3.1): an RSA key is
// never used for ECDSA, a P-256 key never for ES512.
func keyFitsAlgorithm(key any, alg jose.SignatureAlgorithm) bool {
	switch k := key.(type) {
	case *rsa.PublicKey:
		return strings.HasPrefix(string(alg), "RS") || strings.HasPrefix(string(alg), "PS")
	case *ecdsa.PublicKey:
		switch alg {
		case jose.ES256:
			return k.Curve == elliptic.P256()
		case jose.ES384:
			return k.Curve == elliptic.P384()
		case jose.ES512:
			return k.Curve == elliptic.P521()
		}
	case ed25519.PublicKey:
		return alg == jose.EdDSA
	}
	return false
}

// publicOnly returns the public half of a parsed JWK, or nil when the JWK is
// symmetric or of a type we do not verify with.
func publicOnly(k *jose.JSONWebKey) any {
	pub := k.Public()
	switch pub.Key.(type) {
	case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
		return pub.Key
	}
	return nil
}

// isAccessTokenType reports whether a typ header names RFC 9068 access
// tokens. Media types compare case-insensitively and may carry the
// "application/" prefix (RFC 7515 §4.1.9).
func isAccessTokenType(typ any) bool {
	s, ok := typ.(string)
	if !ok {
		return false
	}
	s = strings.ToLower(s)
	return s == "at+jwt" || s == "application/at+jwt"
}
