package postgres

import (
	"context"
	"time"

	"github.com/keyhub/keyhub"
)

const sessionColumns = `id, hash, kind, subject_type, subject_id, tenant_id, key_hash, scopes, acting_tenant_id,
	return_url, created_at, last_seen_at, expires_at`

func scanSession(row scanner) (*keyhub.PortalSession, error) {
	var s keyhub.PortalSession
	var tenantID, acting *string
	if err := row.Scan(&s.ID, &s.Hash, &s.Kind, &s.Subject.Type, &s.Subject.ID, &tenantID, &s.KeyHash, &s.Scopes,
		&acting, &s.ReturnURL, &s.CreatedAt, &s.LastSeenAt, &s.ExpiresAt); err != nil {
		return nil, err
	}
	s.TenantID, s.ActingTenantID, s.Scopes = deref(tenantID), deref(acting), nonNil(s.Scopes)
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt = s.CreatedAt.UTC(), s.LastSeenAt.UTC(), s.ExpiresAt.UTC()
	return &s, nil
}

// CreatePortalSession inserts s; a taken id or hash is ErrExists.
func (t *tx) CreatePortalSession(ctx context.Context, s *keyhub.PortalSession) error {
	return t.insert(ctx, "create portal session", `INSERT INTO portal_sessions (`+sessionColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT DO NOTHING`,
		s.ID, s.Hash, s.Kind, s.Subject.Type, s.Subject.ID, nullable(s.TenantID), nullBytes(s.KeyHash), nonNil(s.Scopes),
		nullable(s.ActingTenantID), s.ReturnURL, s.CreatedAt, s.LastSeenAt, s.ExpiresAt)
}

// GetPortalSession reads the session with this token digest.
func (t *tx) GetPortalSession(ctx context.Context, hash []byte) (*keyhub.PortalSession, error) {
	s, err := scanSession(t.tx.QueryRow(ctx, `SELECT `+sessionColumns+` FROM portal_sessions WHERE hash = $1`+t.lock(), hash))
	if err != nil {
		return nil, translate(ctx, err, "get portal session")
	}
	return s, nil
}

// UpdatePortalSession writes LastSeenAt and ActingTenantID.
func (t *tx) UpdatePortalSession(ctx context.Context, s *keyhub.PortalSession) error {
	return t.exec(ctx, "update portal session",
		`UPDATE portal_sessions SET last_seen_at = $2, acting_tenant_id = $3 WHERE id = $1`,
		s.ID, s.LastSeenAt, nullable(s.ActingTenantID))
}

// DeletePortalSession removes one session.
func (t *tx) DeletePortalSession(ctx context.Context, id string) error {
	return t.exec(ctx, "delete portal session", `DELETE FROM portal_sessions WHERE id = $1`, id)
}

// DeleteSubjectSessions removes every session of a subject.
func (t *tx) DeleteSubjectSessions(ctx context.Context, tenantID, subjectID string) (int, error) {
	var w where
	w.add("subject_id = " + w.arg(subjectID))
	w.tenant(tenantID)
	tag, err := t.tx.Exec(ctx, `DELETE FROM portal_sessions`+w.sql(), w.args...)
	if err != nil {
		return 0, translate(ctx, err, "delete subject sessions")
	}
	return int(tag.RowsAffected()), nil
}

// PurgePortalSessions removes sessions that ended before now.
func (t *tx) PurgePortalSessions(ctx context.Context, now time.Time) error {
	_, err := t.tx.Exec(ctx, `DELETE FROM portal_sessions WHERE expires_at < $1`, now)
	return translate(ctx, err, "purge portal sessions")
}

const tokenColumns = `hash, kind, tenant_id, member_id, email, scopes, return_url, created_at, expires_at, used_at`

func scanToken(row scanner) (*keyhub.PortalToken, error) {
	var pt keyhub.PortalToken
	if err := row.Scan(&pt.Hash, &pt.Kind, &pt.TenantID, &pt.MemberID, &pt.Email, &pt.Scopes, &pt.ReturnURL,
		&pt.CreatedAt, &pt.ExpiresAt, &pt.UsedAt); err != nil {
		return nil, err
	}
	pt.Scopes = nonNil(pt.Scopes)
	pt.CreatedAt, pt.ExpiresAt, pt.UsedAt = pt.CreatedAt.UTC(), pt.ExpiresAt.UTC(), utc(pt.UsedAt)
	return &pt, nil
}

// CreatePortalToken inserts a one-time token; a taken hash is ErrExists.
func (t *tx) CreatePortalToken(ctx context.Context, pt *keyhub.PortalToken) error {
	return t.insert(ctx, "create portal token", `INSERT INTO portal_tokens (`+tokenColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING`,
		pt.Hash, pt.Kind, pt.TenantID, pt.MemberID, pt.Email, nonNil(pt.Scopes), pt.ReturnURL,
		pt.CreatedAt, pt.ExpiresAt, pt.UsedAt)
}

// UsePortalToken marks the token used in one conditional UPDATE: of two
// transactions racing with the same token, the second waits for the row
// lock and then finds it used.
func (t *tx) UsePortalToken(ctx context.Context, hash []byte, now time.Time) (*keyhub.PortalToken, error) {
	pt, err := scanToken(t.tx.QueryRow(ctx, `UPDATE portal_tokens SET used_at = $2 WHERE hash = $1 AND used_at IS NULL
		RETURNING `+tokenColumns, hash, now))
	if err != nil {
		return nil, translate(ctx, err, "use portal token")
	}
	return pt, nil
}

// CountPortalTokens counts the tokens made for email since since.
func (t *tx) CountPortalTokens(ctx context.Context, email string, since time.Time) (int, error) {
	var n int
	err := t.tx.QueryRow(ctx, `SELECT count(*) FROM portal_tokens WHERE email = $1 AND created_at >= $2`, email, since).Scan(&n)
	if err != nil {
		return 0, translate(ctx, err, "count portal tokens")
	}
	return n, nil
}

// PurgePortalTokens removes tokens that expired before before.
func (t *tx) PurgePortalTokens(ctx context.Context, before time.Time) error {
	_, err := t.tx.Exec(ctx, `DELETE FROM portal_tokens WHERE expires_at < $1`, before)
	return translate(ctx, err, "purge portal tokens")
}
