package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
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

// workerRand gives each of conc workers its own generator, so that picking
// a key takes no lock; seeded from the worker's number, so runs repeat.
func workerRand(conc int) []*rand.Rand {
	r := make([]*rand.Rand, conc)
	for w := range r {
		r[w] = rand.New(rand.NewPCG(uint64(w), 0x6b657968756221))
	}
	return r
}

// verifyBody is the verify request for key, as an SDK sends it.
func verifyBody(buf []byte, key string) []byte {
	buf = append(buf[:0], `{"key":"`...)
	buf = append(buf, key...)
	return append(buf, `","scopes":["`+benchScope+`"],"ip":"203.0.113.7"}`...)
}

// verifyScenario verifies a key picked uniformly at random among keys for
// every request, so that with all seeded keys the server's cache and store
// see what a deployment whose every key is in use sees. With one key it is
// the hot-key case. Every key holds benchScope, so every answer must be
// valid:true.
func verifyScenario(name, base, opKey string, keys []string, conc int) scenario {
	rng := workerRand(conc)
	bufs := make([][]byte, conc)
	auth := "Bearer " + opKey
	return scenario{
		name: name,
		request: func(ctx context.Context, w, _ int) (*http.Request, error) {
			// A worker sends its next request only once the last answer is
			// read, so its buffer is free again.
			bufs[w] = verifyBody(bufs[w], keys[rng[w].IntN(len(keys))])
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/keys/verify", bytes.NewReader(bufs[w]))
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

// createMeteredKey creates, through the API, a key with credits and a rate
// limit, both too large to run out during a run, so that every verification
// spends a credit and takes rate-limit quota.
func (c *apiClient) createMeteredKey(ctx context.Context, tenant string) (string, error) {
	var k struct {
		Key string `json:"key"`
	}
	body := `{"name":"metered","scopes":["` + benchScope + `"],` +
		`"ratelimit":{"limit":1000000000,"duration":"1s"},"credits":{"remaining":1000000000000}}`
	if err := c.callJSON(ctx, "/v1/api-keys", tenant, []byte(body), &k); err != nil {
		return "", err
	}
	if k.Key == "" {
		return "", errors.New("create metered key: answer without key")
	}
	return k.Key, nil
}

// createScenario creates keys through the API, as a provisioning script does.
func createScenario(base, opKey, tenant string) scenario {
	auth := "Bearer " + opKey
	body := []byte(`{"name":"created","scopes":["` + benchScope + `"]}`)
	return scenario{
		name: "create",
		request: func(ctx context.Context, _, _ int) (*http.Request, error) {
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/api-keys", bytes.NewReader(body))
			if err != nil {
				return nil, err
			}
			req.Header.Set("Authorization", auth)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Keyhub-Tenant", tenant)
			return req, nil
		},
		ok: func(body []byte) bool { return bytes.Contains(body, []byte(`"key":"`)) },
	}
}

// listScenario lists the seeded tenant's keys filtered by a name prefix
// picked at random among the seeded names (bench-<n>), one page of 20: the
// search box of a dashboard over a large tenant.
func listScenario(base, opKey, tenant string, n, conc int) scenario {
	rng := workerRand(conc)
	auth := "Bearer " + opKey
	return scenario{
		name: "list",
		request: func(ctx context.Context, w, _ int) (*http.Request, error) {
			u := base + "/v1/api-keys?limit=20&state=active&name=bench-" + strconv.Itoa(rng[w].IntN(n))
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
			if err != nil {
				return nil, err
			}
			req.Header.Set("Authorization", auth)
			req.Header.Set("Keyhub-Tenant", tenant)
			return req, nil
		},
		ok: func(body []byte) bool { return bytes.Contains(body, []byte(`"bench-`)) },
	}
}

// tokenScenario prepares the OAuth client-credentials scenario, or answers
// nil and why when the server has no token endpoint.
func tokenScenario(ctx context.Context, api *apiClient, tenant, alg string) (*scenario, string, error) {
	if probe(ctx, http.MethodPost, api.base+"/oauth2/token") == http.StatusNotFound {
		return nil, "POST /oauth2/token answers 404: this server has no token endpoint", nil
	}
	var cl struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	err := api.callJSON(ctx, "/v1/clients", tenant,
		[]byte(`{"name":"bench","scopes":["read:api_keys"],"audiences":["hub:api"]}`), &cl)
	if err != nil {
		return nil, "", err
	}
	if cl.ClientID == "" || cl.ClientSecret == "" {
		return nil, "", errors.New("create client: answer without client_id or client_secret")
	}
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {cl.ClientID},
		"client_secret": {cl.ClientSecret},
	}.Encode()
	return &scenario{
		name: "token-" + alg,
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

// callJSON is call with the answer decoded into out.
func (c *apiClient) callJSON(ctx context.Context, path, tenant string, body []byte, out any) error {
	b, err := c.call(ctx, path, tenant, body)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("POST %s: %w", path, err)
	}
	return nil
}
