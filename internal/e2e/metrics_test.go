package e2e

import (
	"bytes"
	"context"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/keyhub/keyhub/internal/apitest"
	"github.com/keyhub/keyhub/internal/app"
)

// scrape reads GET /metrics of s and parses it with Prometheus's own text
// parser, failing on anything it refuses.
func scrape(t *testing.T, c *apitest.Client) map[string]*dto.MetricFamily {
	t.Helper()
	r := c.Must(200, "GET", "/metrics", nil)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("/metrics Content-Type %q, want the text format", ct)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(r.Body))
	if err != nil {
		t.Fatalf("/metrics does not parse as the Prometheus text format: %v\n%s", err, r.Body)
	}
	return fams
}

// value returns the value of the sample of family name whose labels include
// all of labels (name=value pairs), and whether there is one. Histograms
// answer their count.
func value(fams map[string]*dto.MetricFamily, name string, labels ...string) (float64, bool) {
	f, ok := fams[name]
	if !ok {
		return 0, false
	}
next:
	for _, m := range f.GetMetric() {
		for _, want := range labels {
			k, v, _ := strings.Cut(want, "=")
			found := false
			for _, l := range m.GetLabel() {
				found = found || l.GetName() == k && l.GetValue() == v
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount()), true
		}
	}
	return 0, false
}

// TestMetrics scrapes a real server after verifications, token requests and
// management calls, and reads back what they did; no label may hold an id
// or a secret of what was made.
func TestMetrics(t *testing.T) {
	apitest.EachStore(t, func(t *testing.T, dsn string) {
		s := apitest.Start(t, dsn)
		tenant := s.Tenant("metered", nil)
		k, key := s.Key(tenant, map[string]any{"name": "backend", "scopes": []string{"payouts:write"}})
		keyID := k["id"].(string)
		for range 3 {
			if v := s.Verify(key, []string{"payouts:write"}, "203.0.113.7"); v["code"] != "VALID" {
				t.Fatalf("verify: %v", v)
			}
		}
		if v := s.Verify(key, []string{"refunds:write"}, ""); v["code"] != "INSUFFICIENT_SCOPE" {
			t.Fatalf("verify: %v", v)
		}
		s.Native(200, "GET", "/v1/api-keys/"+keyID, s.Operator, tenant, nil)
		// A change to the key is announced (its creation is not: no node
		// can have cached it).
		s.Native(200, "PATCH", "/v1/api-keys/"+keyID, s.Operator, tenant, map[string]any{"name": "backend-2"})
		clientID, clientSecret := s.OAuthClient(tenant, map[string]any{"name": "automation",
			"scopes": []string{"read:api_keys"}, "audiences": []string{"hub:api"}})
		token := s.Token(clientID, clientSecret, nil)
		s.Must(401, "POST", "/oauth2/token", url.Values{"grant_type": {"client_credentials"}}.Encode(),
			"Content-Type: application/x-www-form-urlencoded", "Authorization: "+apitest.Basic(clientID, "wrong"))
		s.Must(400, "POST", "/oauth2/token", url.Values{"grant_type": {"client_credentials"}, "scope": {"manage:roles"}}.Encode(),
			"Content-Type: application/x-www-form-urlencoded", "Authorization: "+apitest.Basic(clientID, clientSecret))
		s.Must(404, "GET", "/v1/no/such/path/"+keyID, nil)

		fams := scrape(t, s.Client)
		for _, c := range []struct {
			name   string
			labels []string
			want   float64 // at least
		}{
			{"keyhub_verifications_total", []string{"code=VALID"}, 3},
			{"keyhub_verifications_total", []string{"code=INSUFFICIENT_SCOPE"}, 1},
			{"keyhub_verify_duration_seconds", nil, 0}, // one in 64 is timed
			{"keyhub_verify_cache_hits_total", []string{"cache=keys"}, 3},
			{"keyhub_verify_cache_misses_total", nil, 1},
			{"keyhub_verify_cache_entries", []string{"cache=keys"}, 1},
			{"keyhub_verify_cache_evictions_total", []string{"cache=keys", "reason=size"}, 0},
			{"keyhub_tokens_issued_total", nil, 1},
			{"keyhub_token_requests_refused_total", []string{"error=invalid_client"}, 1},
			{"keyhub_token_requests_refused_total", []string{"error=invalid_scope"}, 1},
			{"keyhub_http_requests_total", []string{"route=POST /v1/keys/verify", "code=200"}, 4},
			{"keyhub_http_requests_total", []string{"route=GET /v1/api-keys/{id}", "code=200"}, 1},
			{"keyhub_http_requests_total", []string{"route=POST /oauth2/token", "code=401"}, 1},
			{"keyhub_http_requests_total", []string{"route=/", "code=404"}, 1},
			{"keyhub_http_request_duration_seconds", []string{"route=POST /v1/keys/verify"}, 4},
			{"keyhub_store_duration_seconds", []string{"op=update"}, 1},
			{"keyhub_store_duration_seconds", []string{"op=view"}, 1},
			{"keyhub_store_failures_total", []string{"op=view"}, 0},
			{"keyhub_build_info", nil, 1},
			{"go_goroutines", nil, 1},
			{"process_resident_memory_bytes", nil, 1},
		} {
			got, ok := value(fams, c.name, c.labels...)
			if !ok || got < c.want {
				t.Errorf("%s%v = %v (present %v), want at least %v", c.name, c.labels, got, ok, c.want)
			}
		}
		if apitest.IsPostgres(dsn) {
			// This node hears its own changes through PostgreSQL too.
			if got, ok := value(fams, "keyhub_notifications_total", "kind=key"); !ok || got < 1 {
				t.Errorf("keyhub_notifications_total{kind=key} = %v, %v", got, ok)
			}
			reconnected(t, s, dsn)
		}

		forbidden := []string{key, keyID, tenant, clientID, clientSecret, token, s.Operator}
		for name, f := range fams {
			for _, m := range f.GetMetric() {
				for _, l := range m.GetLabel() {
					for _, bad := range forbidden {
						if strings.Contains(l.GetValue(), bad) {
							t.Errorf("%s{%s=%q} holds an id or a secret", name, l.GetName(), l.GetValue())
						}
					}
				}
			}
		}
	})
}

