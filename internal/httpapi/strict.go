package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/keyhub/keyhub"
)

// maxJSONDepth bounds the nesting of a request body: no request of any
// surface nests deeper than a few levels.
const maxJSONDepth = 32

// errMalformed is a syntax error the walk leaves to encoding/json, whose
// message says where it is.
var errMalformed = errors.New("malformed")

// checkStrict refuses what encoding/json would let through silently:
// invalid UTF-8 (decoded as U+FFFD), a key given twice (the last one wins)
// and, with its full path (ratelimit.x), a field dst's type does not have,
// however deep. The walk follows dst's type; values read by their own
// UnmarshalJSON (times, durations) are left to it, except service.Opt,
// which is followed to the type it holds.
func checkStrict(b []byte, dst any) error {
	if !utf8.Valid(b) {
		return keyhub.CodedErrorf(keyhub.KindBadRequest, "invalid_utf8", "request body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	err := walkValue(dec, reflect.TypeOf(dst), "", 0)
	if errors.Is(err, errMalformed) {
		return nil
	}
	return err
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// shape is the type whose fields a JSON value must match, nil for any.
func shape(t reflect.Type) reflect.Type {
	for t != nil {
		if t.Kind() == reflect.Pointer {
			t = t.Elem()
			continue
		}
		if reflect.PointerTo(t).Implements(unmarshalerType) || t.Implements(unmarshalerType) {
			// service.Opt[T] decodes its Value with encoding/json.
			if t.Kind() == reflect.Struct && t.NumField() == 2 && t.Field(0).Name == "Set" && t.Field(1).Name == "Value" {
				t = t.Field(1).Type
				continue
			}
			return nil
		}
		return t
	}
	return nil
}

func walkValue(dec *json.Decoder, t reflect.Type, path string, depth int) error {
	if depth > maxJSONDepth {
		return keyhub.CodedErrorf(keyhub.KindBadRequest, "malformed_json", "request body nests deeper than %d levels", maxJSONDepth)
	}
	tok, err := dec.Token()
	if err != nil {
		return errMalformed
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return nil
	}
	t = shape(t)
	switch d {
	case '[':
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		for i := 0; dec.More(); i++ {
			if err := walkValue(dec, elem, path+"["+strconv.Itoa(i)+"]", depth+1); err != nil {
				return err
			}
		}
	case '{':
		if err := walkObject(dec, t, path, depth); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return errMalformed
	}
	return nil
}

func walkObject(dec *json.Decoder, t reflect.Type, path string, depth int) error {
	var fields map[string]reflect.Type
	var elem reflect.Type
	switch {
	case t != nil && t.Kind() == reflect.Struct:
		fields = map[string]reflect.Type{}
		jsonFields(t, fields)
	case t != nil && t.Kind() == reflect.Map:
		elem = t.Elem()
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return errMalformed
		}
		key, _ := tok.(string)
		at := key
		if path != "" {
			at = path + "." + key
		}
		// encoding/json matches struct fields without regard to case, so
		// "name" and "Name" are the same field given twice.
		id := key
		if fields != nil {
			id = strings.ToLower(key)
		}
		if seen[id] {
			e := keyhub.CodedErrorf(keyhub.KindBadRequest, "duplicate_field", "field %s is given more than once", at)
			e.Fields = []keyhub.FieldError{{Field: at, Message: "is given more than once"}}
			return e
		}
		seen[id] = true
		vt := elem
		if fields != nil {
			ft, ok := fields[id]
			if !ok {
				e := keyhub.CodedErrorf(keyhub.KindBadRequest, "unknown_field", "unknown field %q", at)
				e.Fields = []keyhub.FieldError{{Field: at, Message: "is not a known field"}}
				return e
			}
			vt = ft
		}
		if err := walkValue(dec, vt, at, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// jsonFields collects the JSON names (lower-cased) of t's fields, those
// of embedded structs included, as encoding/json sees them.
func jsonFields(t reflect.Type, out map[string]reflect.Type) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				jsonFields(ft, out)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[strings.ToLower(name)] = f.Type
	}
}

// readBody reads a whole body of at most MaxBodySize bytes.
func readBody(rd io.Reader) ([]byte, error) {
	b, err := io.ReadAll(rd)
	if err != nil {
		return nil, decodeError(err)
	}
	return b, nil
}
