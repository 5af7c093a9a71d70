package e2e

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jws"

	"github.com/keyhub/keyhub/internal/apitest"
)

// mint signs claims as a YAXI customer's backend does, with a JOSE library
// that is not keyhub's: alg HS256 (or alg), kid, the secret's bytes.
func mint(t *testing.T, alg jwa.SignatureAlgorithm, key any, kid string, claims map[string]any, extra map[string]any) string {
	t.Helper()
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	h := jws.NewHeaders()
	if kid != "" {
		h.Set("kid", kid)
	}
	h.Set("typ", "JWT")
	for k, v := range extra {
		h.Set(k, v)
	}
	out, err := jws.Sign(payload, jws.WithKey(alg, key, jws.WithProtectedHeaders(h)))
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func b64(v any) string {
	raw, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(raw)
}

func secretBytes(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != 32 {
		t.Fatalf("secret %q is not the base64 of 32 bytes: %v", s, err)
	}
	return b
}

// TestTicketRoundTrip follows YAXI's flow: a key made on the YAXI surface
// is an id and a base64 secret; the customer mints an HS256 ticket with
// them; keyhub answers it as verify answers a key, and refuses every
// ticket that is not exactly one signed by that secret.
func TestTicketRoundTrip(t *testing.T) {
	apitest.EachStore(t, func(t *testing.T, dsn string) {
		s := apitest.Start(t, dsn)
		tenant := s.Tenant("yaxi customer", nil)
		_, hub := s.Key(tenant, map[string]any{"name": "hub", "scopes": []string{"read:api_keys", "create:api_keys", "delete:api_keys", "verify:api_keys"}})
		hubAuth := "Authorization: Bearer " + hub
		created := s.Must(201, "POST", "/api/api-keys", `{"name":"backend","environment":"Production"}`, hubAuth).Object(t)
		yaxiID, shown := created["id"].(string), created["secret"].(string)
		key := secretBytes(t, shown)
		s.Native(200, "GET", "/api/api-keys/"+yaxiID, hub, "", nil) // the YAXI path reads it back
		nk := s.Native(200, "GET", "/v1/api-keys?limit=200", s.Operator, tenant, nil)["data"].([]any)
		var id string
		for _, it := range nk {
			if m := it.(map[string]any); m["name"] == "backend" {
				id = m["id"].(string)
				if m["kind"] != "signing" || !strings.HasPrefix(shown, m["start"].(string)) {
					t.Errorf("native view of the YAXI key: %v", m)
				}
			}
		}
		if id == "" {
			t.Fatal("the YAXI key is not listed natively")
		}

		now := time.Now().Unix()
		good := map[string]any{"exp": now + 60, "data": map[string]any{"account": "acme", "n": 1}}
		ticket := func(r apitest.Resp) map[string]any { t.Helper(); return r.Object(t) }
		check := func(name, tk, want string) map[string]any {
			t.Helper()
			a := ticket(s.Must(200, "POST", "/v1/tickets/verify", map[string]any{"ticket": tk}, apitest.Auth(s.Operator, "")...))
			if a["code"] != want || a["valid"] != (want == "VALID") {
				t.Errorf("%s: %v, want %s", name, a, want)
			}
			return a
		}

		for _, kid := range []string{yaxiID, id} {
			a := check("kid "+kid, mint(t, jwa.HS256(), key, kid, good, nil), "VALID")
			k, _ := a["key"].(map[string]any)
			if k["id"] != id || k["tenant_id"] != tenant || k["name"] != "backend" {
				t.Errorf("answer's key: %v", a["key"])
			}
			if c, _ := a["claims"].(map[string]any); c["data"].(map[string]any)["account"] != "acme" || c["exp"] != float64(now+60) {
				t.Errorf("answer's claims: %v", a["claims"])
			}
		}
		// The tenant's own verifier key may ask too, and sees only its keys.
		if a := ticket(s.Must(200, "POST", "/v1/tickets/verify", map[string]any{"ticket": mint(t, jwa.HS256(), key, yaxiID, good, nil)}, hubAuth)); a["code"] != "VALID" {
			t.Errorf("tenant verifier: %v", a)
		}
		other := s.Tenant("other", nil)
		_, otherVerifier := s.Key(other, map[string]any{"name": "v", "scopes": []string{"verify:api_keys"}})
		if a := ticket(s.Must(200, "POST", "/v1/tickets/verify", map[string]any{"ticket": mint(t, jwa.HS256(), key, yaxiID, good, nil)},
			"Authorization: Bearer "+otherVerifier)); a["code"] != "NOT_FOUND" || a["key"] != nil || a["claims"] != nil {
			t.Errorf("another tenant's verifier: %v", a)
		}

		tk := mint(t, jwa.HS256(), key, id, good, nil)
		parts := strings.Split(tk, ".")
		_, bearer := s.Key(tenant, map[string]any{"name": "bearer"})
		var bearerID string
		for _, it := range s.Native(200, "GET", "/v1/api-keys?limit=200", s.Operator, tenant, nil)["data"].([]any) {
			if m := it.(map[string]any); m["name"] == "bearer" {
				bearerID = m["id"].(string)
			}
		}
		bearerHash := sha256.Sum256([]byte(bearer))
		rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		wrongKey := make([]byte, 32)
		rand.Read(wrongKey)
		refused := []struct{ name, ticket, code string }{
			{"TamperedPayload", parts[0] + "." + b64(map[string]any{"exp": now + 60, "data": map[string]any{"account": "evil"}}) + "." + parts[2], "INVALID_SIGNATURE"},
			{"TamperedSignature", parts[0] + "." + parts[1] + "." + flipFirst(parts[2]), "INVALID_SIGNATURE"},
			{"WrongSecret", mint(t, jwa.HS256(), wrongKey, id, good, nil), "INVALID_SIGNATURE"},
			{"Expired", mint(t, jwa.HS256(), key, id, map[string]any{"exp": now - 120}, nil), "TICKET_EXPIRED"},
			{"NotYetValid", mint(t, jwa.HS256(), key, id, map[string]any{"exp": now + 600, "nbf": now + 300}, nil), "TICKET_NOT_YET_VALID"},
			{"NoExpiry", mint(t, jwa.HS256(), key, id, map[string]any{"data": 1}, nil), "MALFORMED"},
			{"PayloadNotObject", mint(t, jwa.HS256(), key, id, nil, nil), "MALFORMED"},
			{"UnknownKid", mint(t, jwa.HS256(), key, "key_01HX9KZMB3F7VNQP8R2WDGT4E6", good, nil), "NOT_FOUND"},
			{"NoKid", mint(t, jwa.HS256(), key, "", good, nil), "MALFORMED"},
			{"AlgNone", b64(map[string]any{"alg": "none", "kid": id}) + "." + parts[1] + ".", "MALFORMED"},
			{"AlgNoneWithSignature", b64(map[string]any{"alg": "none", "kid": id}) + "." + parts[1] + "." + parts[2], "MALFORMED"},
			{"RS256", mint(t, jwa.RS256(), rsaKey, id, good, nil), "MALFORMED"},
			{"HS512", mint(t, jwa.HS512(), append(key, key...), id, good, nil), "MALFORMED"},
			{"ResultType", mint(t, jwa.HS256(), key, id, good, map[string]any{"typ": "keyhub-result+jwt"}), "MALFORMED"},
			{"AccessTokenType", mint(t, jwa.HS256(), key, id, good, map[string]any{"typ": "at+jwt"}), "MALFORMED"},
			{"BearerKeyHashAsSecret", mint(t, jwa.HS256(), bearerHash[:], bearerID, good, nil), "NOT_FOUND"},
			{"BearerKeyHashOnSigningKid", mint(t, jwa.HS256(), bearerHash[:], id, good, nil), "INVALID_SIGNATURE"},
			{"BearerKeyAsSecret", mint(t, jwa.HS256(), []byte(bearer), bearerID, good, nil), "NOT_FOUND"},
			{"Padded", parts[0] + "." + parts[1] + "=." + parts[2], "MALFORMED"},
			{"NotAJWS", "kh_live_notaticket", "MALFORMED"},
		}
		for _, r := range respellings(tk, 2) {
			refused = append(refused, struct{ name, ticket, code string }{"Respelled", r, "MALFORMED"})
		}
		for _, c := range refused {
			a := check(c.name, c.ticket, c.code)
			if c.code == "INVALID_SIGNATURE" && a["claims"] != nil {
				t.Errorf("%s: claims of an unsigned ticket answered: %v", c.name, a["claims"])
			}
		}

		// Neither a ticket nor an HS256 token in keyhub's name is a bearer
		// credential (no algorithm confusion).
		forged := mint(t, jwa.HS256(), key, id, map[string]any{"iss": s.URL, "aud": "hub:api", "exp": now + 60,
			"client_id": "cli_x", "scope": "read:api_keys", "tenant_id": tenant}, map[string]any{"typ": "at+jwt"})
		for _, cred := range []string{tk, forged, shown} {
			if r := s.Do("GET", "/v1/api-keys", nil, "Authorization: Bearer "+cred); r.Status != 401 {
				t.Errorf("a ticket or secret used as a bearer: %d %s", r.Status, r.Body)
			}
		}
		if v := s.Verify(shown, nil, ""); v["code"] != "MALFORMED" {
			t.Errorf("the signing secret verified as a key: %v", v)
		}
		if v := s.Verify(tk, nil, ""); v["code"] != "MALFORMED" {
			t.Errorf("the ticket verified as a key: %v", v)
		}

		// Signing results back: the customer checks them with its secret.
		sig := s.Native(200, "POST", "/v1/signing-keys/"+id+"/sign", hub, "", map[string]any{"payload": map[string]any{"result": "ok", "n": 2}})
		if sig["kid"] != id || sig["alg"] != "HS256" {
			t.Errorf("sign answer: %v", sig)
		}
		got, err := jws.Verify([]byte(sig["jws"].(string)), jws.WithKey(jwa.HS256(), key))
		if err != nil || string(got) != `{"n":2,"result":"ok"}` && string(got) != `{"result":"ok","n":2}` {
			t.Errorf("signed result: %s, %v", got, err)
		}
		check("SignedResultAsTicket", sig["jws"].(string), "MALFORMED")
		s.Must(404, "POST", "/v1/signing-keys/"+bearerID+"/sign", map[string]any{"payload": map[string]any{}}, apitest.Auth(hub, "")...)
		s.Must(422, "POST", "/v1/signing-keys/"+id+"/sign", map[string]any{"payload": []int{1}}, apitest.Auth(hub, "")...)
		s.Must(404, "POST", "/v1/signing-keys/"+id+"/sign", map[string]any{"payload": map[string]any{}}, "Authorization: Bearer "+otherVerifier)

		// Deleted on the YAXI surface: REVOKED, and it signs no more.
		s.Must(200, "DELETE", "/api/api-keys/"+yaxiID, nil, hubAuth)
		check("Revoked", mint(t, jwa.HS256(), key, yaxiID, good, nil), "REVOKED")
		if r := s.Do("POST", "/v1/signing-keys/"+id+"/sign", map[string]any{"payload": map[string]any{}}, apitest.Auth(hub, "")...); r.Status != 409 || !strings.Contains(string(r.Body), "key_revoked") {
			t.Errorf("a revoked key signed: %d %s", r.Status, r.Body)
		}

		// The secret is nowhere but in the create answer: not in logs, not in
		// the audit trail, not in clear in the database.
		audit := s.Do("GET", "/v1/audit-events?limit=200", nil, apitest.Auth(s.Operator, tenant)...)
		for what, text := range map[string]string{"log": s.Log.String(), "audit": string(audit.Body)} {
			if strings.Contains(text, shown) {
				t.Errorf("the signing secret is in the %s", what)
			}
		}
		if !apitest.IsPostgres(dsn) {
			db, err := os.ReadFile(strings.TrimPrefix(dsn, "sqlite:"))
			if err != nil {
				t.Fatal(err)
			}
			if wal, err := os.ReadFile(strings.TrimPrefix(dsn, "sqlite:") + "-wal"); err == nil {
				db = append(db, wal...)
			}
			if strings.Contains(string(db), shown) || strings.Contains(string(db), string(key)) {
				t.Error("the signing secret is in clear in the database")
			}
		}
	})
}

// flipFirst changes the first character of a base64url segment.
func flipFirst(seg string) string {
	if seg[0] == 'A' {
		return "B" + seg[1:]
	}
	return "A" + seg[1:]
}

// respellings are the other spellings of part i of a compact JWS whose last
// character differs only in its unused low bits: the same bytes to a lax
// base64url decoder.
func respellings(token string, i int) []string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	parts := strings.Split(token, ".")
	seg := parts[i]
	unused := map[int]uint{2: 4, 3: 2}[len(seg)%4]
	last := strings.IndexByte(alphabet, seg[len(seg)-1])
	var out []string
	for v := 0; unused > 0 && v < 64; v++ {
		if v>>unused == last>>unused && v != last {
			p := append([]string(nil), parts...)
			p[i] = seg[:len(seg)-1] + string(alphabet[v])
			out = append(out, strings.Join(p, "."))
		}
	}
	return out
}

