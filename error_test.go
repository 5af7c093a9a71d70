package keyhub_test

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/keyhub/keyhub"
)

func TestValidation(t *testing.T) {
	t.Run("OKNoFields", func(t *testing.T) {
		var v keyhub.Validation
		if err := v.Err(); err != nil {
			t.Errorf("Err() = %v, want nil", err)
		}
	})
	t.Run("CollectsEveryField", func(t *testing.T) {
		var v keyhub.Validation
		v.Add("name", "is required")
		v.Add("scopes[2]", "scope %q is not valid", "a::b")
		v.Add("expires_at", "must be after %d", 2025)
		err := v.Err()
		var e *keyhub.Error
		if !errors.As(err, &e) {
			t.Fatalf("Err() = %T, want *keyhub.Error", err)
		}
		if e.Kind != keyhub.KindInvalid || e.Code != "validation_failed" {
			t.Errorf("Kind, Code = %q, %q", e.Kind, e.Code)
		}
		want := []keyhub.FieldError{
			{Field: "name", Message: "is required"},
			{Field: "scopes[2]", Message: `scope "a::b" is not valid`},
			{Field: "expires_at", Message: "must be after 2025"},
		}
		if len(e.Fields) != len(want) {
			t.Fatalf("Fields = %v, want %v", e.Fields, want)
		}
		for i := range want {
			if e.Fields[i] != want[i] {
				t.Errorf("Fields[%d] = %v, want %v", i, e.Fields[i], want[i])
			}
		}
		msg := err.Error()
		for _, f := range want {
			if !strings.Contains(msg, f.Field+": "+f.Message) {
				t.Errorf("Error() = %q does not name %s", msg, f.Field)
			}
		}
	})
}

func TestErrorKind(t *testing.T) {
	nf := keyhub.NotFound("api key", "key_x")
	tests := []struct {
		name string
		err  error
		want keyhub.Kind
	}{
		{"Direct", nf, keyhub.KindNotFound},
		{"Wrapped", fmt.Errorf("get key: %w", nf), keyhub.KindNotFound},
		{"WrappedTwice", fmt.Errorf("a: %w", fmt.Errorf("b: %w", keyhub.Errorf(keyhub.KindConflict, "x"))), keyhub.KindConflict},
		{"Joined", errors.Join(io.EOF, keyhub.Errorf(keyhub.KindForbidden, "no")), keyhub.KindForbidden},
		{"Validation", func() error { var v keyhub.Validation; v.Add("f", "bad"); return v.Err() }(), keyhub.KindInvalid},
		{"InsufficientScope", keyhub.ErrInsufficientScope("read:audit", "listing audit events"), keyhub.KindForbidden},
		{"PlainIsInternal", errors.New("disk on fire"), keyhub.KindInternal},
		{"WrappedPlainIsInternal", fmt.Errorf("x: %w", io.ErrUnexpectedEOF), keyhub.KindInternal},
		{"NilIsInternal", nil, keyhub.KindInternal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := keyhub.ErrorKind(tt.err); got != tt.want {
				t.Errorf("ErrorKind = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestIsKind(t *testing.T) {
	err := fmt.Errorf("wrap: %w", keyhub.NotFound("role", "role_x"))
	if !keyhub.IsKind(err, keyhub.KindNotFound) {
		t.Error("IsKind(wrapped not found, not_found) = false")
	}
	if keyhub.IsKind(err, keyhub.KindConflict) {
		t.Error("IsKind(not found, conflict) = true")
	}
	if keyhub.IsKind(nil, keyhub.KindInternal) {
		t.Error("IsKind(nil, internal) = true")
	}
	if !keyhub.IsKind(errors.New("x"), keyhub.KindInternal) {
		t.Error("IsKind(plain, internal) = false")
	}
}

func TestErrorConstructors(t *testing.T) {
	e := keyhub.Errorf(keyhub.KindConflict, "role %q is in use", "admins")
	if e.Kind != keyhub.KindConflict || e.Code != "conflict" || e.Error() != `role "admins" is in use` {
		t.Errorf("Errorf = %+v", e)
	}
	c := keyhub.CodedErrorf(keyhub.KindConflict, "role_in_use", "role %s", "x")
	if c.Code != "role_in_use" || c.Message != "role x" {
		t.Errorf("CodedErrorf = %+v", c)
	}
	nf := keyhub.NotFound("api key", "key_1")
	if nf.Kind != keyhub.KindNotFound || nf.Code != "not_found" || !strings.Contains(nf.Error(), "key_1") {
		t.Errorf("NotFound = %+v", nf)
	}
	is := keyhub.ErrInsufficientScope("read:audit", "listing audit events")
	if is.Code != "insufficient_scope" || is.Extra["scope"] != "read:audit" || !strings.Contains(is.Message, "read:audit") {
		t.Errorf("ErrInsufficientScope = %+v", is)
	}
}
