package sqlite

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyhub/keyhub"
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

// TestTwoProcessesShareFile checks that two stores on one file, as two keyhub
// processes would be, queue their writers instead of failing.
func TestTwoProcessesShareFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keyhub.db")
	stores := []*Store{openAt(t, path), openAt(t, path)}
	now := time.Now().UTC()
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for i := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- stores[i%2].Update(context.Background(), func(tx keyhub.Tx) error {
				if _, err := tx.ListTenants(context.Background(), keyhub.Page{Limit: 1}); err != nil {
					return err
				}
				when := now.Add(time.Duration(i) * time.Millisecond)
				return tx.CreateTenant(context.Background(), &keyhub.Tenant{
					ID: keyhub.NewID(keyhub.PrefixTenant, when), Name: "t", CreatedAt: when, UpdatedAt: when,
				})
			})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Update: %v", err)
		}
	}
}

func TestCanceledContextPassesThrough(t *testing.T) {
	s := openAt(t, filepath.Join(t.TempDir(), "keyhub.db"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := s.View(ctx, func(tx keyhub.Tx) error {
		_, err := tx.ListTenants(ctx, keyhub.Page{})
		return err
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("View with canceled context = %v, want context.Canceled", err)
	}
	err = s.Update(ctx, func(tx keyhub.Tx) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Update with canceled context = %v, want context.Canceled", err)
	}
}

// TestErrorsHoldNoHash checks that the errors a key's hash can reach name
// neither the hash nor its hex or raw bytes.
func TestErrorsHoldNoHash(t *testing.T) {
	s := openAt(t, filepath.Join(t.TempDir(), "keyhub.db"))
	ctx := context.Background()
	sum := sha256.Sum256([]byte("kh_live_secret"))
	hash := sum[:]
	now := time.Now().UTC()
	key := func() *keyhub.APIKey {
		return &keyhub.APIKey{ID: keyhub.NewID(keyhub.PrefixAPIKey, now), Name: "k", Environment: "live",
			Hash: hash, Enabled: true, Creator: keyhub.Actor{Type: "system"}, CreatedAt: now, UpdatedAt: now}
	}
	var errs []error
	errs = append(errs, s.Update(ctx, func(tx keyhub.Tx) error { return tx.CreateAPIKey(ctx, key()) }))
	errs = append(errs, s.Update(ctx, func(tx keyhub.Tx) error { return tx.CreateAPIKey(ctx, key()) }))
	errs = append(errs, s.View(ctx, func(tx keyhub.Tx) error {
		_, err := tx.GetAPIKeyByHash(ctx, bytes.Repeat([]byte{0xab}, 32))
		return err
	}))
	if errs[0] != nil {
		t.Fatalf("CreateAPIKey: %v", errs[0])
	}
	for _, err := range errs[1:] {
		if err == nil {
			t.Fatal("expected an error")
		}
		msg := err.Error()
		for _, leak := range []string{fmt.Sprintf("%x", hash), "abababab", string(hash), "secret"} {
			if strings.Contains(msg, leak) {
				t.Errorf("error %q leaks %q", msg, leak)
			}
		}
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
