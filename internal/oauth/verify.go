package oauth

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Verify checks an access token issued by Keys and returns its claims. The
// header's alg must be one of our keys' algorithms (never none or HS*) and
// fit the key named by kid; typ must be at+jwt; iss must be the configured
// issuer; exp is required, and exp, nbf and iat are checked with Leeway;
// if audience is not empty, aud must contain it. Every failure is a
// *keyhub.Error of KindUnauthorized with code "invalid_token".
//
// Verify does not consult the deny-list: callers check
// DenyList.Revoked(claims.ID) as well.
func (k *Keys) Verify(token string, audience string) (*Claims, error) {
	ks := k.set.Load()
	if ks == nil {
		return nil, invalidToken("no signing keys are loaded")
	}
	if len(token) > maxTokenSize {
		return nil, invalidToken("token is too large")
	}
	if err := CheckCompact(token); err != nil {
		return nil, invalidToken("token is " + err.Error())
	}
	jws, err := jose.ParseSignedCompact(token, ks.algs)
	if err != nil {
		return nil, invalidToken("token is malformed or uses a signature algorithm that is not accepted")
	}
	h := jws.Signatures[0].Header
	if !isAccessTokenType(h.ExtraHeaders[jose.HeaderType]) {
		return nil, invalidToken("token is not an access token (typ must be at+jwt)")
	}
	sk := ks.byKID[h.KeyID]
	if sk == nil && h.KeyID != "" {
		// Another node may have rotated a moment ago; look once more.
		sk = k.reloadForKID().byKID[h.KeyID]
	}
	if sk == nil {
		return nil, invalidToken("token is signed by an unknown key")
	}
	if jose.SignatureAlgorithm(h.Algorithm) != sk.alg {
		return nil, invalidToken("token algorithm does not match its key")
	}
	payload, err := jws.Verify(sk.public)
	if err != nil {
		return nil, invalidToken("token signature is invalid")
	}
	var c Claims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, invalidToken("token claims are malformed")
	}
	if c.Issuer != k.cfg.Issuer {
		return nil, invalidToken("token issuer is not accepted")
	}
	if err := validateTimes(c.Expiry, c.NotBefore, c.IssuedAt, k.cfg.Now()); err != nil {
		return nil, err
	}
	if audience != "" && !c.Audience.Contains(audience) {
		return nil, invalidToken("token is not meant for this audience")
	}
	return &c, nil
}

// reloadForKID reloads the keys at most once per unknownKIDReload and
// returns the latest snapshot. Concurrent callers share one reload; a flood
// of made-up kids therefore costs at most one store read per period.
func (k *Keys) reloadForKID() *keySet {
	r := &k.kidReload
	r.mu.Lock()
	if ch := r.inflight; ch != nil {
		r.mu.Unlock()
		select {
		case <-ch:
		case <-time.After(2 * time.Second):
		}
		return k.set.Load()
	}
	now := time.Now()
	if now.Sub(r.last) < unknownKIDReload {
		r.mu.Unlock()
		return k.set.Load()
	}
	r.last = now
	ch := make(chan struct{})
	r.inflight = ch
	r.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	if _, err := k.reload(ctx); err != nil {
		k.cfg.Log.Warn("reloading signing keys for an unknown kid failed", "error", err.Error())
	}
	cancel()

	r.mu.Lock()
	r.inflight = nil
	r.mu.Unlock()
	close(ch)
	return k.set.Load()
}

// kidReload is the single-flight state of reloadForKID.
type kidReload struct {
	mu       sync.Mutex
	last     time.Time
	inflight chan struct{}
}
