package oauth

import (
	"crypto"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/secret"
)

// signingKey is one key as held in memory: its public half always, and a
// ready signer only while it is current.
type signingKey struct {
	rec    keyhub.SigningKey // a copy; never shared with the store's caller
	alg    jose.SignatureAlgorithm
	public any // *ecdsa.PublicKey, ed25519.PublicKey or *rsa.PublicKey
	signer *jwsSigner
}

// keySet is an immutable snapshot of the keys; Keys swaps whole snapshots so
// that Sign and Verify read without locks.
type keySet struct {
	current *signingKey            // signs new tokens; nil before Load
	byKID   map[string]*signingKey // every unexpired key, for Verify
	algs    []jose.SignatureAlgorithm
	jwks    []byte
	// expired counts stored keys past ExpiresAt, which Run deletes.
	expired int
	// currents counts keys not retired; more than one is tidied by Run.
	currents int
}

// newSigningKey generates a key and returns its store record: the private
// half sealed under master with the kid as additional data, so a sealed
// key copied onto another row does not open.
func newSigningKey(master []byte, alg jose.SignatureAlgorithm, kid string, now time.Time) (*keyhub.SigningKey, error) {
	priv, err := generateKey(alg)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("oauth: encoding private key: %w", err)
	}
	sealed, err := secret.Seal(master, der, []byte(kid))
	clear(der)
	if err != nil {
		return nil, fmt.Errorf("oauth: sealing private key: %w", err)
	}
	pub := jose.JSONWebKey{Key: priv.Public(), KeyID: kid, Algorithm: string(alg), Use: "sig"}
	pubJSON, err := pub.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("oauth: encoding public key: %w", err)
	}
	return &keyhub.SigningKey{
		ID: kid, Algorithm: string(alg), PrivateKeyEncrypted: sealed, PublicJWK: pubJSON,
		CreatedAt: now.UTC().Truncate(time.Millisecond),
	}, nil
}

// loadSigningKey parses a stored key. The private half is decrypted only
// when withSigner is set: a retired key never signs again, so its private
// key need not sit in memory.
func loadSigningKey(master []byte, rec *keyhub.SigningKey, withSigner bool) (*signingKey, error) {
	alg, err := parseAlgorithm(rec.Algorithm)
	if err != nil {
		return nil, fmt.Errorf("oauth: signing key %s: %w", rec.ID, err)
	}
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(rec.PublicJWK); err != nil {
		return nil, fmt.Errorf("oauth: signing key %s: public JWK: %w", rec.ID, err)
	}
	pub := publicOnly(&jwk)
	if pub == nil || !keyFitsAlgorithm(pub, alg) {
		return nil, fmt.Errorf("oauth: signing key %s: public JWK does not fit %s", rec.ID, alg)
	}
	sk := &signingKey{rec: *rec, alg: alg, public: pub}
	sk.rec.PrivateKeyEncrypted = nil
	if !withSigner {
		return sk, nil
	}
	der, err := secret.Open(master, rec.PrivateKeyEncrypted, []byte(rec.ID))
	if err != nil {
		return nil, fmt.Errorf("oauth: signing key %s cannot be decrypted; is KEYHUB_MASTER_KEY the one it was created with? %w", rec.ID, err)
	}
	priv, err := x509.ParsePKCS8PrivateKey(der)
	clear(der)
	if err != nil {
		return nil, fmt.Errorf("oauth: signing key %s: private key: %w", rec.ID, err)
	}
	signer, ok := priv.(crypto.Signer)
	if !ok || !keyFitsAlgorithm(signer.Public(), alg) {
		return nil, fmt.Errorf("oauth: signing key %s: private key does not fit %s", rec.ID, alg)
	}
	if sk.signer, err = newSigner(signer, rec.ID, alg); err != nil {
		return nil, err
	}
	return sk, nil
}

// buildKeySet makes a snapshot from the stored records. prev lends keys
// already parsed (and signers already decrypted), so a reload every 30 s
// does no cryptography unless something changed.
func buildKeySet(master []byte, recs []*keyhub.SigningKey, prev *keySet, extraAlg jose.SignatureAlgorithm, now time.Time) (*keySet, error) {
	ks := &keySet{byKID: make(map[string]*signingKey, len(recs))}
	cur := newestCurrent(recs)
	algs := []jose.SignatureAlgorithm{extraAlg}
	jwks := jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, 0, len(recs))}
	for _, rec := range recs {
		if rec.ExpiresAt != nil && !now.Before(*rec.ExpiresAt) {
			ks.expired++ // out of the JWKS; Run deletes it
			continue
		}
		isCur := rec == cur
		if rec.RetiredAt == nil {
			ks.currents++
		}
		var sk *signingKey
		if prev != nil {
			if old := prev.byKID[rec.ID]; old != nil && (!isCur || old.signer != nil) {
				c := *old
				c.rec.RetiredAt, c.rec.ExpiresAt = rec.RetiredAt, rec.ExpiresAt
				if !isCur {
					c.signer = nil
				}
				sk = &c
			}
		}
		if sk == nil {
			var err error
			if sk, err = loadSigningKey(master, rec, isCur); err != nil {
				return nil, err
			}
		}
		ks.byKID[rec.ID] = sk
		if isCur {
			ks.current = sk
		}
		if !slices.Contains(algs, sk.alg) {
			algs = append(algs, sk.alg)
		}
		jwks.Keys = append(jwks.Keys, jose.JSONWebKey{Key: sk.public, KeyID: rec.ID, Algorithm: string(sk.alg), Use: "sig"})
	}
	ks.algs = algs
	b, err := json.Marshal(jwks)
	if err != nil {
		return nil, fmt.Errorf("oauth: encoding JWKS: %w", err)
	}
	ks.jwks = b
	return ks, nil
}

// newestCurrent returns the newest key that is not retired. Normally there
// is one; if two nodes ever both created one, all nodes agree on the newest
// and the next maintenance pass retires the other.
func newestCurrent(recs []*keyhub.SigningKey) *keyhub.SigningKey {
	var cur *keyhub.SigningKey
	for _, r := range recs {
		if r.RetiredAt == nil && (cur == nil || r.CreatedAt.After(cur.CreatedAt) ||
			r.CreatedAt.Equal(cur.CreatedAt) && r.ID > cur.ID) {
			cur = r
		}
	}
	return cur
}
