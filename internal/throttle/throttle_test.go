package throttle

import (
	"bytes"
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestCounter(t *testing.T) {
	var buf bytes.Buffer
	c := New[string]("client authentication", time.Minute, slog.New(slog.NewTextHandler(&buf, nil)))
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a, b := SourceOf(netip.MustParseAddr("203.0.113.1")), SourceOf(netip.MustParseAddr("203.0.113.2"))
	for i := range 3 {
		if _, blocked := c.Blocked(t0, a, 3, "a"); blocked {
			t.Fatalf("blocked after %d failures", i)
		}
		c.Fail(t0, "a", "shared")
	}
	wait, blocked := c.Blocked(t0.Add(10*time.Second), a, 3, "a")
	if !blocked || wait != 50*time.Second {
		t.Fatalf("Blocked = %v, %v; want 50s, true", wait, blocked)
	}
	// Another key is not held back by a's failures.
	if _, blocked := c.Blocked(t0, b, 3, "b"); blocked {
		t.Fatal("b blocked by a's failures")
	}
	// Any key at its limit blocks.
	if _, blocked := c.Blocked(t0, b, 3, "b", "shared"); !blocked {
		t.Fatal("not blocked by a shared key at its limit")
	}
	for range 1000 {
		c.Blocked(t0.Add(time.Second), a, 3, "a")
	}
	if buf.Len() != 0 {
		t.Fatalf("logged within the window: %s", buf.String())
	}
	// The window has passed: the key may try again, and the refusals are
	// one summary line.
	if _, blocked := c.Blocked(t0.Add(time.Minute), a, 3, "a"); blocked {
		t.Fatal("still blocked after the window")
	}
	out := buf.String()
	if strings.Count(out, "\n") != 1 || !strings.Contains(out, "client authentication throttled") ||
		!strings.Contains(out, "refused=1002") || !strings.Contains(out, "top_source=203.0.113.1") {
		t.Fatalf("summary: %s", out)
	}
}

func TestBounded(t *testing.T) {
	c := New[string]("x", time.Minute, nil)
	t0 := time.Now()
	for i := range maxKeys + 10 {
		c.Fail(t0, string(rune(i)))
	}
	if len(c.counts) > maxKeys {
		t.Fatalf("%d keys counted", len(c.counts))
	}
	c.Fail(t0.Add(2*time.Minute), "new")
	if len(c.counts) != 1 {
		t.Fatalf("expired windows not swept: %d", len(c.counts))
	}
}

func TestSource(t *testing.T) {
	for in, want := range map[string]string{
		"203.0.113.9":          "203.0.113.9",
		"::ffff:203.0.113.9":   "203.0.113.9",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
	} {
		if got := SourceOf(netip.MustParseAddr(in)).String(); got != want {
			t.Errorf("SourceOf(%s) = %s, want %s", in, got, want)
		}
	}
	if SourceOf(netip.Addr{}).String() != "unknown" || SourceOf(netip.Addr{}) != (Source{}) {
		t.Error("zero Addr")
	}
	// One host's /64 is one source; the mapped form of an IPv4 address is
	// the address.
	if SourceOf(netip.MustParseAddr("2001:db8::1")) != SourceOf(netip.MustParseAddr("2001:db8::ffff:2")) ||
		SourceOf(netip.MustParseAddr("::ffff:203.0.113.9")) != SourceOf(netip.MustParseAddr("203.0.113.9")) {
		t.Error("sources of one host differ")
	}
}

// TestBlockedAllocatesNothing: every bearer request asks, so asking about
// an address that has not failed must cost no garbage.
func TestBlockedAllocatesNothing(t *testing.T) {
	c := New[Source]("x", time.Minute, nil)
	now := time.Now()
	c.Fail(now, SourceOf(netip.MustParseAddr("203.0.113.1")))
	ip := netip.MustParseAddr("2001:db8::7")
	if n := testing.AllocsPerRun(100, func() {
		src := SourceOf(ip)
		if _, blocked := c.Blocked(now, src, 3, src); blocked {
			t.Fatal("blocked")
		}
	}); n != 0 {
		t.Fatalf("%v allocations per check", n)
	}
}
