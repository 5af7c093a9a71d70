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
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/authn"
	"github.com/keyhub/keyhub/internal/compat"
	"github.com/keyhub/keyhub/internal/compat/surfaces"
	"github.com/keyhub/keyhub/internal/config"
	"github.com/keyhub/keyhub/internal/httpapi"
	"github.com/keyhub/keyhub/internal/oauth"
	"github.com/keyhub/keyhub/internal/oauthapi"
	"github.com/keyhub/keyhub/internal/secret"
	"github.com/keyhub/keyhub/internal/service"
	"github.com/keyhub/keyhub/internal/store/postgres"
	"github.com/keyhub/keyhub/internal/store/sqlite"
	"github.com/keyhub/keyhub/internal/verify"
)

// Config is the server's configuration.
type Config struct {
	// Addr is the listen address, "127.0.0.1:8080" by default.
	Addr string
	// DB is "sqlite:PATH", a bare path, or a postgres:// URL.
	DB string
	// Log receives structured logs; nil logs text to Stderr.
	Log *slog.Logger
	// Stderr receives the one-time bootstrap key line.
	Stderr io.Writer
	// ShutdownTimeout bounds how long in-flight requests may run on stop.
	ShutdownTimeout time.Duration
	// Cache bounds the verification cache.
	Cache verify.CacheConfig
	// MasterKey is the base64 master key (KEYHUB_MASTER_KEY); if empty it is
	// read from MasterKeyFile, created there on first start.
	MasterKey string
	// MasterKeyFile defaults to keyhub.master.key beside the SQLite file.
	MasterKeyFile string
	// Issuer is the "iss" of keyhub's tokens and the base of its OAuth
	// metadata; http://ADDR by default.
	Issuer string
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
	// OnListen, when set, is called with the bound address once listening.
	OnListen func(addr string)
}

// OpenStore opens the store named by dsn and runs its migrations.
func OpenStore(ctx context.Context, dsn string) (keyhub.Store, error) {
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return postgres.Open(ctx, dsn)
	case strings.HasPrefix(dsn, "sqlite:"):
		p, _ := sqlitePath(dsn)
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
	if cfg.Stderr == nil {
		cfg.Stderr = io.Discard
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.NewTextHandler(cfg.Stderr, nil))
	}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:8080"
	}
	if cfg.ShutdownTimeout == 0 {
		cfg.ShutdownTimeout = 15 * time.Second
	}
	store, err := OpenStore(ctx, cfg.DB)
	if err != nil {
		return err
	}
	defer store.Close()
	master, err := loadMasterKey(cfg, log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	issuer := cfg.Issuer
	if issuer == "" {
		issuer = "http://" + ln.Addr().String()
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
	if len(cfg.Providers) > 0 {
		providers, err := oauth.NewProviders(cfg.Providers, nil, nil)
		if err != nil {
			return fmt.Errorf("trusted identity providers: %w", err)
		}
		aopts = append(aopts, authn.WithExternalProviders(providers))
	}
	mopts := []service.Option{service.WithSigningKeys(keys)}
	if !cfg.NoPortal {
		mopts = append(mopts, service.WithPortal(issuer))
	}
	core := NewCore(store, CoreConfig{Log: log, Cache: cfg.Cache, Audience: cfg.ManagementAudience,
		Auth: aopts, Manage: mopts})
	defer core.Close()
	purge := func(ctx context.Context) { core.Auth.RunPortalPurge(ctx, 10*time.Minute) }
	for _, run := range []func(context.Context){keys.Run, deny.Run, core.Verifier.Run, purge} {
		wg.Go(func() { run(bg) })
	}
	// Nodes on one PostgreSQL hear each other's changes; the caches' TTLs
	// are only the safety net.
	if pg, ok := store.(*postgres.Store); ok {
		ready := make(chan struct{})
		wg.Go(func() { pg.Listen(bg, core, log, ready) })
		select {
		case <-ready:
		case <-time.After(10 * time.Second):
			log.Warn("cache invalidation listener not ready; continuing, other nodes' changes reach this node within the cache TTL")
		}
	}
	key, err := core.Manage.BootstrapOperator(ctx)
	if err != nil {
		return fmt.Errorf("bootstrap operator key: %w", err)
	}
	if key != "" {
		// Printed once, on a line of its own, so it can be captured with
		// grep; never logged.
		fmt.Fprintf(cfg.Stderr, "\nKEYHUB_API_KEY=%s\n\nThis operator key is shown once. Store it now.\n\n", key)
	}

	api := httpapi.New(core.Services(), log)
	oauthapi.New(core.Auth, log).WithConfig(oauthapi.Config{Issuer: issuer, JWKS: keys.JWKS, Authenticate: api.Caller,
		Scopes: core.Manage.CatalogueScopes}).Mount(api)
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
	srv := &http.Server{
		Handler:           httpapi.Logged(log, api),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("keyhub listening", "addr", ln.Addr().String(), "db", config.RedactURL(cfg.DB), "issuer", issuer)
	if cfg.OnListen != nil {
		cfg.OnListen(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// loadMasterKey reads the master key from the configuration or the file
// beside the SQLite database, creating it there on first start. PostgreSQL
// nodes share no disk, so there the key must be given.
func loadMasterKey(cfg Config, log *slog.Logger) ([]byte, error) {
	path := cfg.MasterKeyFile
	if cfg.MasterKey == "" && path == "" {
		dbPath, ok := sqlitePath(cfg.DB)
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

// sqlitePath returns the file of a SQLite DSN.
func sqlitePath(dsn string) (string, bool) {
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		return strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "//"), true
	case strings.Contains(dsn, "://"), dsn == "":
		return "", false
	}
	return dsn, true
}

// mountCompat mounts the seed-compatible surfaces named by names (nil:
// every one) beside the native API.
func mountCompat(api *httpapi.Server, d compat.Deps, names []string) error {
	mount, err := surfaces.Select(names)
	if err != nil {
		return err
	}
	mount(api.Mux(), d)
	return nil
}
