// Package app wires keyhub's server together: it opens the store, creates
// the bootstrap operator key and serves HTTP until its context ends.
package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/authn"
	"github.com/keyhub/keyhub/internal/clientaddr"
	"github.com/keyhub/keyhub/internal/compat"
	"github.com/keyhub/keyhub/internal/compat/surfaces"
	"github.com/keyhub/keyhub/internal/config"
	"github.com/keyhub/keyhub/internal/connlimit"
	"github.com/keyhub/keyhub/internal/forwardauth"
	"github.com/keyhub/keyhub/internal/ghscan"
	"github.com/keyhub/keyhub/internal/httpapi"
	"github.com/keyhub/keyhub/internal/idempotency"
	"github.com/keyhub/keyhub/internal/metrics"
	"github.com/keyhub/keyhub/internal/oauth"
	"github.com/keyhub/keyhub/internal/oauthapi"
	"github.com/keyhub/keyhub/internal/redislimit"
	"github.com/keyhub/keyhub/internal/requestid"
	"github.com/keyhub/keyhub/internal/secret"
	"github.com/keyhub/keyhub/internal/service"
	"github.com/keyhub/keyhub/internal/store/postgres"
	"github.com/keyhub/keyhub/internal/store/sqlite"
	"github.com/keyhub/keyhub/internal/verify"
	"github.com/keyhub/keyhub/internal/webhook"
)

// Config is the server's configuration.
type Config struct {
	// Addr is the listen address, "127.0.0.1:8080" by default.
	Addr string
	// DB is "sqlite:PATH", a bare path, or a postgres:// URL.
	DB string
	// Log receives structured logs; nil logs text to os.Stderr.
	Log *slog.Logger
	// Stdout receives the one-time bootstrap key line, unless
	// BootstrapKeyFile is set; nil discards it. The key never goes to Log.
	Stdout io.Writer
	// BootstrapKeyFile, when set, receives the bootstrap key line instead
	// of Stdout: a file created with mode 0600 that must not exist yet.
	BootstrapKeyFile string
	// ShutdownTimeout bounds how long in-flight requests may run on stop.
	ShutdownTimeout time.Duration
	// Cache bounds the verification cache.
	Cache verify.CacheConfig
	// MaxStale bounds how long a node that has lost its cache invalidation
	// listener serves cached answers (default verify.DefaultMaxStale).
	MaxStale time.Duration
	// MasterKey is the base64 master key (KEYHUB_MASTER_KEY); if empty it is
	// read from MasterKeyFile, created there on first start.
	MasterKey string
	// MasterKeyFile defaults to keyhub.master.key beside the SQLite file.
	MasterKeyFile string
	// Issuer is the "iss" of keyhub's tokens and the base of its OAuth
	// metadata; http://ADDR by default, https://ADDR with TLS.
	Issuer string
	// MaxConns caps the open connections of the API listener, and
	// MaxConnsPerAddr those from one address (trusted proxies have no
	// such cap); 0 means no cap. At the cap, idle connections are closed
	// to make room.
	MaxConns, MaxConnsPerAddr int
	// AuthFailuresPerIP is how many failed bearer authentications one
	// address may make in a minute before it is throttled (429); 0 takes
	// authn.DefaultBearerFailuresPerIP, a negative value never throttles.
	AuthFailuresPerIP int
	// TrustedProxies are the reverse proxies whose forwarding headers name
	// the client (clientaddr); none means those headers are ignored.
	TrustedProxies []netip.Prefix
	// TLSCert and TLSKey name PEM files of the certificate chain and its
	// private key. With both, the listener serves HTTPS (TLS 1.2 or
	// later), reading the files again whenever they change.
	TLSCert, TLSKey string
	// JWTAlgorithm signs new access tokens: ES256 (default), EdDSA, RS256.
	JWTAlgorithm string
	// SigningKeyMaxAge rotates the signing key automatically (default 30d).
	SigningKeyMaxAge time.Duration
	// ManagementAudience is the aud keyhub's tokens need to reach the
	// management API (default "hub:api").
	ManagementAudience string
	// Providers are trusted external identity providers.
	Providers []oauth.ProviderConfig
	// Compat names the seed-compatible surfaces to mount (see
	// surfaces.Names); nil mounts all of them, an empty list none.
	Compat []string
	// ForwardAuthRoutes decides the scopes forward auth requires of each
	// proxied request; nil takes them from the auth URL's ?scope=.
	ForwardAuthRoutes *forwardauth.Table
	// ForwardAuthHeader is a header forward auth reads the credential from
	// besides Authorization: Bearer and X-Api-Key; "" for none.
	ForwardAuthHeader string
	// ForwardAuthVerifierHeader carries the verifier credential of proxies
	// that are not trusted proxies (default Keyhub-Verifier).
	ForwardAuthVerifierHeader string
	// GitHubKeysURL is where GitHub publishes the keys that sign its secret
	// scanning reports (POST /v1/leaks/github); ghscan.DefaultKeysURL by
	// default.
	GitHubKeysURL string
	// WebhookAllowPrivate lets webhooks reach loopback and private
	// addresses (tests, private networks); refused by default.
	WebhookAllowPrivate bool
	// WebhookTimeout bounds one delivery attempt (default 10s).
	WebhookTimeout time.Duration
	// Metrics says where the Prometheus metrics are served: MetricsOn (or
	// "") at GET /metrics beside the API, MetricsOff nowhere (nor
	// collected), or a listen address for a plain-HTTP listener of their
	// own, such as "127.0.0.1:9100".
	Metrics string
	// Registry receives the metrics; nil makes one (metrics.NewRegistry).
	// Never the global registry.
	Registry *prometheus.Registry
	// NoPortal switches the portal off (--portal=false): no /portal/
	// pages, and hand-offs are refused.
	NoPortal bool
	// Portal bounds portal sessions; zero fields take the defaults
	// (idle 30 minutes, at most 12 hours).
	Portal authn.PortalConfig
	// SMTPURL sends the portal's sign-in links (smtp:// with STARTTLS,
	// submissions:// with implicit TLS); MailDir writes them as files
	// instead. With neither, members sign in by hand-off or key only.
	SMTPURL, MailDir string
	// MailFrom is the sender of those mails (keyhub@HOST of the issuer by
	// default).
	MailFrom string
	// SMTPTLS is the TLS configuration for the mail server, such as the
	// roots of a private CA; nil uses the system's.
	SMTPTLS *tls.Config
	// Redis, a redis:// URL, makes rate limits exact across nodes; without
	// it each node counts its own.
	Redis string
	// RedisTimeout bounds each Redis call (redislimit.DefaultTimeout).
	RedisTimeout time.Duration
	// RedisFallback is the policy while Redis is down (per-node).
	RedisFallback redislimit.Policy
	// OnListen, when set, is called with the bound address once listening.
	OnListen func(addr string)
}

