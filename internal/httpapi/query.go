package httpapi

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/keyhub/keyhub"
)

// query accumulates query-parameter errors so one answer names them all.
type query struct {
	v   url.Values
	bad []keyhub.FieldError
}

func newQuery(r *http.Request) *query {
	v, err := url.ParseQuery(r.URL.RawQuery)
	q := &query{v: v}
	if err != nil {
		q.fail("query", "is not a valid URL query string")
	}
	return q
}

func (q *query) fail(field, msg string) {
	q.bad = append(q.bad, keyhub.FieldError{Field: field, Message: msg})
}

// page reads limit and cursor. The cursor is the opaque encoding of the last
// id of the previous page, which must carry idPrefix.
func (q *query) page(idPrefix string) keyhub.Page {
	p := keyhub.Page{Limit: keyhub.DefaultPageLimit}
	if s := q.v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > keyhub.MaxPageLimit {
			q.fail("limit", "must be a whole number from 1 to 200")
		} else {
			p.Limit = n
		}
	}
	if s := q.v.Get("cursor"); s != "" {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil || !keyhub.ValidID(idPrefix, string(b)) {
			q.fail("cursor", "is not a cursor returned by this list")
		} else {
			p.After = string(b)
		}
	}
	return p
}

func (q *query) time(field string) time.Time {
	s := q.v.Get(field)
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		q.fail(field, "must be an RFC 3339 time")
	}
	return t.UTC()
}

func (q *query) err() error {
	if len(q.bad) == 0 {
		return nil
	}
	return &keyhub.Error{Kind: keyhub.KindBadRequest, Code: "invalid_query", Message: "invalid query parameters", Fields: q.bad}
}

// list is the envelope of every list answer.
type list[T any] struct {
	Data       []T     `json:"data"`
	NextCursor *string `json:"next_cursor"`
}

// newList builds the envelope. The handler asks the store for one more item
// than the page holds; its presence means there is a next page.
func newList[T, S any](items []S, limit int, id func(S) string, view func(S) T) list[T] {
	l := list[T]{Data: make([]T, 0, min(len(items), limit))}
	if len(items) > limit {
		c := base64.RawURLEncoding.EncodeToString([]byte(id(items[limit-1])))
		l.NextCursor = &c
		items = items[:limit]
	}
	for _, it := range items {
		l.Data = append(l.Data, view(it))
	}
	return l
}

func same[T any](v T) T { return v }
