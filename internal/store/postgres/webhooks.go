package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/keyhub/keyhub"
)

const webhookColumns = `id, tenant_id, url, events, description, enabled, secret_sealed, creator_type, creator_id, created_at, updated_at`

func scanWebhook(row scanner) (*keyhub.Webhook, error) {
	var w keyhub.Webhook
	if err := row.Scan(&w.ID, &w.TenantID, &w.URL, &w.Events, &w.Description, &w.Enabled, &w.SecretSealed,
		&w.Creator.Type, &w.Creator.ID, &w.CreatedAt, &w.UpdatedAt); err != nil {
		return nil, err
	}
	w.Events = nonNil(w.Events)
	w.CreatedAt, w.UpdatedAt = w.CreatedAt.UTC(), w.UpdatedAt.UTC()
	return &w, nil
}

// CreateWebhook inserts w; an existing id is ErrExists, an unknown tenant
// ErrReferenced.
func (t *tx) CreateWebhook(ctx context.Context, w *keyhub.Webhook) error {
	return t.insert(ctx, "create webhook", `INSERT INTO webhooks (`+webhookColumns+`) VALUES
		($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING`,
		w.ID, w.TenantID, w.URL, nonNil(w.Events), w.Description, w.Enabled, w.SecretSealed, w.Creator.Type, w.Creator.ID,
		w.CreatedAt, w.UpdatedAt)
}

