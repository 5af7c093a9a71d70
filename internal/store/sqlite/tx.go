package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/keyhub/keyhub"
)

// tx implements keyhub.Tx on one database/sql transaction. Its methods
// translate driver errors, so callers see only *keyhub.Error, context
// errors and wrapped internal errors.
type tx struct {
	tx *sql.Tx
	// spend is the store's prepared SpendCredits statement, nil in a View.
	spend *sql.Stmt
}

var _ keyhub.Tx = (*tx)(nil)

// execOne runs a statement that changes one object, answering ErrNotFound
// when it matched no row.
func (t *tx) execOne(ctx context.Context, op, query string, args ...any) error {
	res, err := t.tx.ExecContext(ctx, query, args...)
	if err != nil {
		return translate(ctx, op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return translate(ctx, op, err)
	}
	if n == 0 {
		return fail(op, keyhub.ErrNotFound)
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

// pageClause is the LIMIT and OFFSET of a page, with their arguments. The
// limit is used exactly as given: the service asks for one more object than
// it shows, to know whether another page follows, so a cap here would break
// paging at the cap. A limit below 1 or a negative offset is a bug of the
// caller, not a request to answer.
func pageClause(op string, p keyhub.Page) (string, []any, error) {
	if p.Limit < 1 || p.Offset < 0 {
		return "", nil, fmt.Errorf("sqlite: %s: page limit below 1 or negative offset", op)
	}
	return ` LIMIT ? OFFSET ?`, []any{p.Limit, p.Offset}, nil
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

// jsonText encodes v for a TEXT column.
func jsonText(op string, v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("sqlite: %s: encode json: %w", op, err)
	}
	return string(b), nil
}

// stringsText stores a list as a JSON array of its elements. A nil and an
// empty list hold the same elements, none, and are both stored as [].
// JSON holds only UTF-8 (encoding/json would replace other bytes with
// U+FFFD), so a list with invalid UTF-8 is ErrUnstorableText rather than
// stored changed; NUL is kept, escaped as \u0000.
func stringsText(op string, s []string) (string, error) {
	if s == nil {
		s = []string{}
	}
	for _, v := range s {
		if !utf8.ValidString(v) {
			return "", fail(op, keyhub.ErrUnstorableText)
		}
	}
	return jsonText(op, s)
}

// mapText stores a map as a JSON object, as given (nil is null), under the
// rule of stringsText.
func mapText(op string, m map[string]string) (string, error) {
	for k, v := range m {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return "", fail(op, keyhub.ErrUnstorableText)
		}
	}
	return jsonText(op, m)
}

// parseStrings decodes a stored list. Lists always come back non-nil, on
// both stores, so that callers encode them as [] and never as null.
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

// rawText stores a JSON value as given. A RawMessage without bytes holds no
// value, which is what JSON null means and how encoding/json marshals a nil
// RawMessage, so it is stored as null; rawValue reads null back as nil.
func rawText(m json.RawMessage) string {
	if len(m) == 0 {
		return "null"
	}
	return string(m)
}

// rawValue is the JSON value of a column written by rawText.
func rawValue(text string) json.RawMessage {
	if text == "null" {
		return nil
	}
	return json.RawMessage(text)
}

// Announce does nothing: a SQLite file serves one node, whose caches the
// service invalidates itself.
func (t *tx) Announce(context.Context, []keyhub.Change) error { return nil }
