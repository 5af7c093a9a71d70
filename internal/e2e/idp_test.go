package e2e

import (
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
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/keyhub/keyhub/internal/apitest"
	"github.com/keyhub/keyhub/internal/app"
	"github.com/keyhub/keyhub/internal/oauth"
)

// idp is an external identity provider (Clerk, Auth0, Kinde style): its
// own keys, its own JWKS endpoint, counting fetches.
type idp struct {
	t       *testing.T
	srv     *httptest.Server
	mu      sync.Mutex
	keys    map[string]*rsa.PrivateKey
	public  jwk.Set
	fetches atomic.Int64
}

func newIDP(t *testing.T) *idp {
	p := &idp{t: t, keys: map[string]*rsa.PrivateKey{}, public: jwk.NewSet()}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.fetches.Add(1)
		p.mu.Lock()
		defer p.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(p.public)
	}))
	t.Cleanup(p.srv.Close)
	p.addKey("k1")
	return p
}

func (p *idp) addKey(kid string) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		p.t.Fatal(err)
	}
	pub, err := jwk.Import(&priv.PublicKey)
	if err != nil {
		p.t.Fatal(err)
	}
	pub.Set(jwk.KeyIDKey, kid)
	pub.Set(jwk.AlgorithmKey, jwa.RS256())
	p.mu.Lock()
	p.keys[kid] = priv
	p.public.AddKey(pub)
	p.mu.Unlock()
}

// token signs claims with key kid using jwx, a JOSE library keyhub does not
// sign with.
func (p *idp) token(kid string, claims map[string]any) string {
	b := jwt.NewBuilder()
	for k, v := range claims {
		b = b.Claim(k, v)
	}
	tok, err := b.Build()
	if err != nil {
		p.t.Fatal(err)
	}
	key, err := jwk.Import(p.keys[kid])
	if err != nil {
		p.t.Fatal(err)
	}
	key.Set(jwk.KeyIDKey, kid)
	signed, err := jwt.Sign(tok, jwt.WithKey(jwa.RS256(), key))
	if err != nil {
		p.t.Fatal(err)
	}
	return string(signed)
}

// forge builds a token by hand with the given header and signature, for the
// attacks a library would refuse to produce.
func forge(header, claims map[string]any, sign func(input string) string) string {
	h, _ := json.Marshal(header)
	c, _ := json.Marshal(claims)
	input := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
	return input + "." + sign(input)
}

func TestExternalIdentityProvider(t *testing.T) {
	p := newIDP(t)
	s := apitest.Start(t, apitest.SQLite(t), func(c *app.Config) {
		c.Providers = []oauth.ProviderConfig{{Issuer: p.srv.URL, JWKSURL: p.srv.URL + "/jwks", Audience: "keyhub", ScopeClaim: "permissions"}}
	})
	tid := s.Tenant("acme", nil)
	now := time.Now()
	claims := func(mod func(map[string]any)) map[string]any {
		c := map[string]any{"iss": p.srv.URL, "sub": "user_2abc", "aud": "keyhub", "iat": now.Unix(), "exp": now.Add(time.Minute).Unix(),
			"tenant_id": tid, "permissions": []string{"read:api_keys", "create:api_keys"}}
		if mod != nil {
			mod(c)
		}
		return c
	}
	good := p.token("k1", claims(nil))
	s.Native(200, "GET", "/v1/api-keys", good, "", nil)
	k := s.Native(201, "POST", "/v1/api-keys", good, "", map[string]any{"name": "from-clerk"})
	if c := k["creator"].(map[string]any); c["type"] != "user" || !strings.Contains(c["id"].(string), "user_2abc") {
		t.Fatalf("creator %v", c)
	}
	s.Native(200, "GET", "/v1/api-keys", good, "", nil)
	if n := p.fetches.Load(); n != 1 {
		t.Fatalf("JWKS fetched %d times for one key, want 1 (cached)", n)
	}
	// The provider rotates: a token with an unknown kid makes keyhub fetch
	// the JWKS once more, and no more after that.
	p.addKey("k2")
	rotated := p.token("k2", claims(nil))
	s.Native(200, "GET", "/v1/api-keys", rotated, "", nil)
	s.Native(200, "GET", "/v1/api-keys", rotated, "", nil)
	if n := p.fetches.Load(); n != 2 {
		t.Fatalf("JWKS fetched %d times after an unknown kid, want 2", n)
	}

	pubDER, _ := x509.MarshalPKIXPublicKey(&p.keys["k1"].PublicKey)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	hs256 := func(secret []byte) func(string) string {
		return func(in string) string {
			m := hmac.New(sha256.New, secret)
			m.Write([]byte(in))
			return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
		}
	}
	refused := []struct{ name, token string }{
		{"WrongIssuer", p.token("k1", claims(func(c map[string]any) { c["iss"] = "https://evil.example" }))},
		{"WrongAudience", p.token("k1", claims(func(c map[string]any) { c["aud"] = "someone-else" }))},
		{"Expired", p.token("k1", claims(func(c map[string]any) { c["exp"] = now.Add(-10 * time.Minute).Unix() }))},
		{"NotYetValid", p.token("k1", claims(func(c map[string]any) { c["nbf"] = now.Add(10 * time.Minute).Unix() }))},
		{"NoTenant", p.token("k1", claims(func(c map[string]any) { delete(c, "tenant_id") }))},
		{"BadSignature", good[:len(good)-4] + "AAAA"},
		{"AlgNone", forge(map[string]any{"alg": "none", "typ": "JWT", "kid": "k1"}, claims(nil), func(string) string { return "" })},
		{"HS256WithPublicKeyPEM", forge(map[string]any{"alg": "HS256", "typ": "JWT", "kid": "k1"}, claims(nil), hs256(pubPEM))},
		{"HS256WithPublicKeyDER", forge(map[string]any{"alg": "HS256", "typ": "JWT", "kid": "k1"}, claims(nil), hs256(pubDER))},
		{"UnknownKid", forge(map[string]any{"alg": "RS256", "typ": "JWT", "kid": "k9"}, claims(nil), func(in string) string {
			h := sha256.Sum256([]byte(in))
			sig, _ := rsa.SignPKCS1v15(rand.Reader, p.keys["k1"], 5, h[:]) // crypto.SHA256 == 5
			return base64.RawURLEncoding.EncodeToString(sig)
		})},
	}
	invalidToken := func(t *testing.T, r apitest.Resp) {
		if r.Object(t)["code"] != "invalid_token" || !strings.Contains(r.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
			t.Fatalf("%d %v %s", r.Status, r.Header, r.Body)
		}
	}
	var scenarios []apitest.Scenario
	for _, c := range refused {
		scenarios = append(scenarios, apitest.Scenario{Name: c.name, Method: "GET", URL: "/v1/api-keys",
			Headers: map[string]string{"Authorization": "Bearer " + c.token}, Status: 401, Check: invalidToken})
	}
	s.Run(t, scenarios)
	// The scopes the provider granted bound what the user may do.
	if r := s.Do("DELETE", "/v1/api-keys/"+k["id"].(string), nil, apitest.Auth(good, "")...); r.Status != 403 {
		t.Fatalf("delete without delete:api_keys: %d", r.Status)
	}
}
