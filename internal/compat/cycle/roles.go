package cycle

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/compat"
	"github.com/keyhub/keyhub/internal/service"
)

// capabilitiesInput is the capabilities member of a role request.
type capabilitiesInput struct {
	All      *bool    `json:"all"`
	Specific []string `json:"specific"`
}

// roleRequest is the body of a role create or update, Cycle's: members
// absent from an update are kept.
type roleRequest struct {
	Name         service.Opt[*string]            `json:"name"`
	Identifier   service.Opt[string]             `json:"identifier"`
	Capabilities service.Opt[*capabilitiesInput] `json:"capabilities"`
	Rank         service.Opt[*int]               `json:"rank"`
	Extra        service.Opt[map[string]string]  `json:"extra"`
}

// name is the keyhub name the request gives a role whose name is now
// current: the name sent, or, when it is null, empty or kept, current or
// the identifier. The identifier must be that name's identifier: keyhub
// derives one from the other (identifierOf), and refuses a request that
// would lose either.
func (in roleRequest) name(current string) (string, *apiError) {
	name := current
	if in.Name.Set {
		name = ""
		if in.Name.Value != nil {
			name = *in.Name.Value
		}
	}
	if !in.Identifier.Set {
		return name, nil
	}
	id := in.Identifier.Value
	if id == "" || identifierOf(id) != id {
		return "", invalid("identifier", `must be lower-case letters and digits joined by "-", such as "deployers"`)
	}
	if name == "" || in.Name.Set && in.Name.Value == nil {
		return id, nil
	}
	if identifierOf(name) != id {
		return "", invalid("identifier", fmt.Sprintf("must be %q, the role's name as an identifier: keyhub derives a role's identifier from its name", identifierOf(name)))
	}
	return name, nil
}

// check reads rank, capabilities and extra: rank is kept only to be
// checked (keyhub derives a role's rank from its capabilities, rankOf),
// extra must be empty (keyhub keeps no custom properties on roles), and
// capabilities must be Cycle's.
func (in roleRequest) check() *apiError {
	if in.Rank.Set && (in.Rank.Value == nil || *in.Rank.Value < 0 || *in.Rank.Value > 10) {
		return invalid("rank", "must be a whole number from 0 to 10")
	}
	if len(in.Extra.Value) > 0 {
		return invalid("extra", "must be empty or null: keyhub keeps no custom properties on roles")
	}
	if c := in.Capabilities.Value; c != nil {
		for i, s := range c.Specific {
			if !isCapability(s) {
				return invalid(fmt.Sprintf("capabilities.specific[%d]", i), fmt.Sprintf("%q is not a Cycle capability", s))
			}
		}
	}
	return nil
}

// scopes are the scopes of the capabilities asked for.
func (in roleRequest) scopes() ([]string, []int) {
	c := in.Capabilities.Value
	if c == nil {
		return []string{}, nil
	}
	return scopesOf(c.All != nil && *c.All, c.Specific)
}

