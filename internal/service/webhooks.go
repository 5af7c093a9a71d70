package service

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/netip"
	"net/url"
	"slices"
	"strings"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/secret"
)

// Bounds of webhooks.
const (
	maxWebhookURL    = 2000
	maxWebhookEvents = 50
	// webhookSecretBytes is the length of a signing secret: the Standard
	// Webhooks specification asks for 24 to 64 bytes.
	webhookSecretBytes = 32
)

// EventTypes are the events a webhook can take, by the object they tell
// of; each needs the read scope of that object, since its data shows it.
var EventTypes = map[string][]string{
	"api_key": {"created", "updated", "rotated", "revoked", "leaked", "expiring", "expired", "credits_low"},
	"client":  {"created", "updated", "deleted", "secret_rotated"},
	"role":    {"created", "updated", "deleted"},
	"member":  {"created", "updated", "deleted"},
}

// eventReadScope is the scope that reading an event's object needs.
var eventReadScope = map[string]string{
	"api_key": keyhub.ScopeReadAPIKeys,
	"client":  keyhub.ScopeReadClients,
	"role":    keyhub.ScopeReadRoles,
	"member":  keyhub.ScopeReadMembers,
}

// WebhookCreate is the input of CreateWebhook.
type WebhookCreate struct {
	URL         string   `json:"url"`
	Events      []string `json:"events"`
	Description string   `json:"description"`
	Enabled     *bool    `json:"enabled"`
}

// WebhookPatch is the input of UpdateWebhook.
type WebhookPatch struct {
	URL         Opt[string]   `json:"url"`
	Events      Opt[[]string] `json:"events"`
	Description Opt[string]   `json:"description"`
	Enabled     Opt[*bool]    `json:"enabled"`
}

// WithWebhookAllowPrivate lets webhooks name loopback and private
// addresses, for tests and private deployments.
func WithWebhookAllowPrivate(allow bool) Option { return func(s *Service) { s.allowPrivate = allow } }

// validWebhookURL accepts http and https URLs with a host. A host that is a
// private address or localhost is refused here, to say so at once; the
// worker checks every address again when it connects, after DNS, where a
// name cannot fool it.
func (s *Service) validWebhookURL(v *keyhub.Validation, field, raw string) string {
	u, err := url.Parse(raw)
	if err == nil && !s.allowPrivate && u.Host != "" {
		host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
		ip, perr := netip.ParseAddr(host)
		if host == "localhost" || strings.HasSuffix(host, ".localhost") || perr == nil && !keyhub.PublicAddr(ip) {
			v.Add(field, "must not name a loopback, private or link-local address")
			return raw
		}
	}
	switch {
	case raw == "":
		v.Add(field, "is required")
	case len(raw) > maxWebhookURL || keyhub.CheckText(raw) != nil:
		v.Add(field, "must be a URL of at most %d characters", maxWebhookURL)
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.Fragment != "":
		v.Add(field, "must be an http or https URL with a host, and no credentials or fragment")
	}
	return raw
}

