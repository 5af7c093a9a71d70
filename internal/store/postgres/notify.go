package postgres

import (
	"context"
	"encoding/hex"
	"log/slog"
	"strings"
	"time"

	"github.com/keyhub/keyhub"
)

// invalidationChannel carries cache invalidations between nodes.
const invalidationChannel = "keyhub_invalidate"

// Invalidations is what a node's caches must drop when another node
// changes something: verify.Invalidator.
type Invalidations interface {
	Invalidate(keyhub.Change)
	InvalidateAll()
}

// Listen applies other nodes' invalidations to inv until ctx ends. It holds
// one connection for LISTEN; when that connection is lost, notifications
// may have been missed, so everything is dropped before listening again.
// ready, if not nil, is closed once the first LISTEN is in place.
func (s *Store) Listen(ctx context.Context, inv Invalidations, log *slog.Logger, ready chan<- struct{}) {
	if log == nil {
		log = slog.Default()
	}
	first := true
	for ctx.Err() == nil {
		err := s.listenOnce(ctx, inv, func() {
			if first {
				first = false
				if ready != nil {
					close(ready)
				}
				return
			}
			inv.InvalidateAll()
		})
		if ctx.Err() != nil {
			return
		}
		log.Warn("cache invalidation listener lost its connection; retrying", "error", err.Error())
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

func (s *Store) listenOnce(ctx context.Context, inv Invalidations, listening func()) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	// The connection carries LISTEN state: it must not go back to the pool.
	pc := conn.Hijack()
	defer pc.Close(context.Background())
	if _, err := pc.Exec(ctx, "LISTEN "+invalidationChannel); err != nil {
		return err
	}
	listening()
	for {
		n, err := pc.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		apply(inv, n.Payload)
	}
}

// apply decodes one payload. Unknown payloads drop everything: a newer node
// may publish kinds this one does not know.
func apply(inv Invalidations, payload string) {
	if c, ok := decodeChange(payload); ok {
		inv.Invalidate(c)
		return
	}
	inv.InvalidateAll()
}

// decodeChange reads a payload written by encodeChange.
func decodeChange(payload string) (keyhub.Change, bool) {
	kind, rest, _ := strings.Cut(payload, ":")
	switch kind {
	case "k":
		if h, err := hex.DecodeString(rest); err == nil && len(h) > 0 {
			return keyhub.Change{Kind: keyhub.ChangedKey, KeyHash: h}, true
		}
	case "r":
		if t, r, ok := strings.Cut(rest, ":"); ok {
			return keyhub.Change{Kind: keyhub.ChangedRole, TenantID: t, ID: r}, true
		}
	case "t":
		return keyhub.Change{Kind: keyhub.ChangedTenant, TenantID: rest}, true
	case "c":
		return keyhub.Change{Kind: keyhub.ChangedClient, ID: rest}, true
	}
	return keyhub.Change{}, false
}

// Announce queues a notification per change on this transaction:
// PostgreSQL delivers NOTIFY when the transaction commits and drops it on
// rollback, so other nodes hear of exactly the changes that happened, at
// the moment they happen.
func (t *tx) Announce(ctx context.Context, changes []keyhub.Change) error {
	for _, c := range changes {
		if _, err := t.tx.Exec(ctx, "SELECT pg_notify($1, $2)", invalidationChannel, encodeChange(c)); err != nil {
			return translate(ctx, err, "announce change")
		}
	}
	return nil
}

// encodeChange is the payload of a change: a digest or ids, never a secret.
func encodeChange(c keyhub.Change) string {
	switch c.Kind {
	case keyhub.ChangedKey:
		return "k:" + hex.EncodeToString(c.KeyHash)
	case keyhub.ChangedRole:
		return "r:" + c.TenantID + ":" + c.ID
	case keyhub.ChangedTenant:
		return "t:" + c.TenantID
	case keyhub.ChangedClient:
		return "c:" + c.ID
	}
	return "*"
}
