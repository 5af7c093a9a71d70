package authn

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/keyhub/keyhub/internal/oauth"
	"github.com/keyhub/keyhub/internal/verify"
)

// hs256 signs header.payload the way any HS256 library does.
func hs256(key []byte, header, payload string) string {
	h := base64.RawURLEncoding.EncodeToString([]byte(header))
	p := base64.RawURLEncoding.EncodeToString([]byte(payload))
	m := hmac.New(sha256.New, key)
	m.Write([]byte(h + "." + p))
	return h + "." + p + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func TestTicketClaims(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	cases := []struct {
		name, payload string
		want          verify.Code
	}{
		{"OK", `{"exp":1800000060,"data":{"a":1}}`, verify.Valid},
		{"FractionalExp", `{"exp":1800000000.5}`, verify.Valid},
		{"WithinLeeway", `{"exp":1799999990}`, verify.Valid},
		{"Expired", `{"exp":1799999900}`, verify.TicketExpired},
		{"NotYet", `{"exp":1800000600,"nbf":1800000300}`, verify.TicketNotYetValid},
		{"NbfWithinLeeway", `{"exp":1800000600,"nbf":1800000010}`, verify.Valid},
		{"NoExp", `{"data":1}`, verify.Malformed},
		{"ExpString", `{"exp":"1800000060"}`, verify.Malformed},
		{"NbfString", `{"exp":1800000060,"nbf":"x"}`, verify.Malformed},
		{"Array", `[1]`, verify.Malformed},
		{"NotJSON", `exp`, verify.Malformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, got := ticketClaims([]byte(c.payload), now); got != c.want {
				t.Errorf("%s: %s, want %s", c.payload, got, c.want)
			}
		})
	}
}

func TestParseTicket(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	const kid = "key_01HX9KZMB3F7VNQP8R2WDGT4E6"
	for name, c := range map[string]struct {
		ticket string
		ok     bool
	}{
		"HS256":     {hs256(key, `{"alg":"HS256","kid":"`+kid+`"}`, `{"exp":1}`), true},
		"TypJWT":    {hs256(key, `{"alg":"HS256","typ":"JWT","kid":"`+kid+`"}`, `{"exp":1}`), true},
		"TypAppJWT": {hs256(key, `{"alg":"HS256","typ":"application/jwt","kid":"`+kid+`"}`, `{"exp":1}`), true},
		"NoKid":     {hs256(key, `{"alg":"HS256"}`, `{"exp":1}`), false},
		"HS384":     {hs256(key, `{"alg":"HS384","kid":"`+kid+`"}`, `{"exp":1}`), false},
		"None":      {hs256(key, `{"alg":"none","kid":"`+kid+`"}`, `{"exp":1}`), false},
		"ResultTyp": {hs256(key, `{"alg":"HS256","typ":"`+ResultType+`","kid":"`+kid+`"}`, `{"exp":1}`), false},
		"TypNumber": {hs256(key, `{"alg":"HS256","typ":1,"kid":"`+kid+`"}`, `{"exp":1}`), false},
		"Huge":      {hs256(key, `{"alg":"HS256","kid":"`+kid+`"}`, `{"exp":1,"p":"`+strings.Repeat("x", maxTicketSize)+`"}`), false},
	} {
		t.Run(name, func(t *testing.T) {
			_, gotKid, ok := parseTicket(c.ticket)
			if ok != c.ok || ok && gotKid != kid {
				t.Errorf("parsed %v, kid %q; want %v", ok, gotKid, c.ok)
			}
		})
	}
}

// FuzzParseTicket feeds tickets' parser arbitrary text: it never panics,
// and what it accepts is a canonical compact JWS naming a key.
func FuzzParseTicket(f *testing.F) {
	key := []byte("0123456789abcdef0123456789abcdef")
	f.Add(hs256(key, `{"alg":"HS256","kid":"key_01HX9KZMB3F7VNQP8R2WDGT4E6"}`, `{"exp":1}`))
	f.Add("eyJhbGciOiJub25lIn0.eyJleHAiOjF9.")
	f.Add("a.b.c")
	f.Fuzz(func(t *testing.T, s string) {
		jws, kid, ok := parseTicket(s)
		if !ok {
			return
		}
		if oauth.CheckCompact(s) != nil || kid == "" || jws == nil {
			t.Fatalf("accepted %q (kid %q)", s, kid)
		}
		if _, err := jws.Verify(key); err == nil {
			ticketClaims(jws.UnsafePayloadWithoutVerification(), time.Now())
		}
	})
}