// TestMetricsOff serves no /metrics and collects nothing.
func TestMetricsOff(t *testing.T) {
	s := apitest.Start(t, apitest.SQLite(t), func(c *app.Config) { c.Metrics = app.MetricsOff })
	r := s.Must(404, "GET", "/metrics", nil)
	if !strings.Contains(string(r.Body), "not_found") {
		t.Errorf("/metrics with metrics off: %s", r.Body)
	}
}

// TestMetricsOwnListener serves the metrics on their own address only.
func TestMetricsOwnListener(t *testing.T) {
	addr := freeAddr(t)
	s := apitest.Start(t, apitest.SQLite(t), func(c *app.Config) { c.Metrics = addr })
	s.Must(404, "GET", "/metrics", nil)
	m := apitest.NewClient(t, "http://"+addr, "")
	fams := scrape(t, m)
	if _, ok := value(fams, "keyhub_http_requests_total", "route=GET /metrics", "code=404"); !ok {
		t.Error("the API's /metrics 404 was not counted")
	}
	m.Must(404, "GET", "/v1/tenants", nil)
}

// freeAddr returns a loopback address that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// reconnected cuts the change listener's connection of the server on dsn
// and waits until its metrics count the reconnect.
func reconnected(t *testing.T, s *apitest.Server, dsn string) {
	t.Helper()
	if got, _ := value(scrape(t, s.Client), "keyhub_notification_reconnects_total"); got != 0 {
		t.Fatalf("reconnects before any: %v", got)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND query LIKE 'LISTEN keyhub_invalidate%' AND pid <> pg_backend_pid()`); err != nil {
		t.Fatal(err)
	}
	// The listener retries after a second; wait for it without timing it.
	deadline := time.Now().Add(30 * time.Second)
	for {
		if got, _ := value(scrape(t, s.Client), "keyhub_notification_reconnects_total"); got >= 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the listener's reconnect was not counted within 30s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
