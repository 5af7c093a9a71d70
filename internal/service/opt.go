package service

import "encoding/json"

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
