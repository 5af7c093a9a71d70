package oauthapi

import (
	"sync"
	"time"
)

// throttle counts failed client authentications per client id and per
// source address in fixed windows, so guessing secrets costs time. Only
// failures are counted: a client that authenticates is never slowed.
type throttle struct {
	mu       sync.Mutex
	window   time.Duration
	perID    int
	perIP    int
	counts   map[string]*failures
	lastSwep time.Time
}

type failures struct {
	start time.Time
	n     int
}

func newThrottle(window time.Duration, perID, perIP int) *throttle {
	return &throttle{window: window, perID: perID, perIP: perIP, counts: map[string]*failures{}}
}

// blocked reports whether the client id or the address has failed too often
// in the current window, and when it may try again.
func (t *throttle) blocked(id, ip string, now time.Time) (bool, time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range [...]struct {
		key   string
		limit int
	}{{"id:" + id, t.perID}, {"ip:" + ip, t.perIP}} {
		if f := t.counts[k.key]; f != nil && now.Sub(f.start) < t.window && f.n >= k.limit {
			return true, f.start.Add(t.window).Sub(now)
		}
	}
	return false, 0
}

// fail records a failed authentication.
func (t *throttle) fail(id, ip string, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, key := range [...]string{"id:" + id, "ip:" + ip} {
		f := t.counts[key]
		if f == nil || now.Sub(f.start) >= t.window {
			f = &failures{start: now}
			t.counts[key] = f
		}
		f.n++
	}
	if now.Sub(t.lastSwep) > t.window {
		for k, f := range t.counts {
			if now.Sub(f.start) >= t.window {
				delete(t.counts, k)
			}
		}
		t.lastSwep = now
	}
}
