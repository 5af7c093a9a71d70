package main

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/keyhub/keyhub/internal/store/postgres/pgtest"
)

// api sends one JSON request to a running server.
func api(t *testing.T, method, url, key, tenant string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, url, rd)
	req.Header.Set("Authorization", "Bearer "+key)
	if tenant != "" {
		req.Header.Set("Keyhub-Tenant", tenant)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil
	}
	defer res.Body.Close()
	var m map[string]any
	json.NewDecoder(res.Body).Decode(&m)
	return res.StatusCode, m
}

// TestCreditsSurviveCrashes spends credits from many clients, kills the
// server with SIGKILL mid-flight, restarts it, and checks that the stored
// balance is never higher than the initial one minus every VALID answer a
// client received: a crash can lose an answer, never hand out a credit
// twice. In the end no more VALID answers were given than credits existed.
func TestCreditsSurviveCrashes(t *testing.T) {
	dsns := map[string]func(t *testing.T) (serveOpts, string){
		"sqlite": func(t *testing.T) (serveOpts, string) {
			dir := t.TempDir()
			return serveOpts{dir: dir, db: "sqlite:" + filepath.Join(dir, "keyhub.db")}, ""
		},
	}
	if os.Getenv("KEYHUB_TEST_POSTGRES") != "" {
		dsns["postgres"] = func(t *testing.T) (serveOpts, string) {
			var mk [32]byte
			rand.Read(mk[:])
			return serveOpts{dir: t.TempDir(), db: pgtest.URL(t), env: []string{"KEYHUB_MASTER_KEY=" + base64.StdEncoding.EncodeToString(mk[:])}}, ""
		}
	}
	for name, mk := range dsns {
		t.Run(name, func(t *testing.T) {
			opts, _ := mk(t)
			const balance = 400
			s := startServer(t, opts)
			op := s.Key
			_, ten := api(t, "POST", s.URL+"/v1/tenants", op, "", map[string]any{"name": "acme"})
			tid := ten["id"].(string)
			_, k := api(t, "POST", s.URL+"/v1/api-keys", op, tid, map[string]any{"name": "metered", "credits": map[string]any{"remaining": balance}})
			id, secret := k["id"].(string), k["key"].(string)

			var valid atomic.Int64
			spend := func(url string, stop <-chan struct{}) {
				var wg sync.WaitGroup
				for range 8 {
					wg.Go(func() {
						for {
							select {
							case <-stop:
								return
							default:
							}
							code, v := api(t, "POST", url+"/v1/keys/verify", op, "", map[string]any{"key": secret})
							if code != 200 {
								return // the server is gone
							}
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
				go func() { spend(s.URL, stop); close(done) }()
				target := int64(round+1) * 80
				for valid.Load() < target {
					time.Sleep(time.Millisecond)
				}
				s.cmd.Process.Signal(syscall.SIGKILL)
				s.wait(10 * time.Second)
				close(stop)
				<-done
				s = startServer(t, opts)
				if s.Key != "" {
					t.Fatal("a restart printed a new operator key")
				}
				_, got := api(t, "GET", s.URL+"/v1/api-keys/"+id, op, tid, nil)
				remaining := int64(got["credits"].(map[string]any)["remaining"].(float64))
				if seen := valid.Load(); remaining > balance-seen {
					t.Fatalf("round %d: %d credits remain after %d VALID answers from %d: a credit would be handed out twice", round, remaining, seen, balance)
				}
			}
			// Spend the rest: never more VALID answers than credits.
			spend(s.URL, make(chan struct{}))
			if v := valid.Load(); v > balance {
				t.Fatalf("%d VALID answers for %d credits", v, balance)
			}
			_, got := api(t, "GET", s.URL+"/v1/api-keys/"+id, op, tid, nil)
			if r := got["credits"].(map[string]any)["remaining"].(float64); r != 0 {
				t.Fatalf("%v credits remain after spending until refused", r)
			}
		})
	}
}
