package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/keyhub/keyhub/internal/authn"
)

// The verify request and answer are the one body keyhub reads and writes on
// every request its platform serves; everything else is management. So they
// get a codec of their own: a scanner for the shape well-behaved clients
// send (lower-case field names, ASCII strings without escapes, integer
// cost) and an appender for the answer. Anything the scanner does not
// recognise goes through Decode, so an unusual body gets the same value or
// the same error as on every other surface: the fast path never decides a
// case the general one would decide differently (FuzzVerifyCodec holds the
// two to that).

// bodyBufs recycles request buffers; a verify body is a few hundred bytes.
var bodyBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// maxPooledBody keeps the pool from pinning the rare large body.
const maxPooledBody = 16 << 10

// decodeVerifyRequest reads a verify request body by Decode's rules.
func decodeVerifyRequest(w http.ResponseWriter, r *http.Request) (authn.VerifyRequest, error) {
	bp := bodyBufs.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= maxPooledBody {
			bodyBufs.Put(bp)
		}
	}()
	b, err := readAppend((*bp)[:0], http.MaxBytesReader(w, r.Body, MaxBodySize))
	*bp = b
	if err != nil {
		return authn.VerifyRequest{}, decodeError(err)
	}
	return parseVerifyRequest(b)
}

// parseVerifyRequest decodes b, by the fast path when it can.
func parseVerifyRequest(b []byte) (authn.VerifyRequest, error) {
	if in, ok := scanVerifyRequest(b); ok {
		return in, nil
	}
	var in authn.VerifyRequest
	err := DecodeBytes(b, &in)
	return in, err
}

// readAppend reads rd to its end onto b, as io.ReadAll does without its
// first allocation.
func readAppend(b []byte, rd io.Reader) ([]byte, error) {
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := rd.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if errors.Is(err, io.EOF) {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

// scanVerifyRequest decodes the common shape of a verify request. It
// answers false for anything else (an error, a null, an escape, a field
// in another case, a byte beyond ASCII, a cost that is not a plain int64);
// parseVerifyRequest then leaves the body to Decode.
func scanVerifyRequest(b []byte) (in authn.VerifyRequest, ok bool) {
	s := scanner{b: b}
	s.space()
	if !s.byte('{') {
		return in, false
	}
	s.space()
	if s.byte('}') {
		return in, s.end()
	}
	var seen uint8
	for {
		name, ok := s.plainString()
		if !ok {
			return in, false
		}
		s.space()
		if !s.byte(':') {
			return in, false
		}
		s.space()
		var bit uint8
		switch string(name) {
		case "key":
			bit = 1
			in.Key, ok = s.stringValue()
		case "ip":
			bit = 2
			in.IP, ok = s.stringValue()
		case "scopes":
			bit = 4
			in.Scopes, ok = s.stringList()
		case "cost":
			bit = 8
			var n int64
			n, ok = s.int64Value()
			in.Cost = &n
		default:
			return in, false
		}
		if !ok || seen&bit != 0 {
			return in, false
		}
		seen |= bit
		s.space()
		if s.byte(',') {
			s.space()
			continue
		}
		if s.byte('}') {
			return in, s.end()
		}
		return in, false
	}
}

type scanner struct {
	b []byte
	i int
}

func (s *scanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) byte(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// end reports whether only white space is left.
func (s *scanner) end() bool {
	s.space()
	return s.i == len(s.b)
}

// plainString reads a string of printable ASCII without escapes, the
// bytes encoding/json would give back unchanged.
func (s *scanner) plainString() ([]byte, bool) {
	if !s.byte('"') {
		return nil, false
	}
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return s.b[start : s.i-1], true
		case c == '\\' || c < 0x20 || c >= 0x80:
			return nil, false
		}
		s.i++
	}
	return nil, false
}

func (s *scanner) stringValue() (string, bool) {
	v, ok := s.plainString()
	return string(v), ok
}

func (s *scanner) stringList() ([]string, bool) {
	if !s.byte('[') {
		return nil, false
	}
	// An empty array decodes to an empty slice, not to nil.
	list := make([]string, 0, 4)
	s.space()
	if s.byte(']') {
		return list, true
	}
	for {
		v, ok := s.stringValue()
		if !ok {
			return nil, false
		}
		list = append(list, v)
		s.space()
		if s.byte(']') {
			return list, true
		}
		if !s.byte(',') {
			return nil, false
		}
		s.space()
	}
}

// int64Value reads an integer in JSON's grammar that fits an int64.
func (s *scanner) int64Value() (int64, bool) {
	start := s.i
	s.byte('-')
	digits := s.i
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
	}
	switch {
	case s.i == digits, s.b[digits] == '0' && s.i > digits+1:
		return 0, false
	case s.i < len(s.b) && (s.b[s.i] == '.' || s.b[s.i] == 'e' || s.b[s.i] == 'E'):
		return 0, false
	}
	n, err := strconv.ParseInt(string(s.b[start:s.i]), 10, 64)
	return n, err == nil
}