// TestSigningKeyNative makes a signing key on the native API, with scopes
// that tickets are then checked against, and rotates it: the new key has
// a new secret, and the old key's tickets stop when it expires.
func TestSigningKeyNative(t *testing.T) {
	s := apitest.Start(t, apitest.SQLite(t))
	tenant := s.Tenant("acme", nil)
	k := s.Native(201, "POST", "/v1/api-keys", s.Operator, tenant, map[string]any{"kind": "signing", "name": "signer", "scopes": []string{"payouts:write"}})
	if k["kind"] != "signing" || !strings.HasPrefix(k["key"].(string), k["start"].(string)) {
		t.Fatalf("created: %v", k)
	}
	id, key := k["id"].(string), secretBytes(t, k["key"].(string))
	ask := func(kid string, secret []byte, scopes ...string) string {
		t.Helper()
		tk := mint(t, jwa.HS256(), secret, kid, map[string]any{"exp": time.Now().Unix() + 60}, nil)
		return s.Native(200, "POST", "/v1/tickets/verify", s.Operator, "", map[string]any{"ticket": tk, "scopes": scopes})["code"].(string)
	}
	if c := ask(id, key, "payouts:write"); c != "VALID" {
		t.Errorf("ticket: %s", c)
	}
	if c := ask(id, key, "refunds:write"); c != "INSUFFICIENT_SCOPE" {
		t.Errorf("ticket for a scope the key lacks: %s", c)
	}
	s.Native(422, "POST", "/v1/api-keys", s.Operator, tenant, map[string]any{"kind": "hmac", "name": "x"})

	r := s.Native(201, "POST", "/v1/api-keys/"+id+"/rotate", s.Operator, tenant, map[string]any{})
	nid, nkey := r["id"].(string), secretBytes(t, r["key"].(string))
	if r["kind"] != "signing" || string(nkey) == string(key) {
		t.Fatalf("rotated: %v", r)
	}
	if c := ask(nid, nkey, "payouts:write"); c != "VALID" {
		t.Errorf("new key's ticket: %s", c)
	}
	if c := ask(id, key); c != "EXPIRED" {
		t.Errorf("old key's ticket after rotation without grace: %s", c)
	}
	if c := ask(nid, key); c != "INVALID_SIGNATURE" {
		t.Errorf("old secret on the new key: %s", c)
	}
}

