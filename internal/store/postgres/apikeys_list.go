package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/keyhub/keyhub"
)

// ListAPIKeys lists a tenant's keys ("" for operator keys) newest first,
// paging by After.
func (t *tx) ListAPIKeys(ctx context.Context, tenantID string, f keyhub.APIKeyFilter) ([]*keyhub.APIKey, error) {
	const op = "list api keys"
	var w where
	w.tenant(tenantID)
	if f.Environment != "" {
		w.add("environment = " + w.arg(f.Environment))
	}
	if f.RoleID != "" {
		w.add("role_id = " + w.arg(f.RoleID))
	}
	if f.NamePrefix != "" {
		w.add(`name LIKE ` + w.arg(likePrefix(f.NamePrefix)) + ` ESCAPE '\'`)
	}
	if f.State != "" {
		cond, err := stateCondition(&w, op, f.State, f.Now)
		if err != nil {
			return nil, err
		}
		w.add(cond)
	}
	w.after(f.After)
	lim, err := w.page(op, f.Page)
	if err != nil {
		return nil, err
	}
	return collect(ctx, t, op, scanAPIKey,
		`SELECT `+apiKeyColumns+` FROM api_keys`+w.sql()+` ORDER BY id DESC`+lim, w.args...)
}

// stateCondition expresses APIKey.State(now) == s in SQL, with the same
// precedence: revoked, then disabled, then expired. The service validates
// the state; another one here is a bug.
func stateCondition(w *where, op string, s keyhub.KeyState, now time.Time) (string, error) {
	switch s {
	case keyhub.StateRevoked:
		return "revoked_at IS NOT NULL", nil
	case keyhub.StateDisabled:
		return "revoked_at IS NULL AND NOT enabled", nil
	case keyhub.StateExpired:
		return "revoked_at IS NULL AND enabled AND expires_at <= " + w.arg(now), nil
	case keyhub.StateActive:
		return "revoked_at IS NULL AND enabled AND (expires_at IS NULL OR expires_at > " + w.arg(now) + ")", nil
	}
	return "", fmt.Errorf("postgres: %s: unknown key state", op)
}