// The values of Config.Metrics that are not an address.
const (
	MetricsOn  = "on"
	MetricsOff = "off"
)

// OpenStore opens the store named by dsn and runs its migrations.
func OpenStore(ctx context.Context, dsn string) (keyhub.Store, error) {
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return postgres.Open(ctx, dsn)
	case strings.HasPrefix(dsn, "sqlite:"):
		p, _ := SQLitePath(dsn)
		return sqlite.Open(ctx, p)
	case strings.Contains(dsn, "://"):
		return nil, fmt.Errorf("unsupported database %q: use sqlite:PATH or a postgres:// URL", config.RedactURL(dsn))
	case dsn == "":
		return nil, errors.New("no database given: use sqlite:PATH or a postgres:// URL")
	}
	return sqlite.Open(ctx, dsn)
}

// Run serves keyhub until ctx is cancelled, then shuts down gracefully.
func Run(ctx context.Context, cfg Config) error {
	if cfg.Stdout == nil {
		cfg.Stdout = io.Discard
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	// Every line logged with a request's context names its request.
	log = slog.New(requestid.LogHandler(log.Handler()))
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:8080"
	}
	if cfg.ShutdownTimeout == 0 {
		cfg.ShutdownTimeout = 15 * time.Second
	}
	raw, err := OpenStore(ctx, cfg.DB)
	if err != nil {
		return err
	}
	defer raw.Close()
	master, err := loadMasterKey(cfg, log)
	if err != nil {
		return err
	}
	l, err := listen(cfg, log)
	if err != nil {
		return err
	}
	defer l.close()
	store := raw
	if l.reg != nil {
		store = metrics.NewStore(raw, l.reg)
	}
	registerer := l.registerer()
	issuer := cfg.Issuer
	if issuer == "" {
		issuer = l.defaultIssuer()
	}

	// Background work stops only after the server has drained, so nothing
	// an in-flight request did is lost: usage is written once more at the
	// end.
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	defer func() { stopBG(); wg.Wait() }()

	keys := oauth.NewKeys(store, oauth.KeysConfig{Issuer: issuer, Master: master, Algorithm: cfg.JWTAlgorithm, MaxAge: cfg.SigningKeyMaxAge, Log: log})
	if err := keys.Load(ctx); err != nil {
		return fmt.Errorf("signing keys: %w", err)
	}
	deny := oauth.NewDenyList(store, nil)
	if err := deny.Load(ctx); err != nil {
		return fmt.Errorf("token deny-list: %w", err)
	}
	var aopts []authn.Option
	aopts = append(aopts, authn.WithTokens(issuer, keys, deny), authn.WithPortal(cfg.Portal))
	if cfg.AuthFailuresPerIP != 0 {
		aopts = append(aopts, authn.WithBearerFailuresPerIP(max(cfg.AuthFailuresPerIP, 0)))
	}
	if len(cfg.Providers) > 0 {
		providers, err := oauth.NewProviders(cfg.Providers, nil, nil)
		if err != nil {
			return fmt.Errorf("trusted identity providers: %w", err)
		}
		aopts = append(aopts, authn.WithExternalProviders(providers))
	}
	mopts := []service.Option{service.WithSigningKeys(keys), service.WithWebhookAllowPrivate(cfg.WebhookAllowPrivate)}
	if !cfg.NoPortal {
		mopts = append(mopts, service.WithPortal(issuer))
	}
	var limiter verify.Limiter // nil: each node counts its own
	if cfg.Redis != "" {
		// The node count comes from the store, which still answers when
		// Redis does not: that is when the per-node fallback needs it.
		nodes := redislimit.NewNodes(store, 2*time.Second, log)
		wg.Go(func() { nodes.Run(bg) })
		if registerer != nil {
			registerer.MustRegister(nodes.Collector())
		}
		limits, err := redislimit.New(redislimit.Config{URL: cfg.Redis, Timeout: cfg.RedisTimeout, Policy: cfg.RedisFallback,
			Nodes: nodes.Count, Log: log, Metrics: registerer})
		if err != nil {
			return fmt.Errorf("--redis: %w", err)
		}
		defer limits.Close()
		wg.Go(func() { limits.Run(bg) })
		limiter = limits
	}
	core := NewCore(store, CoreConfig{Log: log, Cache: cfg.Cache, MaxStale: cfg.MaxStale, Audience: cfg.ManagementAudience,
		Master: master, Metrics: registerer, Auth: aopts, Manage: mopts, Limiter: limiter})
	defer core.Close()
	hooks := webhook.New(webhook.Config{Store: core.Store, Master: master, Log: log,
		AllowPrivate: cfg.WebhookAllowPrivate, Timeout: cfg.WebhookTimeout})
	purge := func(ctx context.Context) { core.Auth.RunPortalPurge(ctx, 10*time.Minute) }
	for _, run := range []func(context.Context){keys.Run, deny.Run, core.Verifier.Run, hooks.Run, core.Manage.RunSchedule, purge} {
		wg.Go(func() { run(bg) })
	}
	// Nodes on one PostgreSQL hear each other's changes; the caches' TTLs
	// are only the safety net. What the caches hold is trusted only as far
	// as the listener's heartbeats vouch for it (--max-stale).
	if pg, ok := raw.(*postgres.Store); ok {
		var inv postgres.Invalidations = core
		if l.reg != nil {
			inv = metrics.NewListener(core, l.reg)
		}
		watch := core.Verifier.Watch()
		watch.Track()
		ready := make(chan struct{})
		beat := min(max(watch.MaxStale()/4, 50*time.Millisecond), time.Second)
		wg.Go(func() { pg.Listen(bg, inv, postgres.ListenConfig{Log: log, Ready: ready, Heartbeat: beat}) })
		select {
		case <-ready:
		case <-time.After(10 * time.Second):
			log.Warn("cache invalidation listener not ready; continuing, cached keys are served for at most --max-stale after they are read")
		}
	}
	if err := bootstrap(ctx, core.Manage, cfg, log); err != nil {
		return err
	}

	svcs := core.Services()
	if cfg.GitHubKeysURL == "" {
		cfg.GitHubKeysURL = ghscan.DefaultKeysURL
	}
	svcs.GitHub = ghscan.NewKeys(cfg.GitHubKeysURL, nil)
	keeper := idempotency.New(store, master, core.Manage.Now, log)
	wg.Go(func() { keeper.Run(bg) })
	svcs.Idempotency = keeper
	api := httpapi.New(svcs, log)
	api.SetForwardAuth(httpapi.ForwardAuthConfig{Routes: cfg.ForwardAuthRoutes, Header: cfg.ForwardAuthHeader,
		VerifierHeader: cfg.ForwardAuthVerifierHeader})
	oauthapi.New(core.Auth, log).WithConfig(oauthapi.Config{Issuer: issuer, JWKS: keys.JWKS, Authenticate: api.Caller,
		Scopes: core.Manage.CatalogueScopes, Metrics: registerer}).Mount(api)
	deps := compat.Deps{Caller: api.Caller, Keys: core.Manage, Roles: core.Manage, Now: core.Manage.Now, Log: log}
	if err := mountCompat(api, deps, cfg.Compat); err != nil {
		return err
	}
	if !cfg.NoPortal {
		p, err := newPortal(cfg, core, issuer, log)
		if err != nil {
			return err
		}
		p.Mount(api.Mux())
		defer p.Wait()
	}
	var handler http.Handler = api
	if l.reg != nil {
		handler = httpapi.NewHTTPMetrics(l.reg).Instrument(api)
		if l.metrics == nil {
			api.SetMetrics(metrics.Handler(l.reg))
		}
	}
	log.Info("keyhub listening", "addr", l.api.Addr().String(), "tls", l.certs != nil, "db", config.RedactURL(cfg.DB), "issuer", issuer)
	if cfg.OnListen != nil {
		cfg.OnListen(l.api.Addr().String())
	}
	// The client's address is resolved first, once: every surface, the
	// throttles and the audit read it from the request's context.
	proxies := clientaddr.New(cfg.TrustedProxies)
	handler = proxies.Middleware(handler)
	conns := connlimit.New(connlimit.Config{Max: cfg.MaxConns, PerAddr: cfg.MaxConnsPerAddr, Exempt: proxies.Trusts, Log: log})
	return l.serve(ctx, cfg, conns, requestid.Middleware(httpapi.Logged(log, handler)), log)
}

