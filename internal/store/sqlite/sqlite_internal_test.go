package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyhub/keyhub"
	"modernc.org/sqlite"
)

func openAt(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestMigrateIsIdempotent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keyhub.db")
	s := openAt(t, path)
	if err := Migrate(context.Background(), s.write); err != nil {
		t.Fatalf("Migrate again: %v", err)
	}
	s.Close()
	s2 := openAt(t, path) // reopening runs the migrations a third time
	var n int
	if err := s2.read.QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	names, _ := migrations.ReadDir("migrations")
	if n != len(names) {
		t.Errorf("schema_migrations has %d rows, want %d", n, len(names))
	}
}

func TestPragmasApplied(t *testing.T) {
	s := openAt(t, filepath.Join(t.TempDir(), "keyhub.db"))
	check := func(pool, pragma, want string) {
		t.Helper()
		db := s.read
		if pool == "write" {
			db = s.write
		}
		var got string
		if err := db.QueryRow("PRAGMA " + pragma).Scan(&got); err != nil {
			t.Fatalf("%s PRAGMA %s: %v", pool, pragma, err)
		}
		if !strings.EqualFold(got, want) {
			t.Errorf("%s PRAGMA %s = %s, want %s", pool, pragma, got, want)
		}
	}
	for _, pool := range []string{"read", "write"} {
		check(pool, "journal_mode", "wal")
		check(pool, "foreign_keys", "1")
		check(pool, "busy_timeout", "10000")
		check(pool, "synchronous", "1")
	}
}

// TestBusyIsUnavailable holds the write lock from another connection and
// writes through a store whose connections do not wait for it: SQLITE_BUSY
// must reach the caller as ErrUnavailable, whose message says nothing of
// the driver, with the driver's error kept in the chain for logs.
func TestBusyIsUnavailable(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "keyhub.db")
	openAt(t, path) // creates and migrates the file

	holder, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	lock, err := holder.BeginTx(ctx, nil) // BEGIN IMMEDIATE: takes the write lock
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Rollback()

	impatient, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(0)&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	s := &Store{read: impatient, write: impatient}
	defer s.Close()
	err = s.Update(ctx, func(tx keyhub.Tx) error { return nil })
	var ke *keyhub.Error
	if !errors.As(err, &ke) || ke != keyhub.ErrUnavailable || ke.Error() != "store unavailable" {
		t.Fatalf("Update while another connection writes = %v, want keyhub.ErrUnavailable", err)
	}
	var serr *sqlite.Error
	if !errors.As(err, &serr) {
		t.Errorf("error %v does not keep the driver's error for logs", err)
	}
}

// TestMigrationKeepsExistingClients upgrades a file whose clients predate
// the token epoch: they come back in epoch 0, the epoch of every token
// issued so far.
func TestMigrationKeepsExistingClients(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "keyhub.db")
	db, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE schema_migrations (version TEXT PRIMARY KEY, applied_at INTEGER NOT NULL) STRICT`); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"0001_init", "0002_limits_usage_oauth"} {
		body, err := migrations.ReadFile("migrations/" + v + ".sql")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, string(body)); err != nil {
			t.Fatalf("apply %s: %v", v, err)
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO schema_migrations VALUES (?, 0)`, v); err != nil {
			t.Fatal(err)
		}
	}
	_, err = db.ExecContext(ctx, `INSERT INTO clients (id, name, secret_hash, scopes, audiences, token_ttl_ns,
		enabled, creator_type, creator_id, created_at, updated_at)
		VALUES ('cli_old', 'old', x'01', '[]', '[]', 60000000000, 1, 'system', '', 0, 0)`)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}

	s := openAt(t, path)
	var c *keyhub.Client
	err = s.View(ctx, func(tx keyhub.Tx) error {
		c, err = tx.LookupClient(ctx, "cli_old")
		return err
	})
	if err != nil {
		t.Fatalf("LookupClient after the upgrade: %v", err)
	}
	if c.Name != "old" || c.TokenEpoch != 0 {
		t.Errorf("migrated client = %+v, want the old client in epoch 0", c)
	}
}
