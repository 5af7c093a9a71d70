package verify

import (
	"math/rand/v2"
	"time"

	"github.com/maypok86/otter/v2"
	"github.com/prometheus/client_golang/prometheus"
)

// codes are the outcome codes in the order of their counters.
var codes = [...]Code{Valid, Malformed, NotFound, Revoked, Disabled, Expired, ForbiddenIP, InsufficientScope,
	RateLimited, UsageExceeded}

// codeError labels verifications that failed on the store.
const codeError = "ERROR"

// sampleEvery is how many verifications there are for each one timed. A
// cached verification takes well under a microsecond, and reading the clock
// twice would cost a good part of that; one in 64, chosen at random, gives
// the same distribution for a 64th of the cost.
const sampleEvery = 64

// index is c's position in codes, len(codes) for none of them.
func (c Code) index() int {
	switch c {
	case Valid:
		return 0
	case Malformed:
		return 1
	case NotFound:
		return 2
	case Revoked:
		return 3
	case Disabled:
		return 4
	case Expired:
		return 5
	case ForbiddenIP:
		return 6
	case InsufficientScope:
		return 7
	case RateLimited:
		return 8
	case UsageExceeded:
		return 9
	}
	return len(codes)
}

// metrics are the verifier's Prometheus metrics. Every label value is one of
// a fixed set, resolved to its child here, so that the hot path adds a few
// atomic operations and no allocation: no key, tenant or secret is ever a
// label. A nil *metrics counts nothing.
type metrics struct {
	// outcomes has a counter per code, then one for store errors.
	outcomes [len(codes) + 1]prometheus.Counter
	duration prometheus.Observer
	// hits counts keys found in the cache, unknownHits well-formed keys
	// the cache remembers as unknown, misses lookups that read the store.
	hits, unknownHits, misses prometheus.Counter
	evicted, expired          [2]prometheus.Counter // by cache: keys, unknown
}

// The caches, as labels.
const (
	cacheKeys    = 0
	cacheUnknown = 1
)

var cacheNames = [2]string{"keys", "unknown"}

func newMetrics(reg prometheus.Registerer) *metrics {
	if reg == nil {
		return nil
	}
	m := &metrics{}
	outcomes := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "keyhub_verifications_total",
		Help: "Key verifications answered, by outcome code (ERROR: the store failed and there was no answer).",
	}, []string{"code"})
	for i, c := range codes {
		m.outcomes[i] = outcomes.WithLabelValues(string(c))
	}
	m.outcomes[len(codes)] = outcomes.WithLabelValues(codeError)
	duration := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "keyhub_verify_duration_seconds",
		Help: "Time to answer a key verification inside keyhub, from the cache or the store, HTTP excluded; one verification in 64, chosen at random, is timed.",
		// A cached key answers in about a microsecond, a store read in tens
		// of microseconds to milliseconds.
		Buckets: prometheus.ExponentialBuckets(1e-6, 4, 11),
	})
	m.duration = duration
	hits := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "keyhub_verify_cache_hits_total",
		Help: "Lookups of a key answered by the verification cache: cache=keys for a known key, cache=unknown for a well-formed key remembered as unknown.",
	}, []string{"cache"})
	m.hits, m.unknownHits = hits.WithLabelValues(cacheNames[cacheKeys]), hits.WithLabelValues(cacheNames[cacheUnknown])
	misses := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "keyhub_verify_cache_misses_total",
		Help: "Lookups of a key that the verification cache could not answer, so read the store.",
	})
	m.misses = misses
	evictions := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "keyhub_verify_cache_evictions_total",
		Help: "Entries the verification cache dropped by itself: reason=size when full, reason=expired after their TTL (invalidations are not counted).",
	}, []string{"cache", "reason"})
	for i, name := range cacheNames {
		m.evicted[i] = evictions.WithLabelValues(name, "size")
		m.expired[i] = evictions.WithLabelValues(name, "expired")
	}
	reg.MustRegister(outcomes, duration, hits, misses, evictions)
	return m
}

// registerSize exports the caches' sizes, read at each scrape.
func (m *metrics) registerSize(reg prometheus.Registerer, c *cache) {
	if m == nil {
		return
	}
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "keyhub_verify_cache_entries", Help: "Resolved keys held by the verification cache.",
			ConstLabels: prometheus.Labels{"cache": cacheNames[cacheKeys]},
		}, func() float64 { return float64(c.pos.EstimatedSize()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "keyhub_verify_cache_entries", Help: "Resolved keys held by the verification cache.",
			ConstLabels: prometheus.Labels{"cache": cacheNames[cacheUnknown]},
		}, func() float64 { return float64(c.neg.EstimatedSize()) }),
	)
}

// timed reports whether this verification is one of the sampled ones.
func (m *metrics) timed() bool { return rand.Uint32()%sampleEvery == 0 }

// verified counts one answer, or a store error when code is "", and, for a
// timed one, its time since start.
func (m *metrics) verified(code Code, timed bool, start time.Time) {
	i := len(codes)
	if code != "" {
		i = code.index()
	}
	m.outcomes[i].Inc()
	if timed {
		m.duration.Observe(time.Since(start).Seconds())
	}
}

// onDeletion returns the cache's deletion handler that counts evictions and
// expirations of cache which (cacheKeys or cacheUnknown); nil without
// metrics, so otter has no handler to call.
func onDeletion[V any](m *metrics, which int) func(otter.DeletionEvent[digest, V]) {
	if m == nil {
		return nil
	}
	return func(e otter.DeletionEvent[digest, V]) {
		switch e.Cause {
		case otter.CauseOverflow:
			m.evicted[which].Inc()
		case otter.CauseExpiration:
			m.expired[which].Inc()
		}
	}
}

func (m *metrics) hit() {
	if m != nil {
		m.hits.Inc()
	}
}

func (m *metrics) unknownHit() {
	if m != nil {
		m.unknownHits.Inc()
	}
}

func (m *metrics) miss() {
	if m != nil {
		m.misses.Inc()
	}
}
