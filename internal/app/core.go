package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/authn"
	"github.com/keyhub/keyhub/internal/httpapi"
	"github.com/keyhub/keyhub/internal/service"
	"github.com/keyhub/keyhub/internal/verify"
)

// CoreConfig configures the services of one node.
type CoreConfig struct {
	Log   *slog.Logger
	Now   func() time.Time
	Cache verify.CacheConfig
	// MaxStale bounds how long cached answers are served once the node may
	// have missed other nodes' changes (default verify.DefaultMaxStale).
	MaxStale time.Duration
	// Audience is the management audience (default "hub:api").
	Audience string
	// Master is the master key, which seals webhook signing secrets and
	// the secrets of signing keys; without it signing keys cannot be made
	// or checked.
	Master []byte
	Auth   []authn.Option
	Manage []service.Option
	// Metrics, when set, receives the verifier's metrics.
	Metrics prometheus.Registerer
	// Limiter decides rate limits; nil counts them on this node alone.
	// When it has a Degraded method, /readyz tells what it says.
	Limiter verify.Limiter
}

// Core is one node's services over one store: the verifier and its cache,
// the authentication service and its caches, and the management service,
// which writes only through the store that keeps those caches true. Every
// node and every test is put together here, so none can miss a piece.
type Core struct {
	// Store is the store the management service writes through.
	Store    *verify.Store
	Verifier *verify.Verifier
	Auth     *authn.Service
	Manage   *service.Service
	limiter  verify.Limiter
}

// NewCore assembles the services over raw. Close releases the caches.
func NewCore(raw keyhub.Store, cfg CoreConfig) *Core {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	ver := verify.New(raw, verify.Config{Log: cfg.Log, Cache: cfg.Cache, Now: cfg.Now, Metrics: cfg.Metrics, MaxStale: cfg.MaxStale,
		Limiter: cfg.Limiter})
	aopts := []authn.Option{authn.WithLogger(cfg.Log), authn.WithClock(cfg.Now)}
	mopts := []service.Option{service.WithLogger(cfg.Log), service.WithClock(cfg.Now),
		service.WithRenderer(httpapi.EventData)}
	if cfg.Master != nil {
		aopts = append(aopts, authn.WithMasterKey(cfg.Master))
		mopts = append(mopts, service.WithMasterKey(cfg.Master))
	}
	if cfg.Audience != "" {
		aopts = append(aopts, authn.WithManagementAudience(cfg.Audience))
		mopts = append(mopts, service.WithManagementAudience(cfg.Audience))
	}
	auth := authn.New(raw, ver, append(aopts, cfg.Auth...)...)
	store := verify.NewStore(raw, ver, auth)
	return &Core{
		Store:    store,
		Verifier: ver,
		Auth:     auth,
		Manage:   service.New(store, append(mopts, cfg.Manage...)...),
		limiter:  cfg.Limiter,
	}
}

// Invalidate applies a change announced by another node to every cache.
func (c *Core) Invalidate(ch keyhub.Change) {
	c.Verifier.Invalidate(ch)
	c.Auth.Invalidate(ch)
}

// InvalidateAll drops every cache, when announcements may have been lost.
func (c *Core) InvalidateAll() {
	c.Verifier.InvalidateAll()
	c.Auth.InvalidateAll()
}

// Heard tells the caches that every change other nodes committed before at
// has reached them (the invalidation listener's heartbeat).
func (c *Core) Heard(at time.Time) { c.Verifier.Watch().Heard(at) }

// Ready reports whether the node serves as it should: its store answers
// (the first reason given when it does not) and its caches are not older
// than --max-stale allows.
func (c *Core) Ready(ctx context.Context) error {
	if err := c.Manage.Ready(ctx); err != nil {
		return err
	}
	return c.Verifier.Watch().Err()
}

// Services are the core's services as the native API calls them.
func (c *Core) Services() httpapi.Services {
	s := httpapi.ServicesOf(c.Manage, c.Auth)
	s.Ready = c.Ready
	if d, ok := c.limiter.(interface{ Degraded() string }); ok {
		s.Degraded = d.Degraded
	}
	return s
}

// Close releases the caches' background work.
func (c *Core) Close() { c.Verifier.Close() }
