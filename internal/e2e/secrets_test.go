package e2e

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"strings"
	"testing"
)

// TestSecretsNeverLeak runs create, update, verify, failed calls and revoke,
// then searches every log line, every audit event and every list answer for
// any secret or its digest.
func TestSecretsNeverLeak(t *testing.T) {
	eachStore(t, func(t *testing.T, dsn string) {
		s := start(t, dsn)
		tid := s.tenant("acme")
		var secrets []string
		k, key := s.key(tid, map[string]any{"name": "k", "scopes": []string{"read:api_keys", "create:api_keys", "update:api_keys", "delete:api_keys"}})
		secrets = append(secrets, key)
		id := k["id"].(string)
		s.must(200, "PATCH", "/v1/api-keys/"+id, s.Key, tid, map[string]any{"name": "renamed", "meta": map[string]any{"a": 1}})
		s.verify(key, []string{"read:api_keys"}, "")
		s.verify(key, []string{"nope:x"}, "")
		s.verify(key[:len(key)-2], nil, "")
		// The key itself manages keys: its secret is in Authorization.
		_, child := s.key(tid, map[string]any{"name": "child"})
		secrets = append(secrets, child)
		c2 := s.must(201, "POST", "/v1/api-keys", key, "", map[string]any{"name": "by-key"})
		secrets = append(secrets, c2["key"].(string))
		s.call("POST", "/v1/api-keys", key, "", map[string]any{"name": "x", "scopes": []string{"*"}}) // 403
		s.call("GET", "/v1/api-keys/"+id, key+"x", "", nil)                                           // 401
		s.call("POST", "/v1/keys/verify", s.Key, "", `{"key":"`+key+`","nope":1}`)                    // 400
		s.must(200, "DELETE", "/v1/api-keys/"+id, key, "", nil)
		s.verify(key, nil, "")
		secrets = append(secrets, s.Key)

		// OAuth: a client secret, its rotation and the tokens it gets.
		cid, csecret := s.client(tid, map[string]any{"name": "c", "scopes": []string{"read:api_keys", "create:api_keys", "delete:api_keys"}})
		rot := s.must(200, "POST", "/v1/clients/"+cid+"/rotate-secret", s.Key, tid, map[string]any{"grace_period": "1h"})
		csecret2 := rot["client_secret"].(string)
		secrets = append(secrets, csecret, csecret2)
		tok := s.form("/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, cid, csecret2).json(t)["access_token"].(string)
		s.form("/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, cid, csecret+"x") // 401
		s.form("/oauth2/introspect", url.Values{"token": {tok}}, cid, csecret2)
		s.must(200, "GET", "/v1/api-keys", tok, "", nil)
		s.form("/oauth2/revoke", url.Values{"token": {tok}}, cid, csecret2)
		s.call("GET", "/v1/api-keys", tok, "", nil) // 401 now
		secrets = append(secrets, tok)

		// The vendor surfaces, with the token as the credential.
		auth := "Authorization: Bearer " + s.Key
		rotated := s.must(201, "POST", "/v1/api-keys/"+c2["id"].(string)+"/rotate", s.Key, tid, map[string]any{"grace_period": "1h"})
		secrets = append(secrets, rotated["key"].(string))
		y := s.callH("POST", "/api/api-keys", map[string]any{"name": "y", "environment": "Production"}, auth, "Keyhub-Tenant: "+tid).json(t)
		secrets = append(secrets, y["secret"].(string))
		s.callH("GET", "/api/tenant/api-keys", nil, auth, "Keyhub-Tenant: "+tid)
		v := s.callH("POST", "/api/business/api-keys", map[string]any{"name": "v"}, auth, "Keyhub-Tenant: "+tid).json(t)
		secrets = append(secrets, v["data"].(map[string]any)["key"].(string))
		role := s.must(201, "POST", "/v1/roles", s.Key, tid, map[string]any{"name": "r"})["id"].(string)
		cy := s.callH("POST", "/v1/hubs/current/api-keys", map[string]any{"name": "c", "role_id": role}, auth, "X-Hub-Id: "+tid).json(t)
		secrets = append(secrets, cy["data"].(map[string]any)["secret"].(string))
		s.callH("GET", "/api/business/api-keys", nil, auth, "Keyhub-Tenant: "+tid)
		s.callH("GET", "/v1/hubs/current/api-keys?include=roles", nil, auth, "X-Hub-Id: "+tid)

		var haystack strings.Builder
		haystack.WriteString(s.out.String())
		// Everything the audit trail and the lists hold.
		haystack.Write(s.call("GET", "/v1/audit-events?limit=200", s.Key, "", nil).Body)
		haystack.Write(s.call("GET", "/v1/api-keys?limit=200", s.Key, tid, nil).Body)
		haystack.Write(s.call("GET", "/v1/clients", s.Key, tid, nil).Body)
		all := haystack.String()
		// The server's own stderr holds the bootstrap line once, by design.
		all = strings.Replace(all, "KEYHUB_API_KEY="+s.Key, "", 1)
		for _, sec := range secrets {
			sum := sha256.Sum256([]byte(sec))
			body := sec[strings.LastIndex(sec, "_")+1:]
			if strings.HasPrefix(sec, "eyJ") { // a JWT: its signature is the secret part
				body = sec[strings.LastIndex(sec, ".")+1:]
			}
			if len(body) < 20 {
				body = sec
			}
			for _, needle := range []string{sec, body[4:20], hex.EncodeToString(sum[:]), base64.StdEncoding.EncodeToString(sum[:])} {
				if strings.Contains(all, needle) {
					t.Fatalf("found secret material %q in logs, audit or lists", needle)
				}
			}
		}
		if !strings.Contains(s.out.String(), "path=/v1/keys/verify") {
			t.Fatal("access log did not capture requests; the test would prove nothing")
		}
	})
}
