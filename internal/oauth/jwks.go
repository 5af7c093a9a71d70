package oauth

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

const (
	// jwksTimeout bounds one JWKS fetch.
	jwksTimeout = 5 * time.Second
	// jwksMinRefetch is the least time between two fetches of one
	// provider's JWKS. A token naming an unknown kid triggers a refetch (the
	// provider may have rotated), so without this bound anyone could make
	// us hammer the provider with made-up kids.
	jwksMinRefetch = 10 * time.Second
	// jwksMaxAge is how long a fetched JWKS is used before it is fetched
	// again, so that keys the provider withdrew stop verifying.
	jwksMaxAge = time.Hour
	// jwksMaxBytes bounds the response body.
	jwksMaxBytes = 1 << 20
)

// remoteJWKS caches one provider's public keys in memory.
type remoteJWKS struct {
	url    string
	client *http.Client
	now    func() time.Time

	keys atomic.Pointer[jwksSnapshot]
	// sem (capacity 1) makes fetches single-flight: whoever holds it
	// fetches, the others wait for the result instead of fetching too.
	sem chan struct{}
	mu  sync.Mutex
	// lastRefetch is the last fetch made for an unknown kid; lastFailure
	// the last fetch that failed. Both guarded by mu.
	lastRefetch, lastFailure time.Time
}

type jwksSnapshot struct {
	keys      []jose.JSONWebKey // public keys usable for signatures
	fetchedAt time.Time
}

// key returns the public key for kid that fits alg, fetching the JWKS if it
// is missing, stale, or lacks the kid, within the refetch limit.
func (r *remoteJWKS) key(ctx context.Context, kid string, alg jose.SignatureAlgorithm) (any, error) {
	snap := r.keys.Load()
	if snap != nil && r.now().Sub(snap.fetchedAt) < jwksMaxAge {
		if k := snap.find(kid, alg); k != nil {
			return k, nil
		}
	}
	var fetchErr error
	snap, fetchErr = r.refresh(ctx, snap)
	if snap != nil {
		if k := snap.find(kid, alg); k != nil {
			return k, nil
		}
	}
	if fetchErr != nil && snap == nil {
		return nil, invalidToken("the issuer's signing keys are unavailable")
	}
	return nil, invalidToken("token is signed by an unknown key")
}

// find returns the key named kid (or the only key if the token names none)
// whose type fits alg and whose own alg, if it states one, is alg.
func (s *jwksSnapshot) find(kid string, alg jose.SignatureAlgorithm) any {
	var found *jose.JSONWebKey
	for i := range s.keys {
		k := &s.keys[i]
		if kid != "" && k.KeyID != kid {
			continue
		}
		if k.Algorithm != "" && k.Algorithm != string(alg) || !keyFitsAlgorithm(k.Key, alg) {
			continue
		}
		if kid == "" && found != nil {
			return nil // no kid and several candidates: refuse to guess
		}
		found = k
		if kid != "" {
			break
		}
	}
	if found == nil {
		return nil
	}
	return found.Key
}

// refresh fetches the JWKS within the refetch limits and returns the newest
// snapshot. seen is the snapshot
// the caller found wanting: if another goroutine has replaced it while we
// waited, that result is used instead of fetching again.
func (r *remoteJWKS) refresh(ctx context.Context, seen *jwksSnapshot) (*jwksSnapshot, error) {
	select {
	case r.sem <- struct{}{}:
	case <-ctx.Done():
		return r.keys.Load(), ctx.Err()
	}
	defer func() { <-r.sem }()
	if cur := r.keys.Load(); cur != seen {
		return cur, nil
	}
	// A missing or stale set is fetched at once (unless a fetch has just
	// failed: the provider is down, and every request would retry). A set
	// that merely lacks a kid is refetched at most every jwksMinRefetch,
	// however many made-up kids arrive; the first such refetch after a
	// fetch is not delayed, so a provider that rotates right after keyhub
	// started is followed at once.
	now := r.now()
	stale := seen == nil || now.Sub(seen.fetchedAt) >= jwksMaxAge
	r.mu.Lock()
	last := r.lastRefetch
	if stale {
		last = r.lastFailure
	}
	if !last.IsZero() && now.Sub(last) < jwksMinRefetch {
		r.mu.Unlock()
		return seen, nil
	}
	if !stale {
		r.lastRefetch = now
	}
	r.mu.Unlock()

	keys, err := r.fetch(ctx)
	if err != nil {
		r.mu.Lock()
		r.lastFailure = now
		r.mu.Unlock()
		return seen, err
	}
	snap := &jwksSnapshot{keys: keys, fetchedAt: r.now()}
	r.keys.Store(snap)
	return snap, nil
}

// fetch downloads and parses the JWKS. Keys that cannot be parsed, are
// symmetric, or are marked for encryption are skipped rather than failing
// the whole set: one exotic key must not lock everyone out.
func (r *remoteJWKS) fetch(ctx context.Context) ([]jose.JSONWebKey, error) {
	ctx, cancel := context.WithTimeout(ctx, jwksTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetching JWKS %s: %w", r.url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetching JWKS %s: status %d", r.url, resp.StatusCode)
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, jwksMaxBytes)).Decode(&set); err != nil {
		return nil, fmt.Errorf("fetching JWKS %s: %w", r.url, err)
	}
	keys := make([]jose.JSONWebKey, 0, len(set.Keys))
	for _, raw := range set.Keys {
		var k jose.JSONWebKey
		if k.UnmarshalJSON(raw) != nil || k.Use != "" && k.Use != "sig" {
			continue
		}
		pub := publicOnly(&k)
		if pub == nil {
			continue
		}
		k.Key = pub
		keys = append(keys, k)
	}
	return keys, nil
}
