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
// changes something: verify.Invalidator, and Heard, which tells the caches
// how current they are.
type Invalidations interface {
	Invalidate(keyhub.Change)
	InvalidateAll()
	// Heard confirms that every change committed before at has been
	// applied.
	Heard(at time.Time)
}

// ListenConfig configures Listen.
type ListenConfig struct {
	// Log receives the listener's warnings; slog.Default() if nil.
	Log *slog.Logger
	// Ready, if not nil, is closed once the first LISTEN is in place.
	Ready chan<- struct{}
	// Heartbeat is how often the listening connection is confirmed alive
	// (default 1s). It bounds how late Heard learns of a silent loss.
	Heartbeat time.Duration
}

// Listen applies other nodes' invalidations to inv until ctx ends. It holds
// one connection for LISTEN; when that connection is lost, notifications
// may have been missed, so everything is dropped before listening again.
//
// A connection can die silently (a partition drops packets, it does not
// close sockets), so the listener does not only wait: every heartbeat it
// repeats the LISTEN, a round trip after which PostgreSQL has sent the
// notifications pending for the connection (it sends them before it reports
// a command done), and then tells inv it has heard everything up to the
// moment the heartbeat was sent. A heartbeat that fails, or gets no answer
// within twice the interval (a second at least), ends the connection.
func (s *Store) Listen(ctx context.Context, inv Invalidations, cfg ListenConfig) {
	log := cfg.Log
	if log == nil {
		log = slog.Default()
	}
	beat := cfg.Heartbeat
	if beat <= 0 {
		beat = time.Second
	}
	first := true
	for ctx.Err() == nil {
		err := s.listenOnce(ctx, inv, beat, func() {
			if first {
				first = false
				if cfg.Ready != nil {
					close(cfg.Ready)
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
		case <-time.After(min(beat, time.Second)):
		}
	}
}

// listenStatement starts listening; repeated, it is the heartbeat. Other
// tools (and tests) find the listening connection by it in
// pg_stat_activity.
const listenStatement = "LISTEN " + invalidationChannel

func (s *Store) listenOnce(ctx context.Context, inv Invalidations, beat time.Duration, listening func()) error {
	// Connecting is bounded too: a partitioned server may never answer.
	actx, cancel := context.WithTimeout(ctx, max(5*time.Second, 2*beat))
	defer cancel()
	conn, err := s.pool.Acquire(actx)
	if err != nil {
		return err
	}
	// The connection carries LISTEN state: it must not go back to the pool.
	pc := conn.Hijack()
	defer pc.Close(context.Background())
	sent := time.Now()
	if _, err := pc.Exec(actx, listenStatement); err != nil {
		return err
	}
	listening()
	inv.Heard(sent)
	next := sent.Add(beat)
	for {
		if wait := time.Until(next); wait > 0 {
			wctx, cancel := context.WithTimeout(ctx, wait)
			n, err := pc.WaitForNotification(wctx)
			cancel()
			if n != nil {
				apply(inv, n.Payload)
			}
			switch {
			case ctx.Err() != nil:
				return ctx.Err()
			case err != nil && wctx.Err() == nil:
				return err
			}
			continue
		}
		sent = time.Now()
		// A slow answer does not make the cache stale (only time without
		// one does), so the heartbeat may take longer than its interval
		// before the connection is given up for dead.
		hctx, cancel := context.WithTimeout(ctx, max(2*beat, time.Second))
		_, err := pc.Exec(hctx, listenStatement)
		cancel()
		if err != nil {
			return err
		}
		// Notifications that arrived with the answer are buffered on the
		// connection; apply them before confirming. A done context makes
		// WaitForNotification answer only what is buffered.
		done, stop := context.WithCancel(ctx)
		stop()
		for {
			n, _ := pc.WaitForNotification(done)
			if n == nil {
				break
			}
			apply(inv, n.Payload)
		}
		inv.Heard(sent)
		next = sent.Add(beat)
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
