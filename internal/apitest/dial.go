package apitest

import (
	"net"
	"net/http"
	"net/netip"
	"testing"
)

// From returns a copy of c whose connections leave from the local address
// ip, such as 127.0.0.2 (all of 127.0.0.0/8 is loopback on Linux), so that
// a test can be two clients on one machine. Keep-alives are off: each
// request is a connection of its own.
func (c *Client) From(t testing.TB, ip string) *Client {
	t.Helper()
	a, err := netip.ParseAddr(ip)
	if err != nil {
		t.Fatalf("apitest: %v", err)
	}
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: a.AsSlice()}}
	tr := &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true}
	if c.HTTP != nil {
		if base, ok := c.HTTP.Transport.(*http.Transport); ok {
			tr.TLSClientConfig = base.TLSClientConfig.Clone()
		}
	}
	n := c.For(t)
	n.HTTP = &http.Client{Transport: tr}
	return n
}
