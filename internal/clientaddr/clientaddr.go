// Package clientaddr decides, once per request, which address a request
// came from and whether it reached keyhub over TLS. Behind a reverse proxy
// the TCP peer is the proxy; the proxy's X-Forwarded-For or Forwarded
// header names the client. Those headers are anyone's to write, so they
// are read only when the peer is a proxy the operator named as trusted
// (--trusted-proxies), and only as far as the chain of trusted proxies
// vouches for them: the right-most address that is not a trusted proxy is
// the client. Every use of the client's address (throttles, audit entries,
// allow-lists of keys, the portal's cookies) goes through From and IsTLS.
package clientaddr

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/keyhub/keyhub"
)

// Resolver knows which peers are trusted proxies.
type Resolver struct {
	trusted []netip.Prefix
}

// New returns a Resolver that trusts the proxies in trusted; with none,
// forwarding headers are never read.
func New(trusted []netip.Prefix) *Resolver {
	out := make([]netip.Prefix, 0, len(trusted))
	for _, p := range trusted {
		if p.IsValid() {
			out = append(out, p.Masked())
		}
	}
	return &Resolver{trusted: out}
}

// ParsePrefixes reads a comma-separated list of CIDR prefixes and bare
// addresses ("10.0.0.0/8,127.0.0.1"); a bare address is a /32 or a /128.
// Empty text is no prefix at all.
func ParsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for i, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			if strings.TrimSpace(s) == "" {
				return nil, nil
			}
			return nil, fmt.Errorf("trusted proxy %d is empty: give a comma list of addresses or CIDR prefixes such as 10.0.0.0/8,127.0.0.1", i+1)
		}
		p, err := keyhub.ParseCIDR(f)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %d: %v; give addresses or CIDR prefixes such as 10.0.0.0/8", i+1, err)
		}
		out = append(out, p)
	}
	return out, nil
}

// Trusts reports whether a is one of the trusted proxies.
func (r *Resolver) Trusts(a netip.Addr) bool { return r.trusts(a) }

func (r *Resolver) trusts(a netip.Addr) bool {
	if r == nil || !a.IsValid() {
		return false
	}
	a = a.Unmap()
	for _, p := range r.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// resolved is what the middleware learnt about a request.
type resolved struct {
	addr        netip.Addr
	tls         bool
	trustedPeer bool
}

type ctxKey struct{}

// Middleware resolves the client's address once per request and stores it
// in the request's context for From, IsTLS and FromTrustedPeer.
func (r *Resolver) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		res := r.resolve(req)
		next.ServeHTTP(w, req.WithContext(context.WithValue(req.Context(), ctxKey{}, res)))
	})
}

func (r *Resolver) resolve(req *http.Request) resolved {
	peer := peerAddr(req.RemoteAddr)
	res := resolved{addr: peer, tls: req.TLS != nil}
	if !r.trusts(peer) {
		return res
	}
	res.trustedPeer = true
	var hops []hop
	if xff := req.Header.Values("X-Forwarded-For"); len(xff) > 0 {
		// X-Forwarded-For wins: it is what proxies set by default, and a
		// proxy that sets it passes a client's Forwarded header on
		// untouched.
		hops = parseXFF(xff)
		if p, ok := lastProto(req.Header.Values("X-Forwarded-Proto")); ok {
			res.tls = p == "https"
		}
	} else if fwd := req.Header.Values("Forwarded"); len(fwd) > 0 {
		hops = parseForwarded(strings.Join(fwd, ","))
	} else {
		if p, ok := lastProto(req.Header.Values("X-Forwarded-Proto")); ok {
			res.tls = p == "https"
		}
		return res
	}
	// Walk from the nearest hop outwards while each hop is a trusted proxy
	// vouching for the one before it; the first hop that is not trusted is
	// the client. An entry that is not an address ends the walk at the last
	// hop that could be identified. With Forwarded, the client's element
	// says what the outermost proxy received it over.
	for i := len(hops) - 1; i >= 0; i-- {
		h := hops[i]
		if !h.addr.IsValid() {
			break
		}
		res.addr = h.addr
		if h.proto != "" {
			res.tls = h.proto == "https"
		}
		if !r.trusts(h.addr) {
			break
		}
	}
	return res
}

// From is the client's address: the one the middleware resolved, else the
// TCP peer's; IPv4 addresses mapped into IPv6 are returned as IPv4. It is
// the zero Addr when neither is known.
func From(r *http.Request) netip.Addr {
	if res, ok := r.Context().Value(ctxKey{}).(resolved); ok {
		return res.addr
	}
	return peerAddr(r.RemoteAddr)
}

// IsTLS reports whether the client's request came over TLS: to keyhub
// itself, or to a trusted proxy that said so (X-Forwarded-Proto or
// Forwarded proto=https).
func IsTLS(r *http.Request) bool {
	if res, ok := r.Context().Value(ctxKey{}).(resolved); ok {
		return res.tls
	}
	return r.TLS != nil
}

// FromTrustedPeer reports whether the request's TCP peer is a trusted
// proxy.
func FromTrustedPeer(r *http.Request) bool {
	res, ok := r.Context().Value(ctxKey{}).(resolved)
	return ok && res.trustedPeer
}

func peerAddr(remote string) netip.Addr {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap().WithZone("")
}
