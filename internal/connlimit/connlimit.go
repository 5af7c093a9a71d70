// Package connlimit bounds the connections a server holds open: in all,
// and from one address. A hostile client's cheapest attack is to open
// sockets and send nothing, or to leave keep-alive connections idle, until
// the process runs out of file descriptors. Under the cap, a new
// connection closes the longest-idle connection instead: first keep-alive
// connections between requests, then connections that have not yet sent
// a request. Connections serving a request are never closed to make room.
package connlimit

import (
	"container/list"
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"
)

// Config bounds the connections.
type Config struct {
	// Max is the cap on open connections; 0 means no cap.
	Max int
	// PerAddr is the cap on open connections from one address; 0 means
	// no cap. Addresses Exempt accepts (trusted proxies, which carry many
	// clients' connections) have none.
	PerAddr int
	Exempt  func(netip.Addr) bool
	// Log receives one line per minute at most while connections are
	// refused or closed for room.
	Log *slog.Logger
}

// Limiter tracks a listener's connections.
type Limiter struct {
	cfg Config

	mu      sync.Mutex
	conns   map[string]*entry // by remote address, unique per connection
	perAddr map[netip.Addr]int
	// waiting holds connections that may be closed for room: idle ones
	// (keep-alive) in front of new ones, each oldest first.
	idle, fresh *list.List
	// Counts since the last log line, and in all.
	refused, evicted           int
	totalRefused, totalEvicted int
	lastLog                    time.Time
}

type entry struct {
	conn  net.Conn
	addr  netip.Addr
	queue *list.List
	elem  *list.Element
}

// New returns a Limiter.
func New(cfg Config) *Limiter {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Limiter{cfg: cfg, conns: map[string]*entry{}, perAddr: map[netip.Addr]int{}, idle: list.New(), fresh: list.New()}
}

// Listener wraps ln so that every accepted connection is counted.
func (l *Limiter) Listener(ln net.Listener) net.Listener { return &listener{Listener: ln, l: l} }

type listener struct {
	net.Listener
	l *Limiter
}

func (ln *listener) Accept() (net.Conn, error) {
	for {
		c, err := ln.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if ln.l.admit(c) {
			return &conn{Conn: c, l: ln.l}, nil
		}
		c.Close()
	}
}

// conn forgets itself when closed, whoever closes it.
type conn struct {
	net.Conn
	l    *Limiter
	once sync.Once
}

func (c *conn) Close() error {
	c.once.Do(func() { c.l.forget(c.Conn) })
	return c.Conn.Close()
}

func addrOf(c net.Conn) netip.Addr {
	if ap, err := netip.ParseAddrPort(c.RemoteAddr().String()); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.Addr{}
}

// admit counts c, making room for it if the server is full; false means
// c must be closed.
func (l *Limiter) admit(c net.Conn) bool {
	addr := addrOf(c)
	var victim net.Conn
	l.mu.Lock()
	defer func() {
		l.mu.Unlock()
		if victim != nil {
			victim.Close()
		}
	}()
	if l.cfg.PerAddr > 0 && l.perAddr[addr] >= l.cfg.PerAddr && (l.cfg.Exempt == nil || !l.cfg.Exempt(addr)) {
		l.refused++
		l.totalRefused++
		l.note()
		return false
	}
	if l.cfg.Max > 0 && len(l.conns) >= l.cfg.Max {
		e := l.oldestWaiting()
		if e == nil {
			l.refused++
			l.totalRefused++
			l.note()
			return false
		}
		// Forget the victim now, so that the room is this connection's
		// whatever the victim's goroutine is doing.
		l.remove(e)
		victim = e.conn
		l.evicted++
		l.totalEvicted++
		l.note()
	}
	e := &entry{conn: c, addr: addr}
	l.conns[c.RemoteAddr().String()] = e
	l.perAddr[addr]++
	l.queue(e, l.fresh)
	return true
}

func (l *Limiter) oldestWaiting() *entry {
	for _, q := range []*list.List{l.idle, l.fresh} {
		if f := q.Front(); f != nil {
			return f.Value.(*entry)
		}
	}
	return nil
}

func (l *Limiter) queue(e *entry, q *list.List) {
	if e.queue != nil {
		e.queue.Remove(e.elem)
	}
	e.queue, e.elem = q, nil
	if q != nil {
		e.elem = q.PushBack(e)
	}
}

func (l *Limiter) remove(e *entry) {
	l.queue(e, nil)
	delete(l.conns, e.conn.RemoteAddr().String())
	if l.perAddr[e.addr]--; l.perAddr[e.addr] <= 0 {
		delete(l.perAddr, e.addr)
	}
}

func (l *Limiter) forget(c net.Conn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e := l.conns[c.RemoteAddr().String()]; e != nil && e.conn == c {
		l.remove(e)
	}
}

// ConnState is the http.Server's ConnState hook: it tells which
// connections are idle, and so may be closed for room.
func (l *Limiter) ConnState(c net.Conn, s http.ConnState) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.conns[c.RemoteAddr().String()]
	if e == nil {
		return
	}
	switch s {
	case http.StateActive, http.StateHijacked:
		l.queue(e, nil)
	case http.StateIdle:
		l.queue(e, l.idle)
	case http.StateClosed:
		l.remove(e)
	}
}

// Stats are a Limiter's counts.
type Stats struct {
	// Open is the number of connections open now.
	Open int
	// Refused and Closed count the connections refused at accept and the
	// idle ones closed for room, since the start.
	Refused, Closed int
}

// Stats returns the counts now.
func (l *Limiter) Stats() Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return Stats{Open: len(l.conns), Refused: l.totalRefused, Closed: l.totalEvicted}
}

// note logs, at most once a minute, what the caps did. It runs under l.mu.
func (l *Limiter) note() {
	now := time.Now()
	if now.Sub(l.lastLog) < time.Minute {
		return
	}
	l.cfg.Log.LogAttrs(context.Background(), slog.LevelWarn, "connection cap reached",
		slog.Int("open", len(l.conns)), slog.Int("max", l.cfg.Max), slog.Int("max_per_addr", l.cfg.PerAddr),
		slog.Int("refused", l.refused), slog.Int("closed_idle", l.evicted))
	l.refused, l.evicted, l.lastLog = 0, 0, now
}
