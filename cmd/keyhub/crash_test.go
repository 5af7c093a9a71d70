package main

import (
	"encoding/json"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/keyhub/keyhub/internal/apitest"
)

// TestCreditsSurviveCrashes spends credits from many clients, kills the
// server with SIGKILL mid-flight, restarts it, and checks that the stored
// balance is never higher than the initial one minus every VALID answer a
// client received: a crash can lose an answer, never hand out a credit
// twice. In the end no more VALID answers were given than credits existed.
func TestCreditsSurviveCrashes(t *testing.T) {
	for _, st := range apitest.Stores() {
		t.Run(st.Name, func(t *testing.T) {
			dsn := st.New(t)
			opts := serveOpts{db: dsn, dir: t.TempDir()}
			if mk := apitest.MasterKey(dsn); mk != "" {
				opts.env = []string{"KEYHUB_MASTER_KEY=" + mk}
			}
			const balance = 400
			s := startServer(t, opts)
			op := s.Operator
			tid := s.Tenant("acme", nil)
			k, secret := s.Key(tid, map[string]any{"name": "metered", "credits": map[string]any{"remaining": balance}})
			id := k["id"].(string)

			var valid atomic.Int64
			// spend verifies the key from 8 clients until stop is closed,
			// the credits run out or the server is gone. It runs beside the
			// test goroutine, so it uses Send, which never fails the test.
			spend := func(c *apitest.Client, stop <-chan struct{}) {
				var wg sync.WaitGroup
				for range 8 {
					wg.Go(func() {
						for {
							select {
							case <-stop:
								return
							default:
							}
							r, err := c.Send("POST", "/v1/keys/verify", map[string]any{"key": secret}, apitest.Auth(op, "")...)
							if err != nil || r.Status != 200 {
								return // the server is gone
							}
							var v map[string]any
							json.Unmarshal(r.Body, &v)
							switch v["code"] {
							case "VALID":
								valid.Add(1)
							case "USAGE_EXCEEDED":
								return
							}
						}
					})
				}
				wg.Wait()
			}
			for round := range 3 {
				stop := make(chan struct{})
				done := make(chan struct{})
				go func() { spend(s.Client, stop); close(done) }()
				target := int64(round+1) * 80
				for valid.Load() < target {
					time.Sleep(time.Millisecond)
				}
				s.cmd.Process.Signal(syscall.SIGKILL)
				s.wait(10 * time.Second)
				close(stop)
				<-done
				s = startServer(t, opts)
				if s.Operator != "" {
					t.Fatal("a restart printed a new operator key")
				}
				got := s.Native(200, "GET", "/v1/api-keys/"+id, op, tid, nil)
				remaining := int64(got["credits"].(map[string]any)["remaining"].(float64))
				if seen := valid.Load(); remaining > balance-seen {
					t.Fatalf("round %d: %d credits remain after %d VALID answers from %d: a credit would be handed out twice", round, remaining, seen, balance)
				}
			}
			// Spend the rest: never more VALID answers than credits.
			spend(s.Client, make(chan struct{}))
			if v := valid.Load(); v > balance {
				t.Fatalf("%d VALID answers for %d credits", v, balance)
			}
			got := s.Native(200, "GET", "/v1/api-keys/"+id, op, tid, nil)
			if r := got["credits"].(map[string]any)["remaining"].(float64); r != 0 {
				t.Fatalf("%v credits remain after spending until refused", r)
			}
		})
	}
}
