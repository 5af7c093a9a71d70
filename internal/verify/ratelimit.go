package verify

import (
	"context"
	"sync"
	"time"

	"github.com/keyhub/keyhub"
)

// Limiter decides a key's rate limit. Every implementation counts in fixed
// windows of rl.Duration aligned to the epoch (WindowStart), so that all of
// them, and every node, agree on when a window resets.
type Limiter interface {
	// Take counts one use of key id against rl at now and reports whether
	// it was within the limit. A refused use is not counted.
	Take(ctx context.Context, id string, rl *keyhub.RateLimit, now time.Time) (bool, RateLimitState)
	// Refund gives back one use that Take counted in the window st
	// describes, when a later check refused the request.
	Refund(ctx context.Context, id string, st RateLimitState, rl *keyhub.RateLimit)
}

// WindowStart is the start, in unix nanoseconds, of rl's window holding
// now, and the window's length.
func WindowStart(rl *keyhub.RateLimit, now time.Time) (start, d int64) {
	d = int64(rl.Duration)
	if d <= 0 {
		d = int64(time.Second)
	}
	return now.UnixNano() / d * d, d
}

// LocalLimiter is the per-node Limiter: it counts verifications per key in
// memory, so the count is exact on one node. Shards keep contention low
// across cores.
type LocalLimiter struct {
	shards [64]limiterShard
}

type limiterShard struct {
	mu sync.Mutex
	m  map[string]*window
}

type window struct {
	start, end int64 // unix nanoseconds
	count      int64
}

// RateLimitState is the rate-limit part of a verify answer.
type RateLimitState struct {
	Limit     int64
	Remaining int64
	// Reset is when the current window ends.
	Reset time.Time
}

// NewLocalLimiter returns an empty per-node limiter. Call Sweep now and
// then to bound its memory to the keys used recently.
func NewLocalLimiter() *LocalLimiter {
	l := &LocalLimiter{}
	for i := range l.shards {
		l.shards[i].m = map[string]*window{}
	}
	return l
}

func (l *LocalLimiter) shard(id string) *limiterShard {
	// FNV-1a over the id: ids are random in their tail.
	h := uint32(2166136261)
	for i := 0; i < len(id); i++ {
		h = (h ^ uint32(id[i])) * 16777619
	}
	return &l.shards[h%uint32(len(l.shards))]
}

// Take implements Limiter; it never waits on anything but its shard.
func (l *LocalLimiter) Take(_ context.Context, id string, rl *keyhub.RateLimit, now time.Time) (bool, RateLimitState) {
	start, d := WindowStart(rl, now)
	st := RateLimitState{Limit: rl.Limit, Reset: time.Unix(0, start+d).UTC()}
	s := l.shard(id)
	s.mu.Lock()
	w := s.m[id]
	if w == nil {
		w = &window{start: start, end: start + d}
		s.m[id] = w
	} else if w.start != start {
		w.start, w.end, w.count = start, start+d, 0
	}
	ok := w.count < rl.Limit
	if ok {
		w.count++
	}
	st.Remaining = rl.Limit - w.count
	s.mu.Unlock()
	return ok, st
}

// Refund implements Limiter.
func (l *LocalLimiter) Refund(_ context.Context, id string, st RateLimitState, rl *keyhub.RateLimit) {
	_, d := WindowStart(rl, st.Reset)
	start := st.Reset.UnixNano() - d
	s := l.shard(id)
	s.mu.Lock()
	if w := s.m[id]; w != nil && w.start == start && w.count > 0 {
		w.count--
	}
	s.mu.Unlock()
}

// Sweep drops windows that ended before now, bounding memory to the keys
// used recently.
func (l *LocalLimiter) Sweep(now time.Time) {
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		for id, w := range s.m {
			if w.end <= now.UnixNano() {
				delete(s.m, id)
			}
		}
		s.mu.Unlock()
	}
}

// Note raises key id's count in rl's window holding now to at least count:
// a limiter that counts elsewhere (Redis) and falls back to this one starts
// the fallback from what it last knew.
func (l *LocalLimiter) Note(id string, rl *keyhub.RateLimit, now time.Time, count int64) {
	start, d := WindowStart(rl, now)
	s := l.shard(id)
	s.mu.Lock()
	w := s.m[id]
	if w == nil {
		w = &window{start: start, end: start + d}
		s.m[id] = w
	} else if w.start != start {
		w.start, w.end, w.count = start, start+d, 0
	}
	w.count = max(w.count, count)
	s.mu.Unlock()
}
