package oauth

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

const (
	extIssuer   = "https://clerk.example.com"
	extAudience = "keyhub"
	extTenant   = "ten_01JABCDEFGHJKMNPQRSTVWXYZ0"
)

// idp is a fake identity provider: private keys and a JWKS endpoint that
// counts its requests.
type idp struct {
	srv      *httptest.Server
	requests atomic.Int64
	mu       sync.Mutex
	keys     map[string]crypto.Signer
	algs     map[string]jose.SignatureAlgorithm
}

func newIDP(t *testing.T) *idp {
	p := &idp{keys: map[string]crypto.Signer{}, algs: map[string]jose.SignatureAlgorithm{}}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.requests.Add(1)
		p.mu.Lock()
		defer p.mu.Unlock()
		set := jose.JSONWebKeySet{}
		for kid, k := range p.keys {
			set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.Public(), KeyID: kid, Algorithm: string(p.algs[kid]), Use: "sig"})
		}
		json.NewEncoder(w).Encode(set)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

// addKey makes a key for alg and publishes it under kid.
func (p *idp) addKey(t *testing.T, kid string, alg jose.SignatureAlgorithm) {
	t.Helper()
	var k crypto.Signer
	var err error
	switch alg {
	case jose.RS256:
		k, err = rsa.GenerateKey(rand.Reader, 2048)
	case jose.ES256:
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case jose.EdDSA:
		_, k, err = ed25519.GenerateKey(rand.Reader)
	}
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.keys[kid], p.algs[kid] = k, alg
	p.mu.Unlock()
}

// sign signs claims with the key kid.
func (p *idp) sign(t *testing.T, kid string, claims map[string]any) string {
	t.Helper()
	p.mu.Lock()
	k, alg := p.keys[kid], p.algs[kid]
	p.mu.Unlock()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: k, KeyID: kid}}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(claims)
	jws, err := s.Sign(b)
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := jws.CompactSerialize()
	return tok
}

type extFixture struct {
	idp   *idp
	clock *clock
	p     *Providers
}

func newExtFixture(t *testing.T, mutate func(*ProviderConfig)) *extFixture {
	t.Helper()
	f := &extFixture{idp: newIDP(t), clock: newClock()}
	f.idp.addKey(t, "rsa-1", jose.RS256)
	cfg := ProviderConfig{Issuer: extIssuer, JWKSURL: f.idp.srv.URL + "/.well-known/jwks.json", Audience: extAudience}
	if mutate != nil {
		mutate(&cfg)
	}
	var err error
	f.p, err = NewProviders([]ProviderConfig{cfg}, f.idp.srv.Client(), f.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *extFixture) claims() map[string]any {
	now := f.clock.Now().Unix()
	return map[string]any{
		"iss": extIssuer, "sub": "user_2abc", "aud": extAudience,
		"exp": now + 60, "iat": now, "nbf": now - 5,
		"tenant_id": extTenant, "scope": "read:api_keys create:api_keys",
	}
}

func (f *extFixture) with(kv ...any) map[string]any {
	c := f.claims()
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(c, kv[i].(string))
		} else {
			c[kv[i].(string)] = kv[i+1]
		}
	}
	return c
}

func TestExternalAccepts(t *testing.T) {
	for _, alg := range []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA} {
		t.Run(string(alg), func(t *testing.T) {
			f := newExtFixture(t, nil)
			f.idp.addKey(t, "k-"+string(alg), alg)
			id, err := f.p.Verify(context.Background(), f.idp.sign(t, "k-"+string(alg), f.claims()))
			if err != nil {
				t.Fatal(err)
			}
			if id.Issuer != extIssuer || id.Subject != "user_2abc" || id.TenantID != extTenant ||
				strings.Join(id.Scopes, " ") != "read:api_keys create:api_keys" {
				t.Fatalf("identity %+v", id)
			}
		})
	}
	t.Run("ScopeArray", func(t *testing.T) {
		f := newExtFixture(t, nil)
		id, err := f.p.Verify(context.Background(), f.idp.sign(t, "rsa-1", f.with("scope", []string{"a:b", "c:d"})))
		if err != nil || strings.Join(id.Scopes, " ") != "a:b c:d" {
			t.Fatalf("%+v, %v", id, err)
		}
	})
	t.Run("ArrayScopesNestedTenantMap", func(t *testing.T) {
		f := newExtFixture(t, func(c *ProviderConfig) {
			c.ScopeClaim, c.TenantClaim = "permissions", "o.id"
			c.TenantMap = map[string]string{"org_2xyz": extTenant}
		})
		c := f.with("tenant_id", nil, "scope", nil, "aud", []string{"other", extAudience},
			"permissions", []string{"read:api_keys"}, "o", map[string]any{"id": "org_2xyz", "rol": "admin"})
		id, err := f.p.Verify(context.Background(), f.idp.sign(t, "rsa-1", c))
		if err != nil {
			t.Fatal(err)
		}
		if id.TenantID != extTenant || len(id.Scopes) != 1 || id.Scopes[0] != "read:api_keys" {
			t.Fatalf("identity %+v", id)
		}
	})
}

