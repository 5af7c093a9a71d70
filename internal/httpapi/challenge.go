package httpapi

import (
	"net/http"
	"strconv"

	"github.com/keyhub/keyhub"
)

// Challenge sets the WWW-Authenticate answer of RFC 6750 §3 for a refused
// bearer request, on every surface alike (native, YAXI, Cycle, Yativo): a
// 401 names error="invalid_token", except when no credential was sent at
// all, which gets the bare challenge; a 403 for a missing scope names
// error="insufficient_scope" and the scope; a throttled 429 gets Retry-After.
// Other answers get none. Scopes
// hold no quote or backslash (keyhub.ValidateScope), so they need no
// escaping inside the quoted string.
func Challenge(h http.Header, status int, e *keyhub.Error) {
	const realm = `Bearer realm="keyhub"`
	switch {
	case status == http.StatusUnauthorized && e != nil && e.Code == "unauthenticated":
		h.Set("WWW-Authenticate", realm)
	case status == http.StatusUnauthorized:
		h.Set("WWW-Authenticate", realm+`, error="invalid_token"`)
	case status == http.StatusForbidden && e != nil && e.Code == "insufficient_scope":
		if sc, ok := e.Extra["scope"].(string); ok && keyhub.ValidateScope(sc) == nil {
			h.Set("WWW-Authenticate", realm+`, error="insufficient_scope", scope="`+sc+`"`)
		}
	case status == http.StatusTooManyRequests && e != nil:
		// A throttled authentication says when to try again.
		if n, ok := e.Extra["retry_after"].(int); ok && n > 0 {
			h.Set("Retry-After", strconv.Itoa(n))
		}
	}
}
