package client

import (
	"context"
	"iter"
	"net/http"
	"net/url"
	"time"
)

// AuditService reads the audit log.
type AuditService struct{ c *Client }

// AuditListOptions filters and pages AuditService.List. Zero fields do not
// filter.
type AuditListOptions struct {
	TargetID string
	// Action is an event action such as "api_key.created".
	Action string
	// From is inclusive, To exclusive.
	From, To time.Time
	Limit    int
	Cursor   string
}

func (o AuditListOptions) query() url.Values {
	q := url.Values{}
	setIf(q, "target_id", o.TargetID)
	setIf(q, "action", o.Action)
	if !o.From.IsZero() {
		q.Set("from", o.From.UTC().Format(time.RFC3339Nano))
	}
	if !o.To.IsZero() {
		q.Set("to", o.To.UTC().Format(time.RFC3339Nano))
	}
	return listQuery(q, o.Limit, o.Cursor)
}

// List lists one page of audit events, newest first.
func (s *AuditService) List(ctx context.Context, opt AuditListOptions) (*Page[AuditEvent], error) {
	var p Page[AuditEvent]
	if err := s.c.do(ctx, http.MethodGet, "/v1/audit-events", opt.query(), nil, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// All iterates over every event that opt selects, fetching pages as it goes.
func (s *AuditService) All(ctx context.Context, opt AuditListOptions) iter.Seq2[AuditEvent, error] {
	return all(func(cursor string) (*Page[AuditEvent], error) {
		opt.Cursor = cursor
		return s.List(ctx, opt)
	}, opt.Cursor)
}
