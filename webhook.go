package keyhub

import (
	"encoding/json"
	"time"
)

// Webhook is a tenant's endpoint that receives signed events about its
// objects, as the Standard Webhooks specification describes them.
type Webhook struct {
	ID       string `json:"id"`
	TenantID string `json:"tenant_id"`
	URL      string `json:"url"`
	// Events are the event types sent ("api_key.revoked"); a type may end
	// in ".*" for every event of a kind, and "*" means all.
	Events      []string `json:"events"`
	Description string   `json:"description"`
	Enabled     bool     `json:"enabled"`
	// SecretSealed is the signing secret (whsec_…), sealed under the
	// master key: the worker must use it, so it cannot be a digest.
	SecretSealed []byte    `json:"-"`
	Creator      Actor     `json:"creator"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// Wants reports whether the webhook takes events of type typ.
func (w *Webhook) Wants(typ string) bool {
	for _, e := range w.Events {
		if EventTypeMatches(e, typ) {
			return true
		}
	}
	return false
}

// EventTypeMatches reports whether the subscription pattern p ("*",
// "api_key.*" or an exact type) takes events of type typ.
func EventTypeMatches(p, typ string) bool {
	if p == "*" || p == typ {
		return true
	}
	kind, rest := p[:max(0, len(p)-2)], p[max(0, len(p)-2):]
	return rest == ".*" && len(typ) > len(kind) && typ[:len(kind)+1] == kind+"."
}

// WebhookEvent is one event, as written to the outbox in the transaction
// of the change it tells of.
type WebhookEvent struct {
	ID       string `json:"id"` // msg_…: the webhook-id of its deliveries
	TenantID string `json:"tenant_id"`
	Type     string `json:"type"`
	// Data is the payload's "data": the object as the API shows it, without
	// secrets.
	Data      json.RawMessage `json:"data"`
	CreatedAt time.Time       `json:"created_at"`
}

// DeliveryState is where a delivery stands.
type DeliveryState string

// Delivery states.
const (
	DeliveryPending   DeliveryState = "pending"
	DeliverySucceeded DeliveryState = "succeeded"
	DeliveryFailed    DeliveryState = "failed"
)

// Delivery is one event to one webhook: tried until the endpoint answers
// 2xx, with growing pauses, for up to a day.
type Delivery struct {
	ID        string        `json:"id"`
	TenantID  string        `json:"tenant_id"`
	WebhookID string        `json:"webhook_id"`
	EventID   string        `json:"event_id"`
	EventType string        `json:"event_type"`
	State     DeliveryState `json:"state"`
	Attempts  int           `json:"attempts"`
	// NextAttemptAt is when a pending delivery is tried next.
	NextAttemptAt time.Time  `json:"next_attempt_at"`
	LastAttemptAt *time.Time `json:"last_attempt_at"`
	// LastStatus is the endpoint's last HTTP status, 0 for none.
	LastStatus int    `json:"last_status"`
	LastError  string `json:"last_error"`
	// LeasedUntil is how long the node that claimed it may try it, before
	// another node may; nil when not claimed.
	LeasedUntil *time.Time `json:"-"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
}

// Id prefixes of webhook objects.
const (
	PrefixWebhook  = "whk_"
	PrefixMessage  = "msg_"
	PrefixDelivery = "dlv_"
)

// Normalize gives a webhook's lists their one stored form.
func (w *Webhook) Normalize() { w.Events = nonNil(w.Events) }
