package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/keyhub/keyhub"
)

// tx implements keyhub.Tx on one database/sql transaction. Its methods
// translate driver errors, so callers see only *keyhub.Error, context
// errors and wrapped internal errors.
type tx struct {
	tx *sql.Tx
}

var _ keyhub.Tx = (*tx)(nil)

// execOne runs a statement that changes one object, answering notFound when it
// matched no row.
func (t *tx) execOne(ctx context.Context, op, what, id, query string, args ...any) error {
	res, err := t.tx.ExecContext(ctx, query, args...)
	if err != nil {
		return translate(ctx, op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return translate(ctx, op, err)
	}
	if n == 0 {
		return notFound(what, id)
	}
	return nil
}

func (t *tx) exec(ctx context.Context, op, query string, args ...any) error {
	_, err := t.tx.ExecContext(ctx, query, args...)
	return translate(ctx, op, err)
}

func (t *tx) count(ctx context.Context, op, query string, args ...any) (int, error) {
	var n int
	if err := t.tx.QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
		return 0, translate(ctx, op, err)
	}
	return n, nil
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// list runs query and scans every row with scan.
func list[T any](ctx context.Context, t *tx, op, query string, args []any, scan func(scanner) (T, error)) ([]T, error) {
	rows, err := t.tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, translate(ctx, op, err)
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, translate(ctx, op, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, translate(ctx, op, err)
	}
	return out, nil
}

// limit clamps a page size to keyhub's bounds; zero means the default.
func limit(p keyhub.Page) int {
	switch {
	case p.Limit <= 0:
		return keyhub.DefaultPageLimit
	case p.Limit > keyhub.MaxPageLimit:
		return keyhub.MaxPageLimit
	}
	return p.Limit
}

// Times are stored as unix microseconds: the service truncates to
// microseconds, so the round trip is exact, and integers compare and index
// cheaply for the expiry and audit time filters.

func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

func microsPtr(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: true}
}

func fromMicrosPtr(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicros(v.Int64)
	return &t
}

// nullString stores "" as NULL, for optional references (tenant, role).
func nullString(s string) sql.NullString {
	return sql.NullString{String: s, Valid: s != ""}
}

// jsonText encodes v for a TEXT column. nil lists are stored as [] so that
// they come back as empty, non-nil slices.
func jsonText(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("sqlite: encode json: %w", err)
	}
	return string(b), nil
}

func stringsText(s []string) (string, error) {
	if s == nil {
		s = []string{}
	}
	return jsonText(s)
}

func parseStrings(text string) ([]string, error) {
	out := []string{}
	if err := json.Unmarshal([]byte(text), &out); err != nil {
		return nil, fmt.Errorf("decode string list: %w", err)
	}
	if out == nil { // the column held "null"
		out = []string{}
	}
	return out, nil
}

// objectText stores a raw JSON object, nil or empty meaning {}.
func objectText(m json.RawMessage) string {
	if len(m) == 0 {
		return "{}"
	}
	return string(m)
}

// Announce does nothing: a SQLite file serves one node, whose caches the
// service invalidates itself.
func (t *tx) Announce(context.Context, []keyhub.Change) error { return nil }
