package e2e

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"strings"
	"testing"

	"github.com/keyhub/keyhub/internal/apitest"
)

// TestSecretsNeverLeak runs create, update, verify, failed calls and revoke,
// then searches every log line, every audit event and every list answer for
// any secret or its digest.
func TestSecretsNeverLeak(t *testing.T) {
	apitest.EachStore(t, func(t *testing.T, dsn string) {
		s := apitest.Start(t, dsn)
		tid := s.Tenant("acme", nil)
		var secrets []string
		k, key := s.Key(tid, map[string]any{"name": "k", "scopes": []string{"read:api_keys", "create:api_keys", "update:api_keys", "delete:api_keys"}})
		secrets = append(secrets, key)
		id := k["id"].(string)
		s.Native(200, "PATCH", "/v1/api-keys/"+id, s.Operator, tid, map[string]any{"name": "renamed", "meta": map[string]any{"a": 1}})
		s.Verify(key, []string{"read:api_keys"}, "")
		s.Verify(key, []string{"nope:x"}, "")
		s.Verify(key[:len(key)-2], nil, "")
		// The key itself manages keys: its secret is in Authorization.
		_, child := s.Key(tid, map[string]any{"name": "child"})
		secrets = append(secrets, child)
		c2 := s.Native(201, "POST", "/v1/api-keys", key, "", map[string]any{"name": "by-key"})
		secrets = append(secrets, c2["key"].(string))
		s.Do("POST", "/v1/api-keys", map[string]any{"name": "x", "scopes": []string{"*"}}, apitest.Auth(key, "")...) // 403
		s.Do("GET", "/v1/api-keys/"+id, nil, apitest.Auth(key+"x", "")...)                                           // 401
		s.Do("POST", "/v1/keys/verify", `{"key":"`+key+`","nope":1}`, apitest.Auth(s.Operator, "")...)               // 400
		s.Native(200, "DELETE", "/v1/api-keys/"+id, key, "", nil)
		s.Verify(key, nil, "")
		secrets = append(secrets, s.Operator)

		// OAuth: a client secret, its rotation and the tokens it gets.
		cid, csecret := s.OAuthClient(tid, map[string]any{"name": "c", "scopes": []string{"read:api_keys", "create:api_keys", "delete:api_keys"}})
		rot := s.Native(200, "POST", "/v1/clients/"+cid+"/rotate-secret", s.Operator, tid, map[string]any{"grace_period": "1h"})
		csecret2 := rot["client_secret"].(string)
		secrets = append(secrets, csecret, csecret2)
		tok := s.Token(cid, csecret2, nil)
		s.Form("/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, cid, csecret+"x") // 401
		s.Form("/oauth2/introspect", url.Values{"token": {tok}}, cid, csecret2)
		s.Native(200, "GET", "/v1/api-keys", tok, "", nil)
		s.Form("/oauth2/revoke", url.Values{"token": {tok}}, cid, csecret2)
		s.Do("GET", "/v1/api-keys", nil, apitest.Auth(tok, "")...) // 401 now
		secrets = append(secrets, tok)

		// The vendor surfaces, with the token as the credential.
		auth := "Authorization: Bearer " + s.Operator
		rotated := s.Native(201, "POST", "/v1/api-keys/"+c2["id"].(string)+"/rotate", s.Operator, tid, map[string]any{"grace_period": "1h"})
		secrets = append(secrets, rotated["key"].(string))
		y := s.Do("POST", "/api/api-keys", map[string]any{"name": "y", "environment": "Production"}, auth, "Keyhub-Tenant: "+tid).Object(t)
		secrets = append(secrets, y["secret"].(string))
		s.Do("GET", "/api/tenant/api-keys", nil, auth, "Keyhub-Tenant: "+tid)
		v := s.Do("POST", "/api/business/api-keys", map[string]any{"name": "v"}, auth, "Keyhub-Tenant: "+tid).Object(t)
		secrets = append(secrets, v["data"].(map[string]any)["key"].(string))
		role := s.Role(tid, "r")
		cy := s.Do("POST", "/v1/hubs/current/api-keys", map[string]any{"name": "c", "role_id": role}, auth, "X-Hub-Id: "+tid).Object(t)
		secrets = append(secrets, cy["data"].(map[string]any)["secret"].(string))
		s.Do("GET", "/api/business/api-keys", nil, auth, "Keyhub-Tenant: "+tid)
		s.Do("GET", "/v1/hubs/current/api-keys?include=roles", nil, auth, "X-Hub-Id: "+tid)

		var haystack strings.Builder
		haystack.WriteString(s.Log.String())
		// Everything the audit trail and the lists hold.
		haystack.Write(s.Do("GET", "/v1/audit-events?limit=200", nil, apitest.Auth(s.Operator, "")...).Body)
		haystack.Write(s.Do("GET", "/v1/api-keys?limit=200", nil, apitest.Auth(s.Operator, tid)...).Body)
		haystack.Write(s.Do("GET", "/v1/clients", nil, apitest.Auth(s.Operator, tid)...).Body)
		all := haystack.String()
		// The server's own stderr holds the bootstrap line once, by design.
		all = strings.Replace(all, "KEYHUB_API_KEY="+s.Operator, "", 1)
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
		if !strings.Contains(s.Log.String(), "path=/v1/keys/verify") {
			t.Fatal("access log did not capture requests; the test would prove nothing")
		}
	})
}
