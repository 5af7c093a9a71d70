package apitest

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/app"
	"github.com/keyhub/keyhub/internal/authn"
	"github.com/keyhub/keyhub/internal/oauth"
	"github.com/keyhub/keyhub/internal/service"
	"github.com/keyhub/keyhub/internal/store/sqlite"
)

// Clock is a settable clock for the services of a test.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock showing t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now answers the time the clock shows.
func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// Add moves the clock on by d.
func (c *Clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// Core is one node's services, without HTTP, over a fresh SQLite file: for
// tests of the services themselves. Op is an operator caller acting on
// Tenant, a tenant named "acme".
type Core struct {
	*app.Core
	Raw    keyhub.Store
	Clock  *Clock
	Op     *keyhub.Caller
	Tenant string
}

// CoreOptions configures NewCore; zero values are fine.
type CoreOptions struct {
	// Start is the clock's first time (default: now, to the second).
	Start time.Time
	// Tokens enables keyhub's access tokens, signed with Algorithm
	// (default ES256) for the issuer TestIssuer.
	Tokens    bool
	Algorithm string
	// Auth and Manage are options of the services, beside the defaults.
	Auth   []authn.Option
	Manage []service.Option
}

// TestIssuer is the issuer of the tokens of a Core.
const TestIssuer = "http://keyhub.test"

// NewCore assembles the services as every node does, until t ends.
func NewCore(t testing.TB, o CoreOptions) *Core {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if o.Start.IsZero() {
		o.Start = time.Now().UTC().Truncate(time.Second)
	}
	clk := NewClock(o.Start)
	cfg := app.CoreConfig{Now: clk.Now, Log: slog.New(slog.DiscardHandler), Master: make([]byte, 32), Manage: o.Manage}
	if o.Tokens {
		keys := oauth.NewKeys(st, oauth.KeysConfig{Issuer: TestIssuer, Master: make([]byte, 32), Algorithm: o.Algorithm,
			Now: clk.Now, Log: cfg.Log})
		if err := keys.Load(ctx); err != nil {
			t.Fatal(err)
		}
		cfg.Auth = []authn.Option{authn.WithTokens(TestIssuer, keys, oauth.NewDenyList(st, clk.Now))}
	}
	cfg.Auth = append(cfg.Auth, o.Auth...)
	core := app.NewCore(st, cfg)
	t.Cleanup(core.Close)
	op := &keyhub.Caller{Principal: &keyhub.Principal{Actor: keyhub.Actor{Type: "operator", ID: "key_test"}, Operator: true, Scopes: []string{"*"}}}
	ten, err := core.Manage.CreateTenant(ctx, op, service.TenantCreate{Name: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	op.TenantID = ten.ID
	return &Core{Core: core, Raw: st, Clock: clk, Op: op, Tenant: ten.ID}
}
