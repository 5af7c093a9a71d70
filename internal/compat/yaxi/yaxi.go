// Package yaxi serves the API-key endpoints of YAXI's Hub API
// (seeds/000_*) over keyhub's service: camelCase keys, bare JSON arrays and
// the secret shown once. It only translates; every rule is the service's.
//
// Routes:
//
//	GET    /api/tenant/api-keys        read:api_keys    bare array, revoked keys left out
//	GET    /api/tenant/api-keys/{id}   read:api_keys    one key (404 once deleted)
//	DELETE /api/tenant/api-keys/{id}   delete:api_keys  200 with the deleted key (404 once deleted)
//	POST   /api/api-keys               create:api_keys  201 with secret
//	GET    /api/api-keys/{id}          read:api_keys
//	DELETE /api/api-keys/{id}          delete:api_keys
//
// A YAXI API key is a signing key (keyhub.KeyKindSigning): its secret is 32
// random bytes in base64, with which the customer's backend signs
// short-lived HS256 tickets whose kid is the key's id; keyhub answers them
// at POST /v1/tickets/verify and signs results back at
// POST /v1/signing-keys/{id}/sign. Ids are YAXI's, api-key-<uuid> and
// tenant-<uuid>: the 128 bits of keyhub's ids in a UUID's form, read back
// in paths (keyhub's own key_… ids are accepted there too). In tickets and
// on the native API the key is named by its keyhub id.
//
// Translation: environment "Production" is keyhub's "live" and "Sandbox" its
// "test"; hostSoftware (default "Generic"), redirectScraping (default false)
// and servicePermissions (any JSON, default null) live in the key's meta
// under those names, so verification returns them too. YAXI deletes keys,
// so a revoked key no longer lists, reads or deletes: after DELETE, GET and
// DELETE of it answer 404 alike. Errors are {"error": code, "message": text}
// with a "fields" list for invalid fields (the document shows no error
// format).
package yaxi

import (
	"encoding/json"
	"net/http"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/compat"
	"github.com/keyhub/keyhub/internal/httpapi"
	"github.com/keyhub/keyhub/internal/service"
)

// Meta names under which the YAXI-only attributes are kept in a key's meta.
const (
	MetaHostSoftware       = "hostSoftware"
	MetaRedirectScraping   = "redirectScraping"
	MetaServicePermissions = "servicePermissions"
	// DefaultHostSoftware is the hostSoftware of a key that names none.
	DefaultHostSoftware = "Generic"
)

// environments maps YAXI environments to keyhub's.
var environments = map[string]string{"Production": "live", "Sandbox": "test"}

// fieldNames renames the service's field paths to the request's.
var fieldNames = map[string]string{"expires_at": "expiresAt", "meta": MetaServicePermissions}

type handler struct {
	d compat.Deps
}

// Mount registers the YAXI routes on mux. d.Caller authenticates
// requests exactly as the native API does.
func Mount(mux *http.ServeMux, d compat.Deps) { routes(mux, d) }

// routes registers the routes and returns them, for the test that holds
// the OpenAPI document to them.
func routes(mux *http.ServeMux, d compat.Deps) *httpapi.Routes {
	h := &handler{d: d}
	rt := httpapi.NewRoutes(mux, notAllowed)
	rt.HandleFunc("GET /api/tenant/api-keys", h.list)
	rt.HandleFunc("GET /api/tenant/api-keys/{id}", h.get)
	rt.HandleFunc("DELETE /api/tenant/api-keys/{id}", h.delete)
	rt.Handle("POST /api/api-keys", httpapi.Idempotent{Handler: http.HandlerFunc(h.create), Fail: h.writeError})
	rt.HandleFunc("GET /api/api-keys/{id}", h.get)
	rt.HandleFunc("DELETE /api/api-keys/{id}", h.delete)
	return rt
}

// notAllowed answers a method the path does not serve, in this surface's
// error format.
func notAllowed(w http.ResponseWriter, r *http.Request, allow string) {
	compat.WriteJSON(w, http.StatusMethodNotAllowed, errorBody{Error: "method_not_allowed",
		Message: r.Method + " is not allowed here; allowed: " + allow})
}

// keyView is a key as YAXI shows it; Secret only on create.
type keyView struct {
	ID                 string          `json:"id"`
	Name               string          `json:"name"`
	Secret             string          `json:"secret,omitempty"`
	Environment        string          `json:"environment"`
	HostSoftware       string          `json:"hostSoftware"`
	RedirectScraping   bool            `json:"redirectScraping"`
	ServicePermissions json.RawMessage `json:"servicePermissions"`
	ExpiresAt          *string         `json:"expiresAt"`
	TenantID           string          `json:"tenantId"`
	CreatedAt          string          `json:"createdAt"`
	UpdatedAt          string          `json:"updatedAt"`
}

