package redislimit_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/redislimit"
	"github.com/keyhub/keyhub/internal/redislimit/redistest"
	"github.com/keyhub/keyhub/internal/store/sqlite"
	"github.com/keyhub/keyhub/internal/verify"
)

var ctx = context.Background()

func newLimiter(t *testing.T, cfg redislimit.Config) *redislimit.Limiter {
	t.Helper()
	l, err := redislimit.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// run runs l's probe until the test ends.
func run(t *testing.T, l *redislimit.Limiter) {
	c, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { l.Run(c); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

// TestExactAcrossNodes: three limiters, as three nodes, on one Redis, hit
// one key from many goroutines: exactly the limit is allowed, and every
// answer names the same window.
func TestExactAcrossNodes(t *testing.T) {
	url, prefix := redistest.URL(t)
	var nodes []*redislimit.Limiter
	for range 3 {
		nodes = append(nodes, newLimiter(t, redislimit.Config{URL: url, Prefix: prefix, Timeout: 5 * time.Second}))
	}
	rl := &keyhub.RateLimit{Limit: 50, Duration: keyhub.Duration(time.Hour)}
	now := time.Now()
	start, d := verify.WindowStart(rl, now)
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for g := range 9 {
		wg.Go(func() {
			l := nodes[g%3]
			for range 20 {
				ok, st := l.Take(ctx, "key_a", rl, now)
				if ok {
					allowed.Add(1)
				}
				if st.Limit != 50 || st.Remaining < 0 || st.Remaining > 49 || !st.Reset.Equal(time.Unix(0, start+d)) {
					t.Errorf("state %+v", st)
				}
			}
		})
	}
	wg.Wait()
	if got := allowed.Load(); got != 50 {
		t.Fatalf("allowed %d of 180, want exactly 50", got)
	}
	if nodes[0].Degraded() != "" {
		t.Fatalf("degraded with Redis up: %s", nodes[0].Degraded())
	}
}

// TestTakeRefundAndWindows follows one key through its windows.
func TestTakeRefundAndWindows(t *testing.T) {
	url, prefix := redistest.URL(t)
	l := newLimiter(t, redislimit.Config{URL: url, Prefix: prefix, Timeout: 5 * time.Second})
	rl := &keyhub.RateLimit{Limit: 2, Duration: keyhub.Duration(time.Minute)}
	t0 := time.Unix(1_800_000_000, 0) // a window's start
	steps := []struct {
		name      string
		at        time.Time
		refund    bool
		ok        bool
		remaining int64
	}{
		{"first", t0, false, true, 1},
		{"second", t0.Add(time.Second), false, true, 0},
		{"over the limit is refused, not counted", t0.Add(2 * time.Second), false, false, 0},
		{"a refund gives one back", t0.Add(3 * time.Second), true, true, 0},
		{"next window starts afresh", t0.Add(time.Minute), false, true, 1},
		{"another key is its own", t0.Add(time.Minute), false, true, 1},
	}
	var last verify.RateLimitState
	for i, s := range steps {
		id := "key_b"
		if i == len(steps)-1 {
			id = "key_c"
		}
		if s.refund {
			l.Refund(ctx, id, last, rl)
		}
		ok, st := l.Take(ctx, id, rl, s.at)
		if ok != s.ok || st.Remaining != s.remaining {
			t.Errorf("%s: ok=%v remaining=%d, want %v %d", s.name, ok, st.Remaining, s.ok, s.remaining)
		}
		wantReset := t0.Add(time.Minute)
		if s.at.Sub(t0) >= time.Minute {
			wantReset = t0.Add(2 * time.Minute)
		}
		if !st.Reset.Equal(wantReset) {
			t.Errorf("%s: reset %v, want %v", s.name, st.Reset, wantReset)
		}
		last = st
	}
}

// TestPolicies: with Redis unreachable, each policy answers as documented,
// /readyz's reason is set and the metric counts every fallback.
func TestPolicies(t *testing.T) {
	srv := redistest.Start(t)
	url := srv.URL()
	srv.Stop() // a port where nothing answers
	rl := &keyhub.RateLimit{Limit: 10, Duration: keyhub.Duration(time.Hour)}
	cases := []struct {
		policy  redislimit.Policy
		nodes   int
		allowed int
	}{
		{redislimit.PerNode, 3, 3},
		{redislimit.PerNode, 1, 10},
		{redislimit.PerNode, 0, 10}, // no count yet: this node alone
		{redislimit.PerNode, 20, 0}, // a share below one allows nothing
		{redislimit.FailOpen, 3, 25},
		{redislimit.FailClosed, 3, 0},
	}
	for _, c := range cases {
		t.Run(string(c.policy), func(t *testing.T) {
			reg := prometheus.NewRegistry()
			l := newLimiter(t, redislimit.Config{URL: url, Policy: c.policy, Nodes: func() int { return c.nodes },
				Timeout: 200 * time.Millisecond, Metrics: reg})
			allowed := 0
			for range 25 {
				if ok, _ := l.Take(ctx, "key_d", rl, time.Now()); ok {
					allowed++
				}
			}
			if allowed != c.allowed {
				t.Errorf("%d nodes: allowed %d of 25, want %d", c.nodes, allowed, c.allowed)
			}
			if d := l.Degraded(); !strings.Contains(d, string(c.policy)) {
				t.Errorf("Degraded() = %q, want the policy named", d)
			}
			n := testutil.ToFloat64(l.Fallbacks(c.policy))
			if n != 25 {
				t.Errorf("fallbacks metric %v, want 25", n)
			}
			if got := testutil.ToFloat64(upGauge(t, reg)); got != 0 {
				t.Errorf("keyhub_ratelimit_redis_up = %v, want 0", got)
			}
		})
	}
}

func upGauge(t *testing.T, reg *prometheus.Registry) prometheus.Collector {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "keyhub_ratelimit_redis_up" {
			return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "up"}, func() float64 { return mf.GetMetric()[0].GetGauge().GetValue() })
		}
	}
	t.Fatal("no keyhub_ratelimit_redis_up")
	return nil
}

