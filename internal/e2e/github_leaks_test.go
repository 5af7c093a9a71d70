package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/keyhub/keyhub/internal/apitest"
	"github.com/keyhub/keyhub/internal/app"
	"github.com/keyhub/keyhub/internal/secret"
)

// githubSigner stands in for GitHub: it signs reports with its own P-256
// keys and publishes their public halves, as GitHub does, on a key server
// of its own.
type githubSigner struct {
	keys    map[string]*ecdsa.PrivateKey
	srv     *httptest.Server
	fetches atomic.Int64
}

func newGitHubSigner(t *testing.T, ids ...string) *githubSigner {
	g := &githubSigner{keys: map[string]*ecdsa.PrivateKey{}}
	type published struct {
		ID      string `json:"key_identifier"`
		Key     string `json:"key"`
		Current bool   `json:"is_current"`
	}
	var doc struct {
		PublicKeys []published `json:"public_keys"`
	}
	for _, id := range ids {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		der, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
		g.keys[id] = k
		doc.PublicKeys = append(doc.PublicKeys, published{ID: id, Current: true,
			Key: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))})
	}
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.fetches.Add(1)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(doc)
	}))
	t.Cleanup(g.srv.Close)
	return g
}

// sign returns the headers GitHub sends with body, signed by key id with
// the private key of signer (which may differ from id's, to forge).
func (g *githubSigner) sign(t *testing.T, id string, signer *ecdsa.PrivateKey, body []byte) []string {
	h := sha256.Sum256(body)
	sig, err := ecdsa.SignASN1(rand.Reader, signer, h[:])
	if err != nil {
		t.Fatal(err)
	}
	return []string{"Github-Public-Key-Identifier: " + id, "Github-Public-Key-Signature: " + base64.StdEncoding.EncodeToString(sig),
		"Content-Type: application/json"}
}

// TestGitHubSecretScanning: reports signed by GitHub's published keys
// revoke or flag the keys found, as each tenant's leak policy says, and are
// answered by digest; forged, unsigned and unknown-key reports change
// nothing; a report sent again acts on nothing more.
func TestGitHubSecretScanning(t *testing.T) {
	apitest.EachStore(t, func(t *testing.T, dsn string) {
		gh := newGitHubSigner(t, "gh-key-1")
		s := apitest.Start(t, dsn, func(c *app.Config) { c.GitHubKeysURL = gh.srv.URL + "/meta/public_keys/secret_scanning" })
		revoking := s.Tenant("revokes", nil)
		flagging := s.Native(201, "POST", "/v1/tenants", s.Operator, "", map[string]any{"name": "flags", "leak_policy": "flag"})["id"].(string)
		_, leaked := s.Key(revoking, map[string]any{"name": "leaked"})
		_, flagged := s.Key(flagging, map[string]any{"name": "flagged"})
		// The shape of a key, but its checksum does not match.
		lookAlike := leaked[:len(leaked)-1] + map[bool]string{true: "B", false: "A"}[strings.HasSuffix(leaked, "A")]
		body, _ := json.Marshal([]map[string]string{
			{"token": leaked, "type": "keyhub_api_key", "url": "https://github.com/o/r/blob/abc/.env", "source": "content"},
			{"token": flagged, "type": "keyhub_api_key", "url": "", "source": "commit"},
			{"token": lookAlike, "type": "keyhub_api_key", "source": "issue"},
		})
		before := auditCount(t, s.Client)

		refused := []struct {
			name    string
			headers []string
			status  int
		}{
			{"Unsigned", []string{"Content-Type: application/json"}, 401},
			{"BadSignature", gh.sign(t, "gh-key-1", mustKey(t), body), 401},
			{"UnknownKeyID", gh.sign(t, "gh-key-9", gh.keys["gh-key-1"], body), 401},
		}
		for _, c := range refused {
			r := s.Do("POST", "/v1/leaks/github", body, c.headers...)
			if r.Status != c.status || r.Object(t)["code"] != "invalid_signature" {
				t.Fatalf("%s: %d %s", c.name, r.Status, r.Body)
			}
		}
		if got := auditCount(t, s.Client); got != before {
			t.Fatalf("refused reports changed the store: %d audit events, then %d", before, got)
		}
		if v := s.Verify(leaked, nil, ""); v["code"] != "VALID" {
			t.Fatalf("after refused reports: %v", v)
		}

		headers := gh.sign(t, "gh-key-1", gh.keys["gh-key-1"], body)
		r := s.Must(200, "POST", "/v1/leaks/github", body, headers...)
		labels := r.Array(t)
		want := []string{"true_positive", "true_positive", "false_positive"}
		for i, tok := range []string{leaked, flagged, lookAlike} {
			l := labels[i].(map[string]any)
			h := secret.Hash(tok)
			if l["token_hash"] != hex.EncodeToString(h[:]) || l["label"] != want[i] || l["token_type"] != "keyhub_api_key" {
				t.Errorf("label %d: %v", i, l)
			}
		}
		if strings.Contains(string(r.Body), leaked) || strings.Contains(string(r.Body), flagged) {
			t.Fatal("the answer holds a secret")
		}
		if v := s.Verify(leaked, nil, ""); v["code"] != "REVOKED" {
			t.Errorf("a key of a revoking tenant: %v", v)
		}
		if v := s.Verify(flagged, nil, ""); v["code"] != "VALID" {
			t.Errorf("a key of a flagging tenant: %v", v)
		}
		leakEvents := func(tenant string) int {
			m := s.Native(200, "GET", "/v1/audit-events?action=api_key.leaked", s.Operator, tenant, nil)
			return len(m["data"].([]any))
		}
		if leakEvents(revoking) != 1 || leakEvents(flagging) != 1 {
			t.Fatalf("leak events: %d and %d, want one each", leakEvents(revoking), leakEvents(flagging))
		}
		// The same report again: the same answer, nothing more recorded.
		afterFirst := auditCount(t, s.Client)
		again := s.Must(200, "POST", "/v1/leaks/github", body, headers...)
		if string(again.Body) != string(r.Body) {
			t.Fatalf("replay answered %s, first %s", again.Body, r.Body)
		}
		if got := auditCount(t, s.Client); got != afterFirst {
			t.Fatalf("a replay recorded %d more events", got-afterFirst)
		}
		if n := gh.fetches.Load(); n > 3 {
			t.Errorf("the keys were fetched %d times", n)
		}
	})
}

func mustKey(t *testing.T) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