// validEvents checks event types and patterns ("api_key.revoked",
// "api_key.*", "*").
func validEvents(v *keyhub.Validation, field string, in []string) []string {
	if len(in) == 0 {
		v.Add(field, "must name at least one event type, or \"*\" for all")
		return nil
	}
	if len(in) > maxWebhookEvents {
		v.Add(field, "at most %d event types", maxWebhookEvents)
		return nil
	}
	var out []string
	for i, e := range in {
		if !knownEvent(e) {
			v.Add(field+"["+itoa(i)+"]", "%q is not an event type; use one such as api_key.revoked, a kind such as api_key.*, or *", e)
			continue
		}
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out
}

func knownEvent(e string) bool {
	if e == "*" {
		return true
	}
	kind, action, ok := strings.Cut(e, ".")
	actions, known := EventTypes[kind]
	return ok && known && (action == "*" || slices.Contains(actions, action))
}

// webhookPowers are what a webhook lets its endpoint learn: the read scope
// of every kind of object its events show. The coverage rule holds them to
// the caller's, so that no webhook reads more than its maker may.
func webhookPowers(w *keyhub.Webhook) []string {
	var out []string
	for kind, scope := range eventReadScope {
		for _, e := range w.Events {
			if e == "*" || e == kind+".*" || strings.HasPrefix(e, kind+".") {
				if !slices.Contains(out, scope) {
					out = append(out, scope)
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// newWebhookSecret returns a signing secret in the form the Standard
// Webhooks specification gives: whsec_ and base64 of random bytes.
func newWebhookSecret() (string, []byte) {
	b := make([]byte, webhookSecretBytes)
	if _, err := rand.Read(b); err != nil {
		panic("service: crypto/rand failed: " + err.Error())
	}
	return "whsec_" + base64.StdEncoding.EncodeToString(b), b
}

// sealWebhookSecret seals a signing secret for webhook id.
func (s *Service) sealWebhookSecret(id string, raw []byte) ([]byte, error) {
	if len(s.master) == 0 {
		return nil, keyhub.CodedErrorf(keyhub.KindUnavailable, "not_configured", "webhooks need the master key")
	}
	return secret.Seal(s.master, raw, []byte("webhook:"+id))
}

// CreateWebhook adds an endpoint to the caller's tenant and returns it
// with its signing secret, shown only this once.
func (s *Service) CreateWebhook(ctx context.Context, c *keyhub.Caller, in WebhookCreate) (*keyhub.Webhook, string, error) {
	if err := c.Require(keyhub.ScopeManageWebhooks, "creating a webhook"); err != nil {
		return nil, "", err
	}
	var v keyhub.Validation
	u := s.validWebhookURL(&v, "url", in.URL)
	events := validEvents(&v, "events", in.Events)
	desc := validDescription(&v, "description", in.Description)
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	now := s.Now()
	var w *keyhub.Webhook
	var sec string
	err := s.store.Update(ctx, func(tx keyhub.Tx) error {
		t, err := s.tenantOf(ctx, tx, c)
		if err != nil {
			return err
		}
		id := keyhub.NewID(keyhub.PrefixWebhook, now)
		var raw []byte
		sec, raw = newWebhookSecret()
		sealed, err := s.sealWebhookSecret(id, raw)
		if err != nil {
			return err
		}
		w = &keyhub.Webhook{ID: id, TenantID: t.ID, URL: u, Events: events, Description: desc,
			Enabled: in.Enabled == nil || *in.Enabled, SecretSealed: sealed, Creator: c.Principal.Actor, CreatedAt: now, UpdatedAt: now}
		w.Normalize()
		if err := tx.CreateWebhook(ctx, w); err != nil {
			return err
		}
		return s.record(ctx, tx, c, t.ID, change{action: "webhook.created", after: w}, now)
	})
	if err != nil {
		return nil, "", err
	}
	return w, sec, nil
}

func getWebhook(ctx context.Context, tx keyhub.Tx, tenantID, id string) (*keyhub.Webhook, error) {
	return lookup("webhook", keyhub.PrefixWebhook, id, func() (*keyhub.Webhook, error) { return tx.GetWebhook(ctx, tenantID, id) })
}

// GetWebhook reads a webhook of the caller's tenant.
func (s *Service) GetWebhook(ctx context.Context, c *keyhub.Caller, id string) (*keyhub.Webhook, error) {
	if err := c.Require(keyhub.ScopeReadWebhooks, "reading webhooks"); err != nil {
		return nil, err
	}
	var w *keyhub.Webhook
	err := s.store.View(ctx, func(tx keyhub.Tx) error {
		t, err := s.tenantOf(ctx, tx, c)
		if err != nil {
			return err
		}
		w, err = getWebhook(ctx, tx, t.ID, id)
		return err
	})
	return w, err
}

// ListWebhooks lists one page of the caller's tenant's webhooks.
func (s *Service) ListWebhooks(ctx context.Context, c *keyhub.Caller, req PageRequest) (Page[*keyhub.Webhook], error) {
	if err := c.Require(keyhub.ScopeReadWebhooks, "listing webhooks"); err != nil {
		return Page[*keyhub.Webhook]{}, err
	}
	var out Page[*keyhub.Webhook]
	err := s.store.View(ctx, func(tx keyhub.Tx) error {
		t, err := s.tenantOf(ctx, tx, c)
		if err != nil {
			return err
		}
		out, err = paged(req, keyhub.PrefixWebhook, func(w *keyhub.Webhook) string { return w.ID },
			func(p keyhub.Page) ([]*keyhub.Webhook, error) { return tx.ListWebhooks(ctx, t.ID, p) })
		return err
	})
	return out, err
}

// UpdateWebhook changes a webhook, held to the coverage rule like every
// object: a caller cannot point a webhook that shows keys elsewhere
// without the scope to read keys.
func (s *Service) UpdateWebhook(ctx context.Context, c *keyhub.Caller, id string, in WebhookPatch) (*keyhub.Webhook, error) {
	if err := c.Require(keyhub.ScopeManageWebhooks, "updating a webhook"); err != nil {
		return nil, err
	}
	var v keyhub.Validation
	var u, desc string
	var events []string
	if in.URL.Set {
		u = s.validWebhookURL(&v, "url", in.URL.Value)
	}
	if in.Events.Set {
		events = validEvents(&v, "events", in.Events.Value)
	}
	if in.Description.Set {
		desc = validDescription(&v, "description", in.Description.Value)
	}
	if in.Enabled.Set && in.Enabled.Value == nil {
		v.Add("enabled", "must be true or false")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	var out *keyhub.Webhook
	err := s.store.Update(ctx, func(tx keyhub.Tx) error {
		t, err := s.tenantOf(ctx, tx, c)
		if err != nil {
			return err
		}
		before, err := getWebhook(ctx, tx, t.ID, id)
		if err != nil {
			return err
		}
		w := *before
		if in.URL.Set {
			w.URL = u
		}
		if in.Events.Set {
			w.Events = events
		}
		if in.Description.Set {
			w.Description = desc
		}
		if in.Enabled.Set {
			w.Enabled = *in.Enabled.Value
		}
		now := s.Now()
		w.UpdatedAt = now
		w.Normalize()
		if err := tx.UpdateWebhook(ctx, &w); err != nil {
			return err
		}
		out = &w
		return s.record(ctx, tx, c, t.ID, change{action: "webhook.updated", before: before, after: &w}, now)
	})
	return out, err
}

// DeleteWebhook removes a webhook and its deliveries; it only takes power
// away, so manage:webhooks suffices.
func (s *Service) DeleteWebhook(ctx context.Context, c *keyhub.Caller, id string) error {
	if err := c.Require(keyhub.ScopeManageWebhooks, "deleting a webhook"); err != nil {
		return err
	}
	return s.store.Update(ctx, func(tx keyhub.Tx) error {
		t, err := s.tenantOf(ctx, tx, c)
		if err != nil {
			return err
		}
		before, err := getWebhook(ctx, tx, t.ID, id)
		if err != nil {
			return err
		}
		if err := tx.DeleteWebhook(ctx, t.ID, id); err != nil {
			return err
		}
		return s.record(ctx, tx, c, t.ID, change{action: "webhook.deleted", before: before}, s.Now())
	})
}

// RotateWebhookSecret gives a webhook a new signing secret, shown once;
// deliveries are signed with it from then on.
func (s *Service) RotateWebhookSecret(ctx context.Context, c *keyhub.Caller, id string) (*keyhub.Webhook, string, error) {
	if err := c.Require(keyhub.ScopeManageWebhooks, "rotating a webhook secret"); err != nil {
		return nil, "", err
	}
	var out *keyhub.Webhook
	var sec string
	err := s.store.Update(ctx, func(tx keyhub.Tx) error {
		t, err := s.tenantOf(ctx, tx, c)
		if err != nil {
			return err
		}
		before, err := getWebhook(ctx, tx, t.ID, id)
		if err != nil {
			return err
		}
		var raw []byte
		sec, raw = newWebhookSecret()
		w := *before
		if w.SecretSealed, err = s.sealWebhookSecret(w.ID, raw); err != nil {
			return err
		}
		now := s.Now()
		w.UpdatedAt = now
		if err := tx.UpdateWebhook(ctx, &w); err != nil {
			return err
		}
		out = &w
		return s.record(ctx, tx, c, t.ID, change{action: "webhook.secret_rotated", before: before, after: &w}, now)
	})
	if err != nil {
		return nil, "", err
	}
	return out, sec, nil
}

// ListDeliveries lists one page of a webhook's deliveries, newest first.
func (s *Service) ListDeliveries(ctx context.Context, c *keyhub.Caller, webhookID string, req PageRequest) (Page[*keyhub.Delivery], error) {
	if err := c.Require(keyhub.ScopeReadWebhooks, "listing webhook deliveries"); err != nil {
		return Page[*keyhub.Delivery]{}, err
	}
	var out Page[*keyhub.Delivery]
	err := s.store.View(ctx, func(tx keyhub.Tx) error {
		t, err := s.tenantOf(ctx, tx, c)
		if err != nil {
			return err
		}
		if _, err := getWebhook(ctx, tx, t.ID, webhookID); err != nil {
			return err
		}
		out, err = paged(req, keyhub.PrefixDelivery, func(d *keyhub.Delivery) string { return d.ID },
			func(p keyhub.Page) ([]*keyhub.Delivery, error) { return tx.ListDeliveries(ctx, t.ID, webhookID, p) })
		return err
	})
	return out, err
}

// RetryDelivery sends a delivery again as soon as a worker is free,
// whatever its state: a failed one gets another day of attempts.
func (s *Service) RetryDelivery(ctx context.Context, c *keyhub.Caller, webhookID, id string) (*keyhub.Delivery, error) {
	if err := c.Require(keyhub.ScopeManageWebhooks, "retrying a webhook delivery"); err != nil {
		return nil, err
	}
	var out *keyhub.Delivery
	err := s.store.Update(ctx, func(tx keyhub.Tx) error {
		t, err := s.tenantOf(ctx, tx, c)
		if err != nil {
			return err
		}
		w, err := getWebhook(ctx, tx, t.ID, webhookID)
		if err != nil {
			return err
		}
		d, err := lookup("delivery", keyhub.PrefixDelivery, id, func() (*keyhub.Delivery, error) { return tx.GetDelivery(ctx, t.ID, id) })
		if err != nil || d.WebhookID != webhookID {
			return keyhub.NotFound("delivery", id)
		}
		now := s.Now()
		// Attempts start over: a failed delivery gets its day again.
		d.State, d.Attempts, d.NextAttemptAt, d.LeasedUntil, d.UpdatedAt = keyhub.DeliveryPending, 0, now, nil, now
		if err := tx.UpdateDelivery(ctx, d); err != nil {
			return err
		}
		out = d
		// Retrying sends the webhook's data again: its powers apply.
		return s.record(ctx, tx, c, t.ID, change{action: "webhook.delivery_retried", before: w, after: w}, now)
	})
	return out, err
}