// TestRecovery: a Redis that goes away mid-use is fallen back from at once
// and counted on again once it is back, without a restart of the node. The
// fallback starts from the count Redis last answered, and what it allowed
// is added to Redis when it is back: a Redis that only hung keeps the
// window exact; one that restarted empty has lost the uses before.
func TestRecovery(t *testing.T) {
	cases := []struct {
		name       string
		away, back func(*redistest.Server)
		after      int
		// inFlight is how many uses a call that timed out may have left
		// for Redis to count late, as well as the fallback: a use
		// refused too many, never one allowed too many.
		inFlight int
	}{
		{"Restarted", (*redistest.Server).Stop, (*redistest.Server).Restart, 10 - 3, 0},
		{"Hung", (*redistest.Server).Pause, (*redistest.Server).Resume, 10 - 4 - 3, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := redistest.Start(t)
			l := newLimiter(t, redislimit.Config{URL: srv.URL(), Nodes: func() int { return 2 }, Timeout: 500 * time.Millisecond,
				Probe: 20 * time.Millisecond})
			run(t, l)
			rl := &keyhub.RateLimit{Limit: 10, Duration: keyhub.Duration(time.Hour)}
			now := time.Now()
			for range 4 {
				if ok, _ := l.Take(ctx, "key_e", rl, now); !ok {
					t.Fatal("refused with Redis up")
				}
			}
			c.away(srv)
			allowed := 0
			for range 10 {
				if ok, _ := l.Take(ctx, "key_e", rl, now); ok {
					allowed++
				}
			}
			// This node's share is 10/2 = 5, less the half of the 4 uses
			// Redis had counted.
			if allowed != 3 || l.Degraded() == "" {
				t.Fatalf("Redis away: allowed %d, want 5 - 4/2 = 3; degraded %q", allowed, l.Degraded())
			}
			c.back(srv)
			for i := 0; l.Degraded() != ""; i++ {
				if i == 1000 {
					t.Fatal("still degraded 10s after Redis came back")
				}
				time.Sleep(10 * time.Millisecond)
			}
			allowed = 0
			for range 15 {
				if ok, _ := l.Take(ctx, "key_e", rl, now); ok {
					allowed++
				}
			}
			if allowed > c.after || allowed < c.after-c.inFlight {
				t.Fatalf("after recovery: allowed %d, want %d counted on Redis (%d fewer at most)", allowed, c.after, c.inFlight)
			}
		})
	}
}

func TestBadURL(t *testing.T) {
	for _, u := range []string{"", "http://host", "redis://host:port"} {
		if _, err := redislimit.New(redislimit.Config{URL: u}); err == nil {
			t.Errorf("New(%q) accepted", u)
		} else if strings.Contains(err.Error(), "password") {
			t.Errorf("error %q", err)
		}
	}
}

func TestParsePolicy(t *testing.T) {
	for in, want := range map[string]redislimit.Policy{"per-node": redislimit.PerNode, "fail-open": redislimit.FailOpen,
		"fail-closed": redislimit.FailClosed, "": "", "closed": ""} {
		got, err := redislimit.ParsePolicy(in)
		if got != want || (err == nil) != (want != "") {
			t.Errorf("ParsePolicy(%q) = %q, %v", in, got, err)
		}
	}
}

// TestNodesCount: two heartbeats on one store count each other.
func TestNodesCount(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.db")
	var nodes []*redislimit.Nodes
	for range 2 {
		s, err := sqlite.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		nodes = append(nodes, redislimit.NewNodes(s, time.Second, nil))
	}
	if got := nodes[0].Count(); got != 1 {
		t.Fatalf("before a beat: %d nodes, want 1", got)
	}
	for _, n := range nodes {
		if err := n.Beat(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := nodes[0].Beat(ctx); err != nil {
		t.Fatal(err)
	}
	if got := nodes[0].Count(); got != 2 {
		t.Fatalf("%d nodes, want 2", got)
	}
}
