package verify_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/keyhub/keyhub/internal/secret"
	"github.com/keyhub/keyhub/internal/service"
	"github.com/keyhub/keyhub/internal/verify"
)

// samples gathers reg into "name{label=value,…}" → value, labels sorted.
func samples(t testing.TB, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			sort.Strings(labels)
			name := f.GetName() + "{" + strings.Join(labels, ",") + "}"
			switch {
			case m.Counter != nil:
				out[name] = m.GetCounter().GetValue()
			case m.Gauge != nil:
				out[name] = m.GetGauge().GetValue()
			case m.Histogram != nil:
				out[name+"_count"] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return out
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := newEnvWith(t, openSQLite(t), verify.Config{Metrics: reg})
	_, key := e.create(t, service.KeyCreate{Scopes: []string{"a:read"}})
	unknown := secret.NewKey("kh_live")

	e.verify(t, key, "a:read")  // miss: read from the store
	e.verify(t, key, "a:read")  // hit
	e.verify(t, key, "b:write") // hit, refused
	e.verify(t, unknown)        // miss: not in the store
	e.verify(t, unknown)        // remembered as unknown
	e.verify(t, "kh_live_nope") // malformed: no lookup at all

	got := samples(t, reg)
	want := map[string]float64{
		"keyhub_verifications_total{code=VALID}":                      2,
		"keyhub_verifications_total{code=INSUFFICIENT_SCOPE}":         1,
		"keyhub_verifications_total{code=NOT_FOUND}":                  2,
		"keyhub_verifications_total{code=MALFORMED}":                  1,
		"keyhub_verifications_total{code=ERROR}":                      0,
		"keyhub_verify_cache_hits_total{cache=keys}":                  2,
		"keyhub_verify_cache_hits_total{cache=unknown}":               1,
		"keyhub_verify_cache_misses_total{}":                          2,
		"keyhub_verify_cache_entries{cache=keys}":                     1,
		"keyhub_verify_cache_entries{cache=unknown}":                  1,
		"keyhub_verify_cache_evictions_total{cache=keys,reason=size}": 0,
	}
	for name, v := range want {
		if got[name] != v {
			t.Errorf("%s = %v, want %v", name, got[name], v)
		}
	}
	// One verification in 64 is timed: of 6 400 more, about 100 (none
	// with a chance of e^-100).
	for range 6400 {
		e.verify(t, key, "a:read")
	}
	if n := samples(t, reg)["keyhub_verify_duration_seconds{}_count"]; n < 1 || n > 6406 {
		t.Errorf("timed %v verifications of 6 406, want about 100", n)
	}
	// Every code has its counter from the start, so that a rate over it is
	// defined before the first refusal of a kind.
	for _, c := range []string{"REVOKED", "DISABLED", "EXPIRED", "FORBIDDEN_IP", "RATE_LIMITED", "USAGE_EXCEEDED"} {
		if _, ok := got["keyhub_verifications_total{code="+c+"}"]; !ok {
			t.Errorf("no counter for code %s", c)
		}
	}
	for name := range got {
		_, labels, _ := strings.Cut(name, "{")
		if strings.Contains(labels, key) || strings.Contains(labels, "key_") || strings.Contains(labels, e.op.TenantID) {
			t.Errorf("metric %s names a key or a tenant", name)
		}
	}
}

func TestMetricsStoreError(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := newEnvWith(t, openSQLite(t), verify.Config{Metrics: reg})
	_, key := e.create(t, service.KeyCreate{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.ver.Verify(ctx, verify.Request{Key: key}); err == nil {
		t.Fatal("verify on a cancelled context read the store")
	}
	if got := samples(t, reg)["keyhub_verifications_total{code=ERROR}"]; got != 1 {
		t.Errorf("store errors counted %v, want 1", got)
	}
}

func TestMetricsEvictions(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := newEnvWith(t, openSQLite(t), verify.Config{Metrics: reg, Cache: verify.CacheConfig{Size: 1}})
	var keys []string
	for i := range 20 {
		_, k := e.create(t, service.KeyCreate{Name: fmt.Sprint("k", i)})
		keys = append(keys, k)
	}
	// The cache holds one key: verifying twenty evicts at least some, which
	// otter reports after its maintenance; wait for it, without timing it.
	deadline := time.Now().Add(30 * time.Second)
	for {
		for _, k := range keys {
			e.verify(t, k)
		}
		got := samples(t, reg)
		if got["keyhub_verify_cache_evictions_total{cache=keys,reason=size}"] > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no eviction counted: %v", got)
		}
	}
}
