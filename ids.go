package keyhub

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// Id prefixes, one per object type.
const (
	PrefixTenant = "ten_"
	PrefixAPIKey = "key_"
	PrefixRole   = "role_"
	PrefixClient = "cli_"
	PrefixEvent  = "evt_"
	PrefixMember = "mem_"
	// PrefixSession names portal sessions.
	PrefixSession = "ses_"
)

// crockford is the ULID alphabet: ids sort by creation time as strings.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// idLen is the length of the ULID part of an id.
const idLen = 26

// NewID returns prefix followed by a ULID: 48 bits of milliseconds since the
// epoch and 80 bits from crypto/rand. Ids therefore sort by creation time,
// which is what cursor pagination and the audit log order by. Within one
// millisecond a process increments the random part instead of drawing it
// again (the ULID monotonic rule), so its ids of one millisecond keep the
// order they were made in. The time part is always the time given.
func NewID(prefix string, now time.Time) string {
	var b [16]byte
	ms := uint64(now.UnixMilli())
	monotonic.Lock()
	if ms == monotonic.ms {
		monotonic.hi, monotonic.lo = inc80(monotonic.hi, monotonic.lo)
	} else {
		var r [10]byte
		if _, err := rand.Read(r[:]); err != nil {
			panic("keyhub: crypto/rand failed: " + err.Error())
		}
		// Keep headroom so increments within a millisecond cannot overflow.
		r[0] &= 0x7f
		monotonic.ms = ms
		monotonic.hi = uint16(r[0])<<8 | uint16(r[1])
		monotonic.lo = binary.BigEndian.Uint64(r[2:])
	}
	binary.BigEndian.PutUint64(b[:8], ms<<16|uint64(monotonic.hi))
	binary.BigEndian.PutUint64(b[8:], monotonic.lo)
	monotonic.Unlock()
	// 128 bits as 26 base32 characters, the top character carrying 3 bits.
	hi := binary.BigEndian.Uint64(b[:8])
	lo := binary.BigEndian.Uint64(b[8:])
	var out [idLen]byte
	for i := idLen - 1; i >= 0; i-- {
		out[i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return prefix + string(out[:])
}

// monotonic is the last id's time and random part.
var monotonic struct {
	sync.Mutex
	ms uint64
	hi uint16
	lo uint64
}

func inc80(hi uint16, lo uint64) (uint16, uint64) {
	lo++
	if lo == 0 {
		hi++
	}
	return hi, lo
}

// ValidID reports whether s is an id with the given prefix.
func ValidID(prefix, s string) bool {
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok || len(rest) != idLen || rest[0] > '7' {
		return false
	}
	for i := 0; i < len(rest); i++ {
		if strings.IndexByte(crockford, rest[i]) < 0 {
			return false
		}
	}
	return true
}

// ParseCIDR parses an IPv4 or IPv6 address or CIDR prefix. A bare address is
// a single-host prefix. The result is masked, so "10.1.2.3/8" is "10.0.0.0/8".
func ParseCIDR(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not a valid IP address or CIDR", s)
		}
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
			if !p.IsValid() {
				return netip.Prefix{}, fmt.Errorf("%q is not a valid IP address or CIDR", s)
			}
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("%q is not a valid IP address or CIDR", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// MaxIPsPerKey bounds the IP allow-list of one key.
const MaxIPsPerKey = 100

// NormalizeIPs validates an allow-list and returns it in canonical form.
func NormalizeIPs(v *Validation, field string, in []string) []string {
	if len(in) > MaxIPsPerKey {
		v.Add(field, "at most %d entries", MaxIPsPerKey)
		return nil
	}
	out := make([]string, 0, len(in))
	seen := make(map[string]bool, len(in))
	for i, s := range in {
		p, err := ParseCIDR(s)
		if err != nil {
			v.Add(fmt.Sprintf("%s[%d]", field, i), "%v", err)
			continue
		}
		c := p.String()
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out
}

// ParsePrefixes parses a stored, already-normalized allow-list.
func ParsePrefixes(ips []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(ips))
	for _, s := range ips {
		p, err := ParseCIDR(s)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}
