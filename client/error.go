package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"
)

// Error is an error answer of the server, parsed from its RFC 9457
// application/problem+json body.
type Error struct {
	// Status is the HTTP status code.
	Status int `json:"status"`
	// Type is the problem type URI.
	Type string `json:"type,omitempty"`
	// Code is keyhub's stable machine-readable code, such as
	// "validation_failed" or "role_in_use".
	Code string `json:"code,omitempty"`
	// Title is the short summary of the problem type.
	Title string `json:"title,omitempty"`
	// Detail explains this occurrence.
	Detail string `json:"detail,omitempty"`
	// Errors names each bad field of a request that failed validation.
	Errors []FieldError `json:"errors,omitempty"`
}

// FieldError names one bad field of a request by its JSON path.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error renders the problem on one line: status, code, detail and the bad
// fields, e.g. `422 validation_failed: request has invalid fields:
// scopes[0]: scope "a::b" has an empty segment`.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d", e.Status)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	msg := e.Detail
	if msg == "" {
		msg = e.Title
	}
	if msg != "" {
		b.WriteString(": " + oneLine(msg))
	}
	var fields []string
	for _, f := range e.Errors {
		// The detail may already list the fields; do not say them twice.
		if f.Message != "" && strings.Contains(msg, f.Message) {
			continue
		}
		if f.Field == "" {
			fields = append(fields, oneLine(f.Message))
		} else {
			fields = append(fields, f.Field+": "+oneLine(f.Message))
		}
	}
	if len(fields) > 0 {
		b.WriteString(": " + strings.Join(fields, "; "))
	}
	return b.String()
}

// StatusCode returns the HTTP status of an *Error in err's chain, or 0.
func StatusCode(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// IsNotFound reports whether err is a 404 answer.
func IsNotFound(err error) bool { return StatusCode(err) == http.StatusNotFound }

// parseError builds an *Error from an error answer. A body that is not
// problem+json (a proxy's HTML page, say) still yields an *Error with the
// status and the start of the body.
func parseError(status int, contentType string, body []byte) *Error {
	e := &Error{}
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt == "application/problem+json" || mt == "application/json" {
		if json.Unmarshal(body, e) != nil {
			e = &Error{}
		}
	}
	e.Status = status // the status line is authoritative
	if e.Title == "" && e.Detail == "" && e.Code == "" {
		e.Title = http.StatusText(status)
		if s := strings.TrimSpace(string(body)); s != "" && mt != "text/html" {
			if len(s) > 200 {
				s = s[:200] + "…"
			}
			e.Detail = s
		}
	}
	return e
}

// oneLine folds whitespace runs, newlines included, into single spaces.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n\t") {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}
