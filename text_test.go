package keyhub_test

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/keyhub/keyhub"
)

func TestCheckText(t *testing.T) {
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"OK", "acme payments", true},
		{"OKUnicode", "Zürich – 東京 😀", true},
		{"OKEmpty", "", true},
		{"ErrNUL", "a\x00b", false},
		{"ErrInvalidUTF8", "a\xffb", false},
		{"ErrLoneSurrogateBytes", "a\xed\xa0\x80b", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := keyhub.CheckText(tt.in); (err == nil) != tt.ok {
				t.Fatalf("CheckText(%q) = %v, want ok=%v", tt.in, err, tt.ok)
			}
		})
	}
}

func TestCheckJSONText(t *testing.T) {
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"OK", `{"plan":"pro","n":1}`, true},
		{"OKEscapes", `{"a":"\n\t\"\\ \u00e9 \ud83d\ude00"}`, true},
		{"OKEscapedBackslashBeforeU", `{"a":"\\u0000"}`, true},
		{"OKNested", `{"a":[{"b":null,"c":true,"d":-1.5e10}]}`, true},
		{"OKBigButStorable", `{"a":1e300,"b":0.5e-300,"c":123456789012345678901234567890}`, true},
		{"OKZeroes", `{"a":0,"b":0.000,"c":-0.0e0}`, true},
		{"ErrNULEscape", `{"a":"x\u0000y"}`, false},
		{"ErrNULEscapeInKey", `{"\u0000":1}`, false},
		{"ErrLoneHigh", `{"a":"\ud800"}`, false},
		{"ErrLoneHighThenChar", `{"a":"\ud800x"}`, false},
		{"ErrLoneLow", `{"a":"\udc00"}`, false},
		{"ErrHighHigh", `{"a":"\ud800\ud800"}`, false},
		{"ErrHighThenEscape", `{"a":"\ud800\n"}`, false},
		{"ErrHugeExponent", `{"a":1e1000000}`, false},
		{"ErrTinyExponent", `{"a":1e-16384}`, false},
		{"ErrOverflowingExponent", `{"a":1e99999999999999999999}`, false},
		{"ErrTooManyFractionDigits", `{"a":0.` + strings.Repeat("1", 401) + `}`, false},
		{"ErrRawNUL", "{\"a\":\"\x00\"}", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.ok && !json.Valid([]byte(tt.in)) && !strings.Contains(tt.in, "\x00") {
				t.Fatalf("test input is not JSON: %s", tt.in)
			}
			if err := keyhub.CheckJSONText([]byte(tt.in)); (err == nil) != tt.ok {
				t.Fatalf("CheckJSONText(%s) = %v, want ok=%v", tt.in, err, tt.ok)
			}
		})
	}
}

// FuzzCheckJSONText: the check never panics and never accepts a document
// holding a NUL escape, whatever the input.
func FuzzCheckJSONText(f *testing.F) {
	for _, s := range []string{`{"a":"\u0000"}`, `{"a":"\ud800"}`, `{"a":1e5}`, `{"a":"\\u0000"}`, `"`, `"\u12`, `{"a":"\`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		err := keyhub.CheckJSONText([]byte(doc))
		if err != nil || !json.Valid([]byte(doc)) {
			return
		}
		var v any
		if json.Unmarshal([]byte(doc), &v) != nil {
			return
		}
		if strings.ContainsRune(fmtAll(v), 0) {
			t.Fatalf("accepted a document holding NUL: %q", doc)
		}
	})
}

// fmtAll joins every string (keys included) of a decoded JSON value.
func fmtAll(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []any:
		var b strings.Builder
		for _, e := range x {
			b.WriteString(fmtAll(e))
		}
		return b.String()
	case map[string]any:
		var b strings.Builder
		for k, e := range x {
			b.WriteString(k)
			b.WriteString(fmtAll(e))
		}
		return b.String()
	}
	return ""
}

func TestPrefixRange(t *testing.T) {
	tests := []struct{ p, hi string }{
		{"", ""},
		{"bench-1", "bench-2"},
		{"a/", "a0"},
		{"ä", "å"},
		{"a\U0010FFFF", "b"},
		{"\U0010FFFF", ""},
		{"x\uD7FF", "x\uE000"},
	}
	for _, tc := range tests {
		lo, hi := keyhub.PrefixRange(tc.p)
		if lo != tc.p || hi != tc.hi {
			t.Errorf("PrefixRange(%q) = %q, %q; want %q, %q", tc.p, lo, hi, tc.p, tc.hi)
		}
		if hi != "" && (!utf8.ValidString(hi) || hi <= tc.p || strings.HasPrefix(hi, tc.p)) {
			t.Errorf("PrefixRange(%q): %q does not bound the prefix", tc.p, hi)
		}
	}
}

func FuzzPrefixRange(f *testing.F) {
	f.Add("bench-", "bench-12")
	f.Add("ä", "äx")
	f.Fuzz(func(t *testing.T, p, s string) {
		if !utf8.ValidString(p) || !utf8.ValidString(s) {
			return
		}
		lo, hi := keyhub.PrefixRange(p)
		in := s >= lo && (hi == "" || s < hi)
		if in != strings.HasPrefix(s, p) {
			t.Fatalf("PrefixRange(%q) = [%q, %q): %q in range %v, has prefix %v", p, lo, hi, s, in, !in)
		}
	})
}
