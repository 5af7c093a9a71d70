package keyhub_test

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keyhub/keyhub"
)

var idPrefixes = []string{keyhub.PrefixTenant, keyhub.PrefixAPIKey, keyhub.PrefixRole, keyhub.PrefixClient, keyhub.PrefixEvent}

func TestNewIDValid(t *testing.T) {
	now := time.Now()
	for _, p := range idPrefixes {
		id := keyhub.NewID(p, now)
		if !keyhub.ValidID(p, id) {
			t.Errorf("ValidID(%q, %q) = false", p, id)
		}
		if len(id) != len(p)+26 {
			t.Errorf("id %q has length %d, want %d", id, len(id), len(p)+26)
		}
		for _, other := range idPrefixes {
			if other != p && keyhub.ValidID(other, id) {
				t.Errorf("ValidID(%q, %q) = true", other, id)
			}
		}
	}
}

func TestNewIDUnique(t *testing.T) {
	now := time.Now()
	seen := make(map[string]bool)
	for range 1000 {
		id := keyhub.NewID(keyhub.PrefixAPIKey, now) // same millisecond
		if seen[id] {
			t.Fatalf("duplicate id %q", id)
		}
		seen[id] = true
	}
}

func TestNewIDSortsByTime(t *testing.T) {
	times := []time.Time{
		time.UnixMilli(0),
		time.UnixMilli(1),
		time.UnixMilli(31),
		time.UnixMilli(32),
		time.Date(2001, 9, 9, 1, 46, 40, 0, time.UTC),
		time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2024, 1, 1, 0, 0, 0, int(time.Millisecond), time.UTC),
		time.Date(2024, 1, 1, 0, 0, 1, 0, time.UTC),
		time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(10889, 8, 2, 5, 31, 50, 0, time.UTC), // near the top of 48 bits
	}
	var ids []string
	for _, tm := range times {
		for range 20 { // the random part must not disturb the order
			ids = append(ids, keyhub.NewID(keyhub.PrefixEvent, tm))
		}
	}
	for i := 20; i < len(ids); i++ {
		if ids[i-20] >= ids[i] {
			t.Errorf("id at %v (%q) does not sort before id at %v (%q)", times[i/20-1], ids[i-20], times[i/20], ids[i])
		}
	}
	for i, tm := range times {
		if !keyhub.ValidID(keyhub.PrefixEvent, ids[i*20]) {
			t.Errorf("id at %v is not valid: %q", tm, ids[i*20])
		}
	}
	// Consecutive milliseconds over a range of time sort ascending too.
	base := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	prev := ""
	for ms := range 5000 {
		id := keyhub.NewID(keyhub.PrefixAPIKey, base.Add(time.Duration(ms)*time.Millisecond))
		if id <= prev {
			t.Fatalf("id at +%dms %q <= previous %q", ms, id, prev)
		}
		prev = id
	}
}

func TestNewIDEncodesTime(t *testing.T) {
	// The first 10 characters are the milliseconds in Crockford base32.
	const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	tm := time.Date(2024, 2, 29, 13, 14, 15, 16e6, time.UTC)
	id := strings.TrimPrefix(keyhub.NewID(keyhub.PrefixRole, tm), keyhub.PrefixRole)
	var ms int64
	for _, c := range id[:10] {
		ms = ms<<5 | int64(strings.IndexRune(crockford, c))
	}
	if ms != tm.UnixMilli() {
		t.Errorf("id %q encodes %d ms, want %d", id, ms, tm.UnixMilli())
	}
}

func TestValidID(t *testing.T) {
	good := "key_01HZY3J5Q6N8V9W0X1Y2Z3A4B5"
	if !keyhub.ValidID(keyhub.PrefixAPIKey, good) {
		t.Fatalf("ValidID(%q) = false", good)
	}
	tests := []struct {
		name string
		id   string
	}{
		{"ErrEmpty", ""},
		{"ErrPrefixOnly", "key_"},
		{"ErrNoPrefix", good[4:]},
		{"ErrWrongPrefix", "ten_" + good[4:]},
		{"ErrPrefixCase", "KEY_" + good[4:]},
		{"ErrShort", good[:len(good)-1]},
		{"ErrLong", good + "0"},
		{"ErrLowercase", "key_01hzy3j5q6n8v9w0x1y2z3a4b5"},
		{"ErrLetterI", "key_01HZY3J5Q6N8V9W0X1Y2Z3A4BI"},
		{"ErrLetterL", "key_01HZY3J5Q6N8V9W0X1Y2Z3A4BL"},
		{"ErrLetterO", "key_01HZY3J5Q6N8V9W0X1Y2Z3A4BO"},
		{"ErrLetterU", "key_01HZY3J5Q6N8V9W0X1Y2Z3A4BU"},
		{"ErrPunctuation", "key_01HZY3J5Q6N8V9W0X1Y2Z3A4B-"},
		{"ErrOverflow", "key_81HZY3J5Q6N8V9W0X1Y2Z3A4B5"}, // more than 128 bits
		{"ErrNonASCII", "key_01HZY3J5Q6N8V9W0X1Y2Z3A4Bé"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if keyhub.ValidID(keyhub.PrefixAPIKey, tt.id) {
				t.Errorf("ValidID(%q) = true", tt.id)
			}
		})
	}
}

