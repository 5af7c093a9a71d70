package webhook

import (
	"errors"
	"net"
	"net/netip"
	"syscall"

	"github.com/keyhub/keyhub"
)

// errPrivate is the refusal to connect to an address that is not on the
// public internet.
var errPrivate = errors.New("refused: the address is loopback, private, link-local or otherwise not public")

// guard refuses, at connect time and so after DNS, every address that is
// not public: a name that resolves to 10.0.0.1 is refused like 10.0.0.1.
func guard(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return errPrivate
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !keyhub.PublicAddr(ip) {
		return errPrivate
	}
	return nil
}
