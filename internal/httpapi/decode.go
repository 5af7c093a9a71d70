package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/keyhub/keyhub"
)

// MaxBodySize is the largest request body accepted (DESIGN.md §5).
const MaxBodySize = 1 << 20

// Decode reads one JSON value from the request body into dst, with the
// rules every surface shares. Unknown fields (by their full path), keys
// given twice, invalid UTF-8, wrong types, trailing data and oversized
// bodies are client errors naming what was wrong, never 500s.
// The Content-Type is not checked: the body must parse as JSON whatever it
// claims, and `curl -d` labels JSON as a form by default.
func Decode(w http.ResponseWriter, r *http.Request, dst any) error {
	return decodeFrom(http.MaxBytesReader(w, r.Body, MaxBodySize), dst)
}

// DecodeBytes decodes b by the same rules; fuzz tests drive it.
func DecodeBytes(b []byte, dst any) error { return decodeFrom(bytes.NewReader(b), dst) }

func decodeFrom(rd io.Reader, dst any) error {
	b, err := readBody(rd)
	if err != nil {
		return err
	}
	if err := checkStrict(b, dst); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return decodeError(err)
		}
		return keyhub.CodedErrorf(keyhub.KindBadRequest, "malformed_json", "request body must hold a single JSON value")
	}
	return nil
}

func decodeError(err error) error {
	var (
		mbe *http.MaxBytesError
		se  *json.SyntaxError
		te  *json.UnmarshalTypeError
		ke  *keyhub.Error
	)
	switch {
	case errors.As(err, &mbe):
		return keyhub.CodedErrorf(keyhub.KindTooLarge, "body_too_large", "request body is larger than %d bytes", MaxBodySize)
	case errors.Is(err, io.EOF):
		return keyhub.CodedErrorf(keyhub.KindBadRequest, "body_required", "request body is empty; a JSON object is required")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return keyhub.CodedErrorf(keyhub.KindBadRequest, "malformed_json", "request body is truncated JSON")
	case errors.As(err, &se):
		return keyhub.CodedErrorf(keyhub.KindBadRequest, "malformed_json", "request body is not valid JSON (at byte %d)", se.Offset)
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "body"
		}
		e := keyhub.CodedErrorf(keyhub.KindBadRequest, "invalid_type", "field %s has the wrong type", field)
		e.Fields = []keyhub.FieldError{{Field: field, Message: fmt.Sprintf("must be %s, not %s", jsonType(te.Type.String()), te.Value)}}
		return e
	case errors.As(err, &ke):
		return ke
	}
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		f = strings.Trim(f, `"`)
		e := keyhub.CodedErrorf(keyhub.KindBadRequest, "unknown_field", "unknown field %q", f)
		e.Fields = []keyhub.FieldError{{Field: f, Message: "is not a known field"}}
		return e
	}
	// Other decoding failures (such as a bad time in a field) come from
	// json.Unmarshaler implementations; their text names no secret.
	return keyhub.CodedErrorf(keyhub.KindBadRequest, "malformed_json", "request body could not be decoded: %s", strings.TrimPrefix(msg, "json: "))
}

// jsonType names a Go type as the JSON type a client should send.
func jsonType(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]"), strings.Contains(goType, "Opt[[]"):
		return "an array"
	case strings.HasPrefix(goType, "map["), strings.Contains(goType, "map["):
		return "an object"
	case strings.Contains(goType, "string"):
		return "a string"
	case strings.Contains(goType, "bool"):
		return "a boolean"
	case strings.Contains(goType, "int"), strings.Contains(goType, "float"):
		return "a number"
	case strings.Contains(goType, "Time"):
		return "an RFC 3339 time string"
	}
	return "of type " + goType
}
