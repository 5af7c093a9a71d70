package oauth

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/keyhub/keyhub"
)

// memStore is a store holding only signing keys and revoked tokens, with
// transactions serialised like SQLite's single writer. It stands in where
// a test needs to count or corrupt store contents directly.
type memStore struct {
	mu      sync.Mutex
	keys    map[string]keyhub.SigningKey
	revoked map[string]time.Time
	updates int
}

func newMemStore() *memStore {
	return &memStore{keys: map[string]keyhub.SigningKey{}, revoked: map[string]time.Time{}}
}

func (s *memStore) View(ctx context.Context, fn func(keyhub.Tx) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fn(&memTx{s: s})
}

func (s *memStore) Update(ctx context.Context, fn func(keyhub.Tx) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.updates++
	keys, revoked := cloneMap(s.keys), cloneMap(s.revoked)
	if err := fn(&memTx{s: s}); err != nil {
		s.keys, s.revoked = keys, revoked // roll back
		return err
	}
	return nil
}

func cloneMap[K comparable, V any](m map[K]V) map[K]V {
	out := make(map[K]V, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func (s *memStore) Ping(context.Context) error { return nil }
func (s *memStore) Close() error               { return nil }

type memTx struct {
	keyhub.Tx // nil: any other method panics
	s         *memStore
}

func (t *memTx) CreateSigningKey(_ context.Context, k *keyhub.SigningKey) error {
	if _, ok := t.s.keys[k.ID]; ok {
		return keyhub.Errorf(keyhub.KindConflict, "exists")
	}
	t.s.keys[k.ID] = *k
	return nil
}

func (t *memTx) ListSigningKeys(context.Context) ([]*keyhub.SigningKey, error) {
	out := make([]*keyhub.SigningKey, 0, len(t.s.keys))
	for _, k := range t.s.keys {
		out = append(out, &k)
	}
	slices.SortFunc(out, func(a, b *keyhub.SigningKey) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return out, nil
}

func (t *memTx) UpdateSigningKey(_ context.Context, k *keyhub.SigningKey) error {
	old, ok := t.s.keys[k.ID]
	if !ok {
		return keyhub.NotFound("signing key", k.ID)
	}
	old.RetiredAt, old.ExpiresAt = k.RetiredAt, k.ExpiresAt
	t.s.keys[k.ID] = old
	return nil
}

func (t *memTx) DeleteSigningKey(_ context.Context, id string) error {
	delete(t.s.keys, id)
	return nil
}

func (t *memTx) RevokeToken(_ context.Context, r *keyhub.RevokedToken) error {
	t.s.revoked[r.JTI] = r.ExpiresAt
	return nil
}

func (t *memTx) ListRevokedTokens(_ context.Context, now time.Time) ([]*keyhub.RevokedToken, error) {
	var out []*keyhub.RevokedToken
	for j, e := range t.s.revoked {
		if e.After(now) {
			out = append(out, &keyhub.RevokedToken{JTI: j, ExpiresAt: e})
		}
	}
	return out, nil
}

func (t *memTx) PurgeRevokedTokens(_ context.Context, now time.Time) error {
	for j, e := range t.s.revoked {
		if e.Before(now) {
			delete(t.s.revoked, j)
		}
	}
	return nil
}
