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

// Counter counts failures per key.
type Counter struct {
	what   string
	window time.Duration
	log    *slog.Logger

	mu        sync.Mutex
	counts    map[string]*window
	lastSweep time.Time
	// The refusals of the current summary window.
	sumStart time.Time
	refused  int
	sources  map[string]int
}

type window struct {
	start time.Time
	n     int
}

// New returns a Counter of failures in windows of the given length; what
// names the authentication in its log summaries ("client authentication").
func New(what string, w time.Duration, log *slog.Logger) *Counter {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Counter{what: what, window: w, log: log, counts: map[string]*window{}, sources: map[string]int{}}
}

// Blocked reports whether key has failed limit times or more in its current
// window, and how long until it may try again. A refusal is counted for the
// window's log summary under source, which names who was refused.
func (c *Counter) Blocked(now time.Time, source string, limit int, keys ...string) (time.Duration, bool) {
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
func (c *Counter) Fail(now time.Time, keys ...string) {
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
func (c *Counter) summarise(now time.Time) {
	if c.sumStart.IsZero() {
		c.sumStart = now
	}
	if now.Sub(c.sumStart) < c.window {
		return
	}
	if c.refused > 0 {
		top, topN := "", 0
		for s, n := range c.sources {
			if n > topN || n == topN && s < top {
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

// Source is the text under which an address is counted: the address
// itself for IPv4, its /64 for IPv6, since one host commonly holds a whole
// /64 and could otherwise count as millions of sources.
func Source(ip netip.Addr) string {
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	if !ip.IsValid() {
		return "unknown"
	}
	return ip.String()
}
