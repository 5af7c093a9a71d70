// Package cycle serves Cycle's hub API-key and role endpoints (seeds/001_*
// and Cycle's own OpenAPI description, testdata/cycle-api-keys.yaml, which
// every answer of the tests is validated against) over keyhub's service.
// It only translates requests and answers; every rule (validation, scopes,
// the coverage rule, isolation, audit, revocation) is the service's.
//
// Routes, each needing keyhub's management scope of the operation, which a
// Cycle capability stands for (capabilities.go):
//
//	GET    /v1/hubs/current/api-keys             read:api_keys    {"data":[…]} (+ "includes")
//	POST   /v1/hubs/current/api-keys             create:api_keys  201 {"data":{…,"secret"}}
//	GET    /v1/hubs/current/api-keys/{apikeyId}  read:api_keys    {"data":{…},"includes":{…}}
//	PATCH  /v1/hubs/current/api-keys/{apikeyId}  update:api_keys  name, role_id, ips
//	DELETE /v1/hubs/current/api-keys/{apikeyId}  delete:api_keys  revokes; state.current "deleted"
//	GET    /v1/hubs/current/roles                read:roles       {"data":[…]}, meta=counts
//	POST   /v1/hubs/current/roles                manage:roles     201 {"data":{…}}
//	GET    /v1/hubs/current/roles/defaults       none             the default roles
//	GET    /v1/hubs/current/roles/{roleId}       read:roles
//	PATCH  /v1/hubs/current/roles/{roleId}       manage:roles
//	DELETE /v1/hubs/current/roles/{roleId}       manage:roles     202 {"data":{"action":"delete"}}
//
// The hub is the keyhub tenant named by X-Hub-Id, which every call but the
// defaults must send: a tenant credential must name its own tenant (else
// 403.wrong-hub), an operator credential names the tenant it acts on.
// Errors are Cycle's {"error":{status,code,title,detail,source,extra},
// "data":null} with Cycle's codes (errors.go).
//
// A key's state.current is "deleted" once revoked, "inactive" while
// disabled or expired, "live" otherwise. Unset events (deleted of a live
// key) are Cycle's zero time.
package cycle

import (
	"net/http"
	"time"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/compat"
	"github.com/keyhub/keyhub/internal/httpapi"
	"github.com/keyhub/keyhub/internal/service"
)

// HubHeader names the hub (keyhub tenant) a call acts on.
const HubHeader = "X-Hub-Id"

// Capability is the Cycle capability every API-key call requires.
const Capability = "api-keys-manage"

type handler struct {
	d compat.Deps
}

// Mount registers the Cycle routes on mux. d.Caller authenticates
// requests exactly as the native API does.
func Mount(mux *http.ServeMux, d compat.Deps) { routes(mux, d) }

// routes registers the routes and returns them, for the test that holds
// the OpenAPI document to them.
func routes(mux *http.ServeMux, d compat.Deps) *httpapi.Routes {
	h := &handler{d: d}
	rt := httpapi.NewRoutes(mux, unknownPath)
	rt.HandleFunc("GET /v1/hubs/current/api-keys", h.list)
	rt.Handle("POST /v1/hubs/current/api-keys", httpapi.Idempotent{Handler: http.HandlerFunc(h.create), Fail: h.writeError, Headers: []string{HubHeader}})
	rt.HandleFunc("GET /v1/hubs/current/api-keys/{apikeyId}", h.get)
	rt.HandleFunc("PATCH /v1/hubs/current/api-keys/{apikeyId}", h.update)
	rt.HandleFunc("DELETE /v1/hubs/current/api-keys/{apikeyId}", h.delete)
	rt.HandleFunc("GET /v1/hubs/current/roles", h.listRoles)
	rt.Handle("POST /v1/hubs/current/roles", httpapi.Idempotent{Handler: http.HandlerFunc(h.createRole), Fail: h.writeError, Headers: []string{HubHeader}})
	rt.HandleFunc("GET /v1/hubs/current/roles/{roleId}", h.getRole)
	rt.HandleFunc("PATCH /v1/hubs/current/roles/{roleId}", h.updateRole)
	rt.HandleFunc("DELETE /v1/hubs/current/roles/{roleId}", h.deleteRole)
	// Straight on the mux: the Routes' 405 catch-all of this path would
	// clash with that of /roles/{roleId}; other methods reach {roleId}.
	mux.HandleFunc("GET /v1/hubs/current/roles/defaults", h.defaults)
	// The rest of Cycle's hub API is not keyhub's: its paths answer
	// Cycle's 404, not the native one.
	mux.HandleFunc("/v1/hubs/", func(w http.ResponseWriter, r *http.Request) { unknownPath(w, r, "") })
	return rt
}

// caller authenticates r for the hub X-Hub-Id names. The hub becomes the
// Keyhub-Tenant header of a copy of r, so that httpapi.Server.Caller makes
// the one decision of which tenant a credential may act on; its refusal of
// another tenant is Cycle's 403.wrong-hub.
func (h *handler) caller(r *http.Request) (*keyhub.Caller, error) {
	hub := r.Header.Get(HubHeader)
	if hub == "" {
		return nil, &apiError{Status: http.StatusUnprocessableEntity, Code: "422.missing-argument", Title: "Missing hub",
			Detail: "the X-Hub-Id header is required: it names the hub (keyhub tenant id) the call acts on"}
	}
	r2 := r.Clone(r.Context())
	r2.Header.Set(httpapi.TenantHeader, hub)
	c, err := h.d.Caller(r2)
	if err == nil {
		return c, nil
	}
	var e *keyhub.Error
	if asKeyhub(err, &e) {
		switch {
		case e.Kind == keyhub.KindNotFound:
			return nil, &apiError{Status: http.StatusForbidden, Code: "403.wrong-hub", Title: "Wrong hub",
				Detail: "the credential does not belong to the hub named by X-Hub-Id"}
		case e.Code == "invalid_tenant":
			return nil, &apiError{Status: http.StatusNotFound, Code: "404.hub", Title: "Hub not found",
				Detail: "X-Hub-Id is not a hub id"}
		}
	}
	return nil, err
}

