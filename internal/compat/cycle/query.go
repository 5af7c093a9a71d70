package cycle

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/keyhub/keyhub"
)

// Paging bounds of the Cycle list.
const (
	defaultPageSize = 20
	maxPageSize     = 100
)

// sortKey is one sort value: a field and its direction.
type sortKey struct {
	field string
	desc  bool
}

// sortFields are the fields a list sorts by, with their comparison.
var sortFields = map[string]func(a, b *keyhub.APIKey) int{
	"id":             func(a, b *keyhub.APIKey) int { return strings.Compare(a.ID, b.ID) },
	"name":           func(a, b *keyhub.APIKey) int { return cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)) },
	"role_id":        func(a, b *keyhub.APIKey) int { return strings.Compare(a.RoleID, b.RoleID) },
	"events.created": func(a, b *keyhub.APIKey) int { return a.CreatedAt.Compare(b.CreatedAt) },
	"events.updated": func(a, b *keyhub.APIKey) int { return a.UpdatedAt.Compare(b.UpdatedAt) },
	"events.deleted": func(a, b *keyhub.APIKey) int { return revokedAt(a).Compare(revokedAt(b)) },
}

func revokedAt(k *keyhub.APIKey) time.Time {
	if k.RevokedAt == nil {
		return time.Time{}
	}
	return *k.RevokedAt
}

// listQuery is a list's sort, filters, page and includes.
type listQuery struct {
	sort   []sortKey
	search string
	state  string // "", stateLive or stateDeleted
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
		k := sortKey{field: s}
		if f, ok := strings.CutPrefix(s, "-"); ok {
			k = sortKey{field: f, desc: true}
		}
		if _, ok := sortFields[k.field]; !ok {
			v.Add("sort", "cannot sort by %q; use id, name, role_id, events.created, events.updated or events.deleted, with - for descending", k.field)
			continue
		}
		q.sort = append(q.sort, k)
	}
	for name, vs := range vals {
		if !strings.HasPrefix(name, "filter[") {
			continue
		}
		val := vs[len(vs)-1]
		switch name {
		case "filter[search]":
			q.search = strings.ToLower(val)
		case "filter[state]":
			if val != stateLive && val != stateDeleted && val != "" {
				v.Add(name, "must be live or deleted")
			}
			q.state = val
		default:
			v.Add(name, "is not a supported filter; use filter[search] or filter[state]")
		}
	}
	q.size = intParam(&v, vals, "page[size]", defaultPageSize, maxPageSize)
	q.number = intParam(&v, vals, "page[number]", 1, 0)
	q.roles = includeRoles(&v, vals)
	if err := v.Err(); err != nil {
		return nil, err
	}
	return q, nil
}

// parseInclude reads the include parameter of a get.
func parseInclude(r *http.Request) (bool, error) {
	vals, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return false, keyhub.CodedErrorf(keyhub.KindBadRequest, "invalid_query", "the query string is malformed")
	}
	var v keyhub.Validation
	roles := includeRoles(&v, vals)
	return roles, v.Err()
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

// filter is the part of the query the service's list filters on.
func (q *listQuery) filter() keyhub.APIKeyFilter {
	if q.state == stateDeleted {
		return keyhub.APIKeyFilter{State: keyhub.StateRevoked}
	}
	return keyhub.APIKeyFilter{}
}

// apply filters, sorts and pages ks in memory.
func (q *listQuery) apply(ks []*keyhub.APIKey) []*keyhub.APIKey {
	out := ks[:0:0]
	for _, k := range ks {
		if q.state == stateLive && k.RevokedAt != nil {
			continue
		}
		if q.search != "" && !strings.Contains(strings.ToLower(k.Name), q.search) {
			continue
		}
		out = append(out, k)
	}
	slices.SortStableFunc(out, func(a, b *keyhub.APIKey) int {
		for _, s := range q.sort {
			c := sortFields[s.field](a, b)
			if s.desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return strings.Compare(a.ID, b.ID)
	})
	if q.number-1 > len(out)/q.size {
		return nil
	}
	start := (q.number - 1) * q.size
	if start >= len(out) {
		return nil
	}
	return out[start:min(start+q.size, len(out))]
}
