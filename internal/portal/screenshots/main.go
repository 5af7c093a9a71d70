// Command screenshots writes screenshots of the portal's main pages to
// docs/portal/, for the README:
//
//	go run ./internal/portal/screenshots [-out docs/portal] [-chromium /usr/bin/chromium]
//
// It runs keyhub in-process on a fresh SQLite file, fills it with a
// made-up tenant (keys, roles, clients, members, a day and a week of
// usage), and photographs the pages in headless Chromium.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/apitest"
	"github.com/keyhub/keyhub/internal/app"
	"github.com/keyhub/keyhub/internal/store/sqlite"
)

func main() {
	out := flag.String("out", "docs/portal", "folder the PNG files go to")
	chromium := flag.String("chromium", envOr("KEYHUB_TEST_CHROMIUM", "/usr/bin/chromium"), "the browser")
	flag.Parse()
	if err := run(*out, *chromium); err != nil {
		log.Fatal(err)
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func run(out, chromium string) error {
	dir, err := os.MkdirTemp("", "keyhub-screenshots-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	db := filepath.Join(dir, "keyhub.db")
	var stdout syncBuffer
	addr := make(chan string, 1)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	done := make(chan error, 1)
	go func() {
		done <- app.Run(ctx, app.Config{Addr: "127.0.0.1:0", DB: "sqlite:" + db, Stdout: &stdout, MailDir: filepath.Join(dir, "mail"),
			Log: slog.New(slog.DiscardHandler), OnListen: func(a string) { addr <- a }})
	}()
	var base string
	select {
	case a := <-addr:
		base = "http://" + a
	case err := <-done:
		return err
	}
	defer func() { stop(); <-done }()
	op := apitest.BootstrapKeyIn(stdout.String())
	if op == "" {
		return fmt.Errorf("no bootstrap key in the server's output")
	}
	d, err := seed(base, op)
	if err != nil {
		return fmt.Errorf("seeding: %w", err)
	}
	if err := history(db, d); err != nil {
		return fmt.Errorf("usage history: %w", err)
	}
	return shoot(base, op, chromium, out, d)
}

// demo is what seed made.
type demo struct {
	tenant, key, handoff string
	keys                 []string
}

// api calls the native API as the operator on the demo tenant.
type api struct{ base, key, tenant string }

func (a api) call(method, path string, body any) (map[string]any, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, a.base+path, rd)
	req.Header.Set("Authorization", "Bearer "+a.key)
	if a.tenant != "" {
		req.Header.Set("Keyhub-Tenant", a.tenant)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(res.Body).Decode(&m)
	if res.StatusCode >= 300 {
		return nil, fmt.Errorf("%s %s: %d %v", method, path, res.StatusCode, m)
	}
	return m, nil
}

func seed(base, op string) (*demo, error) {
	a := api{base: base, key: op}
	t, err := a.call("POST", "/v1/tenants", map[string]any{"name": "acme"})
	if err != nil {
		return nil, err
	}
	d := &demo{tenant: t["id"].(string)}
	for _, n := range []string{"globex", "initech", "umbrella"} {
		if _, err := a.call("POST", "/v1/tenants", map[string]any{"name": n}); err != nil {
			return nil, err
		}
	}
	for _, sc := range [][2]string{{"payouts:read", "Read payouts"}, {"payouts:write", "Send payouts"},
		{"customers:read", "Read customers"}, {"webhooks:manage", "Manage webhook endpoints"}} {
		if _, err := a.call("POST", "/v1/scopes", map[string]any{"name": sc[0], "description": sc[1]}); err != nil {
			return nil, err
		}
	}
	a.tenant = d.tenant
	ops, err := a.call("POST", "/v1/roles", map[string]any{"name": "ops", "description": "Backends that move money", "scopes": []string{"payouts:read", "payouts:write"}})
	if err != nil {
		return nil, err
	}
	if _, err := a.call("POST", "/v1/roles", map[string]any{"name": "read-only", "scopes": []string{"payouts:read", "customers:read"}}); err != nil {
		return nil, err
	}
	soon := time.Now().Add(2 * time.Second).UTC().Format(time.RFC3339)
	for _, k := range []map[string]any{
		{"name": "legacy-importer", "environment": "test", "expires_at": soon},
		{"name": "ci", "environment": "test", "scopes": []string{"customers:read"}},
		{"name": "reporting", "scopes": []string{"customers:read", "payouts:read"}, "enabled": false},
		{"name": "webhook-relay", "scopes": []string{"webhooks:manage"}, "ips": []string{"203.0.113.0/24"}},
		{"name": "billing-backend", "role_id": ops["id"], "scopes": []string{"customers:read"}, "ips": []string{"10.0.0.0/8"},
			"ratelimit": map[string]any{"limit": 600, "duration": "1m"}, "meta": map[string]any{"plan": "pro"},
			"credits": map[string]any{"remaining": 48210, "refill": map[string]any{"amount": 50000, "interval": "monthly"}}},
	} {
		m, err := a.call("POST", "/v1/api-keys", k)
		if err != nil {
			return nil, err
		}
		d.keys = append(d.keys, m["id"].(string))
		d.key = m["id"].(string)
		if k["name"] == "billing-backend" {
			for range 3 {
				_, _ = api{base: base, key: op}.call("POST", "/v1/keys/verify", map[string]any{"key": m["key"], "scopes": []string{"payouts:write"}, "ip": "10.2.3.4"})
			}
		}
	}
	if _, err := a.call("DELETE", "/v1/api-keys/"+d.keys[1], nil); err != nil {
		return nil, err
	}
	if _, err := a.call("POST", "/v1/clients", map[string]any{"name": "deploy-bot", "scopes": []string{"payouts:read"}}); err != nil {
		return nil, err
	}
	for _, m := range []map[string]any{
		{"email": "grace@acme.test", "name": "Grace Hopper", "scopes": []string{"read:api_keys", "read:roles", "read:clients", "read:audit", "read:members"}},
		{"email": "linus@acme.test", "name": "Linus Torvalds", "scopes": []string{"read:api_keys", "create:api_keys", "update:api_keys", "delete:api_keys", "payouts:read"}},
	} {
		if _, err := a.call("POST", "/v1/members", m); err != nil {
			return nil, err
		}
	}
	h, err := a.call("POST", "/v1/portal/sessions", map[string]any{"user": map[string]any{"id": "u_ada", "email": "ada@acme.test", "name": "Ada Lovelace"},
		"scopes": []string{"*"}})
	if err != nil {
		return nil, err
	}
	d.handoff = h["url"].(string)
	time.Sleep(2 * time.Second) // legacy-importer expires
	return d, nil
}

// history writes made-up hourly usage of the last 30 days for the demo's
// key, through a second handle on the same SQLite file.
func history(db string, d *demo) error {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, db)
	if err != nil {
		return err
	}
	defer st.Close()
	r := rand.New(rand.NewPCG(1, 2))
	now := time.Now().UTC().Truncate(time.Hour)
	var counts []keyhub.UsageCount
	for h := 0; h < 30*24; h++ {
		hour := now.Add(-time.Duration(h) * time.Hour)
		busy := 40 + 30*float64((hour.Hour()+18)%24)/24
		counts = append(counts, keyhub.UsageCount{KeyID: d.key, TenantID: d.tenant, Hour: hour, Code: "VALID", Count: int64(busy + r.Float64()*30)})
		if r.IntN(3) == 0 {
			counts = append(counts, keyhub.UsageCount{KeyID: d.key, TenantID: d.tenant, Hour: hour, Code: "RATE_LIMITED", Count: int64(r.IntN(12))})
		}
		if r.IntN(6) == 0 {
			counts = append(counts, keyhub.UsageCount{KeyID: d.key, TenantID: d.tenant, Hour: hour, Code: "INSUFFICIENT_SCOPE", Count: int64(1 + r.IntN(5))})
		}
		if r.IntN(10) == 0 {
			counts = append(counts, keyhub.UsageCount{KeyID: d.key, TenantID: d.tenant, Hour: hour, Code: "FORBIDDEN_IP", Count: int64(1 + r.IntN(3))})
		}
	}
	return st.Update(ctx, func(tx keyhub.Tx) error { return tx.AddUsage(ctx, counts) })
}

// shot is one screenshot: a page at a width, or what a step shows.
type shot struct {
	name  string
	path  string
	width int64
	// viewport takes only what a screen shows, not the whole page.
	viewport bool
	// before runs after the page loads, such as filling a form.
	before func(ctx context.Context) error
}

func shoot(base, op, chromium, out string, d *demo) error {
	actx, cancel := chromedp.NewExecAllocator(context.Background(), chromedp.ExecPath(chromium), chromedp.Headless,
		chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true), chromedp.Flag("hide-scrollbars", true))
	defer cancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()
	if err := chromedp.Do(bctx); err != nil {
		return err
	}
	ctx, tcancel := context.WithTimeout(bctx, 3*time.Minute)
	defer tcancel()

	// A member, handed over by the platform.
	member, mcancel := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	defer mcancel()
	if err := chromedp.Do(member, chromedp.EmulateViewport(1280, 800), chromedp.Navigate(d.handoff)); err != nil {
		return err
	}
	shots := []shot{
		{name: "keys", path: "/portal/keys", width: 1280},
		{name: "key", path: "/portal/keys/" + d.key, width: 1280},
		{name: "key-new", path: "/portal/keys/new", width: 1280},
		{name: "secret", path: "/portal/keys/new", width: 1280, before: func(ctx context.Context) error {
			return chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#name"), "payouts-worker"),
				chromedp.SendKeys(chromedp.CSS("#scopes"), "payouts:write"), chromedp.Click(chromedp.CSS(`form[action="/portal/keys"] button[type=submit]`)),
				chromedp.WaitVisible(chromedp.CSS("#secret")))
		}},
		{name: "members", path: "/portal/members", width: 1280},
		{name: "audit", path: "/portal/audit", width: 1280, viewport: true},
		{name: "phone-keys", path: "/portal/keys", width: 390},
	}
	for _, s := range shots {
		if err := capture(member, base, out, s); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	// Signed out, and the operator.
	anon, acancel := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	defer acancel()
	if err := capture(anon, base, out, shot{name: "sign-in", path: "/portal/sign-in", width: 1280}); err != nil {
		return err
	}
	if err := chromedp.Do(anon, chromedp.Navigate(base+"/portal/sign-in"), chromedp.SendKeys(chromedp.CSS("#key"), op),
		chromedp.Click(chromedp.CSS(`#by-key ~ form button[type=submit]`)), chromedp.WaitVisible(chromedp.CSS("nav.side"))); err != nil {
		return err
	}
	return capture(anon, base, out, shot{name: "tenants", path: "/portal/tenants", width: 1280})
}

func capture(ctx context.Context, base, out string, s shot) error {
	h := int64(800)
	if s.width < 600 {
		h = 844
	}
	opts := []chromedp.EmulateViewportOption{}
	if s.width < 600 {
		opts = append(opts, chromedp.EmulateMobile)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(s.width, h, opts...), chromedp.Navigate(base+s.path)); err != nil {
		return err
	}
	if s.before != nil {
		if err := s.before(ctx); err != nil {
			return err
		}
	}
	shoot := chromedp.FullScreenshot(100)
	if s.viewport {
		shoot = chromedp.CaptureScreenshot()
	}
	png, err := chromedp.Run(ctx, shoot)
	if err != nil {
		return err
	}
	name := filepath.Join(out, s.name+".png")
	if err := os.WriteFile(name, png, 0o644); err != nil {
		return err
	}
	fmt.Println("wrote", name)
	return nil
}

// syncBuffer is a bytes.Buffer safe for the server's writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Clone(s.b.String())
}
