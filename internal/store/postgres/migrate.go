package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrationLock is the pg_advisory_lock key that serializes migrations, so
// that several nodes starting at once apply each migration exactly once.
// It is an arbitrary constant ("keyhub" in ASCII).
const migrationLock int64 = 0x6b6579687562

// migration is one embedded SQL file; its version is the file name.
type migration struct {
	version string
	sql     string
}

// migrations returns the embedded migrations in the order to apply them:
// by file name, which starts with a zero-padded number.
func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	out := make([]migration, 0, len(names))
	for _, name := range names {
		b, err := migrationFiles.ReadFile(name)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: strings.TrimSuffix(strings.TrimPrefix(name, "migrations/"), ".sql"), sql: string(b)})
	}
	return out, nil
}

// migrate applies every embedded migration not yet recorded in
// schema_migrations, each in its own transaction with its record.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	all, err := migrations()
	if err != nil {
		return fmt.Errorf("postgres: read migrations: %w", err)
	}
	// A session-level advisory lock belongs to one connection, so hold one
	// connection for the whole run.
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return translate(ctx, err, "migrate")
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrationLock); err != nil {
		return translate(ctx, err, "migrate: lock")
	}
	defer func() {
		_, _ = conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrationLock)
	}()

	// Created under the lock: concurrent CREATE TABLE IF NOT EXISTS can
	// still collide in the catalogue.
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    text PRIMARY KEY,
		applied_at timestamptz NOT NULL DEFAULT now()
	)`); err != nil {
		return translate(ctx, err, "migrate: create schema_migrations")
	}
	rows, err := conn.Query(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return translate(ctx, err, "migrate: read schema_migrations")
	}
	applied := map[string]bool{}
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return translate(ctx, err, "migrate: read schema_migrations")
		}
		applied[v] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return translate(ctx, err, "migrate: read schema_migrations")
	}

	for _, m := range all {
		if applied[m.version] {
			continue
		}
		tx, err := conn.Begin(ctx)
		if err != nil {
			return translate(ctx, err, "migrate: begin")
		}
		// Exec without arguments uses the simple protocol, which runs a
		// file of several statements.
		if _, err := tx.Exec(ctx, m.sql); err != nil {
			_ = tx.Rollback(ctx)
			return translate(ctx, err, "migrate "+m.version)
		}
		if _, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version) VALUES ($1)", m.version); err != nil {
			_ = tx.Rollback(ctx)
			return translate(ctx, err, "migrate "+m.version)
		}
		if err := tx.Commit(ctx); err != nil {
			return translate(ctx, err, "migrate "+m.version)
		}
	}
	return nil
}
