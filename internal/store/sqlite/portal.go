package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/keyhub/keyhub"
)

const sessionColumns = `id, hash, kind, subject_type, subject_id, tenant_id, key_hash, scopes, acting_tenant_id,
	return_url, created_at, last_seen_at, expires_at`

// CreatePortalSession implements keyhub.Tx.
func (t *tx) CreatePortalSession(ctx context.Context, s *keyhub.PortalSession) error {
	const op = "create portal session"
	scopes, err := stringsText(op, s.Scopes)
	if err != nil {
		return err
	}
	return t.exec(ctx, op, `INSERT INTO portal_sessions (`+sessionColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		s.ID, s.Hash, s.Kind, s.Subject.Type, s.Subject.ID, nullString(s.TenantID), nullBytes(s.KeyHash), scopes,
		nullString(s.ActingTenantID), s.ReturnURL, micros(s.CreatedAt), micros(s.LastSeenAt), micros(s.ExpiresAt))
}

// GetPortalSession implements keyhub.Tx.
func (t *tx) GetPortalSession(ctx context.Context, hash []byte) (*keyhub.PortalSession, error) {
	s, err := scanSession(t.tx.QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM portal_sessions WHERE hash = ?`, hash))
	if err != nil {
		return nil, translate(ctx, "get portal session", err)
	}
	return s, nil
}

// UpdatePortalSession implements keyhub.Tx.
func (t *tx) UpdatePortalSession(ctx context.Context, s *keyhub.PortalSession) error {
	return t.execOne(ctx, "update portal session",
		`UPDATE portal_sessions SET last_seen_at = ?, acting_tenant_id = ? WHERE id = ?`,
		micros(s.LastSeenAt), nullString(s.ActingTenantID), s.ID)
}

// DeletePortalSession implements keyhub.Tx.
func (t *tx) DeletePortalSession(ctx context.Context, id string) error {
	return t.execOne(ctx, "delete portal session", `DELETE FROM portal_sessions WHERE id = ?`, id)
}

// DeleteSubjectSessions implements keyhub.Tx.
func (t *tx) DeleteSubjectSessions(ctx context.Context, tenantID, subjectID string) (int, error) {
	res, err := t.tx.ExecContext(ctx, `DELETE FROM portal_sessions WHERE tenant_id IS ? AND subject_id = ?`,
		nullString(tenantID), subjectID)
	if err != nil {
		return 0, translate(ctx, "delete subject sessions", err)
	}
	n, err := res.RowsAffected()
	return int(n), translate(ctx, "delete subject sessions", err)
}

// PurgePortalSessions implements keyhub.Tx.
func (t *tx) PurgePortalSessions(ctx context.Context, now time.Time) error {
	return t.exec(ctx, "purge portal sessions", `DELETE FROM portal_sessions WHERE expires_at < ?`, micros(now))
}

func scanSession(row scanner) (*keyhub.PortalSession, error) {
	var (
		s                      keyhub.PortalSession
		tenantID, acting       sql.NullString
		scopes                 string
		created, seen, expires int64
	)
	if err := row.Scan(&s.ID, &s.Hash, &s.Kind, &s.Subject.Type, &s.Subject.ID, &tenantID, &s.KeyHash, &scopes,
		&acting, &s.ReturnURL, &created, &seen, &expires); err != nil {
		return nil, err
	}
	var err error
	if s.Scopes, err = parseStrings(scopes); err != nil {
		return nil, fmt.Errorf("portal session %s: %w", s.ID, err)
	}
	s.TenantID, s.ActingTenantID = tenantID.String, acting.String
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt = fromMicros(created), fromMicros(seen), fromMicros(expires)
	return &s, nil
}

const tokenColumns = `hash, kind, tenant_id, member_id, email, scopes, return_url, created_at, expires_at, used_at`

// CreatePortalToken implements keyhub.Tx.
func (t *tx) CreatePortalToken(ctx context.Context, pt *keyhub.PortalToken) error {
	const op = "create portal token"
	scopes, err := stringsText(op, pt.Scopes)
	if err != nil {
		return err
	}
	return t.exec(ctx, op, `INSERT INTO portal_tokens (`+tokenColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		pt.Hash, pt.Kind, pt.TenantID, pt.MemberID, pt.Email, scopes, pt.ReturnURL,
		micros(pt.CreatedAt), micros(pt.ExpiresAt), microsPtr(pt.UsedAt))
}

// UsePortalToken implements keyhub.Tx: one conditional UPDATE, so two
// requests racing with the same link cannot both use it.
func (t *tx) UsePortalToken(ctx context.Context, hash []byte, now time.Time) (*keyhub.PortalToken, error) {
	row := t.tx.QueryRowContext(ctx, `UPDATE portal_tokens SET used_at = ? WHERE hash = ? AND used_at IS NULL
		RETURNING `+tokenColumns, micros(now), hash)
	pt, err := scanToken(row)
	if err != nil {
		return nil, translate(ctx, "use portal token", err)
	}
	return pt, nil
}

// CountPortalTokens implements keyhub.Tx.
func (t *tx) CountPortalTokens(ctx context.Context, email string, since time.Time) (int, error) {
	return t.count(ctx, "count portal tokens",
		`SELECT count(*) FROM portal_tokens WHERE email = ? AND created_at >= ?`, email, micros(since))
}

// PurgePortalTokens implements keyhub.Tx.
func (t *tx) PurgePortalTokens(ctx context.Context, before time.Time) error {
	return t.exec(ctx, "purge portal tokens", `DELETE FROM portal_tokens WHERE expires_at < ?`, micros(before))
}

func scanToken(row scanner) (*keyhub.PortalToken, error) {
	var (
		pt               keyhub.PortalToken
		scopes           string
		created, expires int64
		used             sql.NullInt64
	)
	if err := row.Scan(&pt.Hash, &pt.Kind, &pt.TenantID, &pt.MemberID, &pt.Email, &scopes, &pt.ReturnURL,
		&created, &expires, &used); err != nil {
		return nil, err
	}
	var err error
	if pt.Scopes, err = parseStrings(scopes); err != nil {
		return nil, fmt.Errorf("portal token: %w", err)
	}
	pt.CreatedAt, pt.ExpiresAt, pt.UsedAt = fromMicros(created), fromMicros(expires), fromMicrosPtr(used)
	return &pt, nil
}
