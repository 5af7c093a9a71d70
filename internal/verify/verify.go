// Package verify is keyhub's hot path: it answers whether a key is good for
// a set of scopes from an address, in the order of DESIGN.md §4, from an
// in-process cache of resolved keys, so that a known key costs no store I/O.
package verify

import (
	"context"
	"crypto/sha256"
	"log/slog"
	"net/netip"
	"slices"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/secret"
)

// Code is the outcome of a verification.
type Code string

// Outcome codes, in the order the checks run.
const (
	Valid             Code = "VALID"
	Malformed         Code = "MALFORMED"
	NotFound          Code = "NOT_FOUND"
	Revoked           Code = "REVOKED"
	Disabled          Code = "DISABLED"
	Expired           Code = "EXPIRED"
	ForbiddenIP       Code = "FORBIDDEN_IP"
	InsufficientScope Code = "INSUFFICIENT_SCOPE"
	RateLimited       Code = "RATE_LIMITED"
	UsageExceeded     Code = "USAGE_EXCEEDED"

	// Codes of tickets (HS256 JWTs of signing keys), checked after lookup
	// and before the key's state.
	InvalidSignature  Code = "INVALID_SIGNATURE"
	TicketExpired     Code = "TICKET_EXPIRED"
	TicketNotYetValid Code = "TICKET_NOT_YET_VALID"
)

// Record is a key resolved for verification: the key (what of it
// verification reads, see Key), its role (id and name), its effective
// scopes with the role's folded in and its parsed allow-list.
// Records are shared by concurrent verifications and never modified, but
// for their usage counters, which only usage touches.
type Record struct {
	Key      *Key
	Role     *keyhub.Role
	Scopes   []string
	Prefixes []netip.Prefix
	// Principal is who the key speaks for when it calls keyhub itself.
	// Shared by every request using the key: never modified.
	Principal *keyhub.Principal

	// loaded is the watch stamp taken before the record was read.
	loaded int64
	// use counts the uses since the last flush; nil when there were none.
	use atomic.Pointer[keyUse]
}

// Request is one verification question.
type Request struct {
	Key    string
	Scopes []string
	// IP is the address the key is used from; the zero Addr fails any
	// allow-list.
	IP netip.Addr
	// TenantID restricts the answer to keys of one tenant: another tenant's
	// key is NOT_FOUND. "" accepts any tenant's key.
	TenantID string
	// Cost is how many credits a valid use spends (keys with credits only).
	Cost int64
}

// Result is the answer to a Request.
type Result struct {
	Valid bool
	Code  Code
	// Record is set whenever the key was found.
	Record *Record
	// MissingScope is the first required scope the key lacks.
	MissingScope string
	// RateLimit is set for keys with a rate limit that reached that check.
	RateLimit *RateLimitState
	// CreditsRemaining is set for keys with credits that reached that check.
	CreditsRemaining *int64
}

// Config configures a Verifier; zero values are sensible defaults.
type Config struct {
	Cache CacheConfig
	// MaxStale bounds how long cached answers are served once the node
	// stops hearing other nodes' changes (default DefaultMaxStale); it
	// applies once the Watch tracks.
	MaxStale time.Duration
	// FlushInterval is how often usage is written (default 5s).
	FlushInterval time.Duration
	Now           func() time.Time
	Log           *slog.Logger
	// Metrics, when set, receives the verifier's Prometheus metrics:
	// outcomes, latency, cache hits, misses, evictions and size.
	Metrics prometheus.Registerer
	// Limiter decides rate limits; nil counts them on this node alone
	// (NewLocalLimiter).
	Limiter Limiter
}

// Verifier answers verification requests over a store.
type Verifier struct {
	store    keyhub.Store
	now      func() time.Time
	log      *slog.Logger
	cache    *cache
	watch    *Watch
	limits   Limiter
	usage    *usage
	credits  *spender
	interval time.Duration
	met      *metrics
}

