package connlimit

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"
)

// floodSize is how many hostile sockets TestFlood opens: a few thousand by
// default, which CI tolerates; KEYHUB_TEST_FLOOD sets more for a measure.
func floodSize(t *testing.T) int {
	if s := os.Getenv("KEYHUB_TEST_FLOOD"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	return 3000
}

func serve(t *testing.T, l *Limiter) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }),
		// Long enough that no socket is closed by a timeout during the
		// test: only the caps close them.
		ReadHeaderTimeout: time.Minute, IdleTimeout: time.Minute,
		ConnState: l.ConnState,
	}
	go srv.Serve(l.Listener(ln))
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

func dialFrom(t *testing.T, from, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial from %s: %v", from, err)
	}
	return c
}

// get sends one request on c and reads its answer.
func get(c net.Conn) (int, error) {
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		return 0, err
	}
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	_, err = io.Copy(io.Discard, res.Body)
	return res.StatusCode, err
}

// waitFor polls cond a bounded number of times: the server accepts
// asynchronously.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 2000 {
		if cond() {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("never: %s", what)
}

// TestFlood: thousands of hostile sockets from 50 addresses, half idle
// between keep-alive requests and half never sending one, against a cap of
// 100; a legitimate client is still answered, and the server never holds
// more than the cap.
func TestFlood(t *testing.T) {
	const max = 100
	l := New(Config{Max: max, PerAddr: 1000})
	addr := serve(t, l)
	n := floodSize(t)
	var mu sync.Mutex
	var socks []net.Conn
	t.Cleanup(func() {
		for _, c := range socks {
			c.Close()
		}
	})
	for i := range n {
		c := dialFrom(t, fmt.Sprintf("127.0.1.%d", 1+i%50), addr)
		if i%2 == 0 {
			// A keep-alive socket: one request, then idle. One that was
			// already closed for room fails here; that is the point.
			_, _ = get(c)
		}
		mu.Lock()
		socks = append(socks, c)
		mu.Unlock()
		if st := l.Stats(); st.Open > max {
			t.Fatalf("%d connections open, cap %d", st.Open, max)
		}
	}
	waitFor(t, "every hostile socket accepted", func() bool { st := l.Stats(); return st.Open+st.Closed+st.Refused >= n })
	for range 3 {
		c := dialFrom(t, "127.0.0.1", addr)
		st, err := get(c)
		c.Close()
		if err != nil || st != 200 {
			t.Fatalf("legitimate request: %d, %v", st, err)
		}
	}
	st := l.Stats()
	t.Logf("%d hostile sockets, cap %d: %d open, %d closed for room, %d refused", n, max, st.Open, st.Closed, st.Refused)
	if st.Open > max || st.Closed < n-max {
		t.Fatalf("stats %+v", st)
	}
}

// TestPerAddr: one address gets at most its cap; others, and exempt
// addresses (trusted proxies), are not held back by it.
func TestPerAddr(t *testing.T) {
	proxy := netip.MustParseAddr("127.0.0.3")
	l := New(Config{Max: 1000, PerAddr: 5, Exempt: func(a netip.Addr) bool { return a == proxy }})
	addr := serve(t, l)
	var socks []net.Conn
	defer func() {
		for _, c := range socks {
			c.Close()
		}
	}()
	for range 12 {
		socks = append(socks, dialFrom(t, "127.0.0.2", addr), dialFrom(t, "127.0.0.3", addr))
	}
	waitFor(t, "all accepted", func() bool { st := l.Stats(); return st.Open+st.Refused >= 24 })
	if st := l.Stats(); st.Refused != 7 || st.Open != 17 {
		t.Fatalf("stats %+v, want 7 refused from 127.0.0.2 and 17 open", st)
	}
	c := dialFrom(t, "127.0.0.4", addr)
	defer c.Close()
	if st, err := get(c); err != nil || st != 200 {
		t.Fatalf("another address: %d, %v", st, err)
	}
	// Closing connections gives the room back.
	for _, c := range socks {
		c.Close()
	}
	socks = nil
	waitFor(t, "closed connections forgotten", func() bool { return l.Stats().Open <= 1 })
	c2 := dialFrom(t, "127.0.0.2", addr)
	defer c2.Close()
	if st, err := get(c2); err != nil || st != 200 {
		t.Fatalf("after closing: %d, %v", st, err)
	}
}
