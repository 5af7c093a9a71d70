package oauthapi

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/authn"
)

// oauthError is an RFC 6749 §5.2 error answer.
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// statusOf maps an RFC 6749 error code to its status: invalid_client is
// 401, a throttled client 429, everything else 400 (§5.2).
func statusOf(code string) int {
	switch code {
	case "invalid_client":
		return http.StatusUnauthorized
	case "server_error":
		return http.StatusInternalServerError
	case "temporarily_unavailable":
		return http.StatusServiceUnavailable
	}
	return http.StatusBadRequest
}

// codeOf translates a service error into an RFC 6749 error code. Errors the
// service raised for OAuth carry the code itself.
func codeOf(err error) (string, string) {
	var e *keyhub.Error
	if !errors.As(err, &e) {
		return "server_error", "internal error"
	}
	switch e.Code {
	case "invalid_client", "invalid_request":
		// Raised by this surface itself, reading the request.
		return e.Code, e.Message
	case authn.CodeClientAuthFailed:
		return "invalid_client", e.Message
	case authn.CodeMalformedScope, authn.CodeScopeNotAllowed:
		return "invalid_scope", e.Message
	case authn.CodeAudienceNotAllowed:
		return "invalid_target", e.Message
	}
	switch e.Kind {
	case keyhub.KindUnavailable:
		return "temporarily_unavailable", e.Message
	case keyhub.KindInternal:
		return "server_error", "internal error"
	case keyhub.KindUnauthorized:
		return "invalid_client", e.Message
	}
	return "invalid_request", e.Error()
}

// writeOAuthError answers an RFC 6749 error.
func writeOAuthError(w http.ResponseWriter, code, desc string) {
	writeOAuthErrorStatus(w, statusOf(code), code, desc)
}

// writeOAuthErrorStatus answers an RFC 6749 error with status. A 401
// (invalid_client) challenges with Basic, the one HTTP authentication
// scheme a client uses at these endpoints: RFC 6749 §5.2 wants the scheme
// the client tried when it sent Authorization, and names the supported one
// otherwise. Bearer is never right here; a bearer caller of introspection
// is answered by writeBearerError.
func writeOAuthErrorStatus(w http.ResponseWriter, status int, code, desc string) {
	h := w.Header()
	h.Set("Content-Type", "application/json;charset=UTF-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	if status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Basic realm="keyhub", charset="UTF-8"`)
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(oauthError{Error: code, Description: desc})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json;charset=UTF-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_ = jsonEncode(w, v)
}

func jsonEncode(w http.ResponseWriter, v any) error { return json.NewEncoder(w).Encode(v) }
