package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/authn"
	"github.com/keyhub/keyhub/internal/verify"
)

// scannedBodies are the shapes the fast path must take.
var scannedBodies = []string{
	`{"key":"kh_live_abc","scopes":["payouts:write"],"ip":"203.0.113.7"}`,
	` { "key" : "kh_live_abc" , "scopes" : [ "a:b" , "c:d" ] , "ip" : "::1" , "cost" : 3 } `,
	`{"key":"k","cost":-0}`, `{"key":"k","cost":9223372036854775807}`, `{"scopes":[]}`, `{}`,
	"\t{\"ip\":\"1.2.3.4\"}\r\n",
}

// verifyBodies are the scanned ones and every kind it must leave to Decode.
var verifyBodies = append(scannedBodies,
	`{"key":"k","cost":9223372036854775808}`, `{"key":"k","cost":1.5}`, `{"key":"k","cost":1e2}`,
	`{"key":"k","cost":01}`, `{"key":"k","cost":-}`, `{"key":"k","cost":null}`, `{"key":null}`, `{"scopes":null}`,
	`{"scopes":[null]}`, `{"Key":"k"}`, `{"key":"k","KEY":"j"}`, `{"key":"a","key":"b"}`, `{"key":"k\u0041"}`,
	`{"key":"k\n"}`, "{\"key\":\"k\xff\"}", "{\"key\":\"é\"}", `{"key":"k",}`, `{"key":"k"} x`, `{"key":"k"}{}`,
	`[]`, `null`, ``, `{"key":5}`, `{"scopes":"a"}`, `{"scopes":[1]}`, `{"x":1}`, `{"key":"k","ratelimit":{}}`,
	`{"key":"k"`, `{"key":"k","scopes":["a",]}`, `{"key" "k"}`,
)

// TestVerifyRequestCodec holds the verify scanner to Decode: the same value
// for every body it takes, and for every body it leaves alone Decode's own
// answer.
func TestVerifyRequestCodec(t *testing.T) {
	for _, body := range verifyBodies {
		checkVerifyRequest(t, []byte(body))
	}
	for _, body := range scannedBodies {
		if _, ok := scanVerifyRequest([]byte(body)); !ok {
			t.Errorf("%q: not scanned", body)
		}
	}
}

// checkVerifyRequest compares the scanner with Decode on b and reports
// whether the scanner took it.
func checkVerifyRequest(t *testing.T, b []byte) bool {
	t.Helper()
	var want authn.VerifyRequest
	wantErr := DecodeBytes(b, &want)
	got, ok := scanVerifyRequest(b)
	if ok {
		if wantErr != nil {
			t.Fatalf("%q: scanned as %+v, Decode says %v", b, got, wantErr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: scanned %+v, Decode %+v", b, got, want)
		}
	}
	got, err := parseVerifyRequest(b)
	if !reflect.DeepEqual(got, want) && wantErr == nil || !sameError(err, wantErr) {
		t.Fatalf("%q: parse gave %+v, %v; Decode %+v, %v", b, got, err, want, wantErr)
	}
	return ok
}

func sameError(a, b error) bool {
	if a == nil || b == nil {
		return a == b
	}
	var ea, eb *keyhub.Error
	if !errors.As(a, &ea) || !errors.As(b, &eb) {
		return a.Error() == b.Error()
	}
	return ea.Kind == eb.Kind && ea.Code == eb.Code && reflect.DeepEqual(ea.Fields, eb.Fields)
}

func FuzzVerifyRequest(f *testing.F) {
	for _, b := range verifyBodies {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkVerifyRequest(t, b) })
}

// TestVerifyAnswerCodec holds the answer's appender to encoding/json, byte
// for byte, across every optional part and every string that needs
// escaping.
func TestVerifyAnswerCodec(t *testing.T) {
	exp := time.Date(2030, 1, 2, 3, 4, 5, 600, time.UTC)
	expZone := time.Date(2030, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600))
	for _, a := range []verifyAnswer{
		{Valid: false, Code: verify.NotFound},
		{Valid: false, Code: verify.InsufficientScope, MissingScope: "payouts:write"},
		{Valid: true, Code: verify.Valid, Key: &verifyKeyInfo{ID: "key_1", TenantID: "ten_1", Name: "k", Environment: "live",
			Scopes: []string{}, Meta: json.RawMessage(`{"plan":"pro"}`), ExpiresAt: &exp},
			RateLimit: &verifyRateLimit{Limit: 10, Remaining: -1, Reset: 1700000000000}, Credits: &verifyCredits{Remaining: 0}},
		{Valid: true, Code: verify.Valid, Key: &verifyKeyInfo{ID: "key_1", Name: "<b>&\"\\\n\t\x01\x7f é \u2028 \xff",
			Scopes: []string{"a:b", "<x>"}, Role: &verifyRole{ID: "rol_1", Name: "admins & co"},
			Meta: json.RawMessage("{ \"a\" : [1, \"<&>\u2028\"] }"), ExpiresAt: &expZone}},
		{Valid: true, Code: verify.Valid, Key: &verifyKeyInfo{Scopes: nil, Meta: nil}},
	} {
		checkVerifyAnswer(t, &a)
	}
}

func checkVerifyAnswer(t *testing.T, a *verifyAnswer) {
	t.Helper()
	var want bytes.Buffer
	if err := json.NewEncoder(&want).Encode(a); err != nil {
		t.Fatal(err)
	}
	got := append(a.appendJSON(nil), '\n')
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("appended\n%s\nencoding/json\n%s", got, want.Bytes())
	}
}

func FuzzVerifyAnswer(f *testing.F) {
	f.Add(true, "VALID", "key_1", "a:b", "k", `{"a":1}`, int64(5), int64(1700000000123))
	f.Add(false, "NOT_FOUND", "", "", "<&>", `[1, 2]`, int64(-1), int64(0))
	f.Fuzz(func(t *testing.T, valid bool, code, id, scope, name, meta string, n, at int64) {
		if !json.Valid([]byte(meta)) {
			meta = `null`
		}
		exp := time.UnixMilli(at % (1 << 44)).UTC()
		a := verifyAnswer{Valid: valid, Code: verify.Code(code), MissingScope: scope}
		if n%2 == 0 {
			a.Key = &verifyKeyInfo{ID: id, TenantID: id, Name: name, Environment: name, Scopes: []string{scope, name},
				Meta: json.RawMessage(meta), ExpiresAt: &exp}
			if n%4 == 0 {
				a.Key.Role = &verifyRole{ID: id, Name: name}
			}
		} else {
			a.RateLimit = &verifyRateLimit{Limit: n, Remaining: n / 2, Reset: at}
			a.Credits = &verifyCredits{Remaining: n}
		}
		checkVerifyAnswer(t, &a)
	})
}
