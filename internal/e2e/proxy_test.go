package e2e

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
)

// proxy is a loopback TCP proxy between keyhub nodes and PostgreSQL that a
// fault test cuts and restores. It forwards bytes as they come and knows
// nothing of the protocol but one thing: the statement with which a node
// listens for other nodes' changes, so that it can take that connection
// away alone.
type proxy struct {
	t      *testing.T
	ln     net.Listener
	target string

	mu    sync.Mutex
	mode  proxyMode
	conns map[*proxied]struct{}
	wg    sync.WaitGroup
	// dropped counts the connections closed for sending the LISTEN.
	dropped atomic.Int64
}

// proxyMode is what the proxy does with connections.
type proxyMode int

const (
	// forward passes every connection through.
	forward proxyMode = iota
	// cut closes every connection and every new one at once: the
	// database is unreachable.
	cut
	// dropListeners closes each connection that sends the LISTEN of
	// keyhub's invalidation channel, at once: queries still work, the
	// listener cannot stay connected.
	dropListeners
)

// listenStatement is what a node's invalidation listener sends, first and
// on every heartbeat.
var listenStatement = []byte("LISTEN keyhub_invalidate")

// proxied is one client connection and its upstream.
type proxied struct {
	client, server net.Conn
	once           sync.Once
}

func (c *proxied) close() {
	c.once.Do(func() {
		c.client.Close()
		c.server.Close()
	})
}

// newProxy starts a proxy to the server of the PostgreSQL URL dsn, until t
// ends, and returns it with dsn rewritten to go through it.
func newProxy(t *testing.T, dsn string) (*proxy, string) {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{t: t, ln: ln, target: u.Host, conns: map[*proxied]struct{}{}}
	p.wg.Go(p.accept)
	t.Cleanup(p.close)
	u.Host = ln.Addr().String()
	return p, u.String()
}

// set switches the proxy to mode m; cut closes every open connection
// before it returns.
func (p *proxy) set(m proxyMode) {
	p.mu.Lock()
	p.mode = m
	var victims []*proxied
	if m == cut {
		for c := range p.conns {
			victims = append(victims, c)
		}
	}
	p.mu.Unlock()
	for _, c := range victims {
		c.close()
	}
}

func (p *proxy) current() proxyMode {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.mode
}

func (p *proxy) accept() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		if p.current() == cut {
			client.Close()
			continue
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			client.Close()
			continue
		}
		c := &proxied{client: client, server: server}
		p.mu.Lock()
		p.conns[c] = struct{}{}
		p.mu.Unlock()
		p.wg.Go(func() { p.pipe(c, c.server, c.client, true) })
		p.wg.Go(func() { p.pipe(c, c.client, c.server, false) })
	}
}

// pipe copies from src to dst until either side ends, then closes both.
// Bytes from the client are looked at for the LISTEN statement; a window
// of the previous chunk's tail finds it across chunk boundaries.
func (p *proxy) pipe(c *proxied, dst, src net.Conn, fromClient bool) {
	defer func() {
		c.close()
		p.mu.Lock()
		delete(p.conns, c)
		p.mu.Unlock()
	}()
	buf := make([]byte, 32<<10)
	var tail []byte
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if fromClient {
				seen := append(tail, buf[:n]...)
				if p.current() == dropListeners && bytes.Contains(seen, listenStatement) {
					p.dropped.Add(1)
					return
				}
				tail = append(tail[:0], seen[max(0, len(seen)-len(listenStatement)):]...)
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				p.t.Logf("proxy: %v", err)
			}
			return
		}
	}
}

func (p *proxy) close() {
	p.ln.Close()
	p.set(cut)
	p.wg.Wait()
}
