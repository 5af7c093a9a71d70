package secret_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"strings"
	"testing"

	"github.com/keyhub/keyhub/internal/secret"
)

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// checkShape fails unless key is <prefix>_<32 base62><6 base62 CRC32>, the
// checksum being the canonical 6-digit base62 encoding of the CRC32 (IEEE)
// of everything before it. It is written independently of the package.
func checkShape(t *testing.T, key, prefix string) {
	t.Helper()
	if !strings.HasPrefix(key, prefix+"_") {
		t.Fatalf("key %q does not start with %q", key, prefix+"_")
	}
	body := key[len(prefix)+1:]
	if len(body) != 38 {
		t.Fatalf("key %q has a body of %d characters, want 38", key, len(body))
	}
	for i := 0; i < len(body); i++ {
		if strings.IndexByte(base62, body[i]) < 0 {
			t.Fatalf("key %q has non-base62 character %q", key, body[i])
		}
	}
	if got, want := body[32:], encode62(uint64(crc32.ChecksumIEEE([]byte(key[:len(key)-6])))); got != want {
		t.Fatalf("key %q has checksum %q, want %q", key, got, want)
	}
}

// encode62 is the canonical 6-character base62 form of n.
func encode62(n uint64) string {
	var b [6]byte
	for i := 5; i >= 0; i-- {
		b[i] = base62[n%62]
		n /= 62
	}
	return string(b[:])
}

func mustParse(t *testing.T, key string) string {
	t.Helper()
	p, err := secret.Parse(key)
	if err != nil {
		t.Fatalf("Parse(%q): %v", key, err)
	}
	return p
}

func TestNewKey(t *testing.T) {
	for _, prefix := range []string{"kh_live", "kh_test", "yat_live", "a", "sk", "a1_b2_c3", strings.Repeat("p", secret.MaxPrefixLen)} {
		t.Run(prefix, func(t *testing.T) {
			key := secret.NewKey(prefix)
			checkShape(t, key, prefix)
			if got := mustParse(t, key); got != prefix {
				t.Errorf("Parse(%q) prefix = %q, want %q", key, got, prefix)
			}
			if want := prefix + "_" + key[len(prefix)+1:len(prefix)+5]; secret.Start(key) != want {
				t.Errorf("Start(%q) = %q, want %q", key, secret.Start(key), want)
			}
		})
	}
}

func TestNewKeyDiffers(t *testing.T) {
	seen := make(map[string]bool)
	for range 1000 {
		k := secret.NewKey("kh_live")
		if seen[k] {
			t.Fatalf("NewKey repeated %q", k)
		}
		seen[k] = true
	}
}

func TestParseFixedKey(t *testing.T) {
	// A key built by hand, so that a change of format is noticed.
	pre := "yat_live_" + strings.Repeat("A", 32)
	key := pre + encode62(uint64(crc32.ChecksumIEEE([]byte(pre))))
	if p := mustParse(t, key); p != "yat_live" {
		t.Errorf("prefix = %q", p)
	}
	if s := secret.Start(key); s != "yat_live_AAAA" {
		t.Errorf("Start = %q, want yat_live_AAAA", s)
	}
}

func TestParseRejectsChangedCharacter(t *testing.T) {
	// Every single-character change of the body must fail the checksum;
	// changes to the prefix or separator fail the checksum or the format.
	for range 20 {
		key := secret.NewKey("kh_test")
		for i := 0; i < len(key); i++ {
			for j := 0; j < len(base62); j++ {
				c := base62[j]
				if c == key[i] {
					continue
				}
				bad := key[:i] + string(c) + key[i+1:]
				if p, err := secret.Parse(bad); err == nil {
					t.Fatalf("Parse accepted %q (position %d of %q changed), prefix %q", bad, i, key, p)
				}
			}
		}
	}
}

func TestParseRejectsTransposition(t *testing.T) {
	key := secret.NewKey("kh_live")
	for i := len("kh_live_"); i+1 < len(key); i++ {
		if key[i] == key[i+1] {
			continue
		}
		bad := key[:i] + string(key[i+1]) + string(key[i]) + key[i+2:]
		if _, err := secret.Parse(bad); err == nil {
			t.Errorf("Parse accepted %q, with positions %d and %d swapped", bad, i, i+1)
		}
	}
}

