package clientaddr

import (
	"net/netip"
	"strings"
)

// maxHops bounds the hops kept from one request's headers, the nearest
// ones: a real chain of proxies is a handful long, and the walk stops at
// the first untrusted hop anyway.
const maxHops = 64

// hop is one proxy's report: the address it received the request from
// (invalid when the report is not an address, such as "unknown") and, from
// Forwarded, the protocol it was received over.
type hop struct {
	addr  netip.Addr
	proto string
}

// parseXFF reads X-Forwarded-For lines, in order, into hops.
func parseXFF(lines []string) []hop {
	var out []hop
	for _, line := range lines {
		for f := range strings.SplitSeq(line, ",") {
			out = append(out, hop{addr: parseNode(strings.TrimSpace(f))})
		}
	}
	return nearest(out)
}

func nearest(hops []hop) []hop {
	if len(hops) > maxHops {
		return hops[len(hops)-maxHops:]
	}
	return hops
}

// lastProto is the right-most X-Forwarded-Proto value, lower-cased: the
// one the nearest proxy wrote.
func lastProto(lines []string) (string, bool) {
	if len(lines) == 0 {
		return "", false
	}
	vs := strings.Split(lines[len(lines)-1], ",")
	p := strings.ToLower(strings.TrimSpace(vs[len(vs)-1]))
	return p, p != ""
}

// parseForwarded reads a Forwarded header (RFC 7239), its lines joined by
// commas, into its hops, left to right. Elements are separated by commas
// and their pairs by semicolons; values are tokens or quoted strings. Text
// that does not parse gives hops without an address rather than an error:
// the header comes from the network.
func parseForwarded(s string) []hop {
	var out []hop
	cur := hop{}
	for len(s) > 0 {
		var key, val string
		key, val, s = nextPair(s)
		switch strings.ToLower(key) {
		case "for":
			cur.addr = parseNode(val)
		case "proto":
			cur.proto = strings.ToLower(val)
		}
		if len(s) > 0 && s[0] == ',' {
			out = append(out, cur)
			cur = hop{}
		}
		if len(s) > 0 {
			s = s[1:]
		}
	}
	return nearest(append(out, cur))
}

// nextPair reads one key=value pair from s and returns the rest, which
// starts at the separator (',' or ';') or is empty.
func nextPair(s string) (key, val, rest string) {
	i := strings.IndexAny(s, "=,;")
	if i < 0 {
		return strings.TrimSpace(s), "", ""
	}
	key = strings.TrimSpace(s[:i])
	if s[i] != '=' {
		return key, "", s[i:]
	}
	s = strings.TrimLeft(s[i+1:], " \t")
	if len(s) > 0 && s[0] == '"' {
		var b strings.Builder
		j := 1
		for ; j < len(s) && s[j] != '"'; j++ {
			if s[j] == '\\' && j+1 < len(s) {
				j++
			}
			b.WriteByte(s[j])
		}
		rest = s[min(j+1, len(s)):]
		if k := strings.IndexAny(rest, ",;"); k >= 0 {
			rest = rest[k:]
		} else {
			rest = ""
		}
		return key, b.String(), rest
	}
	j := strings.IndexAny(s, ",;")
	if j < 0 {
		return key, strings.TrimSpace(s), ""
	}
	return key, strings.TrimSpace(s[:j]), s[j:]
}

// parseNode reads one hop's address: an IP, an IP with a port, or a
// bracketed IPv6 address with or without a port. Anything else
// ("unknown", an obfuscated "_hidden" name, garbage) is the zero Addr.
func parseNode(s string) netip.Addr {
	if s == "" || len(s) > 64 {
		return netip.Addr{}
	}
	if s[0] == '[' {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return netip.Addr{}
		}
		rest := s[end+1:]
		if rest != "" && !validPort(rest) {
			return netip.Addr{}
		}
		a, err := netip.ParseAddr(s[1:end])
		if err != nil || !a.Is6() || a.Zone() != "" {
			return netip.Addr{}
		}
		return a.Unmap()
	}
	if a, err := netip.ParseAddr(s); err == nil {
		if a.Zone() != "" {
			return netip.Addr{}
		}
		return a.Unmap()
	}
	// An IPv4 address with a port.
	if i := strings.LastIndexByte(s, ':'); i > 0 && validPort(s[i:]) {
		if a, err := netip.ParseAddr(s[:i]); err == nil && a.Is4() {
			return a
		}
	}
	return netip.Addr{}
}

// validPort reports whether s is ":" and 1–5 digits (RFC 7239 also allows
// obfuscated ports such as ":_abc"; those are accepted too).
func validPort(s string) bool {
	if len(s) < 2 || len(s) > 16 || s[0] != ':' {
		return false
	}
	for _, c := range s[1:] {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}