func (h *handler) createRole(w http.ResponseWriter, r *http.Request) {
	c, err := h.caller(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	var in roleRequest
	if err := compat.Decode(w, r, &in); err != nil {
		h.writeError(w, r, err)
		return
	}
	switch {
	case !in.Identifier.Set:
		h.writeError(w, r, missing("identifier"))
		return
	case !in.Rank.Set:
		h.writeError(w, r, missing("rank"))
		return
	}
	name, ae := in.name("")
	if ae == nil {
		ae = in.check()
	}
	if ae != nil {
		h.writeError(w, r, ae)
		return
	}
	scopes, from := in.scopes()
	role, err := h.d.Roles.CreateRole(r.Context(), c, service.RoleCreate{Name: name, Scopes: scopes})
	if err != nil {
		h.writeError(w, r, renameScopes(err, from))
		return
	}
	compat.WriteJSON(w, http.StatusCreated, map[string]any{"data": newRoleView(role)})
}

func (h *handler) updateRole(w http.ResponseWriter, r *http.Request) {
	c, err := h.caller(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	var in roleRequest
	if err := compat.Decode(w, r, &in); err != nil {
		h.writeError(w, r, err)
		return
	}
	id := r.PathValue("roleId")
	// The role as it is: its name to keep, and its scopes that no Cycle
	// capability stands for, which a Cycle edit cannot see and so keeps.
	cur, err := h.d.Roles.GetRole(r.Context(), c, id)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	name, ae := in.name(cur.Name)
	if ae == nil {
		ae = in.check()
	}
	if ae != nil {
		h.writeError(w, r, ae)
		return
	}
	var p service.RolePatch
	if name != cur.Name {
		p.Name = service.Some(name)
	}
	var from []int
	if in.Capabilities.Set {
		var scopes []string
		scopes, from = in.scopes()
		for _, s := range cur.Scopes {
			if !isCycleScope(s) {
				scopes = append(scopes, s)
			}
		}
		p.Scopes = service.Some(scopes)
	}
	role, err := h.d.Roles.UpdateRole(r.Context(), c, id, p)
	if err != nil {
		h.writeError(w, r, renameScopes(err, from))
		return
	}
	compat.WriteJSON(w, http.StatusOK, map[string]any{"data": newRoleView(role)})
}

func (h *handler) deleteRole(w http.ResponseWriter, r *http.Request) {
	c, err := h.caller(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	if err := h.d.Roles.DeleteRole(r.Context(), c, r.PathValue("roleId")); err != nil {
		h.writeError(w, r, err)
		return
	}
	// Cycle deletes roles in a job; keyhub has deleted it already, so the
	// descriptor names the action and no job.
	compat.WriteJSON(w, http.StatusAccepted, map[string]any{"data": map[string]string{"action": "delete"}})
}

func (h *handler) getRole(w http.ResponseWriter, r *http.Request) {
	c, err := h.caller(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	q, err := parseRoleQuery(r, false)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	role, err := h.d.Roles.GetRole(r.Context(), c, r.PathValue("roleId"))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	v, err := h.roleView(r, c, role, q.counts)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	compat.WriteJSON(w, http.StatusOK, map[string]any{"data": v})
}

func (h *handler) listRoles(w http.ResponseWriter, r *http.Request) {
	c, err := h.caller(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	q, err := parseRoleQuery(r, true)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	// Roles list newest first and page by cursor; page[number] walks the
	// service's pages to the one asked for, each of page[size] roles.
	req := service.PageRequest{Limit: q.size}
	var page service.Page[*keyhub.Role]
	for n := 1; ; n++ {
		if page, err = h.d.Roles.ListRoles(r.Context(), c, req); err != nil {
			h.writeError(w, r, err)
			return
		}
		if n == q.number {
			break
		}
		if page.Next == "" {
			page.Items = nil
			break
		}
		req.Cursor = page.Next
	}
	out := make([]roleView, 0, len(page.Items))
	for _, role := range page.Items {
		v, err := h.roleView(r, c, role, q.counts)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		out = append(out, v)
	}
	compat.WriteJSON(w, http.StatusOK, map[string]any{"data": out})
}

// roleView renders a role, with meta.counts when asked.
func (h *handler) roleView(r *http.Request, c *keyhub.Caller, role *keyhub.Role, counts bool) (roleView, error) {
	v := newRoleView(role)
	if counts {
		n, err := h.d.Roles.CountRoleKeys(r.Context(), c, role.ID)
		if err != nil {
			return v, err
		}
		v.Meta = &roleMeta{Counts: roleCounts{APIKeys: n}}
	}
	return v, nil
}

// roleQuery is what a role list or get may ask: meta=counts, and for a
// list a page. Roles are listed newest first; a sort asking for that order
// is accepted, any other and any filter are refused by name, never ignored.
type roleQuery struct {
	counts       bool
	size, number int
}

func parseRoleQuery(r *http.Request, list bool) (*roleQuery, error) {
	vals, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, keyhub.CodedErrorf(keyhub.KindBadRequest, "invalid_query", "the query string is malformed")
	}
	q := &roleQuery{size: defaultPageSize, number: 1}
	var v keyhub.Validation
	for _, m := range splitValues(vals["meta"]) {
		if m != "counts" {
			v.Add("meta", "cannot include %q; the only meta is counts", m)
		}
		q.counts = true
	}
	if list {
		for _, s := range splitValues(vals["sort"]) {
			if !slices.Contains([]string{"-id", "-events.created"}, s) {
				v.Add("sort", "roles list newest first only: sort by -id or -events.created")
			}
		}
		for name := range vals {
			if len(name) > 7 && name[:7] == "filter[" {
				v.Add(name, "roles take no filter")
			}
		}
		q.size = intParam(&v, vals, "page[size]", defaultPageSize, maxPageSize)
		q.number = intParam(&v, vals, "page[number]", 1, 0)
	}
	return q, queryError(v.Err())
}
