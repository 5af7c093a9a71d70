// Package metrics holds what keyhub's Prometheus metrics share: the registry
// a node is given (never the global one), the handler that serves it, and
// the wrappers that measure the store and the cross-node change listener.
// The hot paths define their own metrics beside their code (internal/verify,
// internal/httpapi, internal/oauthapi), on the registry they are handed.
//
// No label anywhere holds a secret, a key id or a tenant id: label values
// come from fixed sets (outcome codes, route patterns, operation names).
package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/keyhub/keyhub/internal/buildinfo"
)

// NewRegistry returns a registry with the Go runtime's and the process's
// metrics and keyhub_build_info.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	bi := buildinfo.Read()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "keyhub_build_info",
			Help:        "Always 1; the labels name the running keyhub: module version, VCS commit (empty when unknown), Go version.",
			ConstLabels: prometheus.Labels{"version": bi.Version, "commit": bi.Commit, "goversion": bi.GoVersion},
		}, func() float64 { return 1 }),
	)
	return reg
}

// Handler serves reg in the Prometheus text format, counting its own
// failures on reg.
func Handler(reg *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
}
