// Package app wires keyhub's server together: it opens the store, creates
// the bootstrap operator key and serves HTTP until its context ends.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/httpapi"
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
	// OnListen, when set, is called with the bound address once listening.
	OnListen func(addr string)
}

// OpenStore opens the store named by dsn and runs its migrations.
func OpenStore(ctx context.Context, dsn string) (keyhub.Store, error) {
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return postgres.Open(ctx, dsn)
	case strings.HasPrefix(dsn, "sqlite:"):
		return sqlite.Open(ctx, strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "//"))
	case strings.Contains(dsn, "://"):
		return nil, fmt.Errorf("unsupported database %q: use sqlite:PATH or a postgres:// URL", redactURL(dsn))
	case dsn == "":
		return nil, errors.New("no database given: use sqlite:PATH or a postgres:// URL")
	}
	return sqlite.Open(ctx, dsn)
}

// redactURL drops a password from a database URL for messages.
func redactURL(s string) string {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return s
	}
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		rest = "…@" + rest[at+1:]
	}
	return scheme + "://" + rest
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

	ver := verify.New(store, verify.Config{Log: log, Cache: cfg.Cache})
	defer ver.Close()
	svc := service.New(store, service.WithLogger(log), service.WithVerifier(ver))
	// Usage is written in the background and once more after the server
	// has drained, so no counted use is lost on a clean stop.
	usageCtx, stopUsage := context.WithCancel(context.WithoutCancel(ctx))
	usageDone := make(chan struct{})
	go func() { ver.Run(usageCtx); close(usageDone) }()
	defer func() { stopUsage(); <-usageDone }()
	key, err := svc.BootstrapOperator(ctx)
	if err != nil {
		return fmt.Errorf("bootstrap operator key: %w", err)
	}
	if key != "" {
		// Printed once, on a line of its own, so it can be captured with
		// grep; never logged.
		fmt.Fprintf(cfg.Stderr, "\nKEYHUB_API_KEY=%s\n\nThis operator key is shown once. Store it now.\n\n", key)
	}

	api := httpapi.New(svc, log)
	srv := &http.Server{
		Handler:           httpapi.Logged(log, api),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	log.Info("keyhub listening", "addr", ln.Addr().String(), "db", redactURL(cfg.DB))
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