func TestExternalRefuses(t *testing.T) {
	f := newExtFixture(t, func(c *ProviderConfig) { c.Algorithms = []string{RS256} })
	f.idp.addKey(t, "ec-1", jose.ES256)
	good := f.idp.sign(t, "rsa-1", f.claims())
	parts := strings.Split(good, ".")
	ctx := context.Background()
	hs256 := func(key []byte) string {
		in := segment(map[string]any{"alg": "HS256", "kid": "rsa-1", "typ": "JWT"}) + "." + parts[1]
		m := hmac.New(sha256.New, key)
		m.Write([]byte(in))
		return in + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	}
	pubDER, _ := x509.MarshalPKIXPublicKey(f.idp.keys["rsa-1"].Public())
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	sig[0] ^= 1

	cases := map[string]struct {
		token string
		want  string
	}{
		"ErrUnknownIssuer":   {f.idp.sign(t, "rsa-1", f.with("iss", "https://evil.example")), "issuer"},
		"ErrWrongAudience":   {f.idp.sign(t, "rsa-1", f.with("aud", "other")), "audience"},
		"ErrNoAudience":      {f.idp.sign(t, "rsa-1", f.with("aud", nil)), "audience"},
		"ErrAlgNotAllowed":   {f.idp.sign(t, "ec-1", f.claims()), "algorithm"},
		"ErrExpired":         {f.idp.sign(t, "rsa-1", f.with("exp", f.clock.Now().Unix()-61)), "expired"},
		"ErrNoExpiry":        {f.idp.sign(t, "rsa-1", f.with("exp", nil)), "expiry"},
		"ErrNotYetValid":     {f.idp.sign(t, "rsa-1", f.with("nbf", f.clock.Now().Unix()+120)), "not valid yet"},
		"ErrTamperedSig":     {parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(sig), "signature"},
		"ErrAlgNone":         {segment(map[string]any{"alg": "none"}) + "." + parts[1] + ".", "algorithm"},
		"ErrHS256PEM":        {hs256(pubPEM), "algorithm"},
		"ErrHS256DER":        {hs256(pubDER), "algorithm"},
		"ErrNoTenant":        {f.idp.sign(t, "rsa-1", f.with("tenant_id", nil)), "tenant_id"},
		"ErrTenantNotAnID":   {f.idp.sign(t, "rsa-1", f.with("tenant_id", "acme")), "tenant"},
		"ErrNoSubject":       {f.idp.sign(t, "rsa-1", f.with("sub", nil)), "subject"},
		"ErrScopesMalformed": {f.idp.sign(t, "rsa-1", f.with("scope", 42)), "scopes"},
		"ErrMalformed":       {"not.a.jwt", "malformed"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := f.p.Verify(ctx, tc.token)
			wantInvalidToken(t, err, tc.want)
			if strings.Contains(err.Error(), tc.token) || strings.Contains(err.Error(), parts[2]) {
				t.Fatal("error contains the token")
			}
		})
	}
	t.Run("ErrUnmappedTenant", func(t *testing.T) {
		f := newExtFixture(t, func(c *ProviderConfig) { c.TenantMap = map[string]string{"org_a": extTenant} })
		_, err := f.p.Verify(ctx, f.idp.sign(t, "rsa-1", f.with("tenant_id", "org_b")))
		wantInvalidToken(t, err, "not mapped")
	})
}

