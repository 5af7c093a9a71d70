package oauth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/secret"
)

// Defaults of KeysConfig.
const (
	DefaultMaxAge   = 30 * 24 * time.Hour
	DefaultRetain   = 7*24*time.Hour + 5*time.Minute
	DefaultInterval = 30 * time.Second
)

// unknownKIDReload bounds how often Verify may reload keys from the store
// because a token names a kid this node has not seen (another node has just
// rotated). Random kids from an attacker therefore cost at most one store
// read per period.
const unknownKIDReload = time.Second

// KeysConfig configures Keys. Master and Issuer are required.
type KeysConfig struct {
	// Issuer is the iss of every token, e.g. "https://auth.example.com".
	Issuer string
	// Master is the 32-byte key that seals private keys in the store.
	Master []byte
	// Algorithm signs new keys: ES256 (default), EdDSA or RS256. Keys of
	// another algorithm keep verifying until they expire.
	Algorithm string
	// MaxAge is the age at which the current key is rotated automatically.
	MaxAge time.Duration
	// Retain is how long a retired key stays in the JWKS. It must exceed the
	// longest token lifetime by at least Interval (a node may sign with a
	// key for up to Interval after another node retired it); Sign refuses
	// longer-lived tokens.
	Retain time.Duration
	// Interval is how often Run reloads keys from the store.
	Interval time.Duration
	// Now is the clock; time.Now by default.
	Now func() time.Time
	// Log receives rotations and failures of Run; slog.Default() by default.
	Log *slog.Logger
}

// Keys holds the signing keys in memory. Sign and Verify read an immutable
// snapshot through an atomic pointer: no lock, no store access and no
// decryption per request. Load, Rotate and Run replace the snapshot.
type Keys struct {
	store keyhub.Store
	cfg   KeysConfig
	alg   jose.SignatureAlgorithm
	set   atomic.Pointer[keySet]
	// mu serialises snapshot replacement on this node, so a slow reload
	// cannot overwrite the result of a later rotation.
	mu        sync.Mutex
	kidReload kidReload
	errCfg    error
}

