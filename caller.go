package keyhub

import (
	"fmt"
	"net/netip"
)

// Caller is who makes a call and where: the authenticated principal, the
// tenant the call acts on and the source address for the audit trail.
type Caller struct {
	Principal *Principal
	// TenantID is the tenant acted on: the credential's own, or for an
	// operator the one it names ("" if none).
	TenantID string
	// IP is the source address; the zero Addr when unknown. Kept as an
	// address, not text, so that a request that writes no audit entry
	// (every verification) never formats it.
	IP netip.Addr
}

// IPText is c's source address as the audit trail records it, "" when
// unknown.
func (c *Caller) IPText() string {
	if !c.IP.IsValid() {
		return ""
	}
	return c.IP.String()
}

// ErrUnauthenticated is the answer to a call without a credential.
func ErrUnauthenticated() *Error {
	return CodedErrorf(KindUnauthorized, "unauthenticated", "authentication required")
}

// Authenticated reports an error unless c carries a principal.
func (c *Caller) Authenticated() error {
	if c == nil || c.Principal == nil {
		return ErrUnauthenticated()
	}
	return nil
}

// Require checks that c holds scope; what names the operation for the
// refusal ("creating an API key").
func (c *Caller) Require(scope, what string) error {
	if err := c.Authenticated(); err != nil {
		return err
	}
	if !c.Principal.Has(scope) {
		return ErrInsufficientScope(scope, what)
	}
	return nil
}

// Covers applies the coverage rule to one change of an object that holds
// powers (a key's effective scopes, a role's or a client's scopes): the
// principal may make it only if its own scopes cover what the object holds
// before the change and what it holds after. before is nil for a creation,
// after for a removal. It answers the first scope not covered, and false.
//
// A change that only takes power away (revoking, disabling, deleting) is
// not subject to it; deciding that is the caller's, from the change itself.
func (p *Principal) Covers(before, after []string) (string, bool) {
	if s, ok := p.CanGrant(before); !ok {
		return s, false
	}
	return p.CanGrant(after)
}

// ErrNotCovered is the refusal of the coverage rule: the object named by
// what holds (or would hold) scope, which the caller does not.
func ErrNotCovered(scope, what string) *Error {
	return &Error{
		Kind: KindForbidden,
		Code: "insufficient_scope",
		Message: fmt.Sprintf("%s holds or would hold scope %q, which this credential does not: "+
			"a credential changes only what its own scopes cover", what, scope),
		Extra: map[string]any{"scope": scope},
	}
}