func newKeyView(k *keyhub.APIKey) keyView {
	v := keyView{
		ID: showKeyID(k.ID), Name: k.Name, Environment: k.Environment,
		HostSoftware: DefaultHostSoftware, ServicePermissions: json.RawMessage("null"), ExpiresAt: compat.FormatTimePtr(k.ExpiresAt),
		TenantID:  showTenantID(k.TenantID),
		CreatedAt: compat.FormatTime(k.CreatedAt), UpdatedAt: compat.FormatTime(k.UpdatedAt),
	}
	for yaxi, env := range environments {
		if env == k.Environment {
			v.Environment = yaxi
		}
	}
	// Keys made through another surface may carry anything in meta; a
	// value of the wrong type shows as the default.
	var meta map[string]json.RawMessage
	_ = json.Unmarshal(k.Meta, &meta)
	var hs string
	if json.Unmarshal(meta[MetaHostSoftware], &hs) == nil {
		v.HostSoftware = hs
	}
	var rs bool
	if json.Unmarshal(meta[MetaRedirectScraping], &rs) == nil {
		v.RedirectScraping = rs
	}
	if sp, ok := meta[MetaServicePermissions]; ok {
		v.ServicePermissions = sp
	}
	return v
}

// createRequest is the body of POST /api/api-keys.
type createRequest struct {
	Name               string          `json:"name"`
	Environment        *string         `json:"environment"`
	HostSoftware       *string         `json:"hostSoftware"`
	RedirectScraping   *bool           `json:"redirectScraping"`
	ServicePermissions json.RawMessage `json:"servicePermissions"`
	ExpiresAt          *service.Time   `json:"expiresAt"`
}

// keyCreate translates the request; the only check made here is that the
// environment is one YAXI names, since the service knows keyhub's names.
func (in createRequest) keyCreate() (service.KeyCreate, error) {
	out := service.KeyCreate{Kind: string(keyhub.KeyKindSigning), Name: in.Name, ExpiresAt: in.ExpiresAt}
	if in.Environment != nil {
		env, ok := environments[*in.Environment]
		if !ok {
			var v keyhub.Validation
			v.Add("environment", `must be "Production" or "Sandbox"`)
			return out, v.Err()
		}
		out.Environment = env
	}
	hs, rs := DefaultHostSoftware, false
	if in.HostSoftware != nil {
		hs = *in.HostSoftware
	}
	if in.RedirectScraping != nil {
		rs = *in.RedirectScraping
	}
	sp := in.ServicePermissions
	if len(sp) == 0 {
		sp = json.RawMessage("null")
	}
	meta, err := json.Marshal(map[string]any{MetaHostSoftware: hs, MetaRedirectScraping: rs, MetaServicePermissions: sp})
	if err != nil {
		return out, keyhub.CodedErrorf(keyhub.KindBadRequest, "malformed_json", "servicePermissions is not valid JSON")
	}
	out.Meta = meta
	return out, nil
}

func (h *handler) create(w http.ResponseWriter, r *http.Request) {
	c, err := h.d.Caller(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	var in createRequest
	if err := compat.Decode(w, r, &in); err != nil {
		h.writeError(w, r, err)
		return
	}
	kc, err := in.keyCreate()
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	k, secret, err := h.d.Keys.CreateKey(r.Context(), c, kc)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	v := newKeyView(k)
	v.Secret = secret
	compat.WriteJSON(w, http.StatusCreated, v)
}

func (h *handler) list(w http.ResponseWriter, r *http.Request) {
	c, err := h.d.Caller(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	// YAXI deletes keys: revoked ones are gone from this surface.
	ks, err := h.d.AllKeys(r.Context(), c, service.KeyQuery{NotRevoked: true})
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	out := make([]keyView, 0, len(ks))
	for _, k := range ks {
		out = append(out, newKeyView(k))
	}
	compat.WriteJSON(w, http.StatusOK, out)
}

func (h *handler) get(w http.ResponseWriter, r *http.Request) {
	c, err := h.d.Caller(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	id := readKeyID(r.PathValue("id"))
	k, err := h.d.Keys.GetKey(r.Context(), c, id)
	if err == nil && k.RevokedAt != nil {
		// YAXI deletes keys: a revoked one is gone from this surface.
		err = keyhub.NotFound("api key", id)
	}
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	compat.WriteJSON(w, http.StatusOK, newKeyView(k))
}

func (h *handler) delete(w http.ResponseWriter, r *http.Request) {
	c, err := h.d.Caller(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	// YAXI deletes keys: a deleted key is gone, so deleting it again is
	// the 404 that reading it is.
	k, err := h.d.Keys.DeleteKey(r.Context(), c, readKeyID(r.PathValue("id")))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	compat.WriteJSON(w, http.StatusOK, newKeyView(k))
}

// errorBody is the YAXI surface's error: a stable code, a message for
// humans and, for invalid input, the fields at fault.
type errorBody struct {
	Error   string              `json:"error"`
	Message string              `json:"message"`
	Fields  []keyhub.FieldError `json:"fields,omitempty"`
	// Scope is the missing scope of an insufficient_scope error.
	Scope string `json:"scope,omitempty"`
}

func (h *handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, e := h.d.Resolve(r, err)
	e = compat.RenameFields(err, e, fieldNames)
	b := errorBody{Error: e.Code, Message: e.Message, Fields: e.Fields}
	if sc, ok := e.Extra["scope"].(string); ok {
		b.Scope = sc
	}
	compat.WriteError(w, status, e, b)
}