// NewKeys returns Keys over store. Call Load before Sign or Verify. An
// invalid configuration is reported by Load.
func NewKeys(store keyhub.Store, cfg KeysConfig) *Keys {
	if cfg.Algorithm == "" {
		cfg.Algorithm = ES256
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = DefaultMaxAge
	}
	if cfg.Retain <= 0 {
		cfg.Retain = DefaultRetain
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	k := &Keys{store: store, cfg: cfg}
	alg, err := parseAlgorithm(cfg.Algorithm)
	if err == nil && alg != jose.ES256 && alg != jose.EdDSA && alg != jose.RS256 {
		err = fmt.Errorf("keyhub signs with ES256, EdDSA or RS256, not %s", alg)
	}
	switch {
	case err != nil:
		k.errCfg = fmt.Errorf("oauth: %w", err)
	case len(cfg.Master) != secret.MasterKeySize:
		k.errCfg = fmt.Errorf("oauth: master key must be %d bytes", secret.MasterKeySize)
	case cfg.Issuer == "":
		k.errCfg = errors.New("oauth: issuer is required")
	case cfg.Retain <= cfg.Interval:
		k.errCfg = errors.New("oauth: Retain must exceed the reload interval")
	}
	k.alg = alg
	return k
}

// Load reads the keys from the store and, if none is current (or the
// current one has another algorithm than configured, or is older than
// MaxAge), makes one. Nodes starting together make exactly one key: the
// decision is taken again inside the write transaction.
func (k *Keys) Load(ctx context.Context) error {
	if k.errCfg != nil {
		return k.errCfg
	}
	ks, err := k.reload(ctx)
	if err != nil {
		return err
	}
	if k.needsKey(ks, true) {
		if _, err := k.ensureCurrent(ctx, true, false); err != nil {
			return err
		}
	}
	return nil
}

// needsKey reports whether the snapshot lacks a usable current key, or
// holds more than one current key (two nodes raced on a store that did not
// serialise them) which ensureCurrent then tidies up.
func (k *Keys) needsKey(ks *keySet, checkAlg bool) bool {
	cur := ks.current
	return cur == nil || ks.currents > 1 || checkAlg && cur.alg != k.alg || k.cfg.Now().Sub(cur.rec.CreatedAt) >= k.cfg.MaxAge
}

// Rotate makes a new current key and retires the previous one, which keeps
// verifying (and stays in the JWKS) for Retain.
func (k *Keys) Rotate(ctx context.Context) (*keyhub.SigningKey, error) {
	if k.errCfg != nil {
		return nil, k.errCfg
	}
	return k.ensureCurrent(ctx, true, true)
}

// ensureCurrent makes a new key inside one Update unless, re-read there, a
// suitable current key exists (or force), and retires every other current
// key. It returns the new key's record, or nil when none was needed.
//
// Two nodes must not both decide to make a key. The transaction therefore
// first writes the current key's row, which PostgreSQL locks until commit,
// and re-reads after the lock: a second rotator waits and then sees the
// first one's key. With no current key there is no row to lock; the first
// key's kid is then derived from the day, so racing nodes insert the same
// kid, one of them fails on the primary key, and its retry finds the key.
func (k *Keys) ensureCurrent(ctx context.Context, checkAlg, force bool) (*keyhub.SigningKey, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	created, err := k.ensureCurrentOnce(ctx, checkAlg, force)
	if errors.Is(err, keyhub.ErrExists) && !force {
		created, err = k.ensureCurrentOnce(ctx, checkAlg, force)
	}
	if err != nil {
		return nil, err
	}
	if created != nil {
		k.cfg.Log.Info("signing key created", "kid", created.ID, "alg", created.Algorithm)
	}
	if _, err := k.reloadLocked(ctx); err != nil {
		return nil, err
	}
	return created, nil
}

func (k *Keys) ensureCurrentOnce(ctx context.Context, checkAlg, force bool) (*keyhub.SigningKey, error) {
	var created *keyhub.SigningKey
	err := k.store.Update(ctx, func(tx keyhub.Tx) error {
		created = nil // Update may retry fn
		recs, err := tx.ListSigningKeys(ctx)
		if err != nil {
			return err
		}
		if cur := newestCurrent(recs); cur != nil {
			if err := tx.UpdateSigningKey(ctx, cur); err != nil { // lock, see above
				return err
			}
			if recs, err = tx.ListSigningKeys(ctx); err != nil {
				return err
			}
		}
		now := k.cfg.Now()
		cur := newestCurrent(recs)
		keep := !force && cur != nil && (!checkAlg || cur.Algorithm == string(k.alg)) && now.Sub(cur.CreatedAt) < k.cfg.MaxAge
		if err := k.retireCurrent(ctx, tx, recs, cur, keep, now); err != nil {
			return err
		}
		if keep {
			return nil
		}
		kid := keyhub.NewID("sig_", now)
		if first := firstKID(k.cfg.Master, now); cur == nil && !slices.ContainsFunc(recs, func(r *keyhub.SigningKey) bool { return r.ID == first }) {
			kid = first
		}
		rec, err := newSigningKey(k.cfg.Master, k.alg, kid, now)
		if err != nil {
			return err
		}
		if err := tx.CreateSigningKey(ctx, rec); err != nil {
			return err
		}
		created = rec
		return nil
	})
	return created, err
}

// retireCurrent retires every current key except cur when keep is set.
func (k *Keys) retireCurrent(ctx context.Context, tx keyhub.Tx, recs []*keyhub.SigningKey, cur *keyhub.SigningKey, keep bool, now time.Time) error {
	for _, r := range recs {
		if r.RetiredAt != nil || keep && r == cur {
			continue
		}
		retired, expires := now, now.Add(k.cfg.Retain)
		r.RetiredAt, r.ExpiresAt = &retired, &expires
		if err := tx.UpdateSigningKey(ctx, r); err != nil {
			return err
		}
		k.cfg.Log.Info("signing key retired", "kid", r.ID, "leaves_jwks_at", expires)
	}
	return nil
}

// firstKID names the key made when none is current: the same for every
// node of a deployment on one day (so racing nodes collide on it) and
// different across deployments and days (so a kid is never reused for
// other key material that verifiers may have cached).
func firstKID(master []byte, now time.Time) string {
	m := hmac.New(sha256.New, master)
	m.Write([]byte("keyhub first signing key " + now.UTC().Format(time.DateOnly)))
	return "sig_" + strings.ToUpper(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(m.Sum(nil)[:16]))
}

// reload reads every key from the store and swaps in a new snapshot.
func (k *Keys) reload(ctx context.Context) (*keySet, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.reloadLocked(ctx)
}

func (k *Keys) reloadLocked(ctx context.Context) (*keySet, error) {
	var recs []*keyhub.SigningKey
	err := k.store.View(ctx, func(tx keyhub.Tx) error {
		var err error
		recs, err = tx.ListSigningKeys(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	ks, err := buildKeySet(k.cfg.Master, recs, k.set.Load(), k.alg, k.cfg.Now())
	if err != nil {
		return nil, err
	}
	k.set.Store(ks)
	return ks, nil
}

// Run keeps the keys fresh until ctx ends: every Interval it reloads them
// (another node may have rotated), rotates a current key older than MaxAge,
// and deletes keys that have left the JWKS. Failures are logged and retried
// on the next tick; the last good snapshot keeps serving meanwhile.
func (k *Keys) Run(ctx context.Context) {
	t := time.NewTicker(k.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := k.maintain(ctx); err != nil && ctx.Err() == nil {
				k.cfg.Log.Error("signing key maintenance failed", "error", err.Error())
			}
		}
	}
}

// maintain is one tick of Run. It writes to the store only when there is
// something to do, so idle nodes cost one read per Interval.
func (k *Keys) maintain(ctx context.Context) error {
	if k.errCfg != nil {
		return k.errCfg
	}
	ks, err := k.reload(ctx)
	if err != nil {
		return err
	}
	// Run does not switch algorithms: during a rolling deploy nodes with
	// the old configuration would otherwise rotate back and forth.
	if k.needsKey(ks, false) {
		if _, err := k.ensureCurrent(ctx, false, false); err != nil {
			return err
		}
	}
	if ks.expired == 0 {
		return nil
	}
	return k.prune(ctx)
}

// prune deletes keys whose ExpiresAt has passed.
func (k *Keys) prune(ctx context.Context) error {
	return k.store.Update(ctx, func(tx keyhub.Tx) error {
		recs, err := tx.ListSigningKeys(ctx)
		if err != nil {
			return err
		}
		now := k.cfg.Now()
		for _, r := range recs {
			if r.ExpiresAt != nil && !now.Before(*r.ExpiresAt) {
				if err := tx.DeleteSigningKey(ctx, r.ID); err != nil && !keyhub.IsKind(err, keyhub.KindNotFound) {
					return err
				}
				k.cfg.Log.Info("signing key deleted", "kid", r.ID)
			}
		}
		return nil
	})
}

// JWKS returns the JSON Web Key Set (RFC 7517 §5) of every key that may
// still have signed a valid token: public keys only, each with kid, alg and
// use "sig". The bytes are shared; do not modify them.
func (k *Keys) JWKS() []byte {
	if ks := k.set.Load(); ks != nil {
		return ks.jwks
	}
	return []byte(`{"keys":[]}`)
}

// Current returns the record of the key that signs new tokens, without its
// private half, or nil before Load.
func (k *Keys) Current() *keyhub.SigningKey {
	ks := k.set.Load()
	if ks == nil || ks.current == nil {
		return nil
	}
	rec := ks.current.rec
	return &rec
}

// Sign signs c with the current key as an RFC 9068 access token (typ
// at+jwt, kid and alg in the header). It fills Issuer (which must be empty
// or the configured issuer), IssuedAt if zero, ID if empty and Subject
// from ClientID if empty. Expiry and Audience are required.
func (k *Keys) Sign(c *Claims) (string, error) {
	ks := k.set.Load()
	if ks == nil || ks.current == nil {
		return "", ErrNoSigningKey
	}
	now := k.cfg.Now()
	cl := *c
	switch {
	case cl.Issuer == "":
		cl.Issuer = k.cfg.Issuer
	case cl.Issuer != k.cfg.Issuer:
		return "", fmt.Errorf("oauth: token issuer %q is not the configured issuer", cl.Issuer)
	}
	if cl.IssuedAt.IsZero() {
		cl.IssuedAt = now
	}
	if cl.ID == "" {
		cl.ID = newJTI()
	}
	if cl.Subject == "" {
		cl.Subject = cl.ClientID
	}
	switch {
	case cl.Expiry.IsZero():
		return "", errors.New("oauth: token expiry is required")
	case cl.Expiry.Sub(now) > k.cfg.Retain-k.cfg.Interval:
		return "", fmt.Errorf("oauth: token lifetime exceeds what signing keys are retained for (%s)", k.cfg.Retain-k.cfg.Interval)
	case len(cl.Audience) == 0:
		return "", errors.New("oauth: token audience is required (RFC 9068 §2.2)")
	case cl.Subject == "":
		return "", errors.New("oauth: token subject or client_id is required")
	}
	payload, err := json.Marshal(cl)
	if err != nil {
		return "", err
	}
	tok, err := ks.current.signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("oauth: signing token: %w", err)
	}
	return tok, nil
}

// newJTI returns 128 random bits, base64url: unique without coordination.
func newJTI() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("oauth: crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}