func TestParseCIDR(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // "" for an error
	}{
		{"IPv4", "203.0.113.7/32", "203.0.113.7/32"},
		{"IPv4Prefix", "10.0.0.0/8", "10.0.0.0/8"},
		{"IPv4Masked", "10.1.2.3/8", "10.0.0.0/8"},
		{"IPv4Zero", "0.0.0.0/0", "0.0.0.0/0"},
		{"IPv4AnyMasked", "1.2.3.4/0", "0.0.0.0/0"},
		{"IPv4Bare", "203.0.113.7", "203.0.113.7/32"},
		{"IPv6", "2001:db8::/32", "2001:db8::/32"},
		{"IPv6Masked", "2001:db8:1:2::1/48", "2001:db8:1::/48"},
		{"IPv6Bare", "2001:db8::1", "2001:db8::1/128"},
		{"IPv6BareLong", "2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1/128"},
		{"IPv6Loopback", "::1", "::1/128"},
		{"IPv6All", "::/0", "::/0"},
		{"IPv4MappedBare", "::ffff:203.0.113.7", "203.0.113.7/32"},
		{"IPv4MappedHex", "::ffff:cb00:7107", "203.0.113.7/32"},
		{"IPv4MappedPrefix", "::ffff:10.1.2.3/104", "10.0.0.0/8"},
		{"IPv4MappedHost", "::ffff:10.1.2.3/128", "10.1.2.3/32"},
		{"IPv4MappedAll", "::ffff:0.0.0.0/96", "0.0.0.0/0"},
		{"ErrIPv4MappedShortPrefix", "::ffff:10.1.2.3/64", ""},
		{"ErrZoneBare", "fe80::1%eth0", ""},
		{"ErrZonePrefix", "fe80::1%eth0/64", ""},
		{"ErrZoneMapped", "::ffff:1.2.3.4%eth0", ""},
		{"ErrEmpty", "", ""},
		{"ErrSlashOnly", "/", ""},
		{"ErrNoBits", "10.0.0.0/", ""},
		{"ErrNoAddr", "/8", ""},
		{"ErrIPv4BitsTooLarge", "10.0.0.0/33", ""},
		{"ErrIPv6BitsTooLarge", "::/129", ""},
		{"ErrNegativeBits", "10.0.0.0/-1", ""},
		{"ErrIPv4Octet", "256.0.0.1", ""},
		{"ErrIPv4Short", "10.0.0", ""},
		{"ErrIPv4LeadingZero", "010.0.0.1", ""},
		{"ErrHostname", "localhost", ""},
		{"ErrSpaces", " 10.0.0.1", ""},
		{"ErrTrailingSpace", "10.0.0.1 ", ""},
		{"ErrTwoSlashes", "10.0.0.0/8/8", ""},
		{"ErrRange", "10.0.0.1-10.0.0.9", ""},
		{"ErrGarbage", "not an ip", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := keyhub.ParseCIDR(tt.in)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("ParseCIDR(%q) = %v, want an error", tt.in, p)
				}
				if !strings.Contains(err.Error(), tt.in) {
					t.Errorf("error %q does not name the input", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseCIDR(%q): %v", tt.in, err)
			}
			if p.String() != tt.want {
				t.Errorf("ParseCIDR(%q) = %v, want %v", tt.in, p, tt.want)
			}
			if p != p.Masked() || p.Addr().Is4In6() || p.Addr().Zone() != "" {
				t.Errorf("ParseCIDR(%q) = %v is not canonical", tt.in, p)
			}
		})
	}
}

