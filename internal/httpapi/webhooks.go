package httpapi

import (
	"net/http"
	"time"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/service"
)

// WebhookView is a webhook as the API shows it; the signing secret only in
// the answers to create and rotate-secret.
type WebhookView struct {
	ID            string       `json:"id"`
	TenantID      string       `json:"tenant_id"`
	URL           string       `json:"url"`
	Events        []string     `json:"events"`
	Description   string       `json:"description"`
	Enabled       bool         `json:"enabled"`
	Creator       keyhub.Actor `json:"creator"`
	CreatedAt     time.Time    `json:"created_at"`
	UpdatedAt     time.Time    `json:"updated_at"`
	SigningSecret string       `json:"signing_secret,omitempty"`
}

func newWebhookView(w *keyhub.Webhook) WebhookView {
	return WebhookView{ID: w.ID, TenantID: w.TenantID, URL: w.URL, Events: nonNil(w.Events), Description: w.Description,
		Enabled: w.Enabled, Creator: w.Creator, CreatedAt: w.CreatedAt, UpdatedAt: w.UpdatedAt}
}

func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request, c *keyhub.Caller) {
	var in service.WebhookCreate
	if err := Decode(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	hook, secret, err := s.svc.Webhooks.CreateWebhook(r.Context(), c, in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	v := newWebhookView(hook)
	v.SigningSecret = secret
	writeJSON(w, http.StatusCreated, v)
}

func (s *Server) listWebhooks(w http.ResponseWriter, r *http.Request, c *keyhub.Caller) {
	q := newQuery(r)
	p := q.page()
	if err := q.err(); err != nil {
		s.writeError(w, r, err)
		return
	}
	hooks, err := s.svc.Webhooks.ListWebhooks(r.Context(), c, p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newList(hooks, newWebhookView))
}

func (s *Server) getWebhook(w http.ResponseWriter, r *http.Request, c *keyhub.Caller) {
	hook, err := s.svc.Webhooks.GetWebhook(r.Context(), c, r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newWebhookView(hook))
}

func (s *Server) updateWebhook(w http.ResponseWriter, r *http.Request, c *keyhub.Caller) {
	var in service.WebhookPatch
	if err := Decode(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	hook, err := s.svc.Webhooks.UpdateWebhook(r.Context(), c, r.PathValue("id"), in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newWebhookView(hook))
}

func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request, c *keyhub.Caller) {
	if err := s.svc.Webhooks.DeleteWebhook(r.Context(), c, r.PathValue("id")); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) rotateWebhookSecret(w http.ResponseWriter, r *http.Request, c *keyhub.Caller) {
	hook, secret, err := s.svc.Webhooks.RotateWebhookSecret(r.Context(), c, r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	v := newWebhookView(hook)
	v.SigningSecret = secret
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) listDeliveries(w http.ResponseWriter, r *http.Request, c *keyhub.Caller) {
	q := newQuery(r)
	p := q.page()
	if err := q.err(); err != nil {
		s.writeError(w, r, err)
		return
	}
	ds, err := s.svc.Webhooks.ListDeliveries(r.Context(), c, r.PathValue("id"), p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, newList(ds, same[*keyhub.Delivery]))
}

func (s *Server) retryDelivery(w http.ResponseWriter, r *http.Request, c *keyhub.Caller) {
	d, err := s.svc.Webhooks.RetryDelivery(r.Context(), c, r.PathValue("id"), r.PathValue("delivery"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}