// TestParseRejectsNonCanonicalChecksum: 6 base62 digits hold more than 32
// bits, so a checksum digit string naming CRC32 + k·2³² is another encoding
// of the same uint32. Only the canonical one, which NewKey writes, is a key.
func TestParseRejectsNonCanonicalChecksum(t *testing.T) {
	key := secret.NewKey("kh_live")
	body := key[:len(key)-6]
	sum := uint64(crc32.ChecksumIEEE([]byte(body)))
	for k := uint64(1); sum+k<<32 < 62*62*62*62*62*62; k++ {
		bad := body + encode62(sum+k<<32)
		if _, err := secret.Parse(bad); err == nil {
			t.Errorf("Parse accepted %q, whose checksum is CRC32 + %d·2³²", bad, k)
		}
	}
}

// withChecksum appends a correct checksum to s, so that a test isolates the
// format check it means to exercise.
func withChecksum(s string) string {
	return s + encode62(uint64(crc32.ChecksumIEEE([]byte(s))))
}

func TestParseRejects(t *testing.T) {
	good := secret.NewKey("kh_live")
	rnd := good[len("kh_live_") : len(good)-6] // 32 random characters
	tests := []struct {
		name string
		key  string
	}{
		{"ErrEmpty", ""},
		{"ErrPrefixOnly", "kh_live_"},
		{"ErrNoPrefix", good[len("kh_live_"):]},
		{"ErrNoSeparator", "kh_live" + good[len("kh_live_"):]},
		{"ErrEmptyPrefix", withChecksum("_" + rnd)},
		{"ErrShortByOne", good[:len(good)-1]},
		{"ErrLongByOne", good + "0"},
		{"ErrShortBody", withChecksum("kh_live_" + rnd[:31])},
		{"ErrLongBody", withChecksum("kh_live_" + rnd + "A")},
		{"ErrUppercasePrefix", withChecksum("KH_live_" + rnd)},
		{"ErrMixedCasePrefix", withChecksum("kh_Live_" + rnd)},
		{"ErrLeadingDigit", withChecksum("1kh_" + rnd)},
		{"ErrLeadingUnderscore", withChecksum("_kh_" + rnd)},
		{"ErrTrailingUnderscore", withChecksum("kh__" + rnd)},
		{"ErrPrefixHyphen", withChecksum("kh-live_" + rnd)},
		{"ErrPrefixTooLong", withChecksum(strings.Repeat("a", secret.MaxPrefixLen+1) + "_" + rnd)},
		{"ErrBodyHyphen", withChecksum("kh_live_" + rnd[:10] + "-" + rnd[11:])},
		{"ErrBodyUnderscore", withChecksum("kh_live_" + rnd[:10] + "_" + rnd[11:])},
		{"ErrBodyPlus", withChecksum("kh_live_" + rnd[:31] + "+")},
		{"ErrBodySpace", withChecksum("kh_live_ " + rnd[1:])},
		{"ErrBodyNUL", withChecksum("kh_live_" + rnd[:5] + "\x00" + rnd[6:])},
		{"ErrBodyHighByte", withChecksum("kh_live_" + rnd[:5] + "\xff" + rnd[6:])},
		{"ErrChecksumNonBase62", good[:len(good)-1] + "="},
		{"ErrLeadingSpace", " " + good},
		{"ErrTrailingNewline", good[:len(good)-1] + "\n"},
		{"ErrBearer", "Bearer " + good},
		{"ErrJWTLike", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := secret.Parse(tt.key)
			if err == nil {
				t.Fatalf("Parse(%q) = %q, nil; want an error", tt.key, p)
			}
			if !errors.Is(err, secret.ErrMalformed) {
				t.Errorf("Parse error = %v, want ErrMalformed", err)
			}
			if p != "" {
				t.Errorf("Parse returned prefix %q with an error", p)
			}
			if len(tt.key) > 8 && strings.Contains(err.Error(), tt.key) {
				t.Errorf("error %q contains the key", err)
			}
		})
	}
	// The same constructions with a good prefix are accepted: the cases
	// above fail for the reason their name gives, not for a bad checksum.
	for _, k := range []string{withChecksum("kh_live_" + rnd), withChecksum("a_" + rnd), withChecksum(strings.Repeat("a", secret.MaxPrefixLen) + "_" + rnd)} {
		mustParse(t, k)
	}
}

func TestValidPrefix(t *testing.T) {
	for _, p := range []string{"kh_live", "kh_test", "yat_live", "a", "a1", "sk_live_2", strings.Repeat("z", 32)} {
		if !secret.ValidPrefix(p) {
			t.Errorf("ValidPrefix(%q) = false", p)
		}
	}
	for _, p := range []string{"", "_", "_a", "a_", "1a", "A", "kh_Live", "kh-live", "kh live", "kh.live", "é", strings.Repeat("z", 33)} {
		if secret.ValidPrefix(p) {
			t.Errorf("ValidPrefix(%q) = true", p)
		}
	}
}

