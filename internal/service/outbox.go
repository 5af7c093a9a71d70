package service

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/keyhub/keyhub"
)

// Renderer renders an object as the API shows it, for the data of webhook
// events; httpapi.EventData is the native API's. Objects never hold secrets.
type Renderer func(obj any, now time.Time) (json.RawMessage, error)

// WithRenderer sets how webhook events show their objects; by default as
// the domain types marshal.
func WithRenderer(r Renderer) Option { return func(s *Service) { s.render = r } }

// maxWebhooksPerEvent bounds the endpoints one event is written for: a
// tenant's webhooks, read whole inside the change's transaction.
const maxWebhooksPerEvent = 100

// emit writes the event of a change to the outbox, in the change's
// transaction, with one pending delivery for each enabled webhook of the
// tenant that takes it: the event is written exactly when the change is,
// so none is lost and none tells of a change that did not happen. Changes
// without an event type of EventTypes (tenants, the catalogue, webhooks
// themselves) write nothing.
func (s *Service) emit(ctx context.Context, tx keyhub.Tx, tenantID, action string, obj any, now time.Time) error {
	kind, verb, _ := strings.Cut(action, ".")
	if tenantID == "" || !eventTypeKnown(kind, verb) {
		return nil
	}
	hooks, err := tx.ListWebhooks(ctx, tenantID, keyhub.Page{Limit: maxWebhooksPerEvent})
	if err != nil {
		return err
	}
	var wanting []*keyhub.Webhook
	for _, w := range hooks {
		if w.Enabled && w.Wants(action) {
			wanting = append(wanting, w)
		}
	}
	if len(wanting) == 0 {
		return nil
	}
	data, err := s.renderEvent(obj, now)
	if err != nil {
		return err
	}
	return appendEvent(ctx, tx, &keyhub.WebhookEvent{ID: keyhub.NewID(keyhub.PrefixMessage, now), TenantID: tenantID,
		Type: action, Data: data, CreatedAt: now}, wanting)
}

func eventTypeKnown(kind, verb string) bool {
	for _, v := range EventTypes[kind] {
		if v == verb {
			return true
		}
	}
	return false
}

func (s *Service) renderEvent(obj any, now time.Time) (json.RawMessage, error) {
	if s.render != nil {
		return s.render(obj, now)
	}
	return json.Marshal(obj)
}

// appendEvent writes e with a delivery, due now, to each webhook.
func appendEvent(ctx context.Context, tx keyhub.Tx, e *keyhub.WebhookEvent, hooks []*keyhub.Webhook) error {
	ds := make([]*keyhub.Delivery, 0, len(hooks))
	for _, w := range hooks {
		ds = append(ds, &keyhub.Delivery{ID: keyhub.NewID(keyhub.PrefixDelivery, e.CreatedAt), TenantID: e.TenantID, WebhookID: w.ID,
			EventID: e.ID, EventType: e.Type, State: keyhub.DeliveryPending, NextAttemptAt: e.CreatedAt,
			CreatedAt: e.CreatedAt, UpdatedAt: e.CreatedAt})
	}
	return tx.AppendWebhookEvent(ctx, e, ds)
}