// writeVerifyAnswer writes a as writeJSON would, byte for byte.
func writeVerifyAnswer(w http.ResponseWriter, a *verifyAnswer) {
	bp := bodyBufs.Get().(*[]byte)
	b := a.appendJSON((*bp)[:0])
	b = append(b, '\n')
	jsonHeaders(w.Header())
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
	*bp = b
	if cap(b) <= maxPooledBody {
		bodyBufs.Put(bp)
	}
}

// appendJSON appends a as encoding/json marshals it.
func (a *verifyAnswer) appendJSON(b []byte) []byte {
	b = append(b, `{"valid":`...)
	b = strconv.AppendBool(b, a.Valid)
	b = append(b, `,"code":`...)
	b = appendString(b, string(a.Code))
	if k := a.Key; k != nil {
		b = append(b, `,"key":{"id":`...)
		b = appendString(b, k.ID)
		b = append(b, `,"tenant_id":`...)
		b = appendString(b, k.TenantID)
		b = append(b, `,"name":`...)
		b = appendString(b, k.Name)
		b = append(b, `,"environment":`...)
		b = appendString(b, k.Environment)
		b = append(b, `,"scopes":`...)
		b = appendStrings(b, k.Scopes)
		b = append(b, `,"role":`...)
		if k.Role == nil {
			b = append(b, "null"...)
		} else {
			b = append(b, `{"id":`...)
			b = appendString(b, k.Role.ID)
			b = append(b, `,"name":`...)
			b = appendString(b, k.Role.Name)
			b = append(b, '}')
		}
		b = append(b, `,"meta":`...)
		b = appendRaw(b, k.Meta)
		b = append(b, `,"expires_at":`...)
		b = appendTime(b, k.ExpiresAt)
		b = append(b, '}')
	}
	if a.MissingScope != "" {
		b = append(b, `,"missing_scope":`...)
		b = appendString(b, a.MissingScope)
	}
	if rl := a.RateLimit; rl != nil {
		b = append(b, `,"ratelimit":{"limit":`...)
		b = strconv.AppendInt(b, rl.Limit, 10)
		b = append(b, `,"remaining":`...)
		b = strconv.AppendInt(b, rl.Remaining, 10)
		b = append(b, `,"reset":`...)
		b = strconv.AppendInt(b, rl.Reset, 10)
		b = append(b, '}')
	}
	if c := a.Credits; c != nil {
		b = append(b, `,"credits":{"remaining":`...)
		b = strconv.AppendInt(b, c.Remaining, 10)
		b = append(b, '}')
	}
	return append(b, '}')
}

// appendString appends v as a JSON string. Printable ASCII other than
// what encoding/json escapes (quote, backslash and, for HTML, <, > and &)
// is copied; anything else is left to encoding/json.
func appendString(b []byte, v string) []byte {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(v)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, v...)
	return append(b, '"')
}

func appendStrings(b []byte, list []string) []byte {
	if list == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, v := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, v)
	}
	return append(b, ']')
}

// appendRaw appends a json.RawMessage as encoding/json does: compacted,
// HTML characters escaped. Stored metadata is compact already, so the
// common case is a copy.
func appendRaw(b []byte, raw json.RawMessage) []byte {
	if raw == nil {
		return append(b, "null"...)
	}
	if bytes.IndexAny(raw, " \t\r\n<>&\xe2") < 0 {
		return append(b, raw...)
	}
	var c bytes.Buffer
	if err := json.Compact(&c, raw); err != nil {
		q, _ := json.Marshal(raw)
		return append(b, q...)
	}
	var e bytes.Buffer
	json.HTMLEscape(&e, c.Bytes())
	return append(b, e.Bytes()...)
}

func appendTime(b []byte, t *time.Time) []byte {
	if t == nil {
		return append(b, "null"...)
	}
	if y := t.Year(); y < 0 || y > 9999 {
		q, _ := json.Marshal(t)
		return append(b, q...)
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}
