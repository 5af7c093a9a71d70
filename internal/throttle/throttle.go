// Package throttle counts failed authentications in fixed windows, so that
// guessing secrets costs the guesser time. Only failures are counted, and
// only under keys that name the source (an address, or a client id at an
// address): a credential used correctly from an address that has not been
// failing is never refused because of failures elsewhere. Refusals are
// summarised in the log, one line per window, never one line each.
package throttle

import (
	"context"
	"log/slog"
	"net/netip"
	"sync"
	"time"
)

// maxKeys bounds the keys counted at once. When full, expired windows are
// swept; keys beyond the bound are not counted until then.
const maxKeys = 100_000

// Counter counts failures per key. Keys are values (an address, a client
// at an address), not text, so that a check that finds nothing to refuse
// allocates nothing.
type Counter[K comparable] struct {
	what   string
	window time.Duration
	log    *slog.Logger

	mu        sync.Mutex
	counts    map[K]*window
	lastSweep time.Time
	// The refusals of the current summary window.
	sumStart time.Time
	refused  int
	sources  map[Source]int
}

type window struct {
	start time.Time
	n     int
}

// New returns a Counter of failures in windows of the given length; what
// names the authentication in its log summaries ("client authentication").
func New[K comparable](what string, w time.Duration, log *slog.Logger) *Counter[K] {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Counter[K]{what: what, window: w, log: log, counts: map[K]*window{}, sources: map[Source]int{}}
}

// Blocked reports whether key has failed limit times or more in its current
// window, and how long until it may try again. A refusal is counted for the
// window's log summary under source, which names who was refused.
func (c *Counter[K]) Blocked(now time.Time, source Source, limit int, keys ...K) (time.Duration, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.summarise(now)
	var wait time.Duration
	for _, k := range keys {
		if f := c.counts[k]; f != nil && now.Sub(f.start) < c.window && f.n >= limit {
			wait = max(wait, f.start.Add(c.window).Sub(now))
		}
	}
	if wait == 0 {
		return 0, false
	}
	c.refused++
	if _, ok := c.sources[source]; ok || len(c.sources) < 1000 {
		c.sources[source]++
	}
	return wait, true
}

// Fail records a failure under each key.
func (c *Counter[K]) Fail(now time.Time, keys ...K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.summarise(now)
	if len(c.counts) >= maxKeys || now.Sub(c.lastSweep) > c.window {
		for k, f := range c.counts {
			if now.Sub(f.start) >= c.window {
				delete(c.counts, k)
			}
		}
		c.lastSweep = now
	}
	for _, k := range keys {
		f := c.counts[k]
		if f == nil || now.Sub(f.start) >= c.window {
			if f == nil && len(c.counts) >= maxKeys {
				continue
			}
			f = &window{start: now}
			c.counts[k] = f
		}
		f.n++
	}
}

// summarise logs the refusals of a summary window once it has ended. It
// runs under c.mu on the next call after the window, so a quiet node logs
// the last window when it is next asked.
func (c *Counter[K]) summarise(now time.Time) {
	if c.sumStart.IsZero() {
		c.sumStart = now
	}
	if now.Sub(c.sumStart) < c.window {
		return
	}
	if c.refused > 0 {
		top, topN := "", 0
		for src, n := range c.sources {
			if s := src.String(); n > topN || n == topN && s < top {
				top, topN = s, n
			}
		}
		c.log.LogAttrs(context.Background(), slog.LevelWarn, c.what+" throttled",
			slog.Int("refused", c.refused), slog.Int("sources", len(c.sources)),
			slog.String("top_source", top), slog.Int("top_refused", topN),
			slog.Time("since", c.sumStart), slog.Duration("window", c.window))
	}
	c.sumStart, c.refused = now, 0
	clear(c.sources)
}

// Source is where failures are counted from: the address itself for IPv4,
// its /64 for IPv6, since one host commonly holds a whole /64 and could
// otherwise count as millions of sources. The zero Source is an unknown
// address.
type Source struct{ p netip.Prefix }

// SourceOf is the Source of ip.
func SourceOf(ip netip.Addr) Source {
	ip = ip.Unmap()
	bits := 32
	if ip.Is6() {
		bits = 64
	}
	p, _ := ip.Prefix(bits)
	return Source{p}
}

// String names s in logs: "203.0.113.7", "2001:db8::/64" or "unknown".
func (s Source) String() string {
	switch {
	case !s.p.IsValid():
		return "unknown"
	case s.p.Addr().Is4():
		return s.p.Addr().String()
	}
	return s.p.String()
}
