package oauth

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
)

const b64url = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// respellings returns every other spelling of the token whose part i ends
// in a character with the same data bits and different unused bits: what a
// lax decoder accepts as the same bytes.
func respellings(token string, i int) []string {
	parts := strings.Split(token, ".")
	seg := parts[i]
	unused := map[int]uint{2: 4, 3: 2}[len(seg)%4]
	if unused == 0 {
		return nil
	}
	last := strings.IndexByte(b64url, seg[len(seg)-1])
	var out []string
	for v := 0; v < 64; v++ {
		if v>>unused == last>>unused && v != last {
			p := append([]string(nil), parts...)
			p[i] = seg[:len(seg)-1] + string(b64url[v])
			out = append(out, strings.Join(p, "."))
		}
	}
	return out
}

// otherForms are spellings of token that lax decoders read as it: padding,
// line breaks, the standard alphabet.
func otherForms(token string) map[string]string {
	parts := strings.Split(token, ".")
	out := map[string]string{
		"Padded":    parts[0] + "=." + parts[1] + "." + parts[2],
		"LineBreak": parts[0] + "." + parts[1][:4] + "\n" + parts[1][4:] + "." + parts[2],
		"CR":        parts[0] + "." + parts[1] + "\r." + parts[2],
		"Space":     parts[0] + "." + parts[1] + ". " + parts[2],
		"NoSig":     parts[0] + "." + parts[1] + ".",
		"FourParts": token + "." + parts[2],
	}
	if std := strings.NewReplacer("-", "+", "_", "/").Replace(token); std != token {
		out["StdAlphabet"] = std
	}
	return out
}

func TestCheckCompact(t *testing.T) {
	for _, ok := range []string{"eyJhbGciOiJIUzI1NiJ9.eyJhIjoxfQ.AAAA", "eyJhbGciOiJub25lIn0.eyJhIjoxfQ.", ".."} {
		if err := CheckCompact(ok); err != nil {
			t.Errorf("canonical %q refused: %v", ok, err)
		}
	}
	for name, bad := range map[string]string{
		"TwoParts":    "eyJhbGciOiJIUzI1NiJ9.eyJhIjoxfQ",
		"OneCharPart": "eyJhbGciOiJIUzI1NiJ9.e.AAAA",
		"PaddingBits": "eyJhbGciOiJIUzI1NiJ9.eyJhIjoxfR.AAAA",
		"Padded":      "eyJhbGciOiJIUzI1NiJ9.eyJhIjoxfQ==.AAAA",
		"Plus":        "eyJhbGciOiJIUzI1NiJ9.eyJhIjoxfQ.AA+A",
		"Newline":     "eyJhbGciOiJIUzI1NiJ9.eyJh\nIjoxfQ.AAAA",
	} {
		if CheckCompact(bad) == nil {
			t.Errorf("%s: %q accepted", name, bad)
		}
	}
}

// TestVerifyCanonicalBase64 checks that an access token has exactly one
// spelling: every respelling of each part's last character, and padded or
// broken forms, are refused by keyhub's verifier and by the external one.
func TestVerifyCanonicalBase64(t *testing.T) {
	for _, alg := range []string{ES256, EdDSA, RS256} {
		t.Run("Keys"+alg, func(t *testing.T) {
			f := newKeysFixture(t)
			k := f.loaded(t, alg)
			tok, err := k.Sign(f.claims())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := k.Verify(tok, ""); err != nil {
				t.Fatal(err)
			}
			n := 0
			for i := range 3 {
				for _, other := range respellings(tok, i) {
					n++
					if _, err := base64.RawURLEncoding.DecodeString(strings.Split(other, ".")[i]); err != nil {
						t.Fatalf("respelling does not decode laxly: %v", err)
					}
					_, err := k.Verify(other, "")
					wantInvalidToken(t, err, "canonical base64url")
				}
			}
			if alg == ES256 && n < 15 {
				t.Errorf("only %d respellings of an ES256 token tried", n)
			}
			for name, other := range otherForms(tok) {
				if _, err := k.Verify(other, ""); err == nil {
					t.Errorf("%s: accepted", name)
				}
			}
		})
	}
	t.Run("External", func(t *testing.T) {
		f := newExtFixture(t, nil)
		tok := f.idp.sign(t, "rsa-1", f.claims())
		if _, err := f.p.Verify(context.Background(), tok); err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			for _, other := range respellings(tok, i) {
				_, err := f.p.Verify(context.Background(), other)
				wantInvalidToken(t, err, "canonical base64url")
			}
		}
		for name, other := range otherForms(tok) {
			if _, err := f.p.Verify(context.Background(), other); err == nil {
				t.Errorf("%s: accepted", name)
			}
		}
	})
}

// FuzzCheckCompact holds CheckCompact to its promise: what it accepts has
// exactly one spelling, the re-encoding of its decoded parts.
func FuzzCheckCompact(f *testing.F) {
	f.Add("eyJhbGciOiJIUzI1NiJ9.eyJhIjoxfQ.AAAA")
	f.Add("eyJhbGciOiJIUzI1NiJ9.eyJhIjoxfR.AAAA")
	f.Add("a.b.c")
	f.Add("..")
	f.Fuzz(func(t *testing.T, s string) {
		if CheckCompact(s) != nil {
			return
		}
		parts := strings.Split(s, ".")
		for i, p := range parts {
			b, err := base64.RawURLEncoding.DecodeString(p)
			if err != nil {
				t.Fatalf("accepted part %d does not decode: %v", i, err)
			}
			if base64.RawURLEncoding.EncodeToString(b) != p {
				t.Fatalf("accepted part %d %q is not the canonical spelling of its bytes", i, p)
			}
		}
	})
}
