// Package yativo serves Yativo's business API-key endpoints (seeds/003_*)
// over keyhub's service. It only translates; every rule is the service's.
//
// Routes, under Yativo's base /api/v1 and under /api as the seed shows:
//
//	GET    /api/v1/business/api-keys       read:api_keys    every key, revoked ones with is_active false
//	POST   /api/v1/business/api-keys       create:api_keys  201 with key, shown once
//	DELETE /api/v1/business/api-keys/{id}  delete:api_keys  200 with the revoked key
//
// Every answer, errors and unknown paths under the bases included, is
// Yativo's envelope: {"status":"success","status_code":200,"message":…,
// "data":…} or {"status":"error","status_code":422,"message":"Validation
// failed","errors":{"field":["…"]}} (errors only when fields are at
// fault). permissions are keyhub scopes; omitted, they are the caller's
// scopes that are not management scopes (nor could match one): a key never
// gains management powers by omission, and no-escalation holds. Keys take
// the tenant's prefix for its default environment, so an operator gives a
// Yativo tenant {"live":"yat_live"}; key_prefix is the key's first 8
// characters, as Yativo documents it ("yat_live"). is_active is true only
// for a usable key: revoked, disabled and expired keys are inactive.
package yativo

import (
	"encoding/json"
	"net/http"
	"slices"
	"time"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/compat"
	"github.com/keyhub/keyhub/internal/httpapi"
	"github.com/keyhub/keyhub/internal/service"
)

// fieldNames renames the service's field paths to the request's.
var fieldNames = map[string]string{"scopes": "permissions"}

type handler struct {
	d compat.Deps
}

// bases are where Yativo's API lives: /api/v1 is its real base, /api the
// one the seed's examples use.
var bases = []string{"/api/v1", "/api"}

// Mount registers the Yativo routes on mux. d.Caller authenticates
// requests exactly as the native API does.
func Mount(mux *http.ServeMux, d compat.Deps) { routes(mux, d) }

// routes registers the routes and returns them, for the test that holds
// the OpenAPI document to them.
func routes(mux *http.ServeMux, d compat.Deps) *httpapi.Routes {
	h := &handler{d: d}
	rt := httpapi.NewRoutes(mux, notAllowed)
	for _, b := range bases {
		rt.HandleFunc("GET "+b+"/business/api-keys", h.list)
		rt.Handle("POST "+b+"/business/api-keys", httpapi.Idempotent{Handler: http.HandlerFunc(h.create), Fail: h.writeError})
		rt.HandleFunc("DELETE "+b+"/business/api-keys/{id}", h.delete)
	}
	// Unknown paths of Yativo's answer in its envelope too. /api/v1 is
	// Yativo's alone; of /api, only /api/business is (YAXI has /api too).
	for _, p := range []string{"/api/v1/", "/api/business/"} {
		mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
			writeEnvelope(w, http.StatusNotFound, errorBody{Message: "no such endpoint: " + r.URL.Path})
		})
	}
	return rt
}

// notAllowed answers a method the path does not serve, in this surface's
// error format.
func notAllowed(w http.ResponseWriter, r *http.Request, allow string) {
	writeEnvelope(w, http.StatusMethodNotAllowed, errorBody{Message: r.Method + " is not allowed here; allowed: " + allow})
}

// keyView is Yativo's ApiKey; Key only on create.
type keyView struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Key         string   `json:"key,omitempty"`
	KeyPrefix   string   `json:"key_prefix"`
	Permissions []string `json:"permissions"`
	IsActive    bool     `json:"is_active"`
	LastUsedAt  *string  `json:"last_used_at,omitempty"`
	CreatedAt   string   `json:"created_at"`
	ExpiresAt   *string  `json:"expires_at,omitempty"`
}

func newKeyView(k *keyhub.APIKey, now time.Time) keyView {
	v := keyView{
		ID: k.ID, Name: k.Name, KeyPrefix: keyPrefix(k.Start), Permissions: k.Scopes,
		IsActive: k.State(now) == keyhub.StateActive, LastUsedAt: compat.FormatTimePtr(k.LastUsedAt),
		CreatedAt: compat.FormatTime(k.CreatedAt), ExpiresAt: compat.FormatTimePtr(k.ExpiresAt),
	}
	if v.Permissions == nil {
		v.Permissions = []string{}
	}
	return v
}

// keyPrefixLen is how much of a key key_prefix shows (Yativo: "first 8
// characters of the key").
const keyPrefixLen = 8

