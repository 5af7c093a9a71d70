// Package yativo serves Yativo's business API-key endpoints (seeds/003_*)
// over keyhub's service. It only translates; every rule is the service's.
//
// Routes:
//
//	GET    /api/business/api-keys       read:api_keys    every key, revoked ones with is_active false
//	POST   /api/business/api-keys       create:api_keys  201 with key, shown once
//	DELETE /api/business/api-keys/{id}  delete:api_keys  200 with the revoked key
//
// Answers are {"status":"success","data":…}; errors {"status":"error",
// "message":…} with the error's code and, for invalid input, its fields.
// permissions are keyhub scopes; omitted, they are every scope the caller
// holds (so no-escalation still holds). Keys take the tenant's prefix for
// its default environment, so an operator gives a Yativo tenant
// {"live":"yat_live"}; key_prefix is that prefix. is_active is true only for
// a usable key: revoked, disabled and expired keys are inactive.
package yativo

import (
	"encoding/json"
	"net/http"
	"strings"
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

// Mount registers the Yativo routes on mux. api authenticates requests
// exactly as the native API does.
func Mount(mux *http.ServeMux, d compat.Deps) {
	h := &handler{d: d}
	rt := httpapi.NewRoutes(mux, notAllowed)
	rt.HandleFunc("GET /api/business/api-keys", h.list)
	rt.HandleFunc("POST /api/business/api-keys", h.create)
	rt.HandleFunc("DELETE /api/business/api-keys/{id}", h.delete)
}

// notAllowed answers a method the path does not serve, in this surface's
// error format.
func notAllowed(w http.ResponseWriter, r *http.Request, allow string) {
	compat.WriteJSON(w, http.StatusMethodNotAllowed, errorBody{Status: "error", Code: "method_not_allowed",
		Message: r.Method + " is not allowed here; allowed: " + allow})
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

// keyPrefix is the key's prefix: its display hint up to the last '_'.
func keyPrefix(start string) string {
	if i := strings.LastIndexByte(start, '_'); i > 0 {
		return start[:i]
	}
	return start
}

type success struct {
	Status string `json:"status"`
	Data   any    `json:"data"`
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
	compat.WriteJSON(w, http.StatusOK, success{Status: "success", Data: out})
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
		// "Omit to grant all permissions available to your account": the
		// caller's own scopes, which it may always grant.
		kc.Scopes = c.Principal.Scopes
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
	compat.WriteJSON(w, http.StatusCreated, success{Status: "success", Data: v})
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
	compat.WriteJSON(w, http.StatusOK, success{Status: "success", Data: newKeyView(k, h.d.Now())})
}

// errorBody is Yativo's error answer, with keyhub's code and bad fields.
type errorBody struct {
	Status  string              `json:"status"`
	Message string              `json:"message"`
	Code    string              `json:"code"`
	Errors  []keyhub.FieldError `json:"errors,omitempty"`
}

func (h *handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, e := h.d.Resolve(r, err)
	e = compat.RenameFields(err, e, fieldNames)
	compat.WriteError(w, status, e, errorBody{Status: "error", Message: e.Error(), Code: e.Code, Errors: e.Fields})
}
