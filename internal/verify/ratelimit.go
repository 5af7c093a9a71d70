package verify

import (
	"sync"
	"time"

	"github.com/keyhub/keyhub"
)

// limiter counts verifications per key in fixed windows aligned to the
// epoch, so the count is exact on one node and the reset time is the same
// for everyone. Shards keep contention low across cores.
type limiter struct {
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

func newLimiter() *limiter {
	l := &limiter{}
	for i := range l.shards {
		l.shards[i].m = map[string]*window{}
	}
	return l
}

func (l *limiter) shard(id string) *limiterShard {
	// FNV-1a over the id: ids are random in their tail.
	h := uint32(2166136261)
	for i := 0; i < len(id); i++ {
		h = (h ^ uint32(id[i])) * 16777619
	}
	return &l.shards[h%uint32(len(l.shards))]
}

// take counts one use of key id against rl at now and reports whether it
// was within the limit. A refused use is not counted.
func (l *limiter) take(id string, rl *keyhub.RateLimit, now time.Time) (bool, RateLimitState) {
	d := int64(rl.Duration)
	if d <= 0 {
		d = int64(time.Second)
	}
	start := now.UnixNano() / d * d
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

// refund gives back one use taken in the window starting at reset-d, when a
// later check refused the request.
func (l *limiter) refund(id string, st RateLimitState, rl *keyhub.RateLimit) {
	start := st.Reset.UnixNano() - int64(rl.Duration)
	s := l.shard(id)
	s.mu.Lock()
	if w := s.m[id]; w != nil && w.start == start && w.count > 0 {
		w.count--
	}
	s.mu.Unlock()
}

// sweep drops windows that ended before now, bounding memory to the keys
// used recently.
func (l *limiter) sweep(now time.Time) {
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