// GetWebhook reads a webhook of tenantID, locking it inside Update.
func (t *tx) GetWebhook(ctx context.Context, tenantID, id string) (*keyhub.Webhook, error) {
	w, err := scanWebhook(t.tx.QueryRow(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE tenant_id = $1 AND id = $2`+t.lock(), tenantID, id))
	if err != nil {
		return nil, translate(ctx, err, "get webhook")
	}
	return w, nil
}

// ListWebhooks lists a tenant's webhooks newest first.
func (t *tx) ListWebhooks(ctx context.Context, tenantID string, page keyhub.Page) ([]*keyhub.Webhook, error) {
	const op = "list webhooks"
	var w where
	w.add("tenant_id = " + w.arg(tenantID))
	w.after(page.After)
	lim, err := w.page(op, page)
	if err != nil {
		return nil, err
	}
	return collect(ctx, t, op, scanWebhook, `SELECT `+webhookColumns+` FROM webhooks`+w.sql()+` ORDER BY id DESC`+lim, w.args...)
}

// UpdateWebhook writes every mutable field of w.
func (t *tx) UpdateWebhook(ctx context.Context, w *keyhub.Webhook) error {
	return t.exec(ctx, "update webhook", `UPDATE webhooks SET url = $3, events = $4, description = $5, enabled = $6,
		secret_sealed = $7, updated_at = $8 WHERE tenant_id = $1 AND id = $2`,
		w.TenantID, w.ID, w.URL, nonNil(w.Events), w.Description, w.Enabled, w.SecretSealed, w.UpdatedAt)
}

// DeleteWebhook removes a webhook; its deliveries go with it.
func (t *tx) DeleteWebhook(ctx context.Context, tenantID, id string) error {
	return t.exec(ctx, "delete webhook", `DELETE FROM webhooks WHERE tenant_id = $1 AND id = $2`, tenantID, id)
}

// AppendWebhookEvent writes the event and its deliveries.
func (t *tx) AppendWebhookEvent(ctx context.Context, e *keyhub.WebhookEvent, deliveries []*keyhub.Delivery) error {
	const op = "append webhook event"
	if err := t.insert(ctx, op, `INSERT INTO webhook_events (id, tenant_id, type, data, created_at)
		VALUES ($1, $2, $3, $4::json, $5) ON CONFLICT DO NOTHING`,
		e.ID, e.TenantID, e.Type, encodeJSON(e.Data), e.CreatedAt); err != nil {
		return err
	}
	for _, d := range deliveries {
		if err := t.insert(ctx, op, `INSERT INTO deliveries (`+deliveryColumns+`) VALUES
			($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) ON CONFLICT DO NOTHING`, deliveryArgs(d)...); err != nil {
			return err
		}
	}
	return nil
}

// GetWebhookEvent reads one event of tenantID.
func (t *tx) GetWebhookEvent(ctx context.Context, tenantID, id string) (*keyhub.WebhookEvent, error) {
	var e keyhub.WebhookEvent
	var data []byte
	err := t.tx.QueryRow(ctx, `SELECT id, tenant_id, type, data, created_at FROM webhook_events WHERE tenant_id = $1 AND id = $2`,
		tenantID, id).Scan(&e.ID, &e.TenantID, &e.Type, &data, &e.CreatedAt)
	if err != nil {
		return nil, translate(ctx, err, "get webhook event")
	}
	if e.Data, err = decodeJSON(data); err != nil {
		return nil, fmt.Errorf("decode data of webhook event %q: %w", e.ID, err)
	}
	if string(e.Data) == "null" {
		e.Data = nil
	}
	e.CreatedAt = e.CreatedAt.UTC()
	return &e, nil
}

const deliveryColumns = `id, tenant_id, webhook_id, event_id, event_type, state, attempts, next_attempt_at,
	last_attempt_at, last_status, last_error, leased_until, created_at, updated_at`

func deliveryArgs(d *keyhub.Delivery) []any {
	return []any{d.ID, d.TenantID, d.WebhookID, d.EventID, d.EventType, string(d.State), d.Attempts, d.NextAttemptAt,
		d.LastAttemptAt, d.LastStatus, d.LastError, d.LeasedUntil, d.CreatedAt, d.UpdatedAt}
}

func scanDelivery(row scanner) (*keyhub.Delivery, error) {
	var d keyhub.Delivery
	var state string
	if err := row.Scan(&d.ID, &d.TenantID, &d.WebhookID, &d.EventID, &d.EventType, &state, &d.Attempts, &d.NextAttemptAt,
		&d.LastAttemptAt, &d.LastStatus, &d.LastError, &d.LeasedUntil, &d.CreatedAt, &d.UpdatedAt); err != nil {
		return nil, err
	}
	d.State = keyhub.DeliveryState(state)
	d.NextAttemptAt, d.CreatedAt, d.UpdatedAt = d.NextAttemptAt.UTC(), d.CreatedAt.UTC(), d.UpdatedAt.UTC()
	d.LastAttemptAt, d.LeasedUntil = utc(d.LastAttemptAt), utc(d.LeasedUntil)
	return &d, nil
}

// GetDelivery reads one delivery of tenantID.
func (t *tx) GetDelivery(ctx context.Context, tenantID, id string) (*keyhub.Delivery, error) {
	d, err := scanDelivery(t.tx.QueryRow(ctx, `SELECT `+deliveryColumns+` FROM deliveries WHERE tenant_id = $1 AND id = $2`+t.lock(), tenantID, id))
	if err != nil {
		return nil, translate(ctx, err, "get delivery")
	}
	return d, nil
}

// ListDeliveries lists a webhook's deliveries newest first.
func (t *tx) ListDeliveries(ctx context.Context, tenantID, webhookID string, page keyhub.Page) ([]*keyhub.Delivery, error) {
	const op = "list deliveries"
	var w where
	w.add("tenant_id = " + w.arg(tenantID))
	w.add("webhook_id = " + w.arg(webhookID))
	w.after(page.After)
	lim, err := w.page(op, page)
	if err != nil {
		return nil, err
	}
	return collect(ctx, t, op, scanDelivery, `SELECT `+deliveryColumns+` FROM deliveries`+w.sql()+` ORDER BY id DESC`+lim, w.args...)
}

// ClaimDeliveries leases due deliveries. SKIP LOCKED lets nodes claiming at
// once take different rows instead of waiting on each other; the lease
// keeps a row from the next claim until it ends.
func (t *tx) ClaimDeliveries(ctx context.Context, now, leaseUntil time.Time, limit int) ([]*keyhub.Delivery, error) {
	const op = "claim deliveries"
	if limit < 1 {
		return nil, fmt.Errorf("postgres: %s: limit %d below 1", op, limit)
	}
	return collect(ctx, t, op, scanDelivery, `UPDATE deliveries SET leased_until = $2 WHERE id IN (
		SELECT id FROM deliveries WHERE state = 'pending' AND next_attempt_at <= $1
		AND (leased_until IS NULL OR leased_until <= $1)
		ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)
		RETURNING `+deliveryColumns, now, leaseUntil, limit)
}

// UpdateDelivery writes a delivery's progress.
func (t *tx) UpdateDelivery(ctx context.Context, d *keyhub.Delivery) error {
	return t.exec(ctx, "update delivery", `UPDATE deliveries SET state = $3, attempts = $4, next_attempt_at = $5,
		last_attempt_at = $6, last_status = $7, last_error = $8, leased_until = $9, updated_at = $10
		WHERE tenant_id = $1 AND id = $2`,
		d.TenantID, d.ID, string(d.State), d.Attempts, d.NextAttemptAt, d.LastAttemptAt, d.LastStatus, d.LastError,
		d.LeasedUntil, d.UpdatedAt)
}
