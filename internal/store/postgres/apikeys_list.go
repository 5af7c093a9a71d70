package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/keyhub/keyhub"
)

// ListAPIKeys lists a tenant's keys ("" for operator keys). Without Sort the
// list is newest first and pages by After; with Sort it pages by Offset.
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
		// The same names as a range of the (tenant_id, name) index: a
		// LIKE pattern given as a parameter serves no index in a generic
		// plan, a range does.
		lo, hi := keyhub.PrefixRange(f.NamePrefix)
		w.add("name >= " + w.arg(lo))
		if hi != "" {
			w.add("name < " + w.arg(hi))
		}
	}
	if f.NameContains != "" {
		// strpos has no wildcards, so % and _ match themselves. Under
		// COLLATE "C" lower() folds ASCII letters only, as SQLite's does,
		// whatever the database's locale: both stores match the same
		// names. The parameter needs the collation too, or it would be
		// lowered by the database default.
		w.add(`strpos(lower(name COLLATE "C"), lower(` + w.arg(f.NameContains) + `::text COLLATE "C")) > 0`)
	}
	if f.NotRevoked {
		w.add("revoked_at IS NULL")
	}
	if f.State != "" {
		cond, err := stateCondition(&w, op, f.State, f.Now)
		if err != nil {
			return nil, err
		}
		w.add(cond)
	}
	order, err := keyOrder(op, f)
	if err != nil {
		return nil, err
	}
	w.after(f.After)
	lim, err := w.page(op, f.Page)
	if err != nil {
		return nil, err
	}
	return collect(ctx, t, op, scanAPIKey,
		`SELECT `+apiKeyColumns+` FROM api_keys`+w.sql()+` ORDER BY `+order+lim, w.args...)
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

// sortColumns are the SQL of each sortable field. Names sort by their
// ASCII-lowered bytes (COLLATE "C" folds ASCII only and compares bytes),
// the order SQLite gives lower(name); ids are COLLATE "C", so they sort by
// creation time as SQLite's do.
var sortColumns = map[keyhub.KeySortField]string{
	keyhub.SortByID:      `id`,
	keyhub.SortByName:    `lower(name COLLATE "C")`,
	keyhub.SortByRole:    `role_id`,
	keyhub.SortByCreated: `created_at`,
	keyhub.SortByUpdated: `updated_at`,
	keyhub.SortByRevoked: `revoked_at`,
}

// keyOrder is the ORDER BY of a key list. NULLs (no role, not revoked) come
// first ascending and last descending; PostgreSQL's default is the reverse,
// so it is spelled out. id ascending breaks every tie, so pages by Offset
// neither skip nor repeat a key. After pages the default order only: with
// Sort it names no position, and asking for both is a bug.
func keyOrder(op string, f keyhub.APIKeyFilter) (string, error) {
	if len(f.Sort) == 0 {
		return `id DESC`, nil
	}
	if f.After != "" {
		return "", fmt.Errorf("postgres: %s: After pages the default order only, not a sorted list", op)
	}
	terms := make([]string, 0, len(f.Sort)+1)
	for _, s := range f.Sort {
		col, ok := sortColumns[s.Field]
		if !ok {
			return "", fmt.Errorf("postgres: %s: unknown sort field", op)
		}
		if s.Desc {
			terms = append(terms, col+` DESC NULLS LAST`)
		} else {
			terms = append(terms, col+` ASC NULLS FIRST`)
		}
	}
	return strings.Join(append(terms, `id ASC`), `, `), nil
}