// TestForwardAuthTicket sends a ticket through forward auth, which answers
// it as POST /v1/tickets/verify does.
func TestForwardAuthTicket(t *testing.T) {
	s := apitest.Start(t, apitest.SQLite(t))
	tenant := s.Tenant("yaxi customer", nil)
	_, hub := s.Key(tenant, map[string]any{"name": "hub", "scopes": []string{"create:api_keys", "verify:api_keys"}})
	created := s.Must(201, "POST", "/api/api-keys", `{"name":"backend","environment":"Production"}`, "Authorization: Bearer "+hub).Object(t)
	kid, key := created["id"].(string), secretBytes(t, created["secret"].(string))
	now := time.Now().Unix()
	v := "Keyhub-Verifier: " + hub
	good := mint(t, jwa.HS256(), key, kid, map[string]any{"exp": now + 60}, nil)
	r := s.Must(200, "GET", "/forward-auth", nil, v, "Authorization: Bearer "+good)
	if id := r.Header.Get("X-Keyhub-Key-Id"); !strings.HasPrefix(id, "key_") || r.Header.Get("X-Keyhub-Tenant-Id") != tenant {
		t.Errorf("identity of a ticket: %v", r.Header)
	}
	for name, tk := range map[string]string{
		"expired":      mint(t, jwa.HS256(), key, kid, map[string]any{"exp": now - 120}, nil),
		"wrong secret": mint(t, jwa.HS256(), make([]byte, 32), kid, map[string]any{"exp": now + 60}, nil),
		"unknown kid":  mint(t, jwa.HS256(), key, "key_01HX9KZMB3F7VNQP8R2WDGT4E6", map[string]any{"exp": now + 60}, nil),
		"not a ticket": "eyJhbGciOiJub25lIn0.e30.",
	} {
		if r := s.Do("GET", "/forward-auth", nil, v, "Authorization: Bearer "+tk); r.Status != 401 || r.Header.Get("WWW-Authenticate") != invalidToken {
			t.Errorf("%s: %d %q", name, r.Status, r.Header.Get("WWW-Authenticate"))
		}
	}
}