func (h *handler) list(w http.ResponseWriter, r *http.Request) {
	c, err := h.caller(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	q, err := parseListQuery(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	p, err := h.d.Keys.ListKeys(r.Context(), c, q.keyQuery())
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	now := h.d.Now()
	page := p.Items
	out := map[string]any{"data": views(page, now)}
	if q.roles {
		inc, err := h.roleIncludes(r, c, page)
		if err != nil {
			h.writeError(w, r, err)
			return
		}
		out["includes"] = inc
	}
	compat.WriteJSON(w, http.StatusOK, out)
}

func views(ks []*keyhub.APIKey, now time.Time) []keyView {
	out := make([]keyView, 0, len(ks))
	for _, k := range ks {
		out = append(out, newKeyView(k, now))
	}
	return out
}

func (h *handler) get(w http.ResponseWriter, r *http.Request) {
	c, err := h.caller(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	roles, err := parseInclude(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	k, err := h.d.Keys.GetKey(r.Context(), c, r.PathValue("apikeyId"))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	inc := emptyIncludes
	if roles {
		if inc, err = h.roleIncludes(r, c, []*keyhub.APIKey{k}); err != nil {
			h.writeError(w, r, err)
			return
		}
	}
	compat.WriteJSON(w, http.StatusOK, map[string]any{"data": newKeyView(k, h.d.Now()), "includes": inc})
}

// createRequest is the body of a create.
type createRequest struct {
	Name   *string  `json:"name"`
	RoleID *string  `json:"role_id"`
	IPs    []string `json:"ips"`
}

func (h *handler) create(w http.ResponseWriter, r *http.Request) {
	c, err := h.caller(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	var in createRequest
	if err := compat.Decode(w, r, &in); err != nil {
		h.writeError(w, r, err)
		return
	}
	// Cycle keys always belong to a role; keyhub's may not, so the
	// requirement is this surface's request shape.
	switch {
	case in.Name == nil:
		h.writeError(w, r, missing("name"))
		return
	case in.RoleID == nil:
		h.writeError(w, r, missing("role_id"))
		return
	case *in.RoleID == "":
		h.writeError(w, r, invalid("role_id", "a Cycle API key belongs to a role"))
		return
	}
	k, secret, err := h.d.Keys.CreateKey(r.Context(), c, service.KeyCreate{Name: *in.Name, RoleID: *in.RoleID, IPs: in.IPs})
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	v := newKeyView(k, h.d.Now())
	v.Secret = secret
	compat.WriteJSON(w, http.StatusCreated, map[string]any{"data": v})
}

// updateRequest is the body of a PATCH; absent fields are kept.
type updateRequest struct {
	Name   service.Opt[string]   `json:"name"`
	RoleID service.Opt[string]   `json:"role_id"`
	IPs    service.Opt[[]string] `json:"ips"`
}

func (h *handler) update(w http.ResponseWriter, r *http.Request) {
	c, err := h.caller(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	var in updateRequest
	if err := compat.Decode(w, r, &in); err != nil {
		h.writeError(w, r, err)
		return
	}
	if in.RoleID.Set && in.RoleID.Value == "" {
		h.writeError(w, r, invalid("role_id", "cannot be removed: a Cycle API key belongs to a role"))
		return
	}
	k, err := h.d.Keys.UpdateKey(r.Context(), c, r.PathValue("apikeyId"),
		service.KeyPatch{Name: in.Name, RoleID: in.RoleID, IPs: in.IPs})
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	compat.WriteJSON(w, http.StatusOK, map[string]any{"data": newKeyView(k, h.d.Now())})
}

func (h *handler) delete(w http.ResponseWriter, r *http.Request) {
	c, err := h.caller(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	k, err := h.d.Keys.RevokeKey(r.Context(), c, r.PathValue("apikeyId"))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	compat.WriteJSON(w, http.StatusOK, map[string]any{"data": newKeyView(k, h.d.Now())})
}

// includes is the root "includes" member: included roles by id.
type includes map[string]map[string]roleView

// emptyIncludes is what a get without include=roles answers.
var emptyIncludes = includes{}

// roleIncludes reads the roles of ks through the service, so reading them
// needs read:roles as it does natively.
func (h *handler) roleIncludes(r *http.Request, c *keyhub.Caller, ks []*keyhub.APIKey) (includes, error) {
	roles := map[string]roleView{}
	for _, k := range ks {
		if k.RoleID == "" {
			continue
		}
		if _, ok := roles[k.RoleID]; ok {
			continue
		}
		role, err := h.d.Roles.GetRole(r.Context(), c, k.RoleID)
		if keyhub.IsKind(err, keyhub.KindNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		roles[role.ID] = newRoleView(role)
	}
	return includes{"roles": roles}, nil
}
