package clientaddr

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

func TestParsePrefixes(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string
		err      string
	}{
		{name: "Empty", in: "  "},
		{name: "CIDRAndBare", in: "10.0.0.0/8, 127.0.0.1", want: []string{"10.0.0.0/8", "127.0.0.1/32"}},
		{name: "IPv6Bare", in: "::1", want: []string{"::1/128"}},
		{name: "Masked", in: "192.168.1.7/24", want: []string{"192.168.1.0/24"}},
		{name: "Mapped", in: "::ffff:10.1.2.3", want: []string{"10.1.2.3/32"}},
		{name: "MappedPrefix", in: "::ffff:10.0.0.0/104", want: []string{"10.0.0.0/8"}},
		{name: "ErrGarbage", in: "10.0.0.0/8,nginx", err: `trusted proxy 2: "nginx" is not a valid IP address or CIDR`},
		{name: "ErrBadPrefix", in: "10.0.0.0/33", err: `trusted proxy 1: "10.0.0.0/33" is not a valid`},
		{name: "ErrEmptyEntry", in: "10.0.0.1,,10.0.0.2", err: "trusted proxy 2 is empty"},
		{name: "ErrZone", in: "fe80::1%eth0", err: "is not a valid IP address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParsePrefixes(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var s []string
			for _, p := range got {
				s = append(s, p.String())
			}
			if strings.Join(s, " ") != strings.Join(tc.want, " ") {
				t.Fatalf("got %v, want %v", s, tc.want)
			}
		})
	}
}

