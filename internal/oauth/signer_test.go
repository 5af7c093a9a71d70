package oauth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"math/big"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// TestRawECDSA: r‖s taken from the DER signature verifies, including the
// signatures whose r or s is shorter than 32 bytes (1 in 128 of them).
func TestRawECDSA(t *testing.T) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	d := sha256.Sum256([]byte("payload"))
	for range 1000 {
		der, err := ecdsa.SignASN1(rand.Reader, k, d[:])
		if err != nil {
			t.Fatal(err)
		}
		raw, err := rawECDSA(der, 32)
		if err != nil {
			t.Fatal(err)
		}
		r, s := new(big.Int).SetBytes(raw[:32]), new(big.Int).SetBytes(raw[32:])
		if len(raw) != 64 || !ecdsa.Verify(&k.PublicKey, d[:], r, s) {
			t.Fatalf("r‖s of %x does not verify", der)
		}
	}
	for _, bad := range [][]byte{nil, {0x30}, {0x30, 0x02, 0x02, 0x00}, {0x31, 0x00}, {0x30, 0x03, 0x02, 0x05, 0x01}} {
		if _, err := rawECDSA(bad, 32); err == nil {
			t.Errorf("rawECDSA(%x) accepted", bad)
		}
	}
}

// TestSignerTokensParse: a token of each algorithm parses with go-jose,
// names kid, alg and typ in its header and verifies with the public key.
func TestSignerTokensParse(t *testing.T) {
	for _, alg := range []jose.SignatureAlgorithm{jose.ES256, jose.EdDSA, jose.RS256} {
		priv, err := generateKey(alg)
		if err != nil {
			t.Fatal(err)
		}
		s, err := newSigner(priv, "sk_1", alg)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := s.Sign([]byte(`{"sub":"x"}`))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Count(tok, ".") != 2 {
			t.Fatalf("%s: not compact: %s", alg, tok)
		}
		jws, err := jose.ParseSigned(tok, []jose.SignatureAlgorithm{alg})
		if err != nil {
			t.Fatalf("%s: %v", alg, err)
		}
		h := jws.Signatures[0].Protected
		if h.KeyID != "sk_1" || h.Algorithm != string(alg) || h.ExtraHeaders["typ"] != "at+jwt" {
			t.Errorf("%s: header %+v", alg, h)
		}
		got, err := jws.Verify(priv.Public())
		if err != nil || string(got) != `{"sub":"x"}` {
			t.Errorf("%s: verify: %v %s", alg, err, got)
		}
	}
	if _, err := newSigner(mustKey(t, jose.EdDSA), "sk_1", jose.ES256); err == nil {
		t.Error("an Ed25519 key signs ES256")
	}
}

func mustKey(t *testing.T, alg jose.SignatureAlgorithm) crypto.Signer {
	t.Helper()
	k, err := generateKey(alg)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
