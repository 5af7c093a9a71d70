package service

import (
	"testing"

	"github.com/keyhub/keyhub"
)

func TestValidName(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string // want "" for a good name
	}{
		{"OK", "payments bot", ""},
		{"OKUnicode", "Zahlungs-Bot für Müller 中文", ""},
		{"ErrRequired", "  ", "is required"},
		{"ErrC0", "a\tb", "must not contain control characters"},
		{"ErrDEL", "a\x7fb", "must not contain control characters"},
		{"ErrC1", "a\u0085b", "must not contain control characters"},
		{"ErrRLO", "invoice\u202egpj.exe", "must not contain bidirectional formatting characters"},
		{"ErrIsolate", "a\u2067b", "must not contain bidirectional formatting characters"},
		{"ErrMark", "a\u200fb", "must not contain bidirectional formatting characters"},
		{"ErrArabicMark", "a\u061cb", "must not contain bidirectional formatting characters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var v keyhub.Validation
			validName(&v, "name", tc.in)
			err := v.Err()
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			e, ok := err.(*keyhub.Error)
			if !ok || e.Kind != keyhub.KindInvalid || len(e.Fields) != 1 || e.Fields[0].Field != "name" || e.Fields[0].Message != tc.want {
				t.Fatalf("err = %#v, want 422 on name: %s", err, tc.want)
			}
		})
	}
}
