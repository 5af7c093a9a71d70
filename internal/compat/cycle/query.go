package cycle

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/service"
)

// Paging bounds of the Cycle list.
const (
	defaultPageSize = 20
	maxPageSize     = 100
)

// sortFields maps Cycle's sort fields to keyhub's.
var sortFields = map[string]keyhub.KeySortField{
	"id":             keyhub.SortByID,
	"name":           keyhub.SortByName,
	"role_id":        keyhub.SortByRole,
	"events.created": keyhub.SortByCreated,
	"events.updated": keyhub.SortByUpdated,
	"events.deleted": keyhub.SortByRevoked,
}

// listQuery is a list's sort, filters, page and includes.
type listQuery struct {
	sort   []keyhub.KeySort
	search string
	state  string // "", stateLive (active keys) or stateDeleted (revoked ones)
	size   int
	number int
	roles  bool
}

// parseListQuery reads the query of a list. Values it cannot honour are
// 422s naming the parameter, never silently ignored.
func parseListQuery(r *http.Request) (*listQuery, error) {
	vals, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, keyhub.CodedErrorf(keyhub.KindBadRequest, "invalid_query", "the query string is malformed")
	}
	q := &listQuery{size: defaultPageSize, number: 1}
	var v keyhub.Validation
	for _, s := range splitValues(vals["sort"]) {
		name, desc := strings.CutPrefix(s, "-")
		f, ok := sortFields[name]
		if !ok {
			v.Add("sort", "cannot sort by %q; use id, name, role_id, events.created, events.updated or events.deleted, with - for descending", name)
			continue
		}
		q.sort = append(q.sort, keyhub.KeySort{Field: f, Desc: desc})
	}
	for name, vs := range vals {
		if !strings.HasPrefix(name, "filter[") {
			continue
		}
		val := vs[len(vs)-1]
		switch name {
		case "filter[search]":
			q.search = val
		case "filter[state]":
			if val != stateLive && val != stateDeleted && val != "" {
				v.Add(name, "must be live or deleted (an inactive key is listed by neither filter)")
			}
			q.state = val
		default:
			v.Add(name, "is not a supported filter; use filter[search] or filter[state]")
		}
	}
	q.size = intParam(&v, vals, "page[size]", defaultPageSize, maxPageSize)
	q.number = intParam(&v, vals, "page[number]", 1, 0)
	q.roles = includeRoles(&v, vals)
	if err := queryError(v.Err()); err != nil {
		return nil, err
	}
	return q, nil
}

// queryError marks the validation errors of a query string, which name
// parameters, not members of a body: they have no source pointer.
func queryError(err error) error {
	var e *keyhub.Error
	if !asKeyhub(err, &e) {
		return err
	}
	out := *e
	out.Code = "invalid_query"
	return &out
}

// parseInclude reads the include parameter of a get.
func parseInclude(r *http.Request) (bool, error) {
	vals, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return false, keyhub.CodedErrorf(keyhub.KindBadRequest, "invalid_query", "the query string is malformed")
	}
	var v keyhub.Validation
	roles := includeRoles(&v, vals)
	return roles, queryError(v.Err())
}

func includeRoles(v *keyhub.Validation, vals url.Values) bool {
	roles := false
	for _, s := range splitValues(vals["include"]) {
		if s != "roles" {
			v.Add("include", "cannot include %q; the only include is roles", s)
			continue
		}
		roles = true
	}
	return roles
}

// splitValues flattens repeated and comma-separated values.
func splitValues(vs []string) []string {
	var out []string
	for _, v := range vs {
		for s := range strings.SplitSeq(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// intParam reads a whole number ≥ 1 and ≤ max (no bound when max is 0).
func intParam(v *keyhub.Validation, vals url.Values, name string, def, max int) int {
	s := vals.Get(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || max > 0 && n > max {
		if max > 0 {
			v.Add(name, "must be a whole number from 1 to %d", max)
		} else {
			v.Add(name, "must be a whole number from 1")
		}
		return def
	}
	return n
}

// keyQuery is the service's list query for this page: Cycle's filters,
// sort (by id when none is given) and page number, through the service's one
// list path.
func (q *listQuery) keyQuery() service.KeyQuery {
	out := service.KeyQuery{NameContains: q.search, Sort: q.sort,
		PageRequest: service.PageRequest{Limit: q.size, Offset: (q.number - 1) * q.size}}
	if len(out.Sort) == 0 {
		out.Sort = []keyhub.KeySort{{Field: keyhub.SortByID}}
	}
	switch q.state {
	case stateDeleted:
		out.State = string(keyhub.StateRevoked)
	case stateLive:
		out.State = string(keyhub.StateActive)
	}
	return out
}
