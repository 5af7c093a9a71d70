// Package compat holds what the seed-compatible surfaces (yaxi, cycle and
// yativo) share: reading request bodies under the native rules, the status
// of an error, walking the service's paged key list and registering routes
// with a 405 answer. It holds no rule: every check stays in the service.
package compat

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/httpapi"
	"github.com/keyhub/keyhub/internal/service"
)

// Deps are what a surface needs of the node it is mounted on.
type Deps struct {
	// Caller authenticates a request exactly as the native API does.
	Caller func(*http.Request) (*keyhub.Caller, error)
	Keys   httpapi.KeyService
	Roles  httpapi.RoleService
	// Now is the clock key states are derived at.
	Now func() time.Time
	Log *slog.Logger
}

// MountFunc registers a surface's routes on mux.
type MountFunc func(mux *http.ServeMux, d Deps)

// Resolve returns the HTTP status of err and err as a *keyhub.Error, by the
// native API's one mapping. Internal errors are logged and answered without
// detail, as the native API does.
func (d Deps) Resolve(r *http.Request, err error) (int, *keyhub.Error) {
	status, e := httpapi.Resolve(err)
	if status >= 500 && d.Log != nil {
		d.Log.LogAttrs(r.Context(), slog.LevelError, "request failed",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("error", err.Error()))
	}
	return status, e
}

// Decode reads a request body by the native rules (httpapi.Decode). Its
// errors name the fields of the body as the client sent them, so
// RenameFields leaves them alone: an unknown field is reported under its
// own name, never under the service field a surface maps onto.
func Decode(w http.ResponseWriter, r *http.Request, dst any) error {
	if err := httpapi.Decode(w, r, dst); err != nil {
		return bodyError{err}
	}
	return nil
}

// bodyError marks an error of Decode.
type bodyError struct{ error }

func (e bodyError) Unwrap() error { return e.error }

// RenameFields returns e, the resolved form of err, with the service's
// field paths renamed for a surface (such as expires_at → expiresAt);
// names not in m, and their indexed forms ("scopes[2]"), keep their
// suffix. Errors of Decode already name the body's fields and are kept.
func RenameFields(err error, e *keyhub.Error, m map[string]string) *keyhub.Error {
	if len(e.Fields) == 0 || errors.As(err, new(bodyError)) {
		return e
	}
	out := *e
	out.Fields = make([]keyhub.FieldError, len(e.Fields))
	for i, f := range e.Fields {
		name := f.Field
		head, rest := name, ""
		if j := strings.IndexAny(name, "[."); j >= 0 {
			head, rest = name[:j], name[j:]
		}
		if to, ok := m[head]; ok {
			name = to + rest
		}
		out.Fields[i] = keyhub.FieldError{Field: name, Message: f.Message}
	}
	return &out
}

// AllKeys pages through the caller's keys matching q with the service's
// one list path and returns them all, newest first. The YAXI and Yativo
// lists have no paging of their own, so they read every page; filters and
// checks stay in ListKeys.
func (d Deps) AllKeys(ctx context.Context, c *keyhub.Caller, q service.KeyQuery) ([]*keyhub.APIKey, error) {
	var out []*keyhub.APIKey
	q.Limit, q.Cursor = keyhub.MaxPageLimit, ""
	for {
		p, err := d.Keys.ListKeys(ctx, c, q)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Items...)
		if p.Next == "" {
			return out, nil
		}
		q.Cursor = p.Next
	}
}

// WriteJSON answers v with status, never cached.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// WriteError answers body, a surface's rendering of e, with status and the
// RFC 6750 challenge every surface gives a refused bearer request.
func WriteError(w http.ResponseWriter, status int, e *keyhub.Error, body any) {
	httpapi.Challenge(w.Header(), status, e)
	WriteJSON(w, status, body)
}

// FormatTime renders t as RFC 3339 in UTC to the second, the style the seed
// documents show ("2026-01-01T00:00:00Z").
func FormatTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// FormatTimePtr is FormatTime of an optional time; nil stays nil.
func FormatTimePtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := FormatTime(*t)
	return &s
}
