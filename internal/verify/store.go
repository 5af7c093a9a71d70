package verify

import (
	"context"

	"github.com/keyhub/keyhub"
)

// Invalidator drops the cached state a change made stale. The verifier's
// cache and the authentication service's client cache implement it.
type Invalidator interface {
	Invalidate(keyhub.Change)
	// InvalidateAll drops everything, when changes may have been missed.
	InvalidateAll()
}

// Store is a keyhub.Store that keeps caches true to it, as a cache over a
// store should: every write that changes what verification or
// authentication answers is noted as it is made; inside the transaction the
// changes are announced to the other nodes (PostgreSQL delivers them at
// commit), and once Update returns they are dropped from this node's
// caches. No service method can forget to invalidate: it has no way to
// write but through this.
type Store struct {
	keyhub.Store
	local []Invalidator
}

// NewStore wraps inner so that changes reach the local caches.
func NewStore(inner keyhub.Store, local ...Invalidator) *Store {
	return &Store{Store: inner, local: local}
}

// Update runs fn as inner's Update does, then invalidates. Invalidation
// follows a failed Update too: the outcome of a commit cut off mid-way is
// unknown, and dropping a cache entry is never wrong.
func (s *Store) Update(ctx context.Context, fn func(keyhub.Tx) error) error {
	var changes []keyhub.Change
	err := s.Store.Update(ctx, func(tx keyhub.Tx) error {
		rec := &recordingTx{Tx: tx}
		if err := fn(rec); err != nil {
			changes = rec.changes
			return err
		}
		changes = rec.changes
		if len(changes) == 0 {
			return nil
		}
		return tx.Announce(ctx, changes)
	})
	for _, c := range changes {
		for _, l := range s.local {
			l.Invalidate(c)
		}
	}
	return err
}

// Unwrap returns the store beneath.
func (s *Store) Unwrap() keyhub.Store { return s.Store }

// recordingTx notes the changes made through it.
type recordingTx struct {
	keyhub.Tx
	changes []keyhub.Change
}

func (t *recordingTx) note(c keyhub.Change) { t.changes = append(t.changes, c) }

func (t *recordingTx) key(hash []byte) {
	t.note(keyhub.Change{Kind: keyhub.ChangedKey, KeyHash: append([]byte(nil), hash...)})
}

// CreateAPIKey is not noted: no cache can hold a new key's digest, not even
// as unknown, since only a secret presented before can have been looked
// up, and every key's secret (or a signing key's id, which its digest is
// made of) is drawn from crypto/rand in the transaction that creates it.
// Announcing it would also cost every create on PostgreSQL a NOTIFY, whose
// commit takes a lock that serialises the commits of all notifying
// transactions, each with its WAL flush (issue 14).

func (t *recordingTx) UpdateAPIKey(ctx context.Context, k *keyhub.APIKey) error {
	t.key(k.Hash)
	return t.Tx.UpdateAPIKey(ctx, k)
}

func (t *recordingTx) UpdateRole(ctx context.Context, r *keyhub.Role) error {
	t.note(keyhub.Change{Kind: keyhub.ChangedRole, TenantID: r.TenantID, ID: r.ID})
	return t.Tx.UpdateRole(ctx, r)
}

func (t *recordingTx) DeleteRole(ctx context.Context, tenantID, id string) error {
	t.note(keyhub.Change{Kind: keyhub.ChangedRole, TenantID: tenantID, ID: id})
	return t.Tx.DeleteRole(ctx, tenantID, id)
}

func (t *recordingTx) UpdateTenant(ctx context.Context, tn *keyhub.Tenant) error {
	t.note(keyhub.Change{Kind: keyhub.ChangedTenant, TenantID: tn.ID})
	return t.Tx.UpdateTenant(ctx, tn)
}

func (t *recordingTx) CreateClient(ctx context.Context, c *keyhub.Client) error {
	t.note(keyhub.Change{Kind: keyhub.ChangedClient, ID: c.ID})
	return t.Tx.CreateClient(ctx, c)
}

func (t *recordingTx) UpdateClient(ctx context.Context, c *keyhub.Client) error {
	t.note(keyhub.Change{Kind: keyhub.ChangedClient, ID: c.ID})
	return t.Tx.UpdateClient(ctx, c)
}

func (t *recordingTx) DeleteClient(ctx context.Context, tenantID, id string) error {
	t.note(keyhub.Change{Kind: keyhub.ChangedClient, ID: id})
	return t.Tx.DeleteClient(ctx, tenantID, id)
}

// Invalidate drops what c made stale from the verification cache.
func (v *Verifier) Invalidate(c keyhub.Change) {
	switch c.Kind {
	case keyhub.ChangedKey:
		v.InvalidateKey(c.KeyHash)
	case keyhub.ChangedRole:
		v.InvalidateRole(c.TenantID, c.ID)
	case keyhub.ChangedTenant:
		v.InvalidateTenant(c.TenantID)
	case keyhub.ChangedClient:
		// Keys do not depend on clients.
	default:
		v.InvalidateAll()
	}
}