func TestResolve(t *testing.T) {
	trusted, err := ParsePrefixes("10.0.0.0/8,::1")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		trusted bool // a resolver that trusts 10/8 and ::1, else none
		peer    string
		tls     bool
		headers [][2]string
		want    string
		wantTLS bool
		wantTP  bool
	}{
		{name: "NoProxiesIgnoresHeaders", peer: "10.0.0.1:5000",
			headers: [][2]string{{"X-Forwarded-For", "203.0.113.9"}, {"X-Forwarded-Proto", "https"}}, want: "10.0.0.1"},
		{name: "UntrustedPeerIgnoresHeaders", trusted: true, peer: "198.51.100.1:5000",
			headers: [][2]string{{"X-Forwarded-For", "203.0.113.9"}, {"Forwarded", "for=203.0.113.9;proto=https"}}, want: "198.51.100.1"},
		{name: "TrustedPeerXFF", trusted: true, peer: "10.0.0.1:5000",
			headers: [][2]string{{"X-Forwarded-For", "203.0.113.9"}}, want: "203.0.113.9", wantTP: true},
		{name: "RightMostUntrusted", trusted: true, peer: "10.0.0.1:5000",
			headers: [][2]string{{"X-Forwarded-For", "1.1.1.1, 203.0.113.9, 10.2.3.4"}}, want: "203.0.113.9", wantTP: true},
		{name: "SpoofedLeftIgnored", trusted: true, peer: "10.0.0.1:5000",
			headers: [][2]string{{"X-Forwarded-For", "10.9.9.9, 203.0.113.9"}}, want: "203.0.113.9", wantTP: true},
		{name: "SeveralLines", trusted: true, peer: "10.0.0.1:5000",
			headers: [][2]string{{"X-Forwarded-For", "203.0.113.7"}, {"X-Forwarded-For", "10.1.1.1"}}, want: "203.0.113.7", wantTP: true},
		{name: "AllTrustedLeftMost", trusted: true, peer: "10.0.0.1:5000",
			headers: [][2]string{{"X-Forwarded-For", "10.3.3.3, 10.2.2.2"}}, want: "10.3.3.3", wantTP: true},
		{name: "GarbageStopsAtLastKnown", trusted: true, peer: "10.0.0.1:5000",
			headers: [][2]string{{"X-Forwarded-For", "203.0.113.9, nonsense, 10.2.2.2"}}, want: "10.2.2.2", wantTP: true},
		{name: "GarbageNearestKeepsPeer", trusted: true, peer: "10.0.0.1:5000",
			headers: [][2]string{{"X-Forwarded-For", "nonsense"}}, want: "10.0.0.1", wantTP: true},
		{name: "XFFWithPorts", trusted: true, peer: "10.0.0.1:5000",
			headers: [][2]string{{"X-Forwarded-For", "[2001:db8::7]:443, 203.0.113.9:1234"}}, want: "203.0.113.9", wantTP: true},
		{name: "XFFMapped", trusted: true, peer: "10.0.0.1:5000",
			headers: [][2]string{{"X-Forwarded-For", "::ffff:203.0.113.9"}}, want: "203.0.113.9", wantTP: true},
		{name: "ProtoFromTrusted", trusted: true, peer: "10.0.0.1:5000",
			headers: [][2]string{{"X-Forwarded-For", "203.0.113.9"}, {"X-Forwarded-Proto", "https"}}, want: "203.0.113.9", wantTLS: true, wantTP: true},
		{name: "ProtoRightMost", trusted: true, peer: "10.0.0.1:5000",
			headers: [][2]string{{"X-Forwarded-Proto", "https, http"}}, want: "10.0.0.1", wantTP: true},
		{name: "ProtoAlone", trusted: true, peer: "10.0.0.1:5000",
			headers: [][2]string{{"X-Forwarded-Proto", "HTTPS"}}, want: "10.0.0.1", wantTLS: true, wantTP: true},
		{name: "OwnTLS", peer: "127.0.0.1:5000", tls: true, want: "127.0.0.1", wantTLS: true},
		{name: "Forwarded", trusted: true, peer: "[::1]:5000",
			headers: [][2]string{{"Forwarded", `for=192.0.2.60;proto=https;by=203.0.113.43, for="10.0.0.5"`}}, want: "192.0.2.60", wantTLS: true, wantTP: true},
		{name: "ForwardedIPv6Quoted", trusted: true, peer: "10.0.0.1:5000",
			headers: [][2]string{{"Forwarded", `For="[2001:db8:cafe::17]:4711"`}}, want: "2001:db8:cafe::17", wantTP: true},
		{name: "ForwardedUnknown", trusted: true, peer: "10.0.0.1:5000",
			headers: [][2]string{{"Forwarded", `for=unknown`}}, want: "10.0.0.1", wantTP: true},
		{name: "ForwardedSeveralLines", trusted: true, peer: "10.0.0.1:5000",
			headers: [][2]string{{"Forwarded", `for=203.0.113.1`}, {"Forwarded", `for=10.4.4.4;proto=http`}}, want: "203.0.113.1", wantTP: true},
		{name: "XFFWinsOverForwarded", trusted: true, peer: "10.0.0.1:5000",
			headers: [][2]string{{"Forwarded", "for=198.51.100.66"}, {"X-Forwarded-For", "203.0.113.9"}}, want: "203.0.113.9", wantTP: true},
		{name: "MappedPeer", trusted: true, peer: "[::ffff:10.0.0.1]:5000",
			headers: [][2]string{{"X-Forwarded-For", "203.0.113.9"}}, want: "203.0.113.9", wantTP: true},
		{name: "BadRemoteAddr", peer: "pipe", want: "invalid IP"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var res *Resolver
			if tc.trusted {
				res = New(trusted)
			} else {
				res = New(nil)
			}
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.peer
			if tc.tls {
				r.TLS = &tls.ConnectionState{}
			}
			for _, h := range tc.headers {
				r.Header.Add(h[0], h[1])
			}
			var got netip.Addr
			var gotTLS, gotTP bool
			res.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got, gotTLS, gotTP = From(r), IsTLS(r), FromTrustedPeer(r)
			})).ServeHTTP(httptest.NewRecorder(), r)
			if got.String() != tc.want || gotTLS != tc.wantTLS || gotTP != tc.wantTP {
				t.Fatalf("From, IsTLS, FromTrustedPeer = %v, %v, %v; want %v, %v, %v", got, gotTLS, gotTP, tc.want, tc.wantTLS, tc.wantTP)
			}
		})
	}
}

// Without the middleware, the functions answer from the request alone.
func TestWithoutMiddleware(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "[::ffff:127.0.0.2]:80"
	r.Header.Set("X-Forwarded-For", "203.0.113.9")
	r.Header.Set("X-Forwarded-Proto", "https")
	if got := From(r); got != netip.MustParseAddr("127.0.0.2") {
		t.Fatalf("From = %v", got)
	}
	if IsTLS(r) || FromTrustedPeer(r) {
		t.Fatal("IsTLS or FromTrustedPeer without the middleware")
	}
}

// A long chain keeps its nearest hops: the client is still found.
func TestLongChain(t *testing.T) {
	trusted, _ := ParsePrefixes("10.0.0.0/8")
	chain := strings.Repeat("198.51.100.1, ", 500) + "203.0.113.9, 10.0.0.2"
	for _, h := range []string{"X-Forwarded-For", "Forwarded"} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = "10.0.0.1:1"
		v := chain
		if h == "Forwarded" {
			v = "for=" + strings.ReplaceAll(chain, ", ", ", for=")
		}
		r.Header.Set(h, v)
		var got netip.Addr
		New(trusted).Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = From(r) })).ServeHTTP(httptest.NewRecorder(), r)
		if got.String() != "203.0.113.9" {
			t.Fatalf("%s: From = %v", h, got)
		}
	}
}
