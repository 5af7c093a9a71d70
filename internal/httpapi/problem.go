package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/requestid"
)

// statusOf is the one mapping from error kind to HTTP status.
func statusOf(k keyhub.Kind) int {
	switch k {
	case keyhub.KindBadRequest:
		return http.StatusBadRequest
	case keyhub.KindUnauthorized:
		return http.StatusUnauthorized
	case keyhub.KindForbidden:
		return http.StatusForbidden
	case keyhub.KindNotFound:
		return http.StatusNotFound
	case keyhub.KindConflict:
		return http.StatusConflict
	case keyhub.KindTooLarge:
		return http.StatusRequestEntityTooLarge
	case keyhub.KindInvalid:
		return http.StatusUnprocessableEntity
	case keyhub.KindRateLimited:
		return http.StatusTooManyRequests
	case keyhub.KindUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// Problem is an RFC 9457 problem document with keyhub's extensions.
type Problem struct {
	Type   string              `json:"type"`
	Title  string              `json:"title"`
	Status int                 `json:"status"`
	Detail string              `json:"detail,omitempty"`
	Code   string              `json:"code"`
	Errors []keyhub.FieldError `json:"errors,omitempty"`
	// RequestID is the request's X-Request-Id, to match a report to the
	// server's log.
	RequestID string         `json:"request_id,omitempty"`
	Extra     map[string]any `json:"-"`
}

// MarshalJSON puts Extra members beside the standard ones, as RFC 9457
// extension members.
func (p Problem) MarshalJSON() ([]byte, error) {
	type plain Problem
	b, err := json.Marshal(plain(p))
	if err != nil || len(p.Extra) == 0 {
		return b, err
	}
	m := map[string]any{}
	for k, v := range p.Extra {
		m[k] = v
	}
	var base map[string]any
	if err := json.Unmarshal(b, &base); err != nil {
		return nil, err
	}
	for k, v := range base {
		m[k] = v
	}
	return json.Marshal(m)
}

// Resolve converts err into the error answered for it and that answer's
// status. Errors that are not *keyhub.Error are internal and answered
// without detail: their text may name internals. Every surface (native,
// compat) resolves errors here, so a kind maps to one status everywhere.
func Resolve(err error) (int, *keyhub.Error) {
	var e *keyhub.Error
	if !errors.As(err, &e) {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			e = keyhub.CodedErrorf(keyhub.KindUnavailable, "timeout", "the request was cancelled or timed out")
		} else {
			e = keyhub.CodedErrorf(keyhub.KindInternal, "internal", "internal error")
		}
	}
	return statusOf(e.Kind), e
}

// problemOf converts err into a problem document.
func problemOf(err error) Problem {
	status, e := Resolve(err)
	return Problem{
		Type:   "urn:keyhub:problem:" + e.Code,
		Title:  http.StatusText(status),
		Status: status,
		Detail: e.Message,
		Code:   e.Code,
		Errors: e.Fields,
		Extra:  e.Extra,
	}
}

// writeError answers err as problem+json, logging internal errors.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	p := problemOf(err)
	if p.Status >= 500 {
		s.log.LogAttrs(r.Context(), slog.LevelError, "request failed",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("error", err.Error()))
	}
	writeProblem(w, r, p)
}

func writeProblem(w http.ResponseWriter, r *http.Request, p Problem) {
	h := w.Header()
	p.RequestID = requestid.From(r.Context())
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	Challenge(h, p.Status, &keyhub.Error{Code: p.Code, Extra: p.Extra})
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}
