package httpapi

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// HTTPMetrics count the requests of every surface by route pattern, the
// pattern the router matched ("POST /v1/keys/verify",
// "GET /api/tenant/api-keys/{id}"), never by the raw path, which holds ids:
// the label values are the registered patterns, "/" for the catch-all and
// "none" for what no pattern matched (a redirect to a cleaned path).
type HTTPMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inFlight prometheus.Gauge

	// children holds the resolved counters and histograms, so that a
	// request looks its labels up in a map instead of hashing them.
	mu       sync.RWMutex
	counts   map[routeStatus]prometheus.Counter
	observes map[string]prometheus.Observer
}

type routeStatus struct {
	route  string
	status int
}

// NewHTTPMetrics registers the HTTP metrics on reg.
func NewHTTPMetrics(reg prometheus.Registerer) *HTTPMetrics {
	m := &HTTPMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "keyhub_http_requests_total",
			Help: "HTTP requests answered, by route pattern and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "keyhub_http_request_duration_seconds",
			Help:    "Time from reading a request's headers to the end of its handler, by route pattern.",
			Buckets: []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10},
		}, []string{"route"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "keyhub_http_requests_in_flight",
			Help: "HTTP requests being served.",
		}),
		counts:   map[routeStatus]prometheus.Counter{},
		observes: map[string]prometheus.Observer{},
	}
	reg.MustRegister(m.requests, m.duration, m.inFlight)
	return m
}

// Instrument wraps h, a handler whose router sets r.Pattern, so that each
// request is counted by its pattern and status and timed.
func (m *HTTPMetrics) Instrument(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		m.inFlight.Inc()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		// Deferred, so that a request the handler aborts (panicking with
		// http.ErrAbortHandler) is counted too; other panics the server
		// has already answered with a 500.
		defer func() {
			// The router set r.Pattern on this very request before calling
			// its handler.
			route := r.Pattern
			if route == "" {
				route = "none"
			}
			m.inFlight.Dec()
			c, o := m.children(route, sw.status)
			c.Inc()
			o.Observe(time.Since(start).Seconds())
		}()
		h.ServeHTTP(sw, r)
	})
}

// children returns the counter and histogram of route and status, made
// once per pair. Routes and statuses are few, so the maps stay small.
func (m *HTTPMetrics) children(route string, status int) (prometheus.Counter, prometheus.Observer) {
	key := routeStatus{route, status}
	m.mu.RLock()
	c, okC := m.counts[key]
	o, okO := m.observes[route]
	m.mu.RUnlock()
	if okC && okO {
		return c, o
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if c, okC = m.counts[key]; !okC {
		c = m.requests.WithLabelValues(route, strconv.Itoa(status))
		m.counts[key] = c
	}
	if o, okO = m.observes[route]; !okO {
		o = m.duration.WithLabelValues(route)
		m.observes[route] = o
	}
	return c, o
}

// SetMetrics serves h, the Prometheus handler, at GET /metrics. Without it
// (metrics off, or served on a listener of their own) /metrics answers 404.
// Call it before the server serves.
func (s *Server) SetMetrics(h http.Handler) { s.metricsHandler = h }

func (s *Server) metrics(w http.ResponseWriter, r *http.Request) {
	if s.metricsHandler == nil {
		writeProblem(w, r, Problem{Type: "urn:keyhub:problem:not_found", Title: http.StatusText(404), Status: 404,
			Detail: "metrics are not served here: they are off, or on a listener of their own (--metrics)", Code: "not_found"})
		return
	}
	s.metricsHandler.ServeHTTP(w, r)
}
