package httpapi

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/service"
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

// page reads limit and cursor; their bounds and meaning are the service's.
func (q *query) page() service.PageRequest {
	var p service.PageRequest
	if s := q.v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			q.fail("limit", "must be a whole number from 1 to 200")
		} else {
			p.Limit = n
		}
	}
	p.Cursor = q.v.Get("cursor")
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

// newList renders a page of the service's list.
func newList[T, S any](p service.Page[S], view func(S) T) list[T] {
	l := list[T]{Data: make([]T, 0, len(p.Items))}
	if p.Next != "" {
		l.NextCursor = &p.Next
	}
	for _, it := range p.Items {
		l.Data = append(l.Data, view(it))
	}
	return l
}

func same[T any](v T) T { return v }
