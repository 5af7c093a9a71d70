package keyhub

import (
	"fmt"
	"slices"
	"strings"
)

// Built-in management scopes. Any credential holding one may call the
// matching management endpoint; manage:tenants is granted to operators only.
const (
	ScopeReadAPIKeys    = "read:api_keys"
	ScopeCreateAPIKeys  = "create:api_keys"
	ScopeUpdateAPIKeys  = "update:api_keys"
	ScopeDeleteAPIKeys  = "delete:api_keys"
	ScopeVerifyAPIKeys  = "verify:api_keys"
	ScopeReadRoles      = "read:roles"
	ScopeManageRoles    = "manage:roles"
	ScopeReadClients    = "read:clients"
	ScopeManageClients  = "manage:clients"
	ScopeReadAudit      = "read:audit"
	ScopeReadWebhooks   = "read:webhooks"
	ScopeManageWebhooks = "manage:webhooks"
	ScopeManageTenants  = "manage:tenants"
	ScopeReadMembers    = "read:members"
	ScopeManageMembers  = "manage:members"
	// ScopeManagePortal lets the platform hand its signed-in users over to
	// the portal (POST /v1/portal/sessions).
	ScopeManagePortal = "manage:portal"
)

// ManagementScopes lists the built-in scopes; they are valid whatever the
// scope catalogue holds.
var ManagementScopes = []string{
	ScopeReadAPIKeys, ScopeCreateAPIKeys, ScopeUpdateAPIKeys, ScopeDeleteAPIKeys,
	ScopeVerifyAPIKeys, ScopeReadRoles, ScopeManageRoles, ScopeReadClients,
	ScopeManageClients, ScopeReadAudit, ScopeReadWebhooks, ScopeManageWebhooks, ScopeManageTenants,
	ScopeReadMembers, ScopeManageMembers, ScopeManagePortal,
}

// IsManagementScope reports whether s is one of the built-in scopes.
func IsManagementScope(s string) bool {
	for _, m := range ManagementScopes {
		if s == m {
			return true
		}
	}
	return false
}

// Limits on scopes, so that a key record stays small and matching stays cheap.
const (
	MaxScopeLen      = 128
	MaxScopeSegments = 8
	MaxScopesPerKey  = 100
)

// ValidateScope checks that s is a well-formed scope: ':'-separated
// non-empty segments of letters, digits, '_', '-' and '.', or a lone '*'.
func ValidateScope(s string) error {
	if s == "" {
		return fmt.Errorf("scope is empty")
	}
	if len(s) > MaxScopeLen {
		return fmt.Errorf("scope is longer than %d characters", MaxScopeLen)
	}
	n := 0
	for seg := range strings.SplitSeq(s, ":") {
		n++
		if n > MaxScopeSegments {
			return fmt.Errorf("scope %q has more than %d segments", s, MaxScopeSegments)
		}
		if seg == "" {
			return fmt.Errorf("scope %q has an empty segment", s)
		}
		if seg == "*" {
			continue
		}
		for i := 0; i < len(seg); i++ {
			c := seg[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
				return fmt.Errorf("scope %q has invalid character %q", s, c)
			}
		}
	}
	return nil
}

// Covers reports whether the granted scope g includes s. A segment '*'
// matches any one segment; a trailing '*' matches one or more remaining
// segments. s may itself contain wildcards, in which case g must include
// everything s could match: that is the no-escalation rule.
func Covers(g, s string) bool {
	for {
		gs, grest, gmore := strings.Cut(g, ":")
		ss, srest, smore := strings.Cut(s, ":")
		if gs == "*" && !gmore {
			return true // trailing wildcard: the rest of s, whatever it is
		}
		if gs != "*" && gs != ss {
			return false
		}
		if gs == "*" && ss == "*" && !smore {
			// s ends in a wildcard spanning any number of segments, while g
			// still needs a fixed number: g is narrower.
			return false
		}
		if gmore != smore {
			return false
		}
		if !gmore {
			return true
		}
		g, s = grest, srest
	}
}

// CoveredBy reports whether any scope in granted covers s.
func CoveredBy(granted []string, s string) bool {
	for _, g := range granted {
		if Covers(g, s) {
			return true
		}
	}
	return false
}

// FirstUncovered returns the first scope in want that granted does not cover.
func FirstUncovered(granted, want []string) (string, bool) {
	for _, s := range want {
		if !CoveredBy(granted, s) {
			return s, true
		}
	}
	return "", false
}

// Overlaps reports whether a and b can match a common concrete scope. The
// catalogue check uses it: a key scope is acceptable when it overlaps an
// entry, so "experiments:*" fits a catalogue holding "experiments:read".
func Overlaps(a, b string) bool {
	// Walk both segment by segment: a '*' in either is compatible with any
	// segment, and once either ends in a trailing '*' the other's remaining
	// segments (at least one) are matched by it.
	for {
		as, arest, amore := strings.Cut(a, ":")
		bs, brest, bmore := strings.Cut(b, ":")
		if as != "*" && bs != "*" && as != bs {
			return false
		}
		if as == "*" && !amore || bs == "*" && !bmore {
			return true
		}
		if amore != bmore {
			return false
		}
		if !amore {
			return true
		}
		a, b = arest, brest
	}
}

// NormalizeScopes validates and de-duplicates scopes, keeping their order.
// Errors name the index of the bad scope under field.
func NormalizeScopes(v *Validation, field string, in []string) []string {
	if len(in) > MaxScopesPerKey {
		v.Add(field, "at most %d scopes", MaxScopesPerKey)
		return nil
	}
	out := make([]string, 0, len(in))
	seen := make(map[string]bool, len(in))
	for i, s := range in {
		if err := ValidateScope(s); err != nil {
			v.Add(fmt.Sprintf("%s[%d]", field, i), "%v", err)
			continue
		}
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// Intersect returns the scopes both a and b grant: for each pair that can
// match a common concrete scope, their meet ("experiments:*" and
// "experiments:read" meet in "experiments:read"). A token's effective
// scopes are its claims intersected with its client's current scopes, so
// narrowing a client narrows its tokens at once.
func Intersect(a, b []string) []string {
	var out []string
	for _, x := range a {
		for _, y := range b {
			if m, ok := meet(x, y); ok && !slices.Contains(out, m) {
				out = append(out, m)
			}
		}
	}
	return out
}

// meet is the most general scope covered by both x and y, if any.
func meet(x, y string) (string, bool) {
	if Covers(x, y) {
		return y, true
	}
	if Covers(y, x) {
		return x, true
	}
	// Neither covers the other but they may overlap segment by segment,
	// as "a:*:c" and "a:b:*" do in "a:b:c".
	var segs []string
	for {
		xs, xrest, xmore := strings.Cut(x, ":")
		ys, yrest, ymore := strings.Cut(y, ":")
		switch {
		case xs == "*" && !xmore:
			return strings.Join(append(segs, y), ":"), true
		case ys == "*" && !ymore:
			return strings.Join(append(segs, x), ":"), true
		case xs == "*":
			segs = append(segs, ys)
		case ys == "*" || xs == ys:
			segs = append(segs, xs)
		default:
			return "", false
		}
		if xmore != ymore {
			return "", false
		}
		if !xmore {
			return strings.Join(segs, ":"), true
		}
		x, y = xrest, yrest
	}
}
