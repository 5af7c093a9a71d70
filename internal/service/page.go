package service

import (
	"encoding/base64"

	"github.com/keyhub/keyhub"
)

// PageRequest asks a list for one page: at most Limit items (0: the
// default, 50; at most 200) after the one Cursor names ("" for the first
// page), or, for a list sorted by other fields than its id, after skipping
// Offset items.
type PageRequest struct {
	Limit  int
	Cursor string
	Offset int
}

// Page is one page of a list and the cursor of the next ("" when this is
// the last).
type Page[T any] struct {
	Items []T
	Next  string
	// More reports whether another page follows; offset lists use it.
	More bool
}

// paged is the one path of every list: it checks the request, asks the
// store for exactly one item more than the page holds — the store never
// caps — and cuts the page, whose last id becomes the next cursor.
func paged[T any](req PageRequest, prefix string, id func(T) string, fetch func(keyhub.Page) ([]T, error)) (Page[T], error) {
	p, err := req.page(prefix)
	if err != nil {
		return Page[T]{}, err
	}
	limit := p.Limit
	p.Limit++
	items, err := fetch(p)
	if err != nil {
		return Page[T]{}, err
	}
	out := Page[T]{Items: items}
	if len(items) > limit {
		out.Items, out.More = items[:limit], true
		out.Next = base64.RawURLEncoding.EncodeToString([]byte(id(items[limit-1])))
	}
	if out.Items == nil {
		out.Items = []T{}
	}
	return out, nil
}

// page checks the request and turns it into the store's Page. Bad paging is
// a 400 naming the parameter, as a bad query string is.
func (r PageRequest) page(prefix string) (keyhub.Page, error) {
	var bad []keyhub.FieldError
	p := keyhub.Page{Limit: r.Limit, Offset: r.Offset}
	switch {
	case r.Limit == 0:
		p.Limit = keyhub.DefaultPageLimit
	case r.Limit < 1 || r.Limit > keyhub.MaxPageLimit:
		bad = append(bad, keyhub.FieldError{Field: "limit", Message: "must be a whole number from 1 to 200"})
	}
	if r.Offset < 0 {
		bad = append(bad, keyhub.FieldError{Field: "offset", Message: "must not be negative"})
	}
	if r.Cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(r.Cursor)
		if err != nil || !keyhub.ValidID(prefix, string(b)) {
			bad = append(bad, keyhub.FieldError{Field: "cursor", Message: "is not a cursor returned by this list"})
		}
		p.After = string(b)
	}
	if len(bad) > 0 {
		return p, &keyhub.Error{Kind: keyhub.KindBadRequest, Code: "invalid_query", Message: "invalid query parameters", Fields: bad}
	}
	return p, nil
}
