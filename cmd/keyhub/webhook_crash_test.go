package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/keyhub/keyhub/internal/apitest"
)

// TestWebhookSurvivesKill: the node delivering an event is killed with
// SIGKILL while the endpoint holds the request; restarted, keyhub sends the
// event again once the dead node's lease ends, and the endpoint acknowledges
// every event exactly once, each with a valid signature. Nothing is lost.
func TestWebhookSurvivesKill(t *testing.T) {
	t.Parallel()
	for _, st := range apitest.Stores() {
		t.Run(st.Name, func(t *testing.T) {
			dsn := st.New(t)
			opts := serveOpts{db: dsn, dir: t.TempDir(), env: []string{"KEYHUB_WEBHOOK_ALLOW_PRIVATE=true", "KEYHUB_WEBHOOK_TIMEOUT=1s"}}
			if mk := apitest.MasterKey(dsn); mk != "" {
				opts.env = append(opts.env, "KEYHUB_MASTER_KEY="+mk)
			}
			var (
				mu     sync.Mutex
				secret []byte
				acked  = map[string]int{}
				held   = make(chan struct{}, 1)
				hold   = true
			)
			recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				mu.Lock()
				first := hold
				hold = false
				mu.Unlock()
				if first {
					held <- struct{}{}
					<-r.Context().Done() // until the node dies
					return
				}
				id, ts := r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp")
				m := hmac.New(sha256.New, secret)
				m.Write([]byte(id + "." + ts + "." + string(body)))
				if r.Header.Get("webhook-signature") != "v1,"+base64.StdEncoding.EncodeToString(m.Sum(nil)) {
					w.WriteHeader(400)
					return
				}
				mu.Lock()
				acked[id]++
				mu.Unlock()
				w.WriteHeader(204)
			}))
			defer recv.Close()

			s := startServer(t, opts)
			op := s.Operator
			tid := s.Tenant("acme", nil)
			h := s.Native(201, "POST", "/v1/webhooks", op, tid, map[string]any{"url": recv.URL, "events": []string{"api_key.created"}})
			raw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(h["signing_secret"].(string), "whsec_"))
			mu.Lock()
			secret = raw
			mu.Unlock()
			s.Key(tid, map[string]any{"name": "first"})
			select {
			case <-held:
			case <-time.After(30 * time.Second):
				t.Fatal("the first delivery never arrived")
			}
			s.cmd.Process.Signal(syscall.SIGKILL)
			s.wait(10 * time.Second)

			s = startServer(t, opts)
			s.Operator = op // a restart prints no new operator key
			s.Key(tid, map[string]any{"name": "second"})
			for range 400 { // the dead node's lease is 2×1s + 5s
				mu.Lock()
				n := len(acked)
				mu.Unlock()
				if n == 2 {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(acked) != 2 {
				t.Fatalf("acknowledged %v, want both events", acked)
			}
			for id, n := range acked {
				if n != 1 {
					t.Errorf("%s acknowledged %d times", id, n)
				}
			}
		})
	}
}