// loadMasterKey reads the master key from the configuration or the file
// beside the SQLite database, creating it there on first start. PostgreSQL
// nodes share no disk, so there the key must be given.
func loadMasterKey(cfg Config, log *slog.Logger) ([]byte, error) {
	path := cfg.MasterKeyFile
	if cfg.MasterKey == "" && path == "" {
		dbPath, ok := SQLitePath(cfg.DB)
		if !ok {
			return nil, errors.New("PostgreSQL deployments need the master key: set KEYHUB_MASTER_KEY (base64 of 32 bytes, e.g. `openssl rand -base64 32`) or --master-key-file, the same on every node")
		}
		path = filepath.Join(filepath.Dir(dbPath), "keyhub.master.key")
	}
	key, created, err := secret.LoadMasterKey(cfg.MasterKey, path)
	if err != nil {
		return nil, err
	}
	if created {
		log.Warn("created a new master key; back it up with the database, it encrypts the signing keys", "file", path)
	}
	return key, nil
}

// SQLitePath returns the file of a SQLite DSN; false for other stores.
func SQLitePath(dsn string) (string, bool) {
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		return strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "//"), true
	case strings.Contains(dsn, "://"), dsn == "":
		return "", false
	}
	return dsn, true
}

// mountCompat mounts the seed-compatible surfaces named by names (nil:
// every one) beside the native API, each with its OpenAPI document at
// /openapi/NAME.json.
func mountCompat(api *httpapi.Server, d compat.Deps, names []string) error {
	chosen, err := surfaces.Chosen(names)
	if err != nil {
		return err
	}
	for _, s := range chosen {
		s.Mount(api.Mux(), d)
		api.AddDocument(s.Name+".json", s.OpenAPI)
	}
	return nil
}
