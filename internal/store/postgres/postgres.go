// Package postgres implements keyhub.Store on PostgreSQL with pgx. It is the
// store of a scaled-out deployment: several stateless keyhub nodes share one
// database, so migrations take an advisory lock and writers lock the rows
// they read.
//
// Concurrency: Update runs at READ COMMITTED and every Get inside Update
// reads with SELECT … FOR NO KEY UPDATE. A read-then-write in one Update therefore
// holds the row lock from the read to the commit, and a concurrent Update of
// the same row waits and then reads the committed result: no lost updates,
// no serialization failures to retry, and fn runs exactly once. View runs in
// a read-only REPEATABLE READ transaction, so all its reads see one snapshot
// (read-only transactions never fail serialization in PostgreSQL).
package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/keyhub/keyhub"
)

// Store is a keyhub.Store on a PostgreSQL connection pool.
type Store struct {
	pool *pgxpool.Pool
}

var _ keyhub.Store = (*Store)(nil)

// DefaultMaxConns is the pool's size when the URL sets no pool_max_conns.
// pgx's own default, one connection a CPU and four at least, caps a node's
// concurrent writes at four on a small machine: each holds its connection
// while its commit waits for the WAL flush, so four commits at most share a
// flush, and creates ran at half the rate of sixteen connections
// (BenchmarkCreateKey/Postgres, issue 14).
const DefaultMaxConns = 16

// Open connects to the database at url (a postgres:// URL or a keyword/value
// DSN), checks that it is reachable and applies pending migrations. An
// unreachable database is a KindUnavailable error. The pool holds
// DefaultMaxConns connections unless the URL's pool_max_conns says otherwise.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// The parse error may quote the URL, password included.
		return nil, errors.New("postgres: invalid connection string")
	}
	if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = max(cfg.MaxConns, DefaultMaxConns)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, translate(ctx, err, "open")
	}
	s := &Store{pool: pool}
	if err := s.Ping(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// Pool returns the underlying pool, for LISTEN/NOTIFY and diagnostics.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// View runs fn in a read-only transaction over one snapshot.
func (s *Store) View(ctx context.Context, fn func(keyhub.Tx) error) error {
	return s.run(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, false, fn)
}

// Update runs fn in a read-write transaction, committed when fn returns nil.
// Gets inside it lock the rows they return until the commit.
func (s *Store) Update(ctx context.Context, fn func(keyhub.Tx) error) error {
	return s.run(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted, AccessMode: pgx.ReadWrite}, true, fn)
}

func (s *Store) run(ctx context.Context, opts pgx.TxOptions, write bool, fn func(keyhub.Tx) error) error {
	ptx, err := s.pool.BeginTx(ctx, opts)
	if err != nil {
		return translate(ctx, err, "begin transaction")
	}
	// Rollback after a commit is a no-op; this also covers a panic in fn.
	defer func() { _ = ptx.Rollback(context.WithoutCancel(ctx)) }()
	if err := fn(&tx{tx: ptx, forUpdate: write}); err != nil {
		return err
	}
	if err := ptx.Commit(ctx); err != nil {
		return translate(ctx, err, "commit")
	}
	return nil
}

// Ping reports whether the database is reachable.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return translate(ctx, err, "ping")
	}
	return nil
}

// Close closes every connection of the pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// tx implements keyhub.Tx on one pgx transaction.
type tx struct {
	tx pgx.Tx
	// forUpdate makes Gets lock the rows they read: set inside Update.
	forUpdate bool
}

var _ keyhub.Tx = (*tx)(nil)

// lock returns the locking clause for a Get. NO KEY UPDATE is the lock an
// UPDATE that keeps the primary key takes: it serializes read-modify-write
// among Updates but, unlike FOR UPDATE, does not block other transactions'
// foreign key checks, so reading a tenant does not stall inserts of its keys.
func (t *tx) lock() string {
	if t.forUpdate {
		return " FOR NO KEY UPDATE"
	}
	return ""
}

// exec runs a statement that must touch exactly one row; none is
// ErrNotFound.
func (t *tx) exec(ctx context.Context, op, sql string, args ...any) error {
	tag, err := t.tx.Exec(ctx, sql, args...)
	if err != nil {
		return translate(ctx, err, op)
	}
	if tag.RowsAffected() == 0 {
		return fail(op, keyhub.ErrNotFound)
	}
	return nil
}

// insert runs an INSERT … ON CONFLICT DO NOTHING. A taken id, name or
// digest becomes ErrExists without aborting the transaction, so that the
// caller may go on as it could in SQLite, where a failed statement leaves
// the transaction usable.
func (t *tx) insert(ctx context.Context, op, sql string, args ...any) error {
	tag, err := t.tx.Exec(ctx, sql, args...)
	if err != nil {
		return translate(ctx, err, op)
	}
	if tag.RowsAffected() == 0 {
		return fail(op, keyhub.ErrExists)
	}
	return nil
}

// scanner is a pgx.Row or pgx.Rows.
type scanner interface {
	Scan(dest ...any) error
}

// collect scans every row of a query with scan.
func collect[T any](ctx context.Context, t *tx, op string, scan func(scanner) (*T, error), sql string, args ...any) ([]*T, error) {
	rows, err := t.tx.Query(ctx, sql, args...)
	if err != nil {
		return nil, translate(ctx, err, op)
	}
	defer rows.Close()
	out := []*T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, translate(ctx, err, op)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, translate(ctx, err, op)
	}
	return out, nil
}

// isNoRows reports whether err says a query returned no row.
func isNoRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }

// pgCode returns the SQLSTATE of a server error, or "".
func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// wrap adds the operation to an unexpected error.
func wrap(op string, err error) error { return fmt.Errorf("postgres: %s: %w", op, err) }
