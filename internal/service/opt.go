package service

import (
	"encoding/json"
	"time"

	"github.com/keyhub/keyhub"
)

// Opt is a PATCH field: Set is true when the field was present in the
// request, even as null, so that "absent" (keep) and null (clear) differ.
type Opt[T any] struct {
	Set   bool
	Value T
}

// UnmarshalJSON marks the field present; null leaves Value at its zero value.
func (o *Opt[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		var zero T
		o.Value = zero
		return nil
	}
	return json.Unmarshal(b, &o.Value)
}

// Some returns a set Opt holding v.
func Some[T any](v T) Opt[T] { return Opt[T]{Set: true, Value: v} }

// Time is a request timestamp. Decoding never fails: a value that is not an
// RFC 3339 string is marked Invalid, so validation can name the field.
type Time struct {
	time.Time
	Invalid bool
}

// UnmarshalJSON accepts an RFC 3339 string.
func (t *Time) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		t.Invalid = true
		return nil
	}
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Invalid = true
		return nil
	}
	t.Time = v
	return nil
}

// MarshalJSON renders the time as RFC 3339.
func (t Time) MarshalJSON() ([]byte, error) { return t.Time.MarshalJSON() }

// checkTime validates an optional future timestamp and returns it in UTC at
// store precision.
func checkTime(v *keyhub.Validation, field string, t *Time, now time.Time) *time.Time {
	switch {
	case t == nil:
		return nil
	case t.Invalid:
		v.Add(field, "must be an RFC 3339 time such as 2030-01-02T15:04:05Z")
		return nil
	case !t.After(now):
		v.Add(field, "must be in the future")
		return nil
	}
	u := t.UTC().Truncate(time.Microsecond)
	return &u
}
