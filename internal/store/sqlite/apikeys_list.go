package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/keyhub/keyhub"
)

// ListAPIKeys implements keyhub.Tx. Without Sort the list is newest first
// and pages by After; with Sort it pages by Offset.
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
		// The same names as a range, which the (tenant_id, name) index
		// serves; the substr test above stays the definition.
		lo, hi := keyhub.PrefixRange(f.NamePrefix)
		add(`name >= ?`, lo)
		if hi != "" {
			add(`name < ?`, hi)
		}
	}
	if f.NameContains != "" {
		// instr has no wildcards, so % and _ match themselves. SQLite's
		// lower() folds ASCII letters only, as PostgreSQL's does under
		// COLLATE "C": both stores match the same names.
		add(`instr(lower(name), lower(?)) > 0`, f.NameContains)
	}
	if f.NotRevoked {
		add(`revoked_at IS NULL`)
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
	order, err := keyOrder(op, f)
	if err != nil {
		return nil, err
	}
	if f.After != "" {
		add(`id < ?`, f.After)
	}
	lim, limArgs, err := pageClause(op, f.Page)
	if err != nil {
		return nil, err
	}
	q := `SELECT ` + keyColumns + ` FROM api_keys WHERE ` + strings.Join(where, ` AND `) + ` ORDER BY ` + order + lim
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

// sortColumns are the SQL of each sortable field. Names sort by their
// ASCII-lowered bytes, the same order PostgreSQL gives lower(name COLLATE
// "C"); ids and times sort as stored, which is creation order for ids.
var sortColumns = map[keyhub.KeySortField]string{
	keyhub.SortByID:      `id`,
	keyhub.SortByName:    `lower(name)`,
	keyhub.SortByRole:    `role_id`,
	keyhub.SortByCreated: `created_at`,
	keyhub.SortByUpdated: `updated_at`,
	keyhub.SortByRevoked: `revoked_at`,
}

// keyOrder is the ORDER BY of a key list. NULLs (no role, not revoked) come
// first ascending and last descending, spelled out so that both stores say
// the same thing; id ascending breaks every tie, so pages by Offset neither
// skip nor repeat a key. After pages the default order only: with Sort it
// names no position, and asking for both is a bug.
func keyOrder(op string, f keyhub.APIKeyFilter) (string, error) {
	if len(f.Sort) == 0 {
		return `id DESC`, nil
	}
	if f.After != "" {
		return "", fmt.Errorf("sqlite: %s: After pages the default order only, not a sorted list", op)
	}
	terms := make([]string, 0, len(f.Sort)+1)
	for _, s := range f.Sort {
		col, ok := sortColumns[s.Field]
		if !ok {
			return "", fmt.Errorf("sqlite: %s: unknown sort field", op)
		}
		if s.Desc {
			terms = append(terms, col+` DESC NULLS LAST`)
		} else {
			terms = append(terms, col+` ASC NULLS FIRST`)
		}
	}
	return strings.Join(append(terms, `id ASC`), `, `), nil
}