// New returns a Verifier over store. Call Run to write usage in the
// background and Close to release the cache.
func New(store keyhub.Store, cfg Config) *Verifier {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = 5 * time.Second
	}
	if cfg.Limiter == nil {
		cfg.Limiter = NewLocalLimiter()
	}
	v := &Verifier{store: store, now: cfg.Now, log: cfg.Log, limits: cfg.Limiter, usage: newUsage(), interval: cfg.FlushInterval,
		met: newMetrics(cfg.Metrics)}
	v.credits = &spender{store: store}
	v.watch = newWatch(cfg.MaxStale, cfg.Now)
	v.cache = newCache(cfg.Cache, v.watch, v.load, v.met)
	v.met.registerSize(cfg.Metrics, v.cache)
	return v
}

// Watch is what bounds the staleness of this verifier's cache, and of
// every other cache of the node that asks it.
func (v *Verifier) Watch() *Watch { return v.watch }

// Lookup parses key and finds its record. A malformed key answers Malformed
// without touching the store or the cache; an unknown one NotFound. Only
// bearer keys are found: a signing key is never a bearer credential.
func (v *Verifier) Lookup(ctx context.Context, key string) (*Record, Code, error) {
	if _, err := secret.Parse(key); err != nil {
		return nil, Malformed, nil
	}
	return v.find(ctx, secret.Hash(key), keyhub.KeyKindBearer)
}

// LookupSigning finds the record of the signing key with this id, the kid
// of a ticket, through the same cache; an unknown id, or one of a bearer
// key, answers NotFound.
func (v *Verifier) LookupSigning(ctx context.Context, id string) (*Record, Code, error) {
	if !keyhub.ValidID(keyhub.PrefixAPIKey, id) {
		return nil, NotFound, nil
	}
	return v.find(ctx, secret.SigningDigest(id), keyhub.KeyKindSigning)
}

func (v *Verifier) find(ctx context.Context, h digest, kind keyhub.KeyKind) (*Record, Code, error) {
	rec, err := v.cache.get(ctx, h)
	switch {
	case err != nil:
		return nil, "", err
	case rec == nil || rec.Key.Kind != kind:
		return nil, NotFound, nil
	}
	return rec, Valid, nil
}

// LookupDigest finds the record of the key whose SHA-256 is hash, through
// the same cache as Lookup: for a credential checked once already (a
// portal session opened with a pasted key), so that every later request
// sees the key as it is now. A hash of the wrong length is NotFound.
func (v *Verifier) LookupDigest(ctx context.Context, hash []byte) (*Record, Code, error) {
	if len(hash) != sha256.Size {
		return nil, NotFound, nil
	}
	rec, err := v.cache.get(ctx, digest(hash))
	switch {
	case err != nil:
		return nil, "", err
	case rec == nil:
		return nil, NotFound, nil
	}
	return rec, Valid, nil
}

// load reads a key and its role from the store and resolves them.
func (v *Verifier) load(ctx context.Context, hash digest) (*Record, error) {
	if r, ok := v.store.(keyhub.KeyByHashReader); ok {
		return v.loadOne(ctx, r, hash)
	}
	var rec *Record
	err := v.store.View(ctx, func(tx keyhub.Tx) error {
		k, err := tx.GetAPIKeyByHash(ctx, hash[:])
		if err != nil {
			return err
		}
		// The store found the key by an index on the digest; compare again
		// in constant time so that no timing tells how close a guess was.
		if !secret.Equal(k.Hash, hash[:]) {
			return keyhub.NotFound("api key", "")
		}
		var role *keyhub.Role
		if k.RoleID != "" {
			if role, err = tx.GetRole(ctx, k.TenantID, k.RoleID); err != nil {
				return err
			}
		}
		rec, err = resolve(k, role)
		return err
	})
	return rec, err
}

