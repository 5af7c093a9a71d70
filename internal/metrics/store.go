package metrics

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/keyhub/keyhub"
)

// Store is a keyhub.Store that times every transaction: the latency the
// store adds to whatever waits on it (a verification that missed the cache,
// a management call, the usage flush). It counts the transactions that
// failed because the store did (unavailable or internal errors), not those
// a rule or a missing row ended.
type Store struct {
	keyhub.Store
	view, update, ping       prometheus.Observer
	viewErr, updateErr, pErr prometheus.Counter
}

// NewStore wraps inner, registering its metrics on reg.
func NewStore(inner keyhub.Store, reg prometheus.Registerer) *Store {
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "keyhub_store_duration_seconds",
		Help:    "Time of store transactions, by operation: view (read-only), update (read-write, commit included), ping.",
		Buckets: prometheus.ExponentialBuckets(25e-6, 2.5, 12),
	}, []string{"op"})
	failures := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "keyhub_store_failures_total",
		Help: "Store transactions that failed because the store did (unreachable, timed out, internal error), by operation.",
	}, []string{"op"})
	reg.MustRegister(duration, failures)
	return &Store{
		Store: inner,
		view:  duration.WithLabelValues("view"), update: duration.WithLabelValues("update"), ping: duration.WithLabelValues("ping"),
		viewErr: failures.WithLabelValues("view"), updateErr: failures.WithLabelValues("update"), pErr: failures.WithLabelValues("ping"),
	}
}

// View times inner's View.
func (s *Store) View(ctx context.Context, fn func(keyhub.Tx) error) error {
	start := time.Now()
	err := s.Store.View(ctx, fn)
	observe(s.view, s.viewErr, start, err)
	return err
}

// Update times inner's Update.
func (s *Store) Update(ctx context.Context, fn func(keyhub.Tx) error) error {
	start := time.Now()
	err := s.Store.Update(ctx, fn)
	observe(s.update, s.updateErr, start, err)
	return err
}

// GetAPIKeyByHash implements keyhub.KeyByHashReader, timed as a view:
// through inner's own when it has one, so that wrapping a store for
// metrics (the default of keyhub serve) keeps the verification cache's
// miss path one prepared statement, and in a View otherwise.
func (s *Store) GetAPIKeyByHash(ctx context.Context, hash []byte) (*keyhub.APIKey, error) {
	start := time.Now()
	var k *keyhub.APIKey
	var err error
	if r, ok := s.Store.(keyhub.KeyByHashReader); ok {
		k, err = r.GetAPIKeyByHash(ctx, hash)
	} else {
		err = s.Store.View(ctx, func(tx keyhub.Tx) error {
			k, err = tx.GetAPIKeyByHash(ctx, hash)
			return err
		})
	}
	observe(s.view, s.viewErr, start, err)
	return k, err
}

// SpendCreditsNow implements keyhub.CreditSpender, timed as an update:
// through inner's own when it has one, and in an Update otherwise.
func (s *Store) SpendCreditsNow(ctx context.Context, id string, cost int64, periodStart time.Time) (int64, bool, error) {
	start := time.Now()
	var (
		n   int64
		ok  bool
		err error
	)
	if sp, has := s.Store.(keyhub.CreditSpender); has {
		n, ok, err = sp.SpendCreditsNow(ctx, id, cost, periodStart)
	} else {
		err = s.Store.Update(ctx, func(tx keyhub.Tx) error {
			n, ok, err = tx.SpendCredits(ctx, id, cost, periodStart)
			return err
		})
	}
	observe(s.update, s.updateErr, start, err)
	return n, ok, err
}

// Ping times inner's Ping.
func (s *Store) Ping(ctx context.Context) error {
	start := time.Now()
	err := s.Store.Ping(ctx)
	observe(s.ping, s.pErr, start, err)
	return err
}

// Unwrap returns the store beneath.
func (s *Store) Unwrap() keyhub.Store { return s.Store }

func observe(o prometheus.Observer, failed prometheus.Counter, start time.Time, err error) {
	o.Observe(time.Since(start).Seconds())
	if storeFailed(err) {
		failed.Inc()
	}
}

// storeFailed tells a failing store from an answer: errors of the domain
// (not found, conflict, invalid, …) are answers; unavailable, internal and
// foreign errors are failures.
func storeFailed(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var e *keyhub.Error
	if !errors.As(err, &e) {
		return true
	}
	return e.Kind == keyhub.KindUnavailable || e.Kind == keyhub.KindInternal
}
