package client

import (
	"context"
	"strings"
	"testing"
	"time"
)

const limitedKeyJSON = `{"id":"key_02","tenant_id":"ten_01","name":"ci","environment":"live","start":"kh_live_wxyz",
"scopes":[],"role_id":null,"ips":[],"meta":{},"enabled":true,"state":"active","expires_at":null,"revoked_at":null,
"last_used_at":null,"ratelimit":{"limit":100,"duration":"1m0s"},
"credits":{"remaining":1000,"refill":{"amount":1000,"interval":"daily"}},"rotated_from":"key_01","replaced_by":null,
"creator":{"type":"operator","id":"key_00"},"created_at":"2025-01-01T00:00:00Z","updated_at":"2025-01-01T00:00:00Z",
"key":"kh_live_NEWSECRET"}`

func TestAPIKeyRotate(t *testing.T) {
	tests := []struct {
		name, grace, body string
	}{
		{"Grace", "24h", `{"grace_period":"24h"}`},
		{"AtOnce", "", `{}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, reqs := fake(t, 201, limitedKeyJSON)
			k, err := New(srv.URL, "k").APIKeys.Rotate(context.Background(), "key_01", tt.grace)
			if err != nil {
				t.Fatal(err)
			}
			r := (*reqs)[0]
			if r.Method != "POST" || r.Path != "/v1/api-keys/key_01/rotate" || r.Body != tt.body {
				t.Errorf("request %s %s %s", r.Method, r.Path, r.Body)
			}
			if r.Header.Get("Content-Type") != "application/json" || r.Header.Get("Authorization") != "Bearer k" {
				t.Errorf("headers %v", r.Header)
			}
			if k.Key != "kh_live_NEWSECRET" || k.RotatedFrom != "key_01" || k.ReplacedBy != "" {
				t.Errorf("decoded %+v", k)
			}
		})
	}
}

func TestAPIKeyLimitsDecode(t *testing.T) {
	srv, _ := fake(t, 200, limitedKeyJSON)
	k, err := New(srv.URL, "k").APIKeys.Get(context.Background(), "key_02")
	if err != nil {
		t.Fatal(err)
	}
	if k.RateLimit == nil || *k.RateLimit != (RateLimit{Limit: 100, Duration: "1m0s"}) {
		t.Errorf("ratelimit %+v", k.RateLimit)
	}
	if c := k.Credits; c == nil || c.Remaining != 1000 || c.Refill == nil || *c.Refill != (Refill{1000, RefillDaily}) {
		t.Errorf("credits %+v", k.Credits)
	}
	srv, _ = fake(t, 200, keyJSON) // no limits: the fields are absent
	if k, err = New(srv.URL, "k").APIKeys.Get(context.Background(), "key_01"); err != nil || k.RateLimit != nil || k.Credits != nil {
		t.Errorf("key %+v err %v", k, err)
	}
}

func TestAPIKeyCreateLimits(t *testing.T) {
	srv, reqs := fake(t, 201, limitedKeyJSON)
	_, err := New(srv.URL, "k").APIKeys.Create(context.Background(), APIKeyCreate{
		Name:      "ci",
		RateLimit: &RateLimit{Limit: 100, Duration: "1m"},
		Credits:   &Credits{Remaining: 1000, Refill: &Refill{Amount: 1000, Interval: RefillMonthly}},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"name":"ci","ratelimit":{"limit":100,"duration":"1m"},"credits":{"remaining":1000,"refill":{"amount":1000,"interval":"monthly"}}}`
	if got := (*reqs)[0].Body; got != want {
		t.Errorf("body %s\nwant %s", got, want)
	}
	srv, reqs = fake(t, 201, limitedKeyJSON)
	if _, err := New(srv.URL, "k").APIKeys.Create(context.Background(), APIKeyCreate{Name: "ci", Credits: &Credits{Remaining: 5}}); err != nil {
		t.Fatal(err)
	}
	if got := (*reqs)[0].Body; got != `{"name":"ci","credits":{"remaining":5}}` {
		t.Errorf("body %s", got)
	}
}

func TestAPIKeyUpdateLimitsEncoding(t *testing.T) {
	n, add := int64(10), int64(-3)
	tests := []struct {
		name string
		in   APIKeyUpdate
		want string
	}{
		{"SetRateLimit", APIKeyUpdate{RateLimit: &RateLimit{Limit: 5, Duration: "1s"}}, `{"ratelimit":{"limit":5,"duration":"1s"}}`},
		{"ClearRateLimit", APIKeyUpdate{ClearRateLimit: true}, `{"ratelimit":null}`},
		{"ClearCredits", APIKeyUpdate{ClearCredits: true}, `{"credits":null}`},
		{"SetRemaining", APIKeyUpdate{Credits: &CreditsUpdate{Remaining: &n}}, `{"credits":{"remaining":10}}`},
		{"AddAndRefill", APIKeyUpdate{Credits: &CreditsUpdate{Add: &add, Refill: &Refill{100, RefillDaily}}},
			`{"credits":{"add":-3,"refill":{"amount":100,"interval":"daily"}}}`},
		{"ClearRefill", APIKeyUpdate{Credits: &CreditsUpdate{ClearRefill: true}}, `{"credits":{"refill":null}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, reqs := fake(t, 200, keyJSON)
			if _, err := New(srv.URL, "k").APIKeys.Update(context.Background(), "key_01", tt.in); err != nil {
				t.Fatal(err)
			}
			if r := (*reqs)[0]; r.Method != "PATCH" || r.Body != tt.want {
				t.Errorf("got %s %s, want body %s", r.Method, r.Body, tt.want)
			}
		})
	}
}

func TestAPIKeyUsage(t *testing.T) {
	srv, reqs := fake(t, 200, `{"data":[{"hour":"2025-06-01T10:00:00Z","counts":{"VALID":7,"RATE_LIMITED":2}},
{"hour":"2025-06-01T11:00:00Z","counts":{"NOT_FOUND":1}}]}`)
	from := time.Date(2025, 6, 1, 12, 0, 0, 0, time.FixedZone("x", 7200))
	to := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	got, err := New(srv.URL, "k").APIKeys.Usage(context.Background(), "key_01", from, to)
	if err != nil {
		t.Fatal(err)
	}
	r := (*reqs)[0]
	if r.Method != "GET" || r.Path != "/v1/api-keys/key_01/usage" || r.Body != "" ||
		r.RawQuery != "from=2025-06-01T10%3A00%3A00Z&to=2025-06-01T12%3A00%3A00Z" {
		t.Errorf("request %s %s?%s %q", r.Method, r.Path, r.RawQuery, r.Body)
	}
	if len(got) != 2 || !got[0].Hour.Equal(from) || got[0].Counts[CodeValid] != 7 || got[0].Counts[CodeRateLimited] != 2 ||
		got[1].Counts[CodeNotFound] != 1 {
		t.Errorf("buckets %+v", got)
	}
}

func TestAPIKeyUsageDefaults(t *testing.T) {
	srv, reqs := fake(t, 200, `{"data":[]}`)
	got, err := New(srv.URL, "k").APIKeys.Usage(context.Background(), "key/1", time.Time{}, time.Time{})
	if err != nil || got == nil || len(got) != 0 {
		t.Fatalf("buckets %v err %v", got, err)
	}
	if r := (*reqs)[0]; r.RawQuery != "" || r.Path != "/v1/api-keys/key%2F1/usage" {
		t.Errorf("request %s?%s", r.Path, r.RawQuery)
	}
}

func TestAPIKeyRevokeBySecret(t *testing.T) {
	srv, reqs := fake(t, 200, strings.Replace(keyJSON, `"revoked_at":null`, `"revoked_at":"2025-02-01T00:00:00Z"`, 1))
	k, err := New(srv.URL, "k").APIKeys.RevokeBySecret(context.Background(), "kh_live_SECRET")
	if err != nil {
		t.Fatal(err)
	}
	r := (*reqs)[0]
	if r.Method != "POST" || r.Path != "/v1/keys/revoke" || r.Body != `{"key":"kh_live_SECRET"}` ||
		r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("request %s %s %s", r.Method, r.Path, r.Body)
	}
	if k.ID != "key_01" || k.RevokedAt == nil {
		t.Errorf("key %+v", k)
	}
}

func TestVerifyCostAndLimits(t *testing.T) {
	srv, reqs := fake(t, 200, `{"valid":true,"code":"VALID","key":{"id":"key_1","tenant_id":"ten_1","name":"ci",
"environment":"live","scopes":[],"role":null,"meta":{},"expires_at":null},
"ratelimit":{"limit":100,"remaining":99,"reset":1748779260000},"credits":{"remaining":995}}`)
	cost := int64(5)
	res, err := New(srv.URL, "k").Verify(context.Background(), VerifyRequest{Key: "kh_live_x", Cost: &cost})
	if err != nil {
		t.Fatal(err)
	}
	if body := (*reqs)[0].Body; body != `{"key":"kh_live_x","cost":5}` {
		t.Errorf("body %s", body)
	}
	if rl := res.RateLimit; rl == nil || *rl != (VerifyRateLimit{100, 99, 1748779260000}) ||
		!rl.ResetTime().Equal(time.Date(2025, 6, 1, 12, 1, 0, 0, time.UTC)) {
		t.Errorf("ratelimit %+v", res.RateLimit)
	}
	if res.Credits == nil || res.Credits.Remaining != 995 {
		t.Errorf("credits %+v", res.Credits)
	}
	zero := int64(0)
	srv, reqs = fake(t, 200, `{"valid":true,"code":"VALID"}`)
	res, err = New(srv.URL, "k").Verify(context.Background(), VerifyRequest{Key: "kh_live_x", Cost: &zero})
	if err != nil || res.RateLimit != nil || res.Credits != nil {
		t.Fatalf("result %+v err %v", res, err)
	}
	if body := (*reqs)[0].Body; body != `{"key":"kh_live_x","cost":0}` {
		t.Errorf("zero cost body %s", body)
	}
}
