package httpapi

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/service"
	"github.com/keyhub/keyhub/internal/verify"
)

func (s *Server) createKey(w http.ResponseWriter, r *http.Request, c *keyhub.Caller) {
	var in service.KeyCreate
	if err := Decode(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	k, secret, err := s.svc.Keys.CreateKey(r.Context(), c, in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	v := NewKeyView(k, s.svc.Now())
	v.Key = secret
	writeJSON(w, http.StatusCreated, v)
}

func (s *Server) listKeys(w http.ResponseWriter, r *http.Request, c *keyhub.Caller) {
	q := newQuery(r)
	f := service.KeyQuery{PageRequest: q.page(), Environment: q.v.Get("environment"),
		RoleID: q.v.Get("role_id"), NamePrefix: q.v.Get("name"), State: q.v.Get("state")}
	if err := q.err(); err != nil {
		s.writeError(w, r, err)
		return
	}
	ks, err := s.svc.Keys.ListKeys(r.Context(), c, f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	now := s.svc.Now()
	writeJSON(w, http.StatusOK, newList(ks, func(k *keyhub.APIKey) KeyView { return NewKeyView(k, now) }))
}

func (s *Server) getKey(w http.ResponseWriter, r *http.Request, c *keyhub.Caller) {
	k, err := s.svc.Keys.GetKey(r.Context(), c, r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, NewKeyView(k, s.svc.Now()))
}

func (s *Server) updateKey(w http.ResponseWriter, r *http.Request, c *keyhub.Caller) {
	var in service.KeyPatch
	if err := Decode(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	k, err := s.svc.Keys.UpdateKey(r.Context(), c, r.PathValue("id"), in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, NewKeyView(k, s.svc.Now()))
}

func (s *Server) revokeKey(w http.ResponseWriter, r *http.Request, c *keyhub.Caller) {
	k, err := s.svc.Keys.RevokeKey(r.Context(), c, r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, NewKeyView(k, s.svc.Now()))
}

// verifyKeyInfo is the key as a verify answer shows it.
type verifyKeyInfo struct {
	ID          string          `json:"id"`
	TenantID    string          `json:"tenant_id"`
	Name        string          `json:"name"`
	Environment string          `json:"environment"`
	Scopes      []string        `json:"scopes"`
	Role        *verifyRole     `json:"role"`
	Meta        json.RawMessage `json:"meta"`
	ExpiresAt   *time.Time      `json:"expires_at"`
}

type verifyRole struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type verifyAnswer struct {
	Valid        bool             `json:"valid"`
	Code         verify.Code      `json:"code"`
	Key          *verifyKeyInfo   `json:"key,omitempty"`
	MissingScope string           `json:"missing_scope,omitempty"`
	RateLimit    *verifyRateLimit `json:"ratelimit,omitempty"`
	Credits      *verifyCredits   `json:"credits,omitempty"`
}

type verifyRateLimit struct {
	Limit     int64 `json:"limit"`
	Remaining int64 `json:"remaining"`
	// Reset is when the window ends, in Unix milliseconds.
	Reset int64 `json:"reset"`
}

type verifyCredits struct {
	Remaining int64 `json:"remaining"`
}

func (s *Server) verifyKey(w http.ResponseWriter, r *http.Request, c *keyhub.Caller) {
	in, err := decodeVerifyRequest(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	res, err := s.svc.Verify.VerifyKey(r.Context(), c, in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	a := newVerifyAnswer(res)
	writeVerifyAnswer(w, &a)
}

// newVerifyAnswer renders a verification's result, of a key or a ticket.
func newVerifyAnswer(res verify.Result) verifyAnswer {
	a := verifyAnswer{Valid: res.Valid, Code: res.Code, MissingScope: res.MissingScope}
	if rl := res.RateLimit; rl != nil {
		a.RateLimit = &verifyRateLimit{Limit: rl.Limit, Remaining: rl.Remaining, Reset: rl.Reset.UnixMilli()}
	}
	if res.CreditsRemaining != nil {
		a.Credits = &verifyCredits{Remaining: *res.CreditsRemaining}
	}
	if rec := res.Record; rec != nil {
		k := rec.Key
		a.Key = &verifyKeyInfo{ID: k.ID, TenantID: k.TenantID, Name: k.Name, Environment: k.Environment,
			Scopes: nonNil(rec.Scopes), Meta: k.Meta, ExpiresAt: k.ExpiresAt}
		if rec.Role != nil {
			a.Key.Role = &verifyRole{ID: rec.Role.ID, Name: rec.Role.Name}
		}
	}
	return a
}

func (s *Server) rotateKey(w http.ResponseWriter, r *http.Request, c *keyhub.Caller) {
	var in service.RotateRequest
	if r.ContentLength != 0 {
		if err := Decode(w, r, &in); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	k, secret, err := s.svc.Keys.RotateKey(r.Context(), c, r.PathValue("id"), in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	v := NewKeyView(k, s.svc.Now())
	v.Key = secret
	writeJSON(w, http.StatusCreated, v)
}

func (s *Server) keyUsage(w http.ResponseWriter, r *http.Request, c *keyhub.Caller) {
	q := newQuery(r)
	from, to := q.time("from"), q.time("to")
	if err := q.err(); err != nil {
		s.writeError(w, r, err)
		return
	}
	buckets, err := s.svc.Keys.KeyUsage(r.Context(), c, r.PathValue("id"), from, to)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": buckets})
}

// revokeRequest names a key by its secret.
type revokeRequest struct {
	Key string `json:"key"`
}

func (s *Server) revokeKeyBySecret(w http.ResponseWriter, r *http.Request, c *keyhub.Caller) {
	var in revokeRequest
	if err := Decode(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	k, err := s.svc.Keys.RevokeKeyBySecret(r.Context(), c, in.Key)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, NewKeyView(k, s.svc.Now()))
}