func TestExternalJWKSRefetch(t *testing.T) {
	ctx := context.Background()
	f := newExtFixture(t, nil)
	if _, err := f.p.Verify(ctx, f.idp.sign(t, "rsa-1", f.claims())); err != nil {
		t.Fatal(err)
	}
	if _, err := f.p.Verify(ctx, f.idp.sign(t, "rsa-1", f.claims())); err != nil {
		t.Fatal(err)
	}
	if n := f.idp.requests.Load(); n != 1 {
		t.Fatalf("%d JWKS fetches for a known key, want 1", n)
	}

	// The provider rotates; a token with the new kid makes exactly one
	// refetch, once the rate limit allows it.
	f.clock.Add(jwksMinRefetch)
	f.idp.addKey(t, "rsa-2", jose.RS256)
	if _, err := f.p.Verify(ctx, f.idp.sign(t, "rsa-2", f.claims())); err != nil {
		t.Fatalf("new kid: %v", err)
	}
	if n := f.idp.requests.Load(); n != 2 {
		t.Fatalf("%d JWKS fetches after a new kid, want 2", n)
	}

	// Made-up kids, many at once, within the rate-limit window: no fetch.
	f.idp.addKey(t, "rsa-3", jose.RS256)
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.p.Verify(ctx, f.idp.sign(t, "rsa-3", f.claims()))
			if err == nil {
				t.Error("unknown kid accepted within the rate-limit window")
			}
		}()
	}
	wg.Wait()
	if n := f.idp.requests.Load(); n != 2 {
		t.Fatalf("%d JWKS fetches, want the refetch rate-limited to 2", n)
	}

	// After the window one refetch finds it, however many ask at once.
	f.clock.Add(jwksMinRefetch)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := f.p.Verify(ctx, f.idp.sign(t, "rsa-3", f.claims())); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := f.idp.requests.Load(); n != 3 {
		t.Fatalf("%d JWKS fetches, want 3 (single-flight)", n)
	}
}

func TestExternalFirstFetchSingleFlight(t *testing.T) {
	f := newExtFixture(t, nil)
	tok := f.idp.sign(t, "rsa-1", f.claims())
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := f.p.Verify(context.Background(), tok); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := f.idp.requests.Load(); n != 1 {
		t.Fatalf("%d JWKS fetches, want 1", n)
	}
}

func TestExternalJWKSUnavailable(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusBadGateway)
	}))
	defer srv.Close()
	c := newClock()
	p, err := NewProviders([]ProviderConfig{{Issuer: extIssuer, JWKSURL: srv.URL, Audience: extAudience}}, nil, c.Now)
	if err != nil {
		t.Fatal(err)
	}
	f := &extFixture{idp: newIDP(t), clock: c}
	f.idp.addKey(t, "rsa-1", jose.RS256)
	_, err = p.Verify(context.Background(), f.idp.sign(t, "rsa-1", f.claims()))
	wantInvalidToken(t, err, "unavailable")
}

func TestNewProvidersErrors(t *testing.T) {
	ok := ProviderConfig{Issuer: extIssuer, JWKSURL: "https://clerk.example.com/.well-known/jwks.json", Audience: extAudience}
	for name, mutate := range map[string]func(*ProviderConfig){
		"ErrNoIssuer":     func(c *ProviderConfig) { c.Issuer = "" },
		"ErrNoAudience":   func(c *ProviderConfig) { c.Audience = "" },
		"ErrHTTP":         func(c *ProviderConfig) { c.JWKSURL = "http://clerk.example.com/jwks" },
		"ErrRelativeURL":  func(c *ProviderConfig) { c.JWKSURL = "/jwks" },
		"ErrHS256":        func(c *ProviderConfig) { c.Algorithms = []string{"RS256", "HS256"} },
		"ErrNone":         func(c *ProviderConfig) { c.Algorithms = []string{"none"} },
		"ErrBadTenantMap": func(c *ProviderConfig) { c.TenantMap = map[string]string{"org": "acme"} },
	} {
		t.Run(name, func(t *testing.T) {
			c := ok
			mutate(&c)
			if _, err := NewProviders([]ProviderConfig{c}, nil, nil); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	if _, err := NewProviders([]ProviderConfig{ok, ok}, nil, nil); err == nil {
		t.Fatal("duplicate issuer accepted")
	}
	loopback := []ProviderConfig{
		{Issuer: "http://127.0.0.1:8081", JWKSURL: "http://127.0.0.1:8081/jwks", Audience: "a"},
		{Issuer: "http://localhost:8081", JWKSURL: "http://localhost:8081/jwks", Audience: "a"},
		{Issuer: "http://[::1]:8081", JWKSURL: "http://[::1]:8081/jwks", Audience: "a"},
	}
	if _, err := NewProviders(loopback, nil, nil); err != nil {
		t.Fatalf("loopback http refused: %v", err)
	}
	var cfg []ProviderConfig
	raw := `[{"issuer":"https://x.kinde.com","jwks_url":"https://x.kinde.com/.well-known/jwks","audience":"hub:api","tenant_claim":"org_code","scope_claim":"scp","algorithms":["RS256"]}]`
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil || cfg[0].TenantClaim != "org_code" || cfg[0].JWKSURL == "" {
		t.Fatalf("JSON config: %+v, %v", cfg, err)
	}
	if _, err := NewProviders(cfg, nil, nil); err != nil {
		t.Fatal(err)
	}
}
