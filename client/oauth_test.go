package client

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// tokenServer is a fake keyhub that issues tokens at /oauth2/token and
// records the bearer of every other request.
type tokenServer struct {
	*httptest.Server
	mu        sync.Mutex
	expiresIn int
	tokens    int      // tokens issued
	forms     []string // token request bodies
	basic     [][2]string
	bearers   []string
}

func newTokenServer(t *testing.T, expiresIn int) *tokenServer {
	t.Helper()
	ts := &tokenServer{expiresIn: expiresIn}
	ts.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ts.mu.Lock()
		defer ts.mu.Unlock()
		if r.URL.Path == "/oauth2/token" {
			b, _ := io.ReadAll(r.Body)
			id, secret, _ := r.BasicAuth()
			ts.forms = append(ts.forms, r.Method+" "+r.Header.Get("Content-Type")+" "+string(b))
			ts.basic = append(ts.basic, [2]string{id, secret})
			if secret != "s3cret" {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(401)
				io.WriteString(w, `{"error":"invalid_client","error_description":"client authentication failed"}`)
				return
			}
			ts.tokens++
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Cache-Control", "no-store")
			fmt.Fprintf(w, `{"access_token":"tok%d","token_type":"Bearer","expires_in":%d}`, ts.tokens, ts.expiresIn)
			return
		}
		ts.bearers = append(ts.bearers, r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"data":[]}`)
	}))
	t.Cleanup(ts.Close)
	return ts
}

func TestClientCredentialsCachesToken(t *testing.T) {
	ts := newTokenServer(t, 3600)
	c := NewWithClientCredentials(ts.URL+"/", "cli_01", "s3cret", WithTenant("ten_01"))
	ctx := context.Background()
	for range 3 {
		if _, err := c.Roles.List(ctx, ListOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if ts.tokens != 1 {
		t.Errorf("fetched %d tokens, want 1", ts.tokens)
	}
	if ts.forms[0] != "POST application/x-www-form-urlencoded grant_type=client_credentials" {
		t.Errorf("token request %q", ts.forms[0])
	}
	if ts.basic[0] != [2]string{"cli_01", "s3cret"} {
		t.Errorf("basic auth %v", ts.basic[0])
	}
	for i, b := range ts.bearers {
		if b != "Bearer tok1" {
			t.Errorf("request %d Authorization %q", i, b)
		}
	}
}

func TestClientCredentialsRefetchesNearExpiry(t *testing.T) {
	// A token that expires within the early-expiry margin is used once.
	ts := newTokenServer(t, 5)
	c := NewWithClientCredentials(ts.URL, "cli_01", "s3cret")
	for range 2 {
		if _, err := c.Roles.List(context.Background(), ListOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if ts.tokens != 2 || ts.bearers[0] != "Bearer tok1" || ts.bearers[1] != "Bearer tok2" {
		t.Errorf("%d tokens, bearers %v", ts.tokens, ts.bearers)
	}
}

func TestClientCredentialsScopes(t *testing.T) {
	ts := newTokenServer(t, 3600)
	c := NewWithClientCredentials(ts.URL, "cli_01", "s3cret", WithTokenScopes("read:api_keys", "create:api_keys"))
	if _, err := c.APIKeys.List(context.Background(), APIKeyListOptions{}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(ts.forms[0], "grant_type=client_credentials&scope=read%3Aapi_keys+create%3Aapi_keys") {
		t.Errorf("token request %q", ts.forms[0])
	}
}

func TestClientCredentialsBadSecret(t *testing.T) {
	ts := newTokenServer(t, 3600)
	c := NewWithClientCredentials(ts.URL, "cli_01", "wrong")
	_, err := c.Roles.List(context.Background(), ListOptions{})
	if err == nil || !strings.Contains(err.Error(), "obtaining an access token from "+ts.URL+"/oauth2/token") ||
		!strings.Contains(err.Error(), "invalid_client") {
		t.Errorf("error %v", err)
	}
	if len(ts.bearers) != 0 {
		t.Error("called the API without a token")
	}
}

func TestClientCredentialsUsesGivenHTTPClient(t *testing.T) {
	ts := newTokenServer(t, 3600)
	var n int
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		n++
		return http.DefaultTransport.RoundTrip(r)
	})}
	c := NewWithClientCredentials(ts.URL, "cli_01", "s3cret", WithHTTPClient(hc))
	if _, err := c.Roles.List(context.Background(), ListOptions{}); err != nil {
		t.Fatal(err)
	}
	if n != 2 { // the token request and the API request
		t.Errorf("transport saw %d requests, want 2", n)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
