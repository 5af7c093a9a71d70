package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// helloScenario is the baseline: GET / on the hello-world server.
func helloScenario(base string) scenario {
	return scenario{
		name: "hello",
		request: func(ctx context.Context, _, _ int) (*http.Request, error) {
			return http.NewRequestWithContext(ctx, http.MethodGet, base+"/", nil)
		},
	}
}

// verifyScenario verifies the sample keys round-robin: worker w sends keys
// w, w+conc, w+2·conc, … so that together the workers cycle the sample.
// Every key holds benchScope, so every answer must be valid:true.
func verifyScenario(base, opKey string, sample []string, conc int) scenario {
	bodies := make([][]byte, len(sample))
	for i, k := range sample {
		bodies[i], _ = json.Marshal(map[string]any{"key": k, "scopes": []string{benchScope}, "ip": "203.0.113.7"})
	}
	auth := "Bearer " + opKey
	return scenario{
		name: "verify",
		request: func(ctx context.Context, w, seq int) (*http.Request, error) {
			b := bodies[(w+seq*conc)%len(bodies)]
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/keys/verify", bytes.NewReader(b))
			if err != nil {
				return nil, err
			}
			req.Header.Set("Authorization", auth)
			req.Header.Set("Content-Type", "application/json")
			return req, nil
		},
		ok: func(body []byte) bool { return bytes.Contains(body, []byte(`"valid":true`)) },
	}
}

// tokenScenario prepares the OAuth client-credentials scenario, or answers
// nil and why when the server has no token endpoint.
func tokenScenario(ctx context.Context, api *apiClient, tenant string) (*scenario, string, error) {
	if probe(ctx, http.MethodPost, api.base+"/oauth2/token") == http.StatusNotFound {
		return nil, "POST /oauth2/token answers 404: this server has no token endpoint", nil
	}
	out, err := api.call(ctx, "/v1/clients", tenant,
		[]byte(`{"name":"bench","scopes":["read:api_keys"],"audiences":["hub:api"]}`))
	if err != nil {
		return nil, "", err
	}
	var cl struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	if err := json.Unmarshal(out, &cl); err != nil || cl.ClientID == "" || cl.ClientSecret == "" {
		return nil, "", fmt.Errorf("create client: unexpected answer %.200s", out)
	}
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {cl.ClientID},
		"client_secret": {cl.ClientSecret},
	}.Encode()
	return &scenario{
		name: "token",
		request: func(ctx context.Context, _, _ int) (*http.Request, error) {
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, api.base+"/oauth2/token", strings.NewReader(form))
			if err != nil {
				return nil, err
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return req, nil
		},
		ok: func(body []byte) bool { return bytes.Contains(body, []byte(`"access_token"`)) },
	}, "", nil
}
