package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/keyhub/keyhub/internal/connlimit"
	"github.com/keyhub/keyhub/internal/metrics"
)

// listeners are what a node serves on: the API's listener (HTTPS when
// certs is set), the metrics' own listener if they have one, and the
// registry of the metrics (nil when they are off). They are opened before
// anything starts, so that a taken port or a bad certificate stops the
// start at once.
type listeners struct {
	api     net.Listener
	certs   *certReloader
	metrics net.Listener
	reg     *prometheus.Registry
}

func listen(cfg Config, log *slog.Logger) (*listeners, error) {
	l := &listeners{}
	var err error
	switch {
	case cfg.TLSCert != "" && cfg.TLSKey != "":
		if l.certs, err = newCertReloader(cfg.TLSCert, cfg.TLSKey, log); err != nil {
			return nil, err
		}
	case cfg.TLSCert != "" || cfg.TLSKey != "":
		return nil, errors.New("TLS needs both a certificate and its key file")
	}
	if l.api, err = net.Listen("tcp", cfg.Addr); err != nil {
		return nil, err
	}
	if cfg.Metrics == MetricsOff {
		return l, nil
	}
	if l.reg = cfg.Registry; l.reg == nil {
		l.reg = metrics.NewRegistry()
	}
	if cfg.Metrics != "" && cfg.Metrics != MetricsOn {
		if l.metrics, err = net.Listen("tcp", cfg.Metrics); err != nil {
			l.api.Close()
			return nil, fmt.Errorf("metrics listener: %w", err)
		}
	}
	return l, nil
}

func (l *listeners) close() {
	l.api.Close()
	if l.metrics != nil {
		l.metrics.Close()
	}
}

// registerer is where the metrics register: nil, an untyped nil, when they
// are off, which every package takes for "no metrics".
func (l *listeners) registerer() prometheus.Registerer {
	if l.reg == nil {
		return nil
	}
	return l.reg
}

// defaultIssuer is http://ADDR, or https://ADDR with TLS.
func (l *listeners) defaultIssuer() string {
	if l.certs != nil {
		return "https://" + l.api.Addr().String()
	}
	return "http://" + l.api.Addr().String()
}

// serve serves handler, and the metrics on their own listener, until ctx
// ends or a listener fails; then it drains the API's requests for at most
// cfg.ShutdownTimeout. conns bounds the API listener's connections.
func (l *listeners) serve(ctx context.Context, cfg Config, conns *connlimit.Limiter, handler http.Handler, log *slog.Logger) error {
	srv := &http.Server{
		Handler:           handler,
		ConnState:         conns.ConnState,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 2)
	if l.certs != nil {
		srv.TLSConfig = tlsConfig(l.certs)
		go func() { errc <- srv.ServeTLS(conns.Listener(l.api), "", "") }()
	} else {
		go func() { errc <- srv.Serve(problemListener{conns.Listener(l.api)}) }()
	}
	var msrv *http.Server
	if l.metrics != nil {
		msrv = metricsServer(l.reg, log)
		log.Info("metrics listening", "addr", l.metrics.Addr().String())
		go func() { errc <- msrv.Serve(l.metrics) }()
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if msrv != nil {
		// Scrapes are short and hold nothing: they need no draining.
		msrv.Close()
	}
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// metricsServer serves GET /metrics alone, for a listener of its own.
func metricsServer(reg *prometheus.Registry, log *slog.Logger) *http.Server {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics.Handler(reg))
	return &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		WriteTimeout:      30 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}
