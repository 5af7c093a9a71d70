package keyhub

import (
	"errors"
	"fmt"
	"strings"
)

// Kind classifies an error. The HTTP layer maps each kind to exactly one
// status code; nothing else decides a status.
type Kind string

// Error kinds.
const (
	KindBadRequest   Kind = "bad_request"  // 400: malformed syntax (JSON, ids, cursors)
	KindUnauthorized Kind = "unauthorized" // 401: no or unknown credential
	KindForbidden    Kind = "forbidden"    // 403: credential lacks a scope
	KindNotFound     Kind = "not_found"    // 404: unknown id, or another tenant's
	KindConflict     Kind = "conflict"     // 409: state forbids the change
	KindTooLarge     Kind = "too_large"    // 413: body over the limit
	KindInvalid      Kind = "invalid"      // 422: well-formed but breaks a rule
	KindRateLimited  Kind = "rate_limited" // 429
	KindUnavailable  Kind = "unavailable"  // 503: store unreachable
	KindInternal     Kind = "internal"     // 500: everything unexpected
)

// FieldError names one bad field of a request by its JSON path.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is the one error type of keyhub. Code is a stable machine-readable
// identifier (e.g. "validation_failed", "role_in_use"); Message is for humans
// and never contains a secret.
type Error struct {
	Kind    Kind
	Code    string
	Message string
	Fields  []FieldError
	// Extra carries structured detail for clients, such as the missing scope.
	Extra map[string]any
}

func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return e.Message
	}
	var b strings.Builder
	b.WriteString(e.Message)
	for i, f := range e.Fields {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(f.Field)
		b.WriteString(": ")
		b.WriteString(f.Message)
	}
	return b.String()
}

// Errorf returns an *Error of kind k whose code is the kind's name.
func Errorf(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Code: string(k), Message: fmt.Sprintf(format, args...)}
}

// CodedErrorf returns an *Error with a specific stable code.
func CodedErrorf(k Kind, code, format string, args ...any) *Error {
	return &Error{Kind: k, Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorKind returns the kind of err; errors that are not *Error are internal.
func ErrorKind(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// IsKind reports whether err is an *Error of kind k.
func IsKind(err error, k Kind) bool { return err != nil && ErrorKind(err) == k }

// NotFound returns the error for an unknown object. It is the same for an id
// that exists in another tenant, so ids leak nothing across tenants.
func NotFound(what, id string) *Error {
	return CodedErrorf(KindNotFound, "not_found", "%s %q not found", what, id)
}

// Validation collects field errors so that one response names every bad field.
type Validation struct {
	fields []FieldError
}

// Add records a bad field.
func (v *Validation) Add(field, format string, args ...any) {
	v.fields = append(v.fields, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Err returns nil when no field was bad, else a 422 naming every bad field.
func (v *Validation) Err() error {
	if len(v.fields) == 0 {
		return nil
	}
	return &Error{Kind: KindInvalid, Code: "validation_failed", Message: "request has invalid fields", Fields: v.fields}
}

// ErrInsufficientScope is returned when a caller lacks the scope an operation
// needs, or tries to grant a scope it does not hold.
func ErrInsufficientScope(scope, why string) *Error {
	return &Error{
		Kind:    KindForbidden,
		Code:    "insufficient_scope",
		Message: fmt.Sprintf("%s requires scope %q", why, scope),
		Extra:   map[string]any{"scope": scope},
	}
}

// Is reports whether target is an *Error of the same kind and code, so that
// errors.Is(err, keyhub.ErrNotFound) holds for every not-found a store
// answers, however it was wrapped.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Kind == e.Kind && t.Code == e.Code
}

// The errors a Store answers. Both stores return these, wrapped with the
// operation for logs (fmt.Errorf("sqlite: get role: %w", keyhub.ErrNotFound)),
// and word no message of their own: the services say what was not found or
// what conflicted, in words for the caller. Never modify them.
var (
	// ErrNotFound: no row matched (or it belongs to another tenant).
	ErrNotFound = &Error{Kind: KindNotFound, Code: "not_found", Message: "not found"}
	// ErrExists: a unique id, name or digest is taken.
	ErrExists = &Error{Kind: KindConflict, Code: "already_exists", Message: "already exists"}
	// ErrReferenced: a reference names a missing object, or an object
	// still referenced cannot be removed.
	ErrReferenced = &Error{Kind: KindConflict, Code: "in_use", Message: "refers to a missing object or is still referred to"}
	// ErrNoCredits: credits were spent or added on a key without credits.
	ErrNoCredits = &Error{Kind: KindInvalid, Code: "no_credits", Message: "the key has no credits"}
	// ErrBelowZero: adding credits would take the balance below zero.
	ErrBelowZero = &Error{Kind: KindInvalid, Code: "below_zero", Message: "the balance would go below zero"}
	// ErrOutOfRange: a number does not fit the store's integers.
	ErrOutOfRange = &Error{Kind: KindInvalid, Code: "out_of_range", Message: "number out of range"}
	// ErrUnstorableText: text the database cannot hold (NUL, a lone
	// surrogate). The services refuse such text by field first; this is
	// the store's last word if one slips through.
	ErrUnstorableText = &Error{Kind: KindInvalid, Code: "invalid_text", Message: "text holds characters that cannot be stored"}
	// ErrUnavailable: the database cannot be reached or is busy; the same
	// request may succeed later. Its message says nothing of the driver.
	ErrUnavailable = &Error{Kind: KindUnavailable, Code: "store_unavailable", Message: "store unavailable"}
)
