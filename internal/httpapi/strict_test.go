package httpapi

import (
	"strings"
	"testing"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/service"
)

func TestDecodeStrict(t *testing.T) {
	for _, tc := range []struct {
		name  string
		body  string
		dst   any
		code  string // "" for success
		field string
	}{
		{"OK", `{"name":"k","ratelimit":{"limit":5,"duration":"1m"}}`, &service.KeyCreate{}, "", ""},
		{"OKPatch", `{"ratelimit":{"limit":5,"duration":"1m"},"name":"x"}`, &service.KeyPatch{}, "", ""},
		{"OKMeta", `{"name":"k","meta":{"a":{"a":1},"b":[{"a":1},{"a":2}]}}`, &service.KeyCreate{}, "", ""},
		{"ErrInvalidUTF8", "{\"name\":\"a\xff\"}", &service.KeyCreate{}, "invalid_utf8", ""},
		{"ErrInvalidUTF8InKey", "{\"n\xc3\":1}", &service.KeyCreate{}, "invalid_utf8", ""},
		{"ErrDuplicate", `{"name":"a","name":"b"}`, &service.KeyCreate{}, "duplicate_field", "name"},
		{"ErrDuplicateOtherCase", `{"name":"a","Name":"b"}`, &service.KeyCreate{}, "duplicate_field", "Name"},
		{"ErrDuplicateNested", `{"name":"a","ratelimit":{"limit":1,"limit":2}}`, &service.KeyCreate{}, "duplicate_field", "ratelimit.limit"},
		{"ErrDuplicateInMeta", `{"name":"a","meta":{"x":1,"x":2}}`, &service.KeyCreate{}, "duplicate_field", "meta.x"},
		{"ErrDuplicateInArray", `{"name":"a","meta":{"l":[{"x":1,"x":2}]}}`, &service.KeyCreate{}, "duplicate_field", "meta.l[0].x"},
		{"ErrUnknownNested", `{"name":"a","ratelimit":{"limit":1,"x":2}}`, &service.KeyCreate{}, "unknown_field", "ratelimit.x"},
		{"ErrUnknownNestedPatch", `{"ratelimit":{"limit":1,"x":2}}`, &service.KeyPatch{}, "unknown_field", "ratelimit.x"},
		{"ErrUnknownTop", `{"nam":"a"}`, &service.KeyCreate{}, "unknown_field", "nam"},
		{"ErrTooDeep", `{"name":"a","meta":` + strings.Repeat(`{"a":`, 40) + `1` + strings.Repeat(`}`, 40) + `}`, &service.KeyCreate{}, "malformed_json", ""},
		{"ErrSyntaxStillNamed", `{"name":"a",}`, &service.KeyCreate{}, "malformed_json", ""},
		{"ErrEmpty", ``, &service.KeyCreate{}, "body_required", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := DecodeBytes([]byte(tc.body), tc.dst)
			if tc.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			e, ok := err.(*keyhub.Error)
			if !ok || e.Code != tc.code || e.Kind != keyhub.KindBadRequest {
				t.Fatalf("err = %#v, want a 400 %s", err, tc.code)
			}
			if tc.field != "" && (len(e.Fields) != 1 || e.Fields[0].Field != tc.field) {
				t.Fatalf("fields = %v, want %s", e.Fields, tc.field)
			}
		})
	}
}
