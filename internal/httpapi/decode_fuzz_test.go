package httpapi

import (
	"testing"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/authn"
	"github.com/keyhub/keyhub/internal/service"
)

// FuzzDecode feeds arbitrary bytes to the decoder of every request body:
// it must never panic and every failure must be a client error.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"name":"acme","key_prefixes":{"live":"kh_live"}}`,
		`{"name":"k","environment":"live","scopes":["a:b"],"role_id":null,"ips":["10.0.0.0/8"],"expires_at":"2030-01-01T00:00:00Z","meta":{"a":1},"enabled":true}`,
		`{"name":null,"expires_at":5}`, `{"scopes":"x"}`, `[]`, `null`, `{"key":"kh_live_x","scopes":[],"ip":"::1"}`, `{"a":1}`, `{`, ``,
		`{"name":"a","name":"b"}`, `{"name":"a","ratelimit":{"limit":1,"x":2}}`, "{\"name\":\"\xff\"}", `{"meta":{"a":[{"b":1,"b":2}]}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		targets := []any{
			&service.TenantCreate{}, &service.TenantPatch{}, &service.ScopeCreate{},
			&service.KeyCreate{}, &service.KeyPatch{}, &service.RoleCreate{}, &service.RolePatch{},
			&authn.VerifyRequest{},
		}
		for _, dst := range targets {
			err := DecodeBytes(b, dst)
			if err == nil {
				continue
			}
			if k := keyhub.ErrorKind(err); k != keyhub.KindBadRequest && k != keyhub.KindTooLarge {
				t.Fatalf("decoding %q into %T: kind %s (%v)", b, dst, k, err)
			}
		}
	})
}
