package client

import (
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"time"
)

// WebhooksService manages the tenant's webhooks: endpoints that receive
// signed events about its keys, clients and roles.
type WebhooksService struct{ c *Client }

// Webhook is a webhook as the API shows it. SigningSecret is set only in
// the answers to Create and RotateSecret.
type Webhook struct {
	ID            string    `json:"id"`
	TenantID      string    `json:"tenant_id"`
	URL           string    `json:"url"`
	Events        []string  `json:"events"`
	Description   string    `json:"description"`
	Enabled       bool      `json:"enabled"`
	Creator       Actor     `json:"creator"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
	SigningSecret string    `json:"signing_secret,omitempty"`
}

// WebhookCreate is the input of Create.
type WebhookCreate struct {
	URL         string   `json:"url"`
	Events      []string `json:"events"`
	Description string   `json:"description,omitempty"`
	Enabled     *bool    `json:"enabled,omitempty"`
}

// WebhookUpdate is the input of Update; nil fields are kept.
type WebhookUpdate struct {
	URL         *string
	Events      []string
	Description *string
	Enabled     *bool
}

// MarshalJSON encodes only the fields to change.
func (u WebhookUpdate) MarshalJSON() ([]byte, error) {
	m := map[string]any{}
	if u.URL != nil {
		m["url"] = *u.URL
	}
	if u.Events != nil {
		m["events"] = u.Events
	}
	if u.Description != nil {
		m["description"] = *u.Description
	}
	if u.Enabled != nil {
		m["enabled"] = *u.Enabled
	}
	return json.Marshal(m)
}

// Delivery is one event to one webhook.
type Delivery struct {
	ID            string     `json:"id"`
	WebhookID     string     `json:"webhook_id"`
	EventID       string     `json:"event_id"`
	EventType     string     `json:"event_type"`
	State         string     `json:"state"`
	Attempts      int        `json:"attempts"`
	NextAttemptAt time.Time  `json:"next_attempt_at"`
	LastAttemptAt *time.Time `json:"last_attempt_at"`
	LastStatus    int        `json:"last_status"`
	LastError     string     `json:"last_error"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
}

// Create adds a webhook; the answer's SigningSecret is shown only once.
func (s *WebhooksService) Create(ctx context.Context, in WebhookCreate) (*Webhook, error) {
	return s.one(ctx, http.MethodPost, "/v1/webhooks", in)
}

// List lists one page of webhooks.
func (s *WebhooksService) List(ctx context.Context, opt ListOptions) (*Page[Webhook], error) {
	var p Page[Webhook]
	if err := s.c.do(ctx, http.MethodGet, "/v1/webhooks", listQuery(nil, opt.Limit, opt.Cursor), nil, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// All iterates over every webhook from opt.Cursor on.
func (s *WebhooksService) All(ctx context.Context, opt ListOptions) iter.Seq2[Webhook, error] {
	return all(func(cursor string) (*Page[Webhook], error) {
		opt.Cursor = cursor
		return s.List(ctx, opt)
	}, opt.Cursor)
}

// Get reads one webhook.
func (s *WebhooksService) Get(ctx context.Context, id string) (*Webhook, error) {
	return s.one(ctx, http.MethodGet, "/v1/webhooks/"+pathID(id), nil)
}

// Update changes a webhook.
func (s *WebhooksService) Update(ctx context.Context, id string, in WebhookUpdate) (*Webhook, error) {
	return s.one(ctx, http.MethodPatch, "/v1/webhooks/"+pathID(id), in)
}

// Delete removes a webhook and its deliveries.
func (s *WebhooksService) Delete(ctx context.Context, id string) error {
	return s.c.do(ctx, http.MethodDelete, "/v1/webhooks/"+pathID(id), nil, nil, nil)
}

// RotateSecret gives a webhook a new signing secret, in the answer's
// SigningSecret, shown only once.
func (s *WebhooksService) RotateSecret(ctx context.Context, id string) (*Webhook, error) {
	return s.one(ctx, http.MethodPost, "/v1/webhooks/"+pathID(id)+"/rotate-secret", nil)
}

// Deliveries lists one page of a webhook's deliveries, newest first.
func (s *WebhooksService) Deliveries(ctx context.Context, id string, opt ListOptions) (*Page[Delivery], error) {
	var p Page[Delivery]
	if err := s.c.do(ctx, http.MethodGet, "/v1/webhooks/"+pathID(id)+"/deliveries", listQuery(nil, opt.Limit, opt.Cursor), nil, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// Retry sends a delivery again.
func (s *WebhooksService) Retry(ctx context.Context, webhookID, deliveryID string) (*Delivery, error) {
	var d Delivery
	if err := s.c.do(ctx, http.MethodPost, "/v1/webhooks/"+pathID(webhookID)+"/deliveries/"+pathID(deliveryID)+"/retry", nil, nil, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

func (s *WebhooksService) one(ctx context.Context, method, path string, in any) (*Webhook, error) {
	var w Webhook
	if err := s.c.do(ctx, method, path, nil, in, &w); err != nil {
		return nil, err
	}
	return &w, nil
}
