// Package verify is keyhub's hot path: it answers whether a key is good for
// a set of scopes from an address, in the order of DESIGN.md §4.
package verify

import (
	"context"
	"net/netip"
	"slices"
	"time"

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
)

// Record is a key resolved for verification: the key, its role, its
// effective scopes with the role's folded in and its parsed allow-list.
type Record struct {
	Key      *keyhub.APIKey
	Role     *keyhub.Role
	Scopes   []string
	Prefixes []netip.Prefix
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
}

// Result is the answer to a Request.
type Result struct {
	Valid bool
	Code  Code
	// Record is set whenever the key was found.
	Record *Record
	// MissingScope is the first required scope the key lacks.
	MissingScope string
}

// Verifier answers verification requests over a store.
type Verifier struct {
	store keyhub.Store
	now   func() time.Time
}

// New returns a Verifier over store; now is the clock (nil for time.Now).
func New(store keyhub.Store, now func() time.Time) *Verifier {
	if now == nil {
		now = time.Now
	}
	return &Verifier{store: store, now: now}
}

// Lookup parses key and loads its record. A malformed key answers Malformed
// without touching the store; an unknown one NotFound.
func (v *Verifier) Lookup(ctx context.Context, key string) (*Record, Code, error) {
	if _, err := secret.Parse(key); err != nil {
		return nil, Malformed, nil
	}
	h := secret.Hash(key)
	rec, err := v.load(ctx, h[:])
	if keyhub.IsKind(err, keyhub.KindNotFound) {
		return nil, NotFound, nil
	}
	if err != nil {
		return nil, "", err
	}
	return rec, Valid, nil
}

// load reads a key and its role from the store and resolves them.
func (v *Verifier) load(ctx context.Context, hash []byte) (*Record, error) {
	var rec *Record
	err := v.store.View(ctx, func(tx keyhub.Tx) error {
		k, err := tx.GetAPIKeyByHash(ctx, hash)
		if err != nil {
			return err
		}
		// The store looked the key up by an index on the digest; compare
		// again in constant time so no timing tells how close a guess was.
		if !secret.Equal(k.Hash, hash) {
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

func resolve(k *keyhub.APIKey, role *keyhub.Role) (*Record, error) {
	prefixes, err := keyhub.ParsePrefixes(k.IPs)
	if err != nil {
		return nil, err
	}
	scopes := k.Scopes
	if role != nil {
		scopes = slices.Concat(k.Scopes, role.Scopes)
	}
	return &Record{Key: k, Role: role, Scopes: scopes, Prefixes: prefixes}, nil
}

// Check runs the checks after lookup, in order, on a resolved record.
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
// about the key itself is a Code.
func (v *Verifier) Verify(ctx context.Context, req Request) (Result, error) {
	rec, code, err := v.Lookup(ctx, req.Key)
	if err != nil {
		return Result{}, err
	}
	// Operator keys are credentials for keyhub itself, not tenant keys.
	if code == Valid && (rec.Key.IsOperator() || req.TenantID != "" && rec.Key.TenantID != req.TenantID) {
		rec, code = nil, NotFound
	}
	if code != Valid {
		return Result{Code: code}, nil
	}
	code, missing := rec.Check(v.now(), req.IP, req.Scopes)
	return Result{Valid: code == Valid, Code: code, Record: rec, MissingScope: missing}, nil
}