// loadOne is load with the key read outside a transaction. A key with a
// role reads the role after it; the record is stamped before both reads,
// so a change to either in between is caught as any change during a load
// is (see cache).
func (v *Verifier) loadOne(ctx context.Context, r keyhub.KeyByHashReader, hash digest) (*Record, error) {
	k, err := r.GetAPIKeyByHash(ctx, hash[:])
	if err != nil {
		return nil, err
	}
	if !secret.Equal(k.Hash, hash[:]) {
		return nil, keyhub.NotFound("api key", "")
	}
	var role *keyhub.Role
	if k.RoleID != "" {
		err := v.store.View(ctx, func(tx keyhub.Tx) error {
			role, err = tx.GetRole(ctx, k.TenantID, k.RoleID)
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	return resolve(k, role)
}

func resolve(k *keyhub.APIKey, role *keyhub.Role) (*Record, error) {
	prefixes, err := keyhub.ParsePrefixes(k.IPs)
	if err != nil {
		return nil, err
	}
	scopes := k.Scopes
	if role != nil {
		scopes = slices.Concat(k.Scopes, role.Scopes)
	}
	p := &keyhub.Principal{Actor: keyhub.Actor{Type: "api_key", ID: k.ID}, TenantID: k.TenantID, Scopes: scopes}
	if k.IsOperator() {
		p = &keyhub.Principal{Actor: keyhub.Actor{Type: "operator", ID: k.ID}, Scopes: []string{"*"}, Operator: true}
	}
	return &Record{Key: compactKey(k), Role: compactRole(role), Scopes: scopes, Prefixes: prefixes, Principal: p}, nil
}

// Check runs the checks after lookup that need no state: revocation,
// disabling, expiry, address and scopes, in that order.
func (r *Record) Check(now time.Time, ip netip.Addr, scopes []string) (Code, string) {
	switch r.Key.State(now) {
	case keyhub.StateRevoked:
		return Revoked, ""
	case keyhub.StateDisabled:
		return Disabled, ""
	case keyhub.StateExpired:
		return Expired, ""
	}
	if len(r.Prefixes) > 0 && (!ip.IsValid() || !keyhub.IPAllowed(r.Prefixes, ip)) {
		return ForbiddenIP, ""
	}
	if s, missing := keyhub.FirstUncovered(r.Scopes, scopes); missing {
		return InsufficientScope, s
	}
	return Valid, ""
}

// Verify answers req. Errors are for a failing store only; every answer
// about the key itself is a Code. A refused request spends no credit, takes
// no rate-limit quota and does not move last_used_at.
func (v *Verifier) Verify(ctx context.Context, req Request) (Result, error) {
	if v.met == nil {
		return v.verify(ctx, req)
	}
	// The wall clock, not v.now, which tests may stop: this is a duration.
	var start time.Time
	timed := v.met.timed()
	if timed {
		start = time.Now()
	}
	res, err := v.verify(ctx, req)
	code := res.Code
	if err != nil {
		code = ""
	}
	v.met.verified(code, timed, start)
	return res, err
}

func (v *Verifier) verify(ctx context.Context, req Request) (Result, error) {
	rec, code, err := v.Lookup(ctx, req.Key)
	if err != nil {
		return Result{}, err
	}
	if code = v.Visible(rec, code, req.TenantID); code != Valid {
		return Result{Code: code}, nil
	}
	return v.VerifyRecord(ctx, rec, req)
}

// Visible narrows a lookup's code to what a verifier of tenantID ("" for
// any tenant) may learn: operator keys are credentials for keyhub itself,
// not tenant keys, and another tenant's key is NotFound.
func (v *Verifier) Visible(rec *Record, code Code, tenantID string) Code {
	if code == Valid && (rec.Key.IsOperator() || tenantID != "" && rec.Key.TenantID != tenantID) {
		return NotFound
	}
	return code
}

// VerifyRecord runs the checks after lookup on a found record, in their
// order: state, address, scopes, rate limit, credits. Tickets of signing
// keys come here after their signature is checked, so both kinds of key
// answer by the same rules. req.Key is not read.
func (v *Verifier) VerifyRecord(ctx context.Context, rec *Record, req Request) (Result, error) {
	now := v.now()
	res := Result{Record: rec}
	res.Code, res.MissingScope = rec.Check(now, req.IP, req.Scopes)
	k := rec.Key
	if res.Code == Valid && k.RateLimit != nil {
		ok, st := v.limits.Take(ctx, k.ID, k.RateLimit, now)
		res.RateLimit = &st
		if !ok {
			res.Code = RateLimited
		}
	}
	if res.Code == Valid && k.Credits != nil {
		remaining, ok, err := v.spend(ctx, k, req.Cost, now)
		if err != nil {
			if res.RateLimit != nil {
				v.limits.Refund(ctx, k.ID, *res.RateLimit, k.RateLimit)
			}
			return Result{}, err
		}
		res.CreditsRemaining = &remaining
		if !ok {
			res.Code = UsageExceeded
			if res.RateLimit != nil {
				v.limits.Refund(ctx, k.ID, *res.RateLimit, k.RateLimit)
				res.RateLimit.Remaining++
			}
		}
	}
	res.Valid = res.Code == Valid
	v.usage.record(rec, res.Code, now)
	return res, nil
}

// spend takes cost credits from k in the store, where the balance lives,
// committed together with the node's concurrent spends (see spender).
func (v *Verifier) spend(ctx context.Context, k *Key, cost int64, now time.Time) (remaining int64, ok bool, err error) {
	var period time.Time
	if r := k.Credits.Refill; r != nil {
		period = keyhub.RefillPeriodStart(r.Interval, now)
	}
	return v.credits.spend(ctx, k.ID, cost, period)
}

// RecordRefusal counts a refusal decided outside VerifyRecord (a ticket's
// bad signature or time) in the key's usage; last_used_at does not move.
func (v *Verifier) RecordRefusal(rec *Record, code Code) { v.usage.record(rec, code, v.now()) }

// RecordUse notes a use of the key outside verification (it authenticated a
// management call), so last_used_at tells of every use.
func (v *Verifier) RecordUse(rec *Record) { v.usage.record(rec, Valid, v.now()) }

// InvalidateKey drops the key with this digest from the cache.
func (v *Verifier) InvalidateKey(hash []byte) {
	if len(hash) == len(digest{}) {
		v.cache.invalidateDigest(digest(hash))
	}
}

// InvalidateRole drops every key that belongs to the role.
func (v *Verifier) InvalidateRole(tenantID, roleID string) {
	v.cache.invalidateWhere(func(r *Record) bool { return r.Key.RoleID == roleID && r.Key.TenantID == tenantID })
}

// InvalidateTenant drops every key of the tenant.
func (v *Verifier) InvalidateTenant(tenantID string) {
	v.cache.invalidateWhere(func(r *Record) bool { return r.Key.TenantID == tenantID })
}

// InvalidateAll drops the whole cache.
func (v *Verifier) InvalidateAll() { v.cache.invalidateAll() }

// Run writes usage every flush interval and sweeps expired rate-limit
// windows, until ctx ends; then it writes what is left and returns.
func (v *Verifier) Run(ctx context.Context) {
	t := time.NewTicker(v.interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			_ = v.usage.flush(ctx, v.store, v.log)
			if s, ok := v.limits.(interface{ Sweep(time.Time) }); ok {
				s.Sweep(v.now())
			}
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			_ = v.usage.flush(fctx, v.store, v.log)
			cancel()
			return
		}
	}
}

// Flush writes recorded usage now.
func (v *Verifier) Flush(ctx context.Context) error { return v.usage.flush(ctx, v.store, v.log) }

// Close stops the cache's background work.
func (v *Verifier) Close() { v.cache.close() }
