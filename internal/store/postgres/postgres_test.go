package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/store/postgres"
	"github.com/keyhub/keyhub/internal/store/postgres/pgtest"
	"github.com/keyhub/keyhub/internal/store/storetest"
)

var ctx = context.Background()

// open returns a store on a fresh database, closed when the test ends.
func open(t *testing.T) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(ctx, pgtest.URL(t))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	// Registered after pgtest's cleanup, so it runs first: the pool closes
	// before the database is dropped.
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) keyhub.Store { return open(t) })
}

// TestOpenConcurrentMigrates starts several nodes on one empty database at
// once: the advisory lock must let exactly one apply each migration.
func TestOpenConcurrentMigrates(t *testing.T) {
	url := pgtest.URL(t)
	const nodes = 8
	var wg sync.WaitGroup
	errs := make(chan error, nodes)
	for range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := postgres.Open(ctx, url)
			if err == nil {
				err = s.Close()
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent Open: %v", err)
		}
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM schema_migrations").Scan(&n); err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob("migrations/*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("no migration files: %v", err)
	}
	if n != len(files) {
		t.Errorf("schema_migrations has %d rows, want %d", n, len(files))
	}
}

func TestOpenUnreachableIsUnavailable(t *testing.T) {
	c, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	// Port 1 on loopback refuses connections at once.
	_, err := postgres.Open(c, "postgres://keyhub:s3cret-pw@127.0.0.1:1/keyhub?sslmode=disable&connect_timeout=2")
	if !keyhub.IsKind(err, keyhub.KindUnavailable) {
		t.Fatalf("Open = %v (kind %q), want unavailable", err, keyhub.ErrorKind(err))
	}
	if strings.Contains(err.Error(), "s3cret-pw") {
		t.Errorf("error reveals the password: %v", err)
	}
}

func TestClosedStoreIsUnavailable(t *testing.T) {
	s, err := postgres.Open(ctx, pgtest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	err = s.View(ctx, func(keyhub.Tx) error { return nil })
	if !keyhub.IsKind(err, keyhub.KindUnavailable) {
		t.Fatalf("View after Close = %v (kind %q), want unavailable", err, keyhub.ErrorKind(err))
	}
}

// TestErrorsNeverHoldTheHash checks that a duplicate-hash conflict names no
// part of the hash, in hex or otherwise.
func TestErrorsNeverHoldTheHash(t *testing.T) {
	s := open(t)
	now := time.Now().UTC().Truncate(time.Microsecond)
	k := &keyhub.APIKey{
		ID: keyhub.NewID(keyhub.PrefixAPIKey, now), Name: "k", Environment: "live", Start: "kh_live_AbCd",
		Hash: []byte("0123456789abcdef0123456789abcdef"), Enabled: true, CreatedAt: now, UpdatedAt: now,
	}
	if err := s.Update(ctx, func(tx keyhub.Tx) error { return tx.CreateAPIKey(ctx, k) }); err != nil {
		t.Fatal(err)
	}
	dup := *k
	dup.ID = keyhub.NewID(keyhub.PrefixAPIKey, now.Add(time.Millisecond))
	err := s.Update(ctx, func(tx keyhub.Tx) error { return tx.CreateAPIKey(ctx, &dup) })
	if !keyhub.IsKind(err, keyhub.KindConflict) {
		t.Fatalf("duplicate hash = %v, want conflict", err)
	}
	if msg := err.Error(); strings.Contains(msg, "0123456789abcdef") || strings.Contains(msg, "3031323334") {
		t.Errorf("error reveals the hash: %s", msg)
	}
}

// TestConflictLeavesTransactionUsable checks that an expected conflict does
// not abort the PostgreSQL transaction, as it would not in SQLite.
func TestConflictLeavesTransactionUsable(t *testing.T) {
	s := open(t)
	now := time.Now().UTC().Truncate(time.Microsecond)
	ten := &keyhub.Tenant{ID: keyhub.NewID(keyhub.PrefixTenant, now), Name: "t", CreatedAt: now, UpdatedAt: now}
	r := &keyhub.Role{ID: keyhub.NewID(keyhub.PrefixRole, now), TenantID: ten.ID, Name: "r", CreatedAt: now, UpdatedAt: now}
	k := &keyhub.APIKey{
		ID: keyhub.NewID(keyhub.PrefixAPIKey, now), TenantID: ten.ID, Name: "k", Environment: "live",
		Hash: []byte("h"), RoleID: r.ID, Enabled: true, Meta: json.RawMessage(`{"a":1}`), CreatedAt: now, UpdatedAt: now,
	}
	err := s.Update(ctx, func(tx keyhub.Tx) error {
		if err := tx.CreateTenant(ctx, ten); err != nil {
			return err
		}
		if err := tx.CreateTenant(ctx, ten); !keyhub.IsKind(err, keyhub.KindConflict) {
			return errors.New("duplicate tenant: want conflict, got " + errString(err))
		}
		if err := tx.CreateRole(ctx, r); err != nil {
			return err
		}
		if err := tx.CreateAPIKey(ctx, k); err != nil {
			return err
		}
		err := tx.DeleteRole(ctx, ten.ID, r.ID)
		var ke *keyhub.Error
		if !errors.As(err, &ke) || ke.Code != "role_in_use" {
			return errors.New("delete used role: want role_in_use, got " + errString(err))
		}
		_, err = tx.GetRole(ctx, ten.ID, r.ID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func errString(err error) string {
	if err == nil {
		return "nil"
	}
	return err.Error()
}

// TestNamePrefixIsLiteral checks that LIKE wildcards in a name prefix match
// only themselves.
func TestNamePrefixIsLiteral(t *testing.T) {
	s := open(t)
	now := time.Now().UTC().Truncate(time.Microsecond)
	ten := &keyhub.Tenant{ID: keyhub.NewID(keyhub.PrefixTenant, now), Name: "t", CreatedAt: now, UpdatedAt: now}
	names := []string{"a_b", "axb", "50%", "500", `x\y`, "xy"}
	err := s.Update(ctx, func(tx keyhub.Tx) error {
		if err := tx.CreateTenant(ctx, ten); err != nil {
			return err
		}
		for i, n := range names {
			at := now.Add(time.Duration(i) * time.Millisecond)
			k := &keyhub.APIKey{ID: keyhub.NewID(keyhub.PrefixAPIKey, at), TenantID: ten.ID, Name: n,
				Environment: "live", Hash: []byte(n), Enabled: true, CreatedAt: at, UpdatedAt: at}
			if err := tx.CreateAPIKey(ctx, k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for prefix, want := range map[string]string{"a_": "a_b", "50%": "50%", `x\`: `x\y`} {
		var got []*keyhub.APIKey
		err := s.View(ctx, func(tx keyhub.Tx) error {
			var err error
			got, err = tx.ListAPIKeys(ctx, ten.ID, keyhub.APIKeyFilter{NamePrefix: prefix})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Name != want {
			t.Errorf("NamePrefix %q matched %d keys, want only %q", prefix, len(got), want)
		}
	}
}

// TestConcurrentBootstrapCreatesOneKey runs the bootstrap pattern, count
// operator keys and create one when there is none, on many nodes at once.
func TestConcurrentBootstrapCreatesOneKey(t *testing.T) {
	url := pgtest.URL(t)
	const nodes = 16
	stores := make([]*postgres.Store, nodes)
	for i := range stores {
		s, err := postgres.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		stores[i] = s
	}
	var wg sync.WaitGroup
	for i, s := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.Update(ctx, func(tx keyhub.Tx) error {
				n, err := tx.CountOperatorKeys(ctx)
				if err != nil || n > 0 {
					return err
				}
				now := time.Now().UTC().Truncate(time.Microsecond)
				return tx.CreateAPIKey(ctx, &keyhub.APIKey{
					ID: keyhub.NewID(keyhub.PrefixAPIKey, now), Name: "op", Environment: "operator",
					Hash: []byte{byte(i)}, Enabled: true, CreatedAt: now, UpdatedAt: now,
				})
			})
			if err != nil {
				t.Errorf("bootstrap: %v", err)
			}
		}()
	}
	wg.Wait()
	err := stores[0].View(ctx, func(tx keyhub.Tx) error {
		n, err := tx.CountOperatorKeys(ctx)
		if err == nil && n != 1 {
			t.Errorf("%d operator keys after concurrent bootstrap, want 1", n)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
