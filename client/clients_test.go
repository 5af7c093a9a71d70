package client

import (
	"context"
	"strings"
	"testing"
	"time"
)

const clientJSON = `{"client_id":"cli_01","tenant_id":"ten_01","name":"billing","scopes":["read:api_keys"],
"audiences":["hub:api"],"token_ttl":"24h0m0s","enabled":true,"previous_secret_expires_at":null,
"creator":{"type":"operator","id":"key_00"},"created_at":"2025-01-01T00:00:00Z","updated_at":"2025-01-01T00:00:00Z"}`

var clientWithSecretJSON = strings.TrimSuffix(clientJSON, "}") + `,"client_secret":"khcs_SECRET"}`

func TestClientCreate(t *testing.T) {
	srv, reqs := fake(t, 201, clientWithSecretJSON)
	on := true
	cl, err := New(srv.URL, "k").Clients.Create(context.Background(), ClientCreate{
		Name: "billing", Scopes: []string{"read:api_keys"}, Audiences: []string{"hub:api"}, TokenTTL: "24h", Enabled: &on,
	})
	if err != nil {
		t.Fatal(err)
	}
	r := (*reqs)[0]
	want := `{"name":"billing","scopes":["read:api_keys"],"audiences":["hub:api"],"token_ttl":"24h","enabled":true}`
	if r.Method != "POST" || r.Path != "/v1/clients" || r.Body != want || r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("request %s %s %s\nwant body %s", r.Method, r.Path, r.Body, want)
	}
	if cl.ClientID != "cli_01" || cl.ClientSecret != "khcs_SECRET" || cl.TenantID != "ten_01" || cl.TokenTTL != "24h0m0s" ||
		!cl.Enabled || cl.PreviousSecretExpiresAt != nil || cl.Audiences[0] != "hub:api" || cl.Creator.ID != "key_00" {
		t.Errorf("decoded %+v", cl)
	}
}

func TestClientOperatorTenantNull(t *testing.T) {
	srv, _ := fake(t, 200, strings.Replace(clientJSON, `"tenant_id":"ten_01"`, `"tenant_id":null`, 1))
	cl, err := New(srv.URL, "k").Clients.Get(context.Background(), "cli_01")
	if err != nil || cl.TenantID != "" {
		t.Errorf("client %+v err %v", cl, err)
	}
}

func TestClientPaths(t *testing.T) {
	ctx := context.Background()
	name, ttl := "b", "1h"
	off := false
	tests := []struct {
		name, method, path, body string
		call                     func(c *Client) error
	}{
		{"Get", "GET", "/v1/clients/cli_1", "", func(c *Client) error { _, err := c.Clients.Get(ctx, "cli_1"); return err }},
		{"UpdateAll", "PATCH", "/v1/clients/cli_1",
			`{"audiences":[],"enabled":false,"name":"b","scopes":["a:b"],"token_ttl":"1h"}`, func(c *Client) error {
				_, err := c.Clients.Update(ctx, "cli_1", ClientUpdate{Name: &name, Scopes: []string{"a:b"}, Audiences: []string{},
					TokenTTL: &ttl, Enabled: &off})
				return err
			}},
		{"UpdateEmpty", "PATCH", "/v1/clients/cli_1", `{}`, func(c *Client) error {
			_, err := c.Clients.Update(ctx, "cli_1", ClientUpdate{})
			return err
		}},
		{"Delete", "DELETE", "/v1/clients/cli_1", "", func(c *Client) error { return c.Clients.Delete(ctx, "cli_1") }},
		{"RotateSecret", "POST", "/v1/clients/cli_1/rotate-secret", `{"grace_period":"1h"}`, func(c *Client) error {
			_, err := c.Clients.RotateSecret(ctx, "cli_1", "1h")
			return err
		}},
		{"RotateSecretAtOnce", "POST", "/v1/clients/cli_1/rotate-secret", `{}`, func(c *Client) error {
			_, err := c.Clients.RotateSecret(ctx, "cli_1", "")
			return err
		}},
		{"SigningKeyRotate", "POST", "/v1/signing-keys/rotate", "", func(c *Client) error {
			_, err := c.SigningKeys.Rotate(ctx)
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, reqs := fake(t, 200, `{}`)
			if err := tt.call(New(srv.URL, "k")); err != nil {
				t.Fatal(err)
			}
			r := (*reqs)[0]
			if r.Method != tt.method || r.Path != tt.path || r.Body != tt.body {
				t.Errorf("got %s %s %q, want %s %s %q", r.Method, r.Path, r.Body, tt.method, tt.path, tt.body)
			}
		})
	}
}

func TestClientListAll(t *testing.T) {
	srv, reqs := fake(t, 200, `{"data":[`+clientJSON+`],"next_cursor":null}`)
	n := 0
	for cl, err := range New(srv.URL, "k").Clients.All(context.Background(), ListOptions{Limit: 3}) {
		if err != nil {
			t.Fatal(err)
		}
		if cl.ClientID != "cli_01" || cl.ClientSecret != "" {
			t.Errorf("client %+v", cl)
		}
		n++
	}
	if r := (*reqs)[0]; n != 1 || r.Path != "/v1/clients" || r.RawQuery != "limit=3" {
		t.Errorf("%d clients, request %s?%s", n, r.Path, r.RawQuery)
	}
}

func TestSigningKeyRotateDecode(t *testing.T) {
	srv, _ := fake(t, 200, `{"kid":"sk_01","alg":"ES256","created_at":"2025-06-01T12:00:00Z"}`)
	k, err := New(srv.URL, "k").SigningKeys.Rotate(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if k.KID != "sk_01" || k.Alg != "ES256" || !k.CreatedAt.Equal(time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("key %+v", k)
	}
}
