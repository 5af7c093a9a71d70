package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/keyhub/keyhub"
)

// ListAPIKeys implements keyhub.Tx: newest first, paging by After.
func (t *tx) ListAPIKeys(ctx context.Context, tenantID string, f keyhub.APIKeyFilter) ([]*keyhub.APIKey, error) {
	const op = "list api keys"
	where := []string{`tenant_id IS ?`}
	args := []any{nullString(tenantID)}
	add := func(cond string, a ...any) {
		where = append(where, cond)
		args = append(args, a...)
	}
	if f.Environment != "" {
		add(`environment = ?`, f.Environment)
	}
	if f.RoleID != "" {
		add(`role_id = ?`, f.RoleID)
	}
	if f.NamePrefix != "" {
		// Not LIKE: it ignores ASCII case in SQLite and treats % and _ as
		// wildcards. Comparing the leading characters is literal.
		add(`substr(name, 1, length(?)) = ?`, f.NamePrefix, f.NamePrefix)
	}
	if f.State != "" {
		cond, err := stateCondition(op, f.State)
		if err != nil {
			return nil, err
		}
		if strings.Contains(cond, "?") {
			add(cond, micros(f.Now))
		} else {
			add(cond)
		}
	}
	if f.After != "" {
		add(`id < ?`, f.After)
	}
	lim, limArgs, err := pageClause(op, f.Page)
	if err != nil {
		return nil, err
	}
	q := `SELECT ` + keyColumns + ` FROM api_keys WHERE ` + strings.Join(where, ` AND `) + ` ORDER BY id DESC` + lim
	return list(ctx, t, op, q, append(args, limArgs...), scanKey)
}

// stateCondition is keyhub.APIKey.State as SQL, with ? standing for now:
// revoked beats disabled, which beats expired; a key expires at ExpiresAt.
// The service validates the state; another one here is a bug.
func stateCondition(op string, s keyhub.KeyState) (string, error) {
	switch s {
	case keyhub.StateRevoked:
		return `revoked_at IS NOT NULL`, nil
	case keyhub.StateDisabled:
		return `(revoked_at IS NULL AND enabled = 0)`, nil
	case keyhub.StateExpired:
		return `(revoked_at IS NULL AND enabled = 1 AND expires_at IS NOT NULL AND expires_at <= ?)`, nil
	case keyhub.StateActive:
		return `(revoked_at IS NULL AND enabled = 1 AND (expires_at IS NULL OR expires_at > ?))`, nil
	}
	return "", fmt.Errorf("sqlite: %s: unknown key state", op)
}
