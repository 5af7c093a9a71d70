package authn

import (
	"context"
	"net/netip"
	"strconv"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/verify"
)

// maxCost bounds the credits one verification may spend: exact in every
// JSON client.
const maxCost = 1 << 53

// VerifyRequest is the input of VerifyKey.
type VerifyRequest struct {
	Key    string   `json:"key"`
	Scopes []string `json:"scopes"`
	IP     string   `json:"ip"`
	// Cost is how many credits a valid use spends; 1 when absent.
	Cost *int64 `json:"cost"`
}

// VerifyKey answers a verification request for a caller holding
// verify:api_keys. A tenant's caller verifies only its own tenant's keys; an
// operator those of the tenant it names, or of any tenant.
func (s *Service) VerifyKey(ctx context.Context, c *keyhub.Caller, in VerifyRequest) (verify.Result, error) {
	if err := c.Require(keyhub.ScopeVerifyAPIKeys, "verifying API keys"); err != nil {
		return verify.Result{}, err
	}
	var v keyhub.Validation
	if in.Key == "" {
		v.Add("key", "is required")
	}
	ip, cost := checkQuestion(&v, in.Scopes, in.IP, in.Cost)
	if err := v.Err(); err != nil {
		return verify.Result{}, err
	}
	return s.ver.Verify(ctx, verify.Request{Key: in.Key, Scopes: in.Scopes, IP: ip, TenantID: c.TenantID, Cost: cost})
}

// checkQuestion checks what a key or a ticket is asked about: required
// scopes, the address it is used from and the credits it spends.
func checkQuestion(v *keyhub.Validation, scopes []string, ipText string, costIn *int64) (netip.Addr, int64) {
	for i, sc := range scopes {
		if err := keyhub.ValidateScope(sc); err != nil {
			v.Add("scopes["+strconv.Itoa(i)+"]", "%v", err)
		}
	}
	var ip netip.Addr
	if ipText != "" {
		var err error
		if ip, err = netip.ParseAddr(ipText); err != nil || ip.Zone() != "" {
			v.Add("ip", "is not a valid IP address")
		}
	}
	cost := int64(1)
	if costIn != nil {
		cost = *costIn
		if cost < 0 || cost > maxCost {
			v.Add("cost", "must be from 0 to %d", int64(maxCost))
		}
	}
	return ip, cost
}
