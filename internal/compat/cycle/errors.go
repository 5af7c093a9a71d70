package cycle

import (
	"errors"
	"net/http"
	"strings"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/compat"
	"github.com/keyhub/keyhub/internal/httpapi"
)

// apiError is Cycle's error object.
type apiError struct {
	Status int            `json:"status"`
	Code   string         `json:"code"`
	Title  string         `json:"title"`
	Detail string         `json:"detail"`
	Extra  map[string]any `json:"extra,omitempty"`
}

func (e *apiError) Error() string { return e.Detail }

func asKeyhub(err error, e **keyhub.Error) bool { return errors.As(err, e) }

// apiKeyScopes are the scopes behind the api-keys-manage capability.
var apiKeyScopes = map[string]bool{
	keyhub.ScopeReadAPIKeys: true, keyhub.ScopeCreateAPIKeys: true,
	keyhub.ScopeUpdateAPIKeys: true, keyhub.ScopeDeleteAPIKeys: true,
}

// translate renders a service error as Cycle's: the status is keyhub's,
// the code Cycle's "<status>.<reason>".
func (h *handler) translate(r *http.Request, err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	status, e := h.d.Resolve(r, err)
	out := &apiError{Status: status, Detail: e.Error(), Extra: map[string]any{}}
	if len(e.Fields) > 0 {
		out.Extra["errors"] = e.Fields
		out.Extra["field"] = e.Fields[0].Field
	}
	switch e.Kind {
	case keyhub.KindBadRequest:
		out.Code, out.Title = "400.invalid-syntax", "Invalid syntax"
	case keyhub.KindUnauthorized:
		out.Code, out.Title = "401.auth", "Unauthorized"
	case keyhub.KindForbidden:
		out.Code, out.Title = "403.permissions", "Insufficient permissions"
		if sc, ok := e.Extra["scope"].(string); ok {
			out.Extra["scope"] = sc
			if apiKeyScopes[sc] {
				out.Extra["capability"] = Capability
			}
		} else {
			out.Extra["reason"] = e.Code
		}
	case keyhub.KindNotFound:
		switch {
		case strings.HasPrefix(e.Message, "tenant "):
			out.Code, out.Title = "404.hub", "Hub not found"
		case strings.HasPrefix(e.Message, "role "):
			out.Code, out.Title = "404.hub.role", "Role not found"
		default:
			out.Code, out.Title = "404.hub.api-key", "API key not found"
		}
	case keyhub.KindConflict:
		out.Code, out.Title = "409.invalid-state", "Invalid state"
	case keyhub.KindTooLarge:
		out.Code, out.Title = "413.payload-too-large", "Payload too large"
	case keyhub.KindInvalid:
		out.Code, out.Title = "422.invalid-argument", "Invalid argument"
	case keyhub.KindRateLimited:
		out.Code, out.Title = "429.rate-limited", "Too many requests"
	case keyhub.KindUnavailable:
		out.Code, out.Title = "503.unavailable", "Service unavailable"
	default:
		out.Code, out.Title, out.Detail = "500.unknown", "Internal error", "internal error"
	}
	if len(out.Extra) == 0 {
		out.Extra = nil
	}
	return out
}

func (h *handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	ae := h.translate(r, err)
	var e *keyhub.Error
	errors.As(err, &e)
	httpapi.Challenge(w.Header(), ae.Status, e)
	writeAPIError(w, ae)
}

func writeAPIError(w http.ResponseWriter, e *apiError) {
	compat.WriteJSON(w, e.Status, map[string]any{"error": e, "data": nil})
}
