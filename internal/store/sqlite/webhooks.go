package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/keyhub/keyhub"
)

const webhookColumns = `id, tenant_id, url, events, description, enabled, secret_sealed, creator_type, creator_id, created_at, updated_at`

// CreateWebhook implements keyhub.Tx.
func (t *tx) CreateWebhook(ctx context.Context, w *keyhub.Webhook) error {
	const op = "create webhook"
	events, err := stringsText(op, w.Events)
	if err != nil {
		return err
	}
	return t.exec(ctx, op, `INSERT INTO webhooks (`+webhookColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		w.ID, w.TenantID, w.URL, events, w.Description, w.Enabled, w.SecretSealed, w.Creator.Type, w.Creator.ID,
		micros(w.CreatedAt), micros(w.UpdatedAt))
}

// GetWebhook implements keyhub.Tx.
func (t *tx) GetWebhook(ctx context.Context, tenantID, id string) (*keyhub.Webhook, error) {
	w, err := scanWebhook(t.tx.QueryRowContext(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE tenant_id = ? AND id = ?`, tenantID, id))
	if err != nil {
		return nil, translate(ctx, "get webhook", err)
	}
	return w, nil
}

// ListWebhooks implements keyhub.Tx.
func (t *tx) ListWebhooks(ctx context.Context, tenantID string, page keyhub.Page) ([]*keyhub.Webhook, error) {
	const op = "list webhooks"
	q := `SELECT ` + webhookColumns + ` FROM webhooks WHERE tenant_id = ?`
	args := []any{tenantID}
	if page.After != "" {
		q += ` AND id < ?`
		args = append(args, page.After)
	}
	lim, limArgs, err := pageClause(op, page)
	if err != nil {
		return nil, err
	}
	return list(ctx, t, op, q+` ORDER BY id DESC`+lim, append(args, limArgs...), scanWebhook)
}

// UpdateWebhook implements keyhub.Tx.
func (t *tx) UpdateWebhook(ctx context.Context, w *keyhub.Webhook) error {
	const op = "update webhook"
	events, err := stringsText(op, w.Events)
	if err != nil {
		return err
	}
	return t.execOne(ctx, op, `UPDATE webhooks SET url = ?, events = ?, description = ?, enabled = ?, secret_sealed = ?,
		updated_at = ? WHERE tenant_id = ? AND id = ?`,
		w.URL, events, w.Description, w.Enabled, w.SecretSealed, micros(w.UpdatedAt), w.TenantID, w.ID)
}

// DeleteWebhook implements keyhub.Tx; its deliveries go with it.
func (t *tx) DeleteWebhook(ctx context.Context, tenantID, id string) error {
	return t.execOne(ctx, "delete webhook", `DELETE FROM webhooks WHERE tenant_id = ? AND id = ?`, tenantID, id)
}

func scanWebhook(row scanner) (*keyhub.Webhook, error) {
	var (
		w                keyhub.Webhook
		events           string
		created, updated int64
	)
	if err := row.Scan(&w.ID, &w.TenantID, &w.URL, &events, &w.Description, &w.Enabled, &w.SecretSealed,
		&w.Creator.Type, &w.Creator.ID, &created, &updated); err != nil {
		return nil, err
	}
	var err error
	if w.Events, err = parseStrings(events); err != nil {
		return nil, fmt.Errorf("webhook %s: events: %w", w.ID, err)
	}
	w.CreatedAt, w.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &w, nil
}

// AppendWebhookEvent implements keyhub.Tx.
func (t *tx) AppendWebhookEvent(ctx context.Context, e *keyhub.WebhookEvent, deliveries []*keyhub.Delivery) error {
	const op = "append webhook event"
	if err := t.exec(ctx, op, `INSERT INTO webhook_events (id, tenant_id, type, data, created_at) VALUES (?, ?, ?, ?, ?)`,
		e.ID, e.TenantID, e.Type, rawText(e.Data), micros(e.CreatedAt)); err != nil {
		return err
	}
	for _, d := range deliveries {
		if err := t.exec(ctx, op, `INSERT INTO deliveries (`+deliveryColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			deliveryArgs(d)...); err != nil {
			return err
		}
	}
	return nil
}

// GetWebhookEvent implements keyhub.Tx.
func (t *tx) GetWebhookEvent(ctx context.Context, tenantID, id string) (*keyhub.WebhookEvent, error) {
	var (
		e       keyhub.WebhookEvent
		data    string
		created int64
	)
	err := t.tx.QueryRowContext(ctx, `SELECT id, tenant_id, type, data, created_at FROM webhook_events WHERE tenant_id = ? AND id = ?`,
		tenantID, id).Scan(&e.ID, &e.TenantID, &e.Type, &data, &created)
	if err != nil {
		return nil, translate(ctx, "get webhook event", err)
	}
	e.Data = rawValue(data)
	e.CreatedAt = fromMicros(created)
	return &e, nil
}

const deliveryColumns = `id, tenant_id, webhook_id, event_id, event_type, state, attempts, next_attempt_at,
	last_attempt_at, last_status, last_error, leased_until, created_at, updated_at`

func deliveryArgs(d *keyhub.Delivery) []any {
	return []any{d.ID, d.TenantID, d.WebhookID, d.EventID, d.EventType, string(d.State), d.Attempts,
		micros(d.NextAttemptAt), microsPtr(d.LastAttemptAt), d.LastStatus, d.LastError, microsPtr(d.LeasedUntil),
		micros(d.CreatedAt), micros(d.UpdatedAt)}
}

func scanDelivery(row scanner) (*keyhub.Delivery, error) {
	var (
		d                keyhub.Delivery
		state            string
		next             int64
		last, leased     sql.NullInt64
		created, updated int64
	)
	if err := row.Scan(&d.ID, &d.TenantID, &d.WebhookID, &d.EventID, &d.EventType, &state, &d.Attempts, &next,
		&last, &d.LastStatus, &d.LastError, &leased, &created, &updated); err != nil {
		return nil, err
	}
	d.State = keyhub.DeliveryState(state)
	d.NextAttemptAt, d.LastAttemptAt, d.LeasedUntil = fromMicros(next), fromMicrosPtr(last), fromMicrosPtr(leased)
	d.CreatedAt, d.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &d, nil
}

// GetDelivery implements keyhub.Tx.
func (t *tx) GetDelivery(ctx context.Context, tenantID, id string) (*keyhub.Delivery, error) {
	d, err := scanDelivery(t.tx.QueryRowContext(ctx, `SELECT `+deliveryColumns+` FROM deliveries WHERE tenant_id = ? AND id = ?`, tenantID, id))
	if err != nil {
		return nil, translate(ctx, "get delivery", err)
	}
	return d, nil
}

// ListDeliveries implements keyhub.Tx.
func (t *tx) ListDeliveries(ctx context.Context, tenantID, webhookID string, page keyhub.Page) ([]*keyhub.Delivery, error) {
	const op = "list deliveries"
	q := `SELECT ` + deliveryColumns + ` FROM deliveries WHERE tenant_id = ? AND webhook_id = ?`
	args := []any{tenantID, webhookID}
	if page.After != "" {
		q += ` AND id < ?`
		args = append(args, page.After)
	}
	lim, limArgs, err := pageClause(op, page)
	if err != nil {
		return nil, err
	}
	return list(ctx, t, op, q+` ORDER BY id DESC`+lim, append(args, limArgs...), scanDelivery)
}

// ClaimDeliveries implements keyhub.Tx. SQLite has one writer at a time,
// so reading the due deliveries and leasing them inside one Update cannot
// race another claim.
func (t *tx) ClaimDeliveries(ctx context.Context, now, leaseUntil time.Time, limit int) ([]*keyhub.Delivery, error) {
	const op = "claim deliveries"
	if limit < 1 {
		return nil, fmt.Errorf("sqlite: %s: limit %d below 1", op, limit)
	}
	due, err := list(ctx, t, op, `SELECT `+deliveryColumns+` FROM deliveries
		WHERE state = 'pending' AND next_attempt_at <= ? AND (leased_until IS NULL OR leased_until <= ?)
		ORDER BY next_attempt_at, id LIMIT ?`, []any{micros(now), micros(now), limit}, scanDelivery)
	if err != nil {
		return nil, err
	}
	for _, d := range due {
		l := leaseUntil
		d.LeasedUntil = &l
		if err := t.exec(ctx, op, `UPDATE deliveries SET leased_until = ? WHERE id = ?`, micros(leaseUntil), d.ID); err != nil {
			return nil, err
		}
	}
	return due, nil
}

// UpdateDelivery implements keyhub.Tx.
func (t *tx) UpdateDelivery(ctx context.Context, d *keyhub.Delivery) error {
	return t.execOne(ctx, "update delivery", `UPDATE deliveries SET state = ?, attempts = ?, next_attempt_at = ?,
		last_attempt_at = ?, last_status = ?, last_error = ?, leased_until = ?, updated_at = ? WHERE tenant_id = ? AND id = ?`,
		string(d.State), d.Attempts, micros(d.NextAttemptAt), microsPtr(d.LastAttemptAt), d.LastStatus, d.LastError,
		microsPtr(d.LeasedUntil), micros(d.UpdatedAt), d.TenantID, d.ID)
}
