package e2e

import (
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/keyhub/keyhub/internal/apitest"
	"github.com/keyhub/keyhub/internal/app"
)

// TestConnectionFlood: a thousand sockets that never send a request, from
// twenty addresses, against --max-conns 50 and --max-conns-per-ip 20: the
// server still answers a legitimate client, authenticated calls included.
func TestConnectionFlood(t *testing.T) {
	s := apitest.Start(t, apitest.SQLite(t), func(c *app.Config) { c.MaxConns, c.MaxConnsPerAddr = 50, 20 })
	addr := strings.TrimPrefix(s.URL, "http://")
	var socks []net.Conn
	t.Cleanup(func() {
		for _, c := range socks {
			c.Close()
		}
	})
	for i := range 1000 {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(fmt.Sprintf("127.0.2.%d", 1+i%20))}}
		c, err := d.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		socks = append(socks, c)
	}
	legit := s.From(t, "127.0.0.1")
	for range 3 {
		legit.Must(200, "GET", "/healthz", nil)
		legit.Must(200, "GET", "/v1/tenants", nil, apitest.Auth(s.Operator, "")...)
	}
}