// keyPrefix is the key's first 8 characters, read from its display hint;
// a hint shorter than that (a prefix of one or two letters) is shown
// whole, as no more of the key is kept.
func keyPrefix(start string) string { return start[:min(len(start), keyPrefixLen)] }

// success is Yativo's envelope of an answer.
type success struct {
	Status     string `json:"status"`
	StatusCode int    `json:"status_code"`
	Message    string `json:"message"`
	Data       any    `json:"data"`
}

// ok answers data in the success envelope.
func ok(w http.ResponseWriter, status int, message string, data any) {
	compat.WriteJSON(w, status, success{Status: "success", StatusCode: status, Message: message, Data: data})
}

func (h *handler) list(w http.ResponseWriter, r *http.Request) {
	c, err := h.d.Caller(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	ks, err := h.d.AllKeys(r.Context(), c, service.KeyQuery{})
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	now := h.d.Now()
	out := make([]keyView, 0, len(ks))
	for _, k := range ks {
		out = append(out, newKeyView(k, now))
	}
	ok(w, http.StatusOK, "API keys retrieved successfully", out)
}

// createRequest is Yativo's CreateApiKeyRequest.
type createRequest struct {
	Name        string    `json:"name"`
	Permissions *[]string `json:"permissions"`
	ExpiresAt   *isoTime  `json:"expires_at"`
}

// isoTime is an ISO 8601 time: RFC 3339, or a bare date meaning its
// midnight UTC. Anything else is left for the service to refuse by name.
type isoTime struct{ service.Time }

// UnmarshalJSON accepts a date as well as what service.Time accepts.
func (t *isoTime) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		if d, err := time.Parse(time.DateOnly, s); err == nil {
			t.Time = service.Time{Time: d}
			return nil
		}
	}
	return t.Time.UnmarshalJSON(b)
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
	kc := service.KeyCreate{Name: in.Name}
	if in.Permissions != nil {
		kc.Scopes = *in.Permissions
	} else {
		kc.Scopes = accountPermissions(c.Principal.Scopes)
	}
	if in.ExpiresAt != nil {
		kc.ExpiresAt = &in.ExpiresAt.Time
	}
	k, secret, err := h.d.Keys.CreateKey(r.Context(), c, kc)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	v := newKeyView(k, h.d.Now())
	v.Key = secret
	ok(w, http.StatusCreated, "API key created successfully", v)
}

func (h *handler) delete(w http.ResponseWriter, r *http.Request) {
	c, err := h.d.Caller(r)
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	k, err := h.d.Keys.RevokeKey(r.Context(), c, r.PathValue("id"))
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	ok(w, http.StatusOK, "API key revoked successfully", newKeyView(k, h.d.Now()))
}

// accountPermissions is what "omit to grant all permissions available to
// your account" grants: the caller's own scopes (which it may always
// grant) less every one that is, or could match, a management scope
// ("*", "read:*"), so that a key made by omission can call the platform's
// API as the account can but never manage keys, roles or clients.
func accountPermissions(scopes []string) []string {
	out := []string{}
	for _, s := range scopes {
		if !slices.ContainsFunc(keyhub.ManagementScopes, func(m string) bool { return keyhub.Overlaps(s, m) }) {
			out = append(out, s)
		}
	}
	return out
}

// errorBody is Yativo's error envelope: errors maps each field at fault to
// its messages, Laravel-style.
type errorBody struct {
	Status     string              `json:"status"`
	StatusCode int                 `json:"status_code"`
	Message    string              `json:"message"`
	Errors     map[string][]string `json:"errors,omitempty"`
}

// writeEnvelope answers an error body with status.
func writeEnvelope(w http.ResponseWriter, status int, b errorBody) {
	b.Status, b.StatusCode = "error", status
	compat.WriteJSON(w, status, b)
}

func (h *handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, e := h.d.Resolve(r, err)
	e = compat.RenameFields(err, e, fieldNames)
	b := errorBody{Status: "error", StatusCode: status, Message: e.Message}
	if status == http.StatusUnprocessableEntity && len(e.Fields) > 0 {
		b.Message = "Validation failed"
	}
	for _, f := range e.Fields {
		if b.Errors == nil {
			b.Errors = map[string][]string{}
		}
		b.Errors[f.Field] = append(b.Errors[f.Field], f.Message)
	}
	compat.WriteError(w, status, e, b)
}
