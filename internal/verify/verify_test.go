package verify_test

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/authn"
	"github.com/keyhub/keyhub/internal/secret"
	"github.com/keyhub/keyhub/internal/service"
	"github.com/keyhub/keyhub/internal/store/postgres"
	"github.com/keyhub/keyhub/internal/store/postgres/pgtest"
	"github.com/keyhub/keyhub/internal/store/sqlite"
	"github.com/keyhub/keyhub/internal/verify"
)

// countingStore counts read transactions, to prove what the cache saves.
type countingStore struct {
	keyhub.Store
	views atomic.Int64
}

func (c *countingStore) View(ctx context.Context, fn func(keyhub.Tx) error) error {
	c.views.Add(1)
	return c.Store.View(ctx, fn)
}

// SpendCreditsNow keeps the store's spend outside a transaction, when it
// has one, visible through the wrapper.
func (c *countingStore) SpendCreditsNow(ctx context.Context, id string, cost int64, period time.Time) (int64, bool, error) {
	return spendNow(ctx, c.Store, id, cost, period)
}

// spendNow spends through st's keyhub.CreditSpender, or in an Update.
func spendNow(ctx context.Context, st keyhub.Store, id string, cost int64, period time.Time) (int64, bool, error) {
	if sp, ok := st.(keyhub.CreditSpender); ok {
		return sp.SpendCreditsNow(ctx, id, cost, period)
	}
	var (
		n   int64
		ok  bool
		err error
	)
	err = st.Update(ctx, func(tx keyhub.Tx) error {
		n, ok, err = tx.SpendCredits(ctx, id, cost, period)
		return err
	})
	return n, ok, err
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type env struct {
	svc   *service.Service
	ver   *verify.Verifier
	store *countingStore
	clk   *clock
	op    *keyhub.Caller
}

func openSQLite(t testing.TB) keyhub.Store {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func openPostgres(t testing.TB) keyhub.Store {
	st, err := postgres.Open(context.Background(), pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// stores are the backends every test here runs on.
func stores() map[string]func(testing.TB) keyhub.Store {
	m := map[string]func(testing.TB) keyhub.Store{"sqlite": openSQLite}
	if os.Getenv("KEYHUB_TEST_POSTGRES") != "" {
		m["postgres"] = openPostgres
	}
	return m
}

func newEnv(t testing.TB, st keyhub.Store) *env { return newEnvWith(t, st, verify.Config{}) }

// newEnvWith is newEnv with a verifier configured by cfg (its clock is the
// env's).
func newEnvWith(t testing.TB, st keyhub.Store, cfg verify.Config) *env {
	cs := &countingStore{Store: st}
	clk := &clock{t: time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)}
	cfg.Now = clk.Now
	ver := verify.New(cs, cfg)
	t.Cleanup(ver.Close)
	svc := service.New(verify.NewStore(cs, ver), service.WithClock(clk.Now))
	op := &keyhub.Caller{Principal: &keyhub.Principal{Actor: keyhub.Actor{Type: "operator", ID: "key_test"}, Operator: true, Scopes: []string{"*"}}}
	ten, err := svc.CreateTenant(context.Background(), op, service.TenantCreate{Name: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	op.TenantID = ten.ID
	return &env{svc: svc, ver: ver, store: cs, clk: clk, op: op}
}

func (e *env) create(t testing.TB, in service.KeyCreate) (*keyhub.APIKey, string) {
	t.Helper()
	if in.Name == "" {
		in.Name = "k"
	}
	k, key, err := e.svc.CreateKey(context.Background(), e.op, in)
	if err != nil {
		t.Fatal(err)
	}
	return k, key
}

func (e *env) verify(t testing.TB, key string, scopes ...string) verify.Result {
	t.Helper()
	r, err := e.ver.Verify(context.Background(), verify.Request{Key: key, Scopes: scopes, Cost: 1})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestCacheHitDoesNoStoreIO(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	_, key := e.create(t, service.KeyCreate{Scopes: []string{"a:read"}})
	e.verify(t, key, "a:read")
	before := e.store.views.Load()
	for range 100 {
		if r := e.verify(t, key, "a:read"); r.Code != verify.Valid {
			t.Fatal(r.Code)
		}
	}
	if n := e.store.views.Load() - before; n != 0 {
		t.Fatalf("100 cached verifications read the store %d times", n)
	}
}

func TestNegativeCache(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	unknown := secret.NewKey("kh_live")
	e.verify(t, unknown)
	before := e.store.views.Load()
	for range 50 {
		if r := e.verify(t, unknown); r.Code != verify.NotFound {
			t.Fatal(r.Code)
		}
	}
	if n := e.store.views.Load() - before; n != 0 {
		t.Fatalf("an unknown key read the store %d more times", n)
	}
	// Malformed keys never reach the cache or the store.
	before = e.store.views.Load()
	e.verify(t, "kh_live_"+unknown[8:len(unknown)-1]+"0")
	if e.store.views.Load() != before {
		t.Fatal("a malformed key touched the store")
	}
}

func TestConcurrentMissesLoadOnce(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	_, key := e.create(t, service.KeyCreate{})
	before := e.store.views.Load()
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 32 {
		wg.Go(func() {
			<-start
			if r := e.verify(t, key); r.Code != verify.Valid {
				t.Error(r.Code)
			}
		})
	}
	close(start)
	wg.Wait()
	if n := e.store.views.Load() - before; n > 2 {
		t.Fatalf("32 concurrent misses of one key read the store %d times", n)
	}
}

// TestChangesSeenByNextVerify: every change invalidates before it returns.
func TestChangesSeenByNextVerify(t *testing.T) {
	for name, open := range stores() {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, open(t))
			ctx := context.Background()
			role, err := e.svc.CreateRole(ctx, e.op, service.RoleCreate{Name: "r", Scopes: []string{"labs:read"}})
			if err != nil {
				t.Fatal(err)
			}
			k, key := e.create(t, service.KeyCreate{Scopes: []string{"a:read"}, RoleID: role.ID})
			steps := []struct {
				name   string
				change func() error
				scope  string
				want   verify.Code
			}{
				{"Warm", func() error { return nil }, "labs:read", verify.Valid},
				{"RoleScopeChange", func() error {
					_, err := e.svc.UpdateRole(ctx, e.op, role.ID, service.RolePatch{Scopes: service.Some([]string{"labs:write"})})
					return err
				}, "labs:read", verify.InsufficientScope},
				{"KeyScopeChange", func() error {
					_, err := e.svc.UpdateKey(ctx, e.op, k.ID, service.KeyPatch{Scopes: service.Some([]string{"labs:read"})})
					return err
				}, "labs:read", verify.Valid},
				{"RoleRemoved", func() error {
					_, err := e.svc.UpdateKey(ctx, e.op, k.ID, service.KeyPatch{RoleID: service.Some("")})
					return err
				}, "labs:write", verify.InsufficientScope},
				{"IPs", func() error {
					_, err := e.svc.UpdateKey(ctx, e.op, k.ID, service.KeyPatch{IPs: service.Some([]string{"10.0.0.0/8"})})
					return err
				}, "labs:read", verify.ForbiddenIP},
				{"Disable", func() error {
					_, err := e.svc.UpdateKey(ctx, e.op, k.ID, service.KeyPatch{Enabled: service.Some(ptr(false)), IPs: service.Some([]string{})})
					return err
				}, "labs:read", verify.Disabled},
				{"Enable", func() error {
					_, err := e.svc.UpdateKey(ctx, e.op, k.ID, service.KeyPatch{Enabled: service.Some(ptr(true))})
					return err
				}, "labs:read", verify.Valid},
				{"Revoke", func() error {
					_, err := e.svc.RevokeKey(ctx, e.op, k.ID)
					return err
				}, "labs:read", verify.Revoked},
			}
			for _, s := range steps {
				if err := s.change(); err != nil {
					t.Fatalf("%s: %v", s.name, err)
				}
				if r := e.verify(t, key, s.scope); r.Code != s.want {
					t.Fatalf("%s: next verify answered %s, want %s", s.name, r.Code, s.want)
				}
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestRateLimitBoundaries(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	_, key := e.create(t, service.KeyCreate{Scopes: []string{"a:read"}, RateLimit: &service.RateLimitInput{Limit: 3, Duration: "1m"}})
	// The window is aligned to the minute; start 10s into one.
	e.clk.Add(10 * time.Second)
	for i := range 3 {
		r := e.verify(t, key, "a:read")
		if r.Code != verify.Valid || r.RateLimit.Remaining != int64(2-i) || r.RateLimit.Limit != 3 {
			t.Fatalf("use %d: %s %+v", i, r.Code, r.RateLimit)
		}
	}
	r := e.verify(t, key, "a:read")
	if r.Code != verify.RateLimited || r.RateLimit.Remaining != 0 {
		t.Fatalf("4th use: %s %+v", r.Code, r.RateLimit)
	}
	if want := time.Date(2030, 1, 1, 12, 1, 0, 0, time.UTC); !r.RateLimit.Reset.Equal(want) {
		t.Fatalf("reset %v, want %v", r.RateLimit.Reset, want)
	}
	// A request refused for another reason consumes nothing.
	e.clk.Add(50*time.Second - time.Nanosecond)
	if r := e.verify(t, key, "a:read"); r.Code != verify.RateLimited {
		t.Fatalf("a nanosecond before the window ends: %s", r.Code)
	}
	e.clk.Add(time.Nanosecond)
	if r := e.verify(t, key, "b:write"); r.Code != verify.InsufficientScope {
		t.Fatal(r.Code)
	}
	for i := range 3 {
		if r := e.verify(t, key, "a:read"); r.Code != verify.Valid {
			t.Fatalf("new window use %d: %s", i, r.Code)
		}
	}
}

func TestCreditsNeverOversold(t *testing.T) {
	for name, open := range stores() {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, open(t))
			const balance = 500
			_, key := e.create(t, service.KeyCreate{Credits: &service.CreditsInput{Remaining: balance}})
			var valid, exceeded atomic.Int64
			var wg sync.WaitGroup
			for range 64 {
				wg.Go(func() {
					for {
						r, err := e.ver.Verify(context.Background(), verify.Request{Key: key, Cost: 1})
						if err != nil {
							t.Error(err)
							return
						}
						switch r.Code {
						case verify.Valid:
							valid.Add(1)
						case verify.UsageExceeded:
							exceeded.Add(1)
							if *r.CreditsRemaining != 0 {
								t.Errorf("refused with %d remaining", *r.CreditsRemaining)
							}
							return
						default:
							t.Errorf("code %s", r.Code)
							return
						}
					}
				})
			}
			wg.Wait()
			if valid.Load() != balance || exceeded.Load() != 64 {
				t.Fatalf("%d valid uses of %d credits, %d refusals", valid.Load(), balance, exceeded.Load())
			}
		})
	}
}

func TestCreditsRefillAndRefusalsSpendNothing(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	_, key := e.create(t, service.KeyCreate{Scopes: []string{"a:read"}, Credits: &service.CreditsInput{Remaining: 2, Refill: &service.RefillInput{Amount: 5, Interval: "daily"}}})
	if r := e.verify(t, key, "b:write"); r.Code != verify.InsufficientScope || r.CreditsRemaining != nil {
		t.Fatalf("refused for scope: %s", r.Code)
	}
	for want := int64(1); want >= 0; want-- {
		if r := e.verify(t, key, "a:read"); r.Code != verify.Valid || *r.CreditsRemaining != want {
			t.Fatalf("spend: %s %d", r.Code, *r.CreditsRemaining)
		}
	}
	if r := e.verify(t, key, "a:read"); r.Code != verify.UsageExceeded {
		t.Fatalf("empty: %s", r.Code)
	}
	e.clk.Add(12 * time.Hour) // past midnight UTC
	if r := e.verify(t, key, "a:read"); r.Code != verify.Valid || *r.CreditsRemaining != 4 {
		t.Fatalf("after refill: %s %d", r.Code, *r.CreditsRemaining)
	}
}

func TestRotationGracePeriod(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	ctx := context.Background()
	old, oldKey := e.create(t, service.KeyCreate{Scopes: []string{"a:read"}, Meta: []byte(`{"x":1}`)})
	e.verify(t, oldKey) // cache it, so rotation must invalidate
	nk, newKey, err := e.svc.RotateKey(ctx, e.op, old.ID, service.RotateRequest{GracePeriod: "24h"})
	if err != nil {
		t.Fatal(err)
	}
	if nk.RotatedFrom != old.ID || nk.Name != old.Name || string(nk.Meta) != `{"x":1}` {
		t.Fatalf("new key %+v", nk)
	}
	if got, _ := e.svc.GetKey(ctx, e.op, old.ID); got.ReplacedBy != nk.ID {
		t.Fatalf("old key not linked: %+v", got)
	}
	if r := e.verify(t, newKey, "a:read"); r.Code != verify.Valid {
		t.Fatal(r.Code)
	}
	e.clk.Add(24*time.Hour - time.Microsecond)
	if r := e.verify(t, oldKey, "a:read"); r.Code != verify.Valid {
		t.Fatalf("old key inside grace: %s", r.Code)
	}
	e.clk.Add(time.Microsecond)
	if r := e.verify(t, oldKey, "a:read"); r.Code != verify.Expired {
		t.Fatalf("old key after grace: %s", r.Code)
	}
	if r := e.verify(t, newKey, "a:read"); r.Code != verify.Valid {
		t.Fatal(r.Code)
	}
	if _, _, err := e.svc.RotateKey(ctx, e.op, old.ID, service.RotateRequest{}); !keyhub.IsKind(err, keyhub.KindConflict) {
		t.Fatalf("rotating twice: %v", err)
	}
}

func TestUsageBatched(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	ctx := context.Background()
	k, key := e.create(t, service.KeyCreate{Scopes: []string{"a:read"}})
	for range 3 {
		e.verify(t, key, "a:read")
	}
	e.verify(t, key, "b:write")
	if got, _ := e.svc.GetKey(ctx, e.op, k.ID); got.LastUsedAt != nil {
		t.Fatal("last_used_at written per request")
	}
	if err := e.ver.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	got, _ := e.svc.GetKey(ctx, e.op, k.ID)
	if got.LastUsedAt == nil || !got.LastUsedAt.Equal(e.clk.Now()) {
		t.Fatalf("last_used_at %v", got.LastUsedAt)
	}
	b, err := e.svc.KeyUsage(ctx, e.op, k.ID, time.Time{}, time.Time{})
	if err != nil || len(b) != 1 || b[0].Counts["VALID"] != 3 || b[0].Counts["INSUFFICIENT_SCOPE"] != 1 {
		t.Fatalf("usage %+v %v", b, err)
	}
}

// TestManagementUseCounts: a key that authenticates a management call has
// been used, and last_used_at says so after the next flush.
func TestManagementUseCounts(t *testing.T) {
	e := newEnv(t, openSQLite(t))
	ctx := context.Background()
	k, key := e.create(t, service.KeyCreate{Scopes: []string{"read:api_keys"}})
	if _, err := authn.New(e.store, e.ver).Authenticate(ctx, key, netip.Addr{}); err != nil {
		t.Fatal(err)
	}
	if err := e.ver.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.svc.GetKey(ctx, e.op, k.ID); got.LastUsedAt == nil {
		t.Fatal("last_used_at not set by a management call")
	}
}
