package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/keyhub/keyhub/internal/apitest"
	"github.com/keyhub/keyhub/internal/redislimit/redistest"
)

// TestThreeNodesOnRedis runs three keyhub processes on one PostgreSQL and
// one Redis of the test's own, and checks what README's "Scaling out"
// promises: a rate limit is exact across the nodes, credits are exact, a
// revocation on one node reaches the others within a second, a Redis that
// stops is fallen back from (each node allows limit/nodes) and counted on
// again once it is back, and a node killed mid-load leaves the other two
// answering with nothing oversold.
func TestThreeNodesOnRedis(t *testing.T) {
	if os.Getenv("KEYHUB_TEST_POSTGRES") == "" && os.Getenv("CI") == "" {
		t.Skip("KEYHUB_TEST_POSTGRES not set: the three-node test needs PostgreSQL")
	}
	dsn := apitest.Postgres(t)
	rds := redistest.Start(t)
	env := []string{"KEYHUB_MASTER_KEY=" + apitest.MasterKey(dsn), "KEYHUB_REDIS=" + rds.URL(), "KEYHUB_REDIS_TIMEOUT=5s"}
	nodes := make([]*server, 3)
	for i := range nodes {
		nodes[i] = startServer(t, serveOpts{db: dsn, env: env})
	}
	op := nodes[0].Operator
	for _, n := range nodes[1:] {
		n.Operator = op
	}
	tid := nodes[0].Tenant("acme", nil)

	// verify asks node n once; it never fails the test, so goroutines may
	// call it, and a node that is gone answers an error.
	verify := func(n *server, key string) (map[string]any, error) {
		r, err := n.Send("POST", "/v1/keys/verify", map[string]any{"key": key}, apitest.Auth(op, "")...)
		if err != nil {
			return nil, err
		}
		if r.Status != 200 {
			return nil, fmt.Errorf("verify: %d %s", r.Status, r.Body)
		}
		var v map[string]any
		err = json.Unmarshal(r.Body, &v)
		return v, err
	}
	// burst sends per requests to each of the nodes at once and counts the
	// VALID answers per node, with the windows (ratelimit.reset) answered.
	burst := func(ns []*server, key string, per int) (valid []int, resets map[float64]bool) {
		valid = make([]int, len(ns))
		resets = map[float64]bool{}
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i, n := range ns {
			for range per {
				wg.Go(func() {
					v, err := verify(n, key)
					mu.Lock()
					defer mu.Unlock()
					if err != nil {
						t.Errorf("node %d: %v", i, err)
						return
					}
					if v["code"] == "VALID" {
						valid[i]++
					}
					if rl, ok := v["ratelimit"].(map[string]any); ok {
						resets[rl["reset"].(float64)] = true
					}
				})
			}
		}
		wg.Wait()
		return valid, resets
	}
	sum := func(xs []int) int {
		n := 0
		for _, x := range xs {
			n += x
		}
		return n
	}
	limited := func(name string, limit int, window string) string {
		_, key := nodes[0].Key(tid, map[string]any{"name": name, "ratelimit": map[string]any{"limit": limit, "duration": window}})
		return key
	}

	t.Run("RateLimitExactAcrossNodes", func(t *testing.T) {
		// 10 a minute: a burst that straddles a minute's end counts in two
		// windows, so such a burst is tried again with a new key.
		for attempt := range 3 {
			valid, resets := burst(nodes, limited(fmt.Sprintf("ten-%d", attempt), 10, "1m"), 10)
			if len(resets) > 1 {
				continue
			}
			if got := sum(valid); got != 10 {
				t.Fatalf("10/min across three nodes: %d VALID of 30 (per node %v), want exactly 10", got, valid)
			}
			return
		}
		t.Fatal("three bursts in a row straddled a minute's end")
	})

	t.Run("CreditsExact", func(t *testing.T) {
		k, key := nodes[0].Key(tid, map[string]any{"name": "metered", "credits": map[string]any{"remaining": 60},
			"ratelimit": map[string]any{"limit": 1000, "duration": "1h"}})
		valid, _ := burst(nodes, key, 30)
		if got := sum(valid); got != 60 {
			t.Fatalf("60 credits across three nodes: %d VALID of 90 (per node %v), want exactly 60", got, valid)
		}
		got := nodes[1].Native(200, "GET", "/v1/api-keys/"+k["id"].(string), op, tid, nil)
		if rem := got["credits"].(map[string]any)["remaining"]; rem != float64(0) {
			t.Fatalf("credits remaining %v, want 0", rem)
		}
	})

	t.Run("RevokeSeenWithinOneSecond", func(t *testing.T) {
		k, key := nodes[0].Key(tid, map[string]any{"name": "doomed"})
		for _, n := range nodes[1:] {
			if v, err := verify(n, key); err != nil || v["code"] != "VALID" {
				t.Fatalf("warming: %v %v", v, err)
			}
		}
		nodes[0].Native(200, "DELETE", "/v1/api-keys/"+k["id"].(string), op, tid, nil)
		start := time.Now()
		for i, n := range nodes[1:] {
			for {
				v, err := verify(n, key)
				if err != nil {
					t.Fatal(err)
				}
				if v["code"] == "REVOKED" {
					break
				}
				if time.Since(start) > time.Second {
					t.Fatalf("node %d still answers %v a second after the revocation", i+1, v["code"])
				}
				time.Sleep(5 * time.Millisecond)
			}
		}
	})

	t.Run("RedisDownFallsBackThenRecovers", func(t *testing.T) {
		// Each node's share is limit/nodes, so first every node must
		// count three in its heartbeat.
		for i, n := range nodes {
			waitFor(t, fmt.Sprintf("node %d to count 3 nodes", i), func() bool { return metric(t, n, "keyhub_nodes") == "3" })
		}
		key := limited("during-outage", 30, "1h")
		rds.Stop()
		valid, _ := burst(nodes, key, 20)
		for i, v := range valid {
			if v != 10 {
				t.Errorf("node %d allowed %d of 20 with Redis down, want its share 30/3 = 10", i, v)
			}
		}
		for i, n := range nodes {
			if st := readyz(t, n); st != "degraded" {
				t.Errorf("node %d /readyz status %q with Redis down, want degraded", i, st)
			}
			if m := metric(t, n, `keyhub_ratelimit_fallbacks_total{policy="per-node"}`); m == "" || m == "0" {
				t.Errorf("node %d counted %q fallbacks", i, m)
			}
		}
		rds.Restart()
		for i, n := range nodes {
			waitFor(t, fmt.Sprintf("node %d to be ready again", i), func() bool { return readyz(t, n) == "ready" })
		}
		// What the nodes allowed meanwhile was added to the restarted
		// Redis: the window stays used up.
		for i, n := range nodes {
			if v, err := verify(n, key); err != nil || v["code"] != "RATE_LIMITED" {
				t.Errorf("node %d after recovery: %v %v, want the outage's uses still counted (RATE_LIMITED)", i, v, err)
			}
		}
		valid, _ = burst(nodes, limited("after-outage", 10, "1h"), 10)
		if got := sum(valid); got != 10 {
			t.Fatalf("after Redis came back: %d VALID of 30 (per node %v), want exactly 10", got, valid)
		}
	})

	t.Run("NodeKilledMidLoad", func(t *testing.T) {
		const limit = 60
		key := limited("under-load", limit, "1h")
		var valid, lost atomic.Int64
		var started atomic.Int64
		var wg sync.WaitGroup
		for i, n := range nodes {
			for range 4 {
				wg.Go(func() {
					for range 40 {
						v, err := verify(n, key)
						started.Add(1)
						if err != nil {
							if i != 2 {
								t.Errorf("node %d stopped answering: %v", i, err)
							}
							lost.Add(1)
							return
						}
						if v["code"] == "VALID" {
							valid.Add(1)
						}
					}
				})
			}
		}
		// Kill node 2 once the load is under way; each client makes at
		// most 40 requests, so this loop ends either way.
		for i := 0; started.Load() < 30 && i < 2000; i++ {
			time.Sleep(time.Millisecond)
		}
		nodes[2].cmd.Process.Signal(syscall.SIGKILL)
		wg.Wait()
		nodes[2].wait(10 * time.Second)
		// Answers node 2 counted but never sent are lost, never resold.
		if got := valid.Load(); got > limit || got < limit-4 {
			t.Fatalf("%d VALID with limit %d and node 2 killed mid-load (4 answers at most lost with it)", got, limit)
		}
		for i, n := range nodes[:2] {
			if v, err := verify(n, key); err != nil || v["code"] != "RATE_LIMITED" {
				t.Fatalf("node %d after the load: %v %v, want RATE_LIMITED", i, v, err)
			}
		}
	})
}

// waitFor polls ok for up to 15 s; the bound only keeps a broken node from
// hanging the test, it measures nothing.
func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for i := 0; !ok(); i++ {
		if i == 750 {
			t.Fatalf("waited 15s for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// readyz is the status /readyz answers.
func readyz(t *testing.T, s *server) string {
	t.Helper()
	r, err := s.Send("GET", "/readyz", nil)
	if err != nil {
		t.Fatal(err)
	}
	var v struct{ Status string }
	json.Unmarshal(r.Body, &v)
	return v.Status
}

// metric is the value of the sample name (with its labels) on s's
// /metrics, "" when it has none.
func metric(t *testing.T, s *server, name string) string {
	t.Helper()
	r, err := s.Send("GET", "/metrics", nil)
	if err != nil || r.Status != 200 {
		t.Fatalf("/metrics: %v %d", err, r.Status)
	}
	for line := range strings.SplitSeq(string(r.Body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return v
		}
	}
	return ""
}
