package verify

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/keyhub/keyhub"
)

// DefaultMaxStale is how long a node that has stopped hearing other nodes'
// changes keeps serving what it cached (--max-stale).
const DefaultMaxStale = 10 * time.Second

// Watch bounds how stale a cached answer may be. A node on a shared store
// learns of other nodes' changes only through its invalidation listener;
// while that listener is confirmed alive, cached entries are as current as
// the notifications, and once it stops being confirmed, an entry is trusted
// for at most MaxStale after the later of its load and the last
// confirmation. An entry no longer trusted is read again from the store,
// so the answer is fresh when the store answers and an error (fail closed)
// when it does not. A node whose store serves it alone (SQLite) never
// tracks and trusts its cache as long as the cache's TTL allows.
//
// Times are offsets from the Watch's creation on the verifier's clock;
// time.Now's readings carry the monotonic clock, so a wall-clock step
// changes no staleness.
type Watch struct {
	maxStale time.Duration
	now      func() time.Time
	base     time.Time
	tracking atomic.Bool
	// since is when tracking started; heard the send time of the last
	// confirmed heartbeat, 0 when none. Both are offsets from base.
	since atomic.Int64
	heard atomic.Int64
}

// newWatch returns a Watch on the clock now that does not track yet;
// maxStale ≤ 0 means DefaultMaxStale.
func newWatch(maxStale time.Duration, now func() time.Time) *Watch {
	if maxStale <= 0 {
		maxStale = DefaultMaxStale
	}
	// base lies a day in the past so that no offset is 0, which heard
	// uses for "never".
	return &Watch{maxStale: maxStale, now: now, base: now().Add(-24 * time.Hour)}
}

// MaxStale is the longest a cached answer is served unconfirmed.
func (w *Watch) MaxStale() time.Duration { return w.maxStale }

// Track makes trust depend on confirmations from now on: call it before
// starting the listener that calls Heard.
func (w *Watch) Track() {
	w.since.Store(w.Stamp())
	w.tracking.Store(true)
}

// Heard confirms that every change committed before at has been applied to
// the caches. The listener calls it after each heartbeat that made a round
// trip on the listening connection, with the time the heartbeat was sent.
func (w *Watch) Heard(at time.Time) {
	t := int64(at.Sub(w.base))
	for {
		cur := w.heard.Load()
		if t <= cur || w.heard.CompareAndSwap(cur, t) {
			return
		}
	}
}

// Stamp is now as an offset from the watch's start; a cached entry records
// the stamp taken before it was read from the store.
func (w *Watch) Stamp() int64 { return int64(w.now().Sub(w.base)) }

// Trusted reports whether an entry loaded at the stamp loaded may still be
// served. Untracked watches trust everything: no one else writes.
func (w *Watch) Trusted(loaded int64) bool {
	if !w.tracking.Load() {
		return true
	}
	return w.Stamp()-max(loaded, w.heard.Load()) < int64(w.maxStale)
}

// Err answers nil while cached answers are served, and, once the listener
// has been silent for longer than MaxStale, an unavailable error saying so,
// for readiness checks. The message tells an operator what happened and
// what the node does meanwhile.
func (w *Watch) Err() error {
	if !w.tracking.Load() {
		return nil
	}
	last := max(w.since.Load(), w.heard.Load())
	silent := time.Duration(w.Stamp() - last)
	if silent < w.maxStale {
		return nil
	}
	return keyhub.CodedErrorf(keyhub.KindUnavailable, "invalidation_lost",
		"this node has not heard other nodes' changes for %s (--max-stale %s): the cache invalidation listener lost its connection; cached answers are not served, every answer reads the store",
		silent.Truncate(time.Second), w.maxStale)
}

// String describes the watch for logs.
func (w *Watch) String() string {
	if !w.tracking.Load() {
		return "untracked"
	}
	return fmt.Sprintf("max-stale %s, last heard %s ago", w.maxStale,
		time.Duration(w.Stamp()-max(w.since.Load(), w.heard.Load())).Truncate(time.Millisecond))
}
