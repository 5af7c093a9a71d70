package cycle

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/compat"
	"github.com/keyhub/keyhub/internal/httpapi"
)

// apiError is Cycle's Error: status and code from Cycle's enums, source a
// JSON pointer (RFC 6901) into the request body when a field is at fault,
// extra only with the capability a 403 lacks — the one member Cycle
// defines there.
type apiError struct {
	Status int         `json:"status"`
	Code   string      `json:"code"`
	Title  string      `json:"title"`
	Detail string      `json:"detail"`
	Source string      `json:"source,omitempty"`
	Extra  *errorExtra `json:"extra,omitempty"`
}

type errorExtra struct {
	Capability string `json:"capability"`
}

func (e *apiError) Error() string { return e.Detail }

func asKeyhub(err error, e **keyhub.Error) bool { return errors.As(err, e) }

// pointer turns a field path of keyhub's ("ips[0]", "capabilities.specific")
// into a JSON pointer into the body ("/ips/0").
func pointer(field string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(field, func(r rune) bool { return r == '.' || r == '[' || r == ']' }) {
		b.WriteByte('/')
		b.WriteString(strings.NewReplacer("~", "~0", "/", "~1").Replace(part))
	}
	return b.String()
}

// translate renders a service error as Cycle's. Cycle's description lists
// no 405 or 413 and codes for few conflicts, so those map onto its
// nearest: an unserved method is 404.uri (with Allow), a body over 1 MiB
// 422.max-exceeded, a state that forbids the change 403.invalid-state, a
// taken name 409.duplicate-found.
func (h *handler) translate(r *http.Request, err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	status, e := h.d.Resolve(r, err)
	out := &apiError{Status: status, Detail: e.Error()}
	if len(e.Fields) > 0 && e.Code != "invalid_query" {
		out.Source = pointer(e.Fields[0].Field)
	}
	switch e.Kind {
	case keyhub.KindBadRequest:
		out.Code, out.Title = "400.invalid-syntax", "Invalid syntax"
	case keyhub.KindUnauthorized:
		out.Code, out.Title = "401.auth-invalid", "Invalid authentication"
	case keyhub.KindForbidden:
		out.Code, out.Title = "403.permissions", "Insufficient permissions"
		switch sc, _ := e.Extra["scope"].(string); {
		case e.Code == "forbidden_ip":
			out.Code, out.Title = "403.invalid-ip", "Address not allowed"
		case capabilityFor(sc) != "":
			out.Extra = &errorExtra{Capability: capabilityFor(sc)}
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
		if e.Code == keyhub.ErrExists.Code {
			out.Status, out.Code, out.Title = http.StatusConflict, "409.duplicate-found", "Duplicate found"
		} else {
			out.Status, out.Code, out.Title = http.StatusForbidden, "403.invalid-state", "Invalid state"
		}
	case keyhub.KindTooLarge:
		out.Status, out.Code, out.Title = http.StatusUnprocessableEntity, "422.max-exceeded", "Request body too large"
	case keyhub.KindInvalid:
		out.Code, out.Title = "422.invalid-argument", "Invalid argument"
	case keyhub.KindRateLimited:
		// Cycle's code; its description's status enum omits 429.
		out.Code, out.Title = "429.rate-limiting", "Too many requests"
	case keyhub.KindUnavailable:
		out.Code, out.Title = "503.not-ready", "Service unavailable"
	default:
		out.Code, out.Title, out.Detail = "500.unknown", "Internal error", "internal error"
	}
	return out
}

// missing is Cycle's answer to a required member absent from the body.
func missing(field string) *apiError {
	return &apiError{Status: http.StatusUnprocessableEntity, Code: "422.missing-argument", Title: "Missing argument",
		Detail: field + " is required", Source: pointer(field)}
}

// invalid is Cycle's answer to a member of the body that breaks a rule of
// this surface's request shape.
func invalid(field, detail string) *apiError {
	return &apiError{Status: http.StatusUnprocessableEntity, Code: "422.invalid-argument", Title: "Invalid argument",
		Detail: field + ": " + detail, Source: pointer(field)}
}

// unknownPath answers a path or method this surface does not serve.
func unknownPath(w http.ResponseWriter, r *http.Request, allow string) {
	detail := "no such endpoint: " + r.URL.Path
	if allow != "" {
		detail = r.Method + " is not served here; allowed: " + allow
	}
	writeAPIError(w, &apiError{Status: http.StatusNotFound, Code: "404.uri", Title: "Not found", Detail: detail})
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

// renameScopes names, in errors about role scopes, the capability each
// scope came from (from[i] for scopes[i]; -1 for all).
func renameScopes(err error, from []int) error {
	var e *keyhub.Error
	if !errors.As(err, &e) || len(e.Fields) == 0 {
		return err
	}
	out := *e
	out.Fields = make([]keyhub.FieldError, len(e.Fields))
	for i, f := range e.Fields {
		name := f.Field
		if rest, ok := strings.CutPrefix(name, "scopes["); ok {
			if n, err := strconv.Atoi(strings.TrimSuffix(rest, "]")); err == nil && n < len(from) {
				name = "capabilities.specific[" + strconv.Itoa(from[n]) + "]"
				if from[n] < 0 {
					name = "capabilities.all"
				}
			}
		} else if name == "scopes" {
			name = "capabilities"
		}
		out.Fields[i] = keyhub.FieldError{Field: name, Message: f.Message}
	}
	return &out
}
