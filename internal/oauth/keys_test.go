package oauth

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/secret"
)

const testIssuer = "http://127.0.0.1:8080"

// clock is a settable time source shared by the "nodes" of a test.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC).UnixNano())
	return c
}
func (c *clock) Now() time.Time      { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) Add(d time.Duration) { c.ns.Add(int64(d)) }
func quietLog() *slog.Logger         { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
func testMaster(t testing.TB) []byte { t.Helper(); return randomBytes(t, 32) }
func randomBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

type keysFixture struct {
	store  keyhub.Store
	clock  *clock
	master []byte
}

func newKeysFixture(t testing.TB) *keysFixture {
	return &keysFixture{store: newTestStore(t), clock: newClock(), master: testMaster(t)}
}

// node returns a Keys over the fixture's store, like one keyhub process.
func (f *keysFixture) node(t testing.TB, alg string) *Keys {
	t.Helper()
	return NewKeys(f.store, KeysConfig{
		Issuer: testIssuer, Master: f.master, Algorithm: alg, Now: f.clock.Now, Log: quietLog(),
	})
}

func (f *keysFixture) loaded(t testing.TB, alg string) *Keys {
	t.Helper()
	k := f.node(t, alg)
	if err := k.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	return k
}

func (f *keysFixture) claims() *Claims {
	now := f.clock.Now()
	return &Claims{
		Audience: Audience{"hub:api"}, Expiry: now.Add(time.Hour),
		ClientID: "cli_01", Scope: "read:api_keys create:api_keys", TenantID: "ten_01",
	}
}

func (f *keysFixture) listKeys(t testing.TB) []*keyhub.SigningKey {
	t.Helper()
	var recs []*keyhub.SigningKey
	err := f.store.View(context.Background(), func(tx keyhub.Tx) error {
		var err error
		recs, err = tx.ListSigningKeys(context.Background())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func wantInvalidToken(t *testing.T, err error, contains string) {
	t.Helper()
	var e *keyhub.Error
	if err == nil {
		t.Fatal("token accepted")
	}
	if !errorsAs(err, &e) || e.Kind != keyhub.KindUnauthorized || e.Code != "invalid_token" {
		t.Fatalf("error %v is not an invalid_token *keyhub.Error", err)
	}
	if contains != "" && !strings.Contains(e.Message, contains) {
		t.Fatalf("error %q does not mention %q", e.Message, contains)
	}
}

func decodeSegment(t *testing.T, tok string, i int) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[i])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSignVerify(t *testing.T) {
	for _, alg := range []string{ES256, EdDSA, RS256} {
		t.Run(alg, func(t *testing.T) {
			f := newKeysFixture(t)
			k := f.loaded(t, alg)
			tok, err := k.Sign(f.claims())
			if err != nil {
				t.Fatal(err)
			}
			h := decodeSegment(t, tok, 0)
			if h["typ"] != "at+jwt" || h["alg"] != alg || h["kid"] != k.Current().ID {
				t.Fatalf("header %v", h)
			}
			p := decodeSegment(t, tok, 1)
			for _, name := range []string{"iss", "sub", "aud", "exp", "iat", "jti", "client_id", "scope", "tenant_id"} {
				if _, ok := p[name]; !ok {
					t.Errorf("claim %s missing from %v", name, p)
				}
			}
			if p["aud"] != "hub:api" {
				t.Errorf("single audience not a string: %v", p["aud"])
			}
			c, err := k.Verify(tok, "hub:api")
			if err != nil {
				t.Fatal(err)
			}
			if c.Issuer != testIssuer || c.Subject != "cli_01" || c.ClientID != "cli_01" || c.TenantID != "ten_01" ||
				c.Scope != "read:api_keys create:api_keys" || c.ID == "" || !c.Expiry.Equal(f.clock.Now().Add(time.Hour).Truncate(time.Second)) {
				t.Fatalf("claims %+v", c)
			}
			if _, err := k.Verify(tok, ""); err != nil {
				t.Fatalf("no audience required: %v", err)
			}
			// Another node on the same store verifies it too.
			if _, err := f.loaded(t, alg).Verify(tok, "hub:api"); err != nil {
				t.Fatalf("second node: %v", err)
			}
		})
	}
}

func TestSignAudienceArray(t *testing.T) {
	f := newKeysFixture(t)
	k := f.loaded(t, ES256)
	c := f.claims()
	c.Audience = Audience{"hub:api", "https://api.example.com"}
	c.TenantID = ""
	tok, err := k.Sign(c)
	if err != nil {
		t.Fatal(err)
	}
	p := decodeSegment(t, tok, 1)
	if _, ok := p["aud"].([]any); !ok {
		t.Fatalf("aud %v is not an array", p["aud"])
	}
	if _, ok := p["tenant_id"]; ok {
		t.Fatal("empty tenant_id serialised")
	}
	for _, aud := range []string{"hub:api", "https://api.example.com"} {
		if _, err := k.Verify(tok, aud); err != nil {
			t.Fatalf("%s: %v", aud, err)
		}
	}
}

func TestSignRefuses(t *testing.T) {
	f := newKeysFixture(t)
	if _, err := f.node(t, ES256).Sign(f.claims()); err != ErrNoSigningKey {
		t.Fatalf("before Load: %v", err)
	}
	k := f.loaded(t, ES256)
	for name, mutate := range map[string]func(*Claims){
		"ErrNoExpiry":        func(c *Claims) { c.Expiry = time.Time{} },
		"ErrNoAudience":      func(c *Claims) { c.Audience = nil },
		"ErrOtherIssuer":     func(c *Claims) { c.Issuer = "https://evil.example" },
		"ErrLifetimeTooLong": func(c *Claims) { c.Expiry = f.clock.Now().Add(DefaultRetain) },
		"ErrNoSubject":       func(c *Claims) { c.ClientID = "" },
	} {
		t.Run(name, func(t *testing.T) {
			c := f.claims()
			mutate(c)
			if _, err := k.Sign(c); err == nil {
				t.Fatal("signed")
			}
		})
	}
}

func TestVerifyRefuses(t *testing.T) {
	f := newKeysFixture(t)
	k := f.loaded(t, RS256)
	good, err := k.Sign(f.claims())
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, ".")
	cur := k.Current()

	t.Run("ErrTamperedSignature", func(t *testing.T) {
		sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
		sig[10] ^= 1
		_, err := k.Verify(parts[0]+"."+parts[1]+"."+base64.RawURLEncoding.EncodeToString(sig), "")
		wantInvalidToken(t, err, "signature")
	})
	t.Run("ErrTamperedPayload", func(t *testing.T) {
		p := decodeSegment(t, good, 1)
		p["scope"] = "*"
		b, _ := json.Marshal(p)
		_, err := k.Verify(parts[0]+"."+base64.RawURLEncoding.EncodeToString(b)+"."+parts[2], "")
		wantInvalidToken(t, err, "signature")
	})
	t.Run("ErrUnknownKID", func(t *testing.T) {
		h := decodeSegment(t, good, 0)
		h["kid"] = "sig_01JUNKNOWNKEY0000000000000"
		_, err := k.Verify(segment(h)+"."+parts[1]+"."+parts[2], "")
		wantInvalidToken(t, err, "unknown key")
	})
	t.Run("ErrWrongAudience", func(t *testing.T) {
		_, err := k.Verify(good, "other:api")
		wantInvalidToken(t, err, "audience")
	})
	t.Run("ErrWrongIssuer", func(t *testing.T) {
		other := NewKeys(f.store, KeysConfig{Issuer: "https://other.example", Master: f.master, Algorithm: RS256, Now: f.clock.Now, Log: quietLog()})
		if err := other.Load(context.Background()); err != nil {
			t.Fatal(err)
		}
		tok, err := other.Sign(f.claims())
		if err != nil {
			t.Fatal(err)
		}
		_, err = k.Verify(tok, "")
		wantInvalidToken(t, err, "issuer")
	})
	t.Run("ErrAlgNone", func(t *testing.T) {
		h := map[string]any{"alg": "none", "typ": "at+jwt", "kid": cur.ID}
		_, err := k.Verify(segment(h)+"."+parts[1]+".", "")
		wantInvalidToken(t, err, "algorithm")
	})
	t.Run("ErrHS256WithPublicKey", func(t *testing.T) {
		// The classic confusion attack: HMAC keyed with the public key,
		// in each form an attacker might guess the verifier uses.
		var jwk jose.JSONWebKey
		if err := jwk.UnmarshalJSON(cur.PublicJWK); err != nil {
			t.Fatal(err)
		}
		der, _ := x509.MarshalPKIXPublicKey(jwk.Key)
		pemKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
		for _, secretKey := range [][]byte{pemKey, der, cur.PublicJWK} {
			h := map[string]any{"alg": "HS256", "typ": "at+jwt", "kid": cur.ID}
			input := segment(h) + "." + parts[1]
			mac := hmac.New(sha256.New, secretKey)
			mac.Write([]byte(input))
			_, err := k.Verify(input+"."+base64.RawURLEncoding.EncodeToString(mac.Sum(nil)), "")
			wantInvalidToken(t, err, "algorithm")
		}
	})
	t.Run("ErrWrongTyp", func(t *testing.T) {
		tok := signWithStoredKey(t, f, cur, nil, f.claims())
		_, err := k.Verify(tok, "")
		wantInvalidToken(t, err, "typ")
	})
	t.Run("ErrNoExpiry", func(t *testing.T) {
		c := f.claims()
		c.Issuer, c.Subject, c.Expiry = testIssuer, "cli_01", time.Time{}
		tok := signWithStoredKey(t, f, cur, (&jose.SignerOptions{}).WithType("at+jwt"), c)
		_, err := k.Verify(tok, "")
		wantInvalidToken(t, err, "expiry")
	})
	t.Run("ErrMalformed", func(t *testing.T) {
		for _, tok := range []string{"", "a.b", "a.b.c", good + ".x", strings.Repeat("a", maxTokenSize+1)} {
			_, err := k.Verify(tok, "")
			wantInvalidToken(t, err, "")
			if tok != "" && strings.Contains(err.Error(), tok) {
				t.Fatal("error contains the token")
			}
		}
	})
}

func TestVerifyTimes(t *testing.T) {
	f := newKeysFixture(t)
	k := f.loaded(t, ES256)
	tok, err := k.Sign(f.claims()) // exp = now + 1h
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Add(time.Hour + 59*time.Second)
	if _, err := k.Verify(tok, ""); err != nil {
		t.Fatalf("within leeway: %v", err)
	}
	f.clock.Add(2 * time.Second)
	_, err = k.Verify(tok, "")
	wantInvalidToken(t, err, "expired")

	c := f.claims()
	c.NotBefore = f.clock.Now().Add(2 * time.Minute)
	nbf, _ := k.Sign(c)
	_, err = k.Verify(nbf, "")
	wantInvalidToken(t, err, "not valid yet")

	c = f.claims()
	c.IssuedAt = f.clock.Now().Add(2 * time.Minute)
	iat, _ := k.Sign(c)
	_, err = k.Verify(iat, "")
	wantInvalidToken(t, err, "future")
}

// segment encodes a JOSE header or claims set.
func segment(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

// signWithStoredKey signs c with the stored private key of rec, with
// options other than Keys would use.
func signWithStoredKey(t *testing.T, f *keysFixture, rec *keyhub.SigningKey, opts *jose.SignerOptions, c *Claims) string {
	t.Helper()
	var stored *keyhub.SigningKey
	for _, r := range f.listKeys(t) {
		if r.ID == rec.ID {
			stored = r
		}
	}
	der, err := secret.Open(f.master, stored.PrivateKeyEncrypted, []byte(stored.ID))
	if err != nil {
		t.Fatal(err)
	}
	priv, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		t.Fatal(err)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(stored.Algorithm),
		Key: jose.JSONWebKey{Key: priv, KeyID: stored.ID}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(c)
	jws, err := s.Sign(b)
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := jws.CompactSerialize()
	return tok
}

func jwksKIDs(t *testing.T, b []byte) []string {
	t.Helper()
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(b, &set); err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, k := range set.Keys {
		if k["use"] != "sig" || k["alg"] == nil || k["kid"] == nil {
			t.Fatalf("JWK lacks use/alg/kid: %v", k)
		}
		for _, private := range []string{"d", "p", "q", "dp", "dq", "qi"} {
			if _, ok := k[private]; ok {
				t.Fatalf("JWKS publishes private parameter %s", private)
			}
		}
		kids = append(kids, k["kid"].(string))
	}
	return kids
}

func TestPrivateKeySealed(t *testing.T) {
	f := newKeysFixture(t)
	f.loaded(t, EdDSA)
	rec := f.listKeys(t)[0]
	der, err := secret.Open(f.master, rec.PrivateKeyEncrypted, []byte(rec.ID))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(rec.PrivateKeyEncrypted, der) || bytes.Contains(rec.PrivateKeyEncrypted, der[len(der)-32:]) {
		t.Fatal("stored private key contains the plaintext")
	}
	if bytes.Contains(rec.PublicJWK, []byte(`"d"`)) {
		t.Fatal("public JWK holds the private key")
	}
	if _, err := secret.Open(testMaster(t), rec.PrivateKeyEncrypted, []byte(rec.ID)); err == nil {
		t.Fatal("opened with a wrong master key")
	}
	if _, err := secret.Open(f.master, rec.PrivateKeyEncrypted, []byte("sig_other")); err == nil {
		t.Fatal("opened under another kid")
	}
	wrong := NewKeys(f.store, KeysConfig{Issuer: testIssuer, Master: testMaster(t), Now: f.clock.Now, Log: quietLog(), Algorithm: EdDSA})
	if err := wrong.Load(context.Background()); err == nil || !strings.Contains(err.Error(), "KEYHUB_MASTER_KEY") {
		t.Fatalf("Load with a wrong master key: %v", err)
	}
}

func TestKeysConfigErrors(t *testing.T) {
	st := newTestStore(t)
	for name, cfg := range map[string]KeysConfig{
		"ErrNoIssuer":    {Master: testMaster(t)},
		"ErrShortMaster": {Issuer: testIssuer, Master: make([]byte, 16)},
		"ErrHS256":       {Issuer: testIssuer, Master: testMaster(t), Algorithm: "HS256"},
		"ErrNone":        {Issuer: testIssuer, Master: testMaster(t), Algorithm: "none"},
		"ErrES384":       {Issuer: testIssuer, Master: testMaster(t), Algorithm: "ES384"},
	} {
		t.Run(name, func(t *testing.T) {
			if err := NewKeys(st, cfg).Load(context.Background()); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}
