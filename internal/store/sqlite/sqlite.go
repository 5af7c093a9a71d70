// Package sqlite implements keyhub.Store on an embedded SQLite database
// (modernc.org/sqlite, no cgo). Like pocketbase, it opens the file twice: a
// pool of read connections for View, and a single write connection for
// Update whose transactions begin IMMEDIATE, so writers queue inside the
// process instead of failing with SQLITE_BUSY and a read followed by a write
// in one Update can never lose an update.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"runtime"

	"github.com/keyhub/keyhub"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// Store is a keyhub.Store on one SQLite file.
type Store struct {
	read  *sql.DB
	write *sql.DB
	// byHash is the verification lookup, prepared on the read pool.
	byHash *sql.Stmt
	// spend is SpendCredits' statement, prepared on the write connection:
	// every group of credit spends runs it, and preparing its conditions
	// anew each time was half the cost of a spend.
	spend *sql.Stmt
}

var (
	_ keyhub.Store           = (*Store)(nil)
	_ keyhub.KeyByHashReader = (*Store)(nil)
	_ keyhub.CreditSpender   = (*Store)(nil)
)

// pragmas are set on every connection. WAL lets readers run beside the
// writer; the busy timeout covers other processes holding the write lock;
// foreign keys are off by default in SQLite; NORMAL synchronous is safe
// with WAL (a power loss may drop the last commits, never corrupt).
var pragmas = []string{
	"busy_timeout(10000)",
	"journal_mode(WAL)",
	"foreign_keys(ON)",
	"synchronous(NORMAL)",
	// Verification reads keys by digest from all over the file: map it
	// (reads then copy nothing through SQLite's page cache) and keep the
	// index pages hot in a page cache of 16 MiB a connection.
	"mmap_size(1073741824)",
	"cache_size(-16384)",
}

// dsn returns the driver DSN for path. immediate makes every read-write
// transaction BEGIN IMMEDIATE, taking the write lock up front: a deferred
// transaction that reads and then writes can fail with SQLITE_BUSY, which
// the busy timeout does not retry.
func dsn(path string, immediate bool) string {
	q := url.Values{}
	for _, p := range pragmas {
		q.Add("_pragma", p)
	}
	if immediate {
		q.Set("_txlock", "immediate")
	}
	return "file:" + path + "?" + q.Encode()
}

// Open opens (creating if needed) the SQLite database at path and applies
// the embedded migrations. A new database file is created with mode 0600:
// it holds key digests, sealed secrets and the audit log, which no other
// user of the machine should read. SQLite gives the -wal and -shm files it
// creates beside it the database file's mode.
func Open(ctx context.Context, path string) (*Store, error) {
	if err := createPrivate(path); err != nil {
		return nil, fmt.Errorf("sqlite: create %s: %w", path, err)
	}
	write, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	// One writer: SQLite allows only one anyway, and queueing on the pool
	// is cheaper and fairer than spinning on the file lock.
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)

	// Migrate before the read pool exists, so that journal_mode(WAL) is
	// set on the file by one connection first.
	if err := Migrate(ctx, write); err != nil {
		write.Close()
		return nil, translate(ctx, fmt.Sprintf("open %s", path), err)
	}

	read, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	n := max(4, runtime.NumCPU())
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	read.SetConnMaxIdleTime(0)
	read.SetConnMaxLifetime(0)

	s := &Store{read: read, write: write}
	if err := s.Ping(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if s.byHash, err = read.PrepareContext(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE hash = ?`); err != nil {
		s.Close()
		return nil, translate(ctx, "prepare", err)
	}
	if s.spend, err = write.PrepareContext(ctx, spendCredits); err != nil {
		s.Close()
		return nil, translate(ctx, "prepare", err)
	}
	return s, nil
}

// createPrivate creates an empty file at path with mode 0600 unless one
// exists; an existing database keeps the mode its owner gave it.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return f.Close()
}

// View runs fn in a read-only transaction on the read pool; it sees one
// consistent snapshot of the database.
func (s *Store) View(ctx context.Context, fn func(keyhub.Tx) error) error {
	t, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return translate(ctx, "begin read", err)
	}
	defer t.Rollback()
	if err := fn(&tx{tx: t}); err != nil {
		return err
	}
	// Ending a read transaction changes nothing; rolling back releases the
	// snapshot just the same.
	return nil
}

// Update runs fn in a read-write transaction on the write connection,
// committed when fn returns nil and rolled back otherwise. fn's error is
// returned unchanged.
func (s *Store) Update(ctx context.Context, fn func(keyhub.Tx) error) error {
	t, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return translate(ctx, "begin", err)
	}
	defer t.Rollback()
	if err := fn(&tx{tx: t, spend: s.spend}); err != nil {
		return err
	}
	if err := t.Commit(); err != nil {
		return translate(ctx, "commit", err)
	}
	return nil
}

// Ping reports whether both pools can reach the database.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.read.PingContext(ctx); err != nil {
		return translate(ctx, "ping", err)
	}
	if err := s.write.PingContext(ctx); err != nil {
		return translate(ctx, "ping", err)
	}
	return nil
}

// Close closes both pools.
func (s *Store) Close() error {
	var errs []error
	for _, st := range []*sql.Stmt{s.byHash, s.spend} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	return errors.Join(append(errs, s.read.Close(), s.write.Close())...)
}
