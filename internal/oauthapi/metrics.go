package oauthapi

import "github.com/prometheus/client_golang/prometheus"

// codeThrottled labels token requests refused because their client or
// address failed to authenticate too often.
const codeThrottled = "throttled"

// refusalCodes are the answers of a refused token request: RFC 6749's error
// codes and the throttle. Nothing else is ever a label.
var refusalCodes = []string{"invalid_request", "invalid_client", "invalid_scope", "invalid_target",
	"unsupported_grant_type", "server_error", "temporarily_unavailable", codeThrottled}

// tokenMetrics count the token endpoint's answers; nil counts nothing.
type tokenMetrics struct {
	issued  prometheus.Counter
	refused map[string]prometheus.Counter // by code; read-only once made
}

func newTokenMetrics(reg prometheus.Registerer) *tokenMetrics {
	if reg == nil {
		return nil
	}
	issued := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "keyhub_tokens_issued_total",
		Help: "Access tokens issued by the token endpoint.",
	})
	refused := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "keyhub_token_requests_refused_total",
		Help: "Token requests refused, by RFC 6749 error code (throttled: too many failed client authentications).",
	}, []string{"error"})
	m := &tokenMetrics{issued: issued, refused: map[string]prometheus.Counter{}}
	for _, c := range refusalCodes {
		m.refused[c] = refused.WithLabelValues(c)
	}
	reg.MustRegister(issued, refused)
	return m
}

// token counts one answer: a token when code is "", else a refusal.
func (m *tokenMetrics) token(code string) {
	switch {
	case m == nil:
	case code == "":
		m.issued.Inc()
	default:
		if c, ok := m.refused[code]; ok {
			c.Inc()
		}
	}
}