func TestStart(t *testing.T) {
	for _, prefix := range []string{"kh_live", "yat_live", "x"} {
		key := secret.NewKey(prefix)
		s := secret.Start(key)
		if len(s) != len(prefix)+1+secret.StartLen || !strings.HasPrefix(key, s) || !strings.HasPrefix(s, prefix+"_") {
			t.Errorf("Start(%q) = %q", key, s)
		}
	}
}

func TestHash(t *testing.T) {
	// SHA-256 of "abc", FIPS 180-2 appendix B.1.
	h := secret.Hash("abc")
	if got := hex.EncodeToString(h[:]); got != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Errorf("Hash(abc) = %s", got)
	}
	key := secret.NewKey("kh_live")
	if secret.Hash(key) != sha256.Sum256([]byte(key)) {
		t.Error("Hash is not SHA-256 of the whole key")
	}
}

func TestEqual(t *testing.T) {
	a, b := secret.Hash("one"), secret.Hash("two")
	a2 := secret.Hash("one")
	tests := []struct {
		name string
		x, y []byte
		want bool
	}{
		{"Same", a[:], a2[:], true},
		{"Different", a[:], b[:], false},
		{"Truncated", a[:], a[:31], false},
		{"Empty", nil, a[:], false},
		{"BothEmpty", nil, []byte{}, true},
	}
	for _, tt := range tests {
		if got := secret.Equal(tt.x, tt.y); got != tt.want {
			t.Errorf("%s: Equal = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestNewClientSecret(t *testing.T) {
	seen := make(map[string]bool)
	for range 100 {
		s := secret.NewClientSecret()
		if len(s) != 43 {
			t.Fatalf("client secret %q has %d characters, want 43", s, len(s))
		}
		raw, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatalf("client secret %q is not base64url: %v", s, err)
		}
		if len(raw)*8 < 256 {
			t.Fatalf("client secret holds %d bits, want >= 256", len(raw)*8)
		}
		if seen[s] {
			t.Fatalf("NewClientSecret repeated %q", s)
		}
		seen[s] = true
	}
}

// TestRandomPartUniform is a chi-square test of the 32 random characters of
// many keys against the uniform distribution over 62 characters. With 61
// degrees of freedom the statistic has mean 61 and standard deviation 11; the
// bound of 200 is 12 standard deviations out (p < 1e-15), so it cannot flake,
// yet modulo bias (8 characters 25% more likely) would score about 800.
func TestRandomPartUniform(t *testing.T) {
	const keys = 5000
	var counts [256]int
	for range keys {
		k := secret.NewKey("kh_live")
		for _, c := range []byte(k[len("kh_live_") : len(k)-6]) {
			counts[c]++
		}
	}
	expected := float64(keys*32) / 62
	chi2 := 0.0
	for i := 0; i < len(base62); i++ {
		d := float64(counts[base62[i]]) - expected
		chi2 += d * d / expected
	}
	if chi2 > 200 {
		t.Errorf("chi-square = %.1f over 61 degrees of freedom, want < 200; counts %v", chi2, counts)
	}
}

func TestParseAllocs(t *testing.T) {
	keys := []string{secret.NewKey("kh_live"), "kh_live_short", secret.NewKey("yat_live")[:40] + "xxx"}
	for _, k := range keys {
		if n := testing.AllocsPerRun(100, func() { _, _ = secret.Parse(k) }); n != 0 {
			t.Errorf("Parse(%q) allocates %v times, want 0", k, n)
		}
	}
}

func BenchmarkParse(b *testing.B) {
	key := secret.NewKey("kh_live")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := secret.Parse(key); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNewKey(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		secret.NewKey("kh_live")
	}
}

func FuzzParse(f *testing.F) {
	f.Add(secret.NewKey("kh_live"))
	f.Add(secret.NewKey("yat_live"))
	f.Add(secret.NewKey("a"))
	f.Add(withChecksum("kh__" + strings.Repeat("a", 32)))
	f.Add("kh_live_" + strings.Repeat("z", 38))
	f.Add("")
	f.Fuzz(func(t *testing.T, key string) {
		prefix, err := secret.Parse(key)
		if err != nil {
			if prefix != "" {
				t.Fatalf("Parse(%q) returned prefix %q with an error", key, prefix)
			}
			return
		}
		if !secret.ValidPrefix(prefix) {
			t.Fatalf("Parse(%q) returned invalid prefix %q", key, prefix)
		}
		checkShape(t, key, prefix)
		if s := secret.Start(key); !strings.HasPrefix(key, s) || len(s) != len(prefix)+1+secret.StartLen {
			t.Fatalf("Start(%q) = %q", key, s)
		}
	})
}
