// Package ghscan checks the reports of GitHub's secret scanning partner
// program: each is signed with ECDSA (P-256, SHA-256) by a key GitHub
// publishes, named in the Github-Public-Key-Identifier header. The public
// keys are fetched from a configured URL and cached; an unknown key id
// fetches them again, at most once per refetchEvery, so that a stream of
// forged ids costs GitHub's endpoint nothing.
package ghscan

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/maypok86/otter/v2"

	"github.com/keyhub/keyhub"
)

// DefaultKeysURL is where GitHub publishes the keys it signs reports with.
const DefaultKeysURL = "https://api.github.com/meta/public_keys/secret_scanning"

// Bounds of the key cache.
const (
	maxKeysResponse = 1 << 20
	keysMaxAge      = 24 * time.Hour
	refetchEvery    = 30 * time.Second
	// replayWindow is how long a report's signature is remembered, so that
	// the same report sent again is answered without acting twice.
	replayWindow = 24 * time.Hour
)

// Keys verifies report signatures against GitHub's published keys.
type Keys struct {
	url  string
	http *http.Client
	now  func() time.Time

	mu        sync.Mutex
	keys      map[string]*ecdsa.PublicKey
	fetchedAt time.Time
	triedAt   time.Time

	seen *otter.Cache[[32]byte, struct{}]
}

// NewKeys returns a verifier of reports signed by the keys published at
// url; hc nil means a client with a 10 s timeout.
func NewKeys(url string, hc *http.Client) *Keys {
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	return &Keys{url: url, http: hc, now: time.Now, seen: otter.Must(&otter.Options[[32]byte, struct{}]{
		MaximumSize:      100_000,
		ExpiryCalculator: otter.ExpiryWriting[[32]byte, struct{}](replayWindow),
	})}
}

// ErrBadSignature is the answer to a report that is not signed by one of
// GitHub's keys; it says no more than that.
func ErrBadSignature() error {
	return keyhub.CodedErrorf(keyhub.KindUnauthorized, "invalid_signature",
		"the report is not signed by a key published at the configured GitHub key URL")
}

// Verify checks that signature (base64 of an ASN.1 ECDSA signature) signs
// body with the key keyID names. It reports whether the same signature was
// verified before (a replay), so that the caller can answer it without
// acting again.
func (k *Keys) Verify(ctx context.Context, keyID, signature string, body []byte) (replay bool, err error) {
	if keyID == "" || signature == "" {
		return false, keyhub.CodedErrorf(keyhub.KindUnauthorized, "invalid_signature",
			"Github-Public-Key-Identifier and Github-Public-Key-Signature are required")
	}
	sig, err := base64.StdEncoding.DecodeString(signature)
	if err != nil {
		return false, ErrBadSignature()
	}
	pub, err := k.key(ctx, keyID)
	if err != nil {
		return false, err
	}
	digest := sha256.Sum256(body)
	if pub == nil || !ecdsa.VerifyASN1(pub, digest[:], sig) {
		return false, ErrBadSignature()
	}
	id := sha256.Sum256(append([]byte(keyID+"\x00"), sig...))
	if _, ok := k.seen.GetIfPresent(id); ok {
		return true, nil
	}
	k.seen.Set(id, struct{}{})
	return false, nil
}

// key answers the public key named id, fetching the keys when they are old
// or id is unknown (at most once per refetchEvery); nil if there is none.
func (k *Keys) key(ctx context.Context, id string) (*ecdsa.PublicKey, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.now()
	pub, ok := k.keys[id]
	stale := now.Sub(k.fetchedAt) > keysMaxAge
	if ok && !stale {
		return pub, nil
	}
	if now.Sub(k.triedAt) < refetchEvery && !stale {
		return nil, nil
	}
	k.triedAt = now
	keys, err := k.fetch(ctx)
	if err != nil {
		if ok {
			return pub, nil // keep trusting a known key while GitHub is away
		}
		return nil, keyhub.CodedErrorf(keyhub.KindUnavailable, "keys_unavailable",
			"the GitHub signing keys could not be fetched; try again later")
	}
	k.keys, k.fetchedAt = keys, now
	return keys[id], nil
}

// fetch reads the published keys: {"public_keys":[{"key_identifier","key"}]}
// with each key a PEM "PUBLIC KEY" on P-256.
func (k *Keys) fetch(ctx context.Context) (map[string]*ecdsa.PublicKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := k.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("ghscan: %s answered %d", k.url, resp.StatusCode)
	}
	var doc struct {
		PublicKeys []struct {
			ID  string `json:"key_identifier"`
			Key string `json:"key"`
		} `json:"public_keys"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxKeysResponse)).Decode(&doc); err != nil {
		return nil, fmt.Errorf("ghscan: decoding keys: %w", err)
	}
	out := map[string]*ecdsa.PublicKey{}
	for _, pk := range doc.PublicKeys {
		block, _ := pem.Decode([]byte(pk.Key))
		if block == nil {
			continue
		}
		parsed, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			continue
		}
		if ec, ok := parsed.(*ecdsa.PublicKey); ok && ec.Curve == elliptic.P256() {
			out[pk.ID] = ec
		}
	}
	return out, nil
}