func TestNormalizeIPs(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		var v keyhub.Validation
		got := keyhub.NormalizeIPs(&v, "ips", []string{
			"10.1.2.3/8", "203.0.113.7", "10.0.0.0/8", "::ffff:203.0.113.7", "2001:DB8::1", "2001:db8::1/128",
		})
		if err := v.Err(); err != nil {
			t.Fatal(err)
		}
		want := []string{"10.0.0.0/8", "203.0.113.7/32", "2001:db8::1/128"}
		if !slices.Equal(got, want) {
			t.Errorf("NormalizeIPs = %q, want %q", got, want)
		}
		// The result is stored; it must parse back to the same prefixes.
		ps, err := keyhub.ParsePrefixes(got)
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range ps {
			if p.String() != got[i] {
				t.Errorf("ParsePrefixes(%q) = %v", got[i], p)
			}
		}
	})
	t.Run("ErrFieldPaths", func(t *testing.T) {
		var v keyhub.Validation
		got := keyhub.NormalizeIPs(&v, "ips", []string{"10.0.0.1", "nope", "fe80::1%eth0", "10.0.0.0/33"})
		if want := []string{"10.0.0.1/32"}; !slices.Equal(got, want) {
			t.Errorf("NormalizeIPs = %q, want %q", got, want)
		}
		if fields, want := fieldNames(t, v.Err()), []string{"ips[1]", "ips[2]", "ips[3]"}; !slices.Equal(fields, want) {
			t.Errorf("fields = %q, want %q", fields, want)
		}
	})
	t.Run("ErrTooMany", func(t *testing.T) {
		var v keyhub.Validation
		in := make([]string, keyhub.MaxIPsPerKey+1)
		for i := range in {
			in[i] = netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}).String()
		}
		keyhub.NormalizeIPs(&v, "ips", in)
		if fields := fieldNames(t, v.Err()); !slices.Equal(fields, []string{"ips"}) {
			t.Errorf("fields = %q, want [ips]", fields)
		}
	})
	t.Run("ErrParsePrefixes", func(t *testing.T) {
		if _, err := keyhub.ParsePrefixes([]string{"10.0.0.0/8", "bad"}); err == nil {
			t.Error("ParsePrefixes accepted a bad entry")
		}
	})
}

func TestIPAllowed(t *testing.T) {
	list := mustPrefixes(t, "10.0.0.0/8", "203.0.113.7", "2001:db8::/32")
	tests := []struct {
		name     string
		prefixes []netip.Prefix
		ip       string
		want     bool
	}{
		{"EmptyAllowsV4", nil, "198.51.100.1", true},
		{"EmptyAllowsV6", nil, "2001:db8::1", true},
		{"EmptySliceAllows", []netip.Prefix{}, "::1", true},
		{"V4InPrefix", list, "10.200.3.4", true},
		{"V4Host", list, "203.0.113.7", true},
		{"V4HostNeighbour", list, "203.0.113.8", false},
		{"V4Outside", list, "11.0.0.1", false},
		{"V6InPrefix", list, "2001:db8:ffff::1", true},
		{"V6Outside", list, "2001:db9::1", false},
		{"V4MappedClientMatchesV4", list, "::ffff:10.1.1.1", true},
		{"V4MappedClientHost", list, "::ffff:203.0.113.7", true},
		{"V4MappedClientOutside", list, "::ffff:11.1.1.1", false},
		{"V4DoesNotMatchV6", mustPrefixes(t, "::/0"), "10.0.0.1", false},
		{"V6DoesNotMatchV4", mustPrefixes(t, "0.0.0.0/0"), "::1", false},
		{"MappedPrefixMatchesV4", mustPrefixes(t, "::ffff:10.0.0.0/104"), "10.9.9.9", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := keyhub.IPAllowed(tt.prefixes, netip.MustParseAddr(tt.ip)); got != tt.want {
				t.Errorf("IPAllowed(%v, %s) = %v, want %v", tt.prefixes, tt.ip, got, tt.want)
			}
		})
	}
}

func mustPrefixes(t *testing.T, in ...string) []netip.Prefix {
	t.Helper()
	ps, err := keyhub.ParsePrefixes(in)
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

func FuzzParseCIDR(f *testing.F) {
	for _, s := range []string{
		"10.0.0.0/8", "10.1.2.3/8", "203.0.113.7", "::1", "2001:db8::/32", "::ffff:10.1.2.3/104",
		"::ffff:1.2.3.4", "fe80::1%eth0", "::ffff:0.0.0.0/95", "/", "", "1.2.3.4/0",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := keyhub.ParseCIDR(s)
		if err != nil {
			return
		}
		if !p.IsValid() || p != p.Masked() || p.Addr().Is4In6() || p.Addr().Zone() != "" {
			t.Fatalf("ParseCIDR(%q) = %v, not a canonical prefix", s, p)
		}
		q, err := keyhub.ParseCIDR(p.String())
		if err != nil {
			t.Fatalf("ParseCIDR(%q) = %v, which does not re-parse: %v", s, p, err)
		}
		if q != p {
			t.Fatalf("ParseCIDR(%q) = %v, re-parses to %v", s, p, q)
		}
		// Every address the input names is allowed by the prefix.
		if !strings.Contains(s, "/") {
			a := netip.MustParseAddr(s)
			if !keyhub.IPAllowed([]netip.Prefix{p}, a) {
				t.Fatalf("IPAllowed(%v, %v) = false", p, a)
			}
		}
	})
}
