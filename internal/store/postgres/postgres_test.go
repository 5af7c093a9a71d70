package postgres_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/store/postgres"
	"github.com/keyhub/keyhub/internal/store/postgres/pgtest"
	"github.com/keyhub/keyhub/internal/store/storetest"
)

var ctx = context.Background()

// openURL returns a store on the database at url, closed when the test
// ends. Registered after pgtest's cleanup, the close runs first: the pool
// closes before the database is dropped.
func openURL(t *testing.T, url string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// open returns a store on a fresh database.
func open(t *testing.T) *postgres.Store { return openURL(t, pgtest.URL(t)) }

// TestConformance runs the shared suite. A database is a fresh PostgreSQL
// database; every store the suite opens on it is another node, with its
// own pool. PostgreSQL holds no NUL or invalid UTF-8 in text, so the suite
// requires ErrUnstorableText for such text.
func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.Backend{
		NewDatabase: func(t *testing.T) func() keyhub.Store {
			url := pgtest.URL(t)
			return func() keyhub.Store { return openURL(t, url) }
		},
		RefusesUnstorableText: true,
	})
}

// TestOpenConcurrentMigrates starts several nodes on one empty database at
// once: the advisory lock must let exactly one apply each migration.
func TestOpenConcurrentMigrates(t *testing.T) {
	url := pgtest.URL(t)
	const nodes = 8
	var wg sync.WaitGroup
	errs := make(chan error, nodes)
	for range nodes {
		wg.Go(func() {
			s, err := postgres.Open(ctx, url)
			if err == nil {
				err = s.Close()
			}
			errs <- err
		})
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

// wantUnavailable fails unless err is keyhub.ErrUnavailable itself, whose
// message says nothing of the driver, with the cause kept for logs.
func wantUnavailable(t *testing.T, what string, err error) {
	t.Helper()
	var ke *keyhub.Error
	if !errors.As(err, &ke) || ke != keyhub.ErrUnavailable || ke.Error() != "store unavailable" {
		t.Fatalf("%s = %v, want keyhub.ErrUnavailable", what, err)
	}
	if m := multi(err); len(m) != 2 || m[0] != keyhub.ErrUnavailable {
		t.Errorf("%s = %v: want ErrUnavailable with its cause kept for logs", what, err)
	}
}

// multi returns the errors err wraps with several %w.
func multi(err error) []error {
	for err != nil {
		if m, ok := err.(interface{ Unwrap() []error }); ok {
			return m.Unwrap()
		}
		err = errors.Unwrap(err)
	}
	return nil
}

func TestOpenUnreachableIsUnavailable(t *testing.T) {
	c, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	// Port 1 on loopback refuses connections at once.
	_, err := postgres.Open(c, "postgres://keyhub:s3cret-pw@127.0.0.1:1/keyhub?sslmode=disable&connect_timeout=2")
	wantUnavailable(t, "Open", err)
	var ce *pgconn.ConnectError
	if !errors.As(err, &ce) {
		t.Errorf("Open = %v: the connection error is not kept for logs", err)
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
	wantUnavailable(t, "View after Close", s.View(ctx, func(keyhub.Tx) error { return nil }))
}

// TestDeadlockIsUnavailable makes two Updates lock two tenants in opposite
// orders: PostgreSQL aborts one of them, which is transient and must reach
// the caller as ErrUnavailable, the other committing.
func TestDeadlockIsUnavailable(t *testing.T) {
	s := open(t)
	now := time.Now().UTC().Truncate(time.Microsecond)
	tenants := []*keyhub.Tenant{
		{ID: keyhub.NewID(keyhub.PrefixTenant, now), Name: "a", CreatedAt: now, UpdatedAt: now},
		{ID: keyhub.NewID(keyhub.PrefixTenant, now.Add(time.Millisecond)), Name: "b", CreatedAt: now, UpdatedAt: now},
	}
	if err := s.Update(ctx, func(tx keyhub.Tx) error {
		for _, tn := range tenants {
			if err := tx.CreateTenant(ctx, tn); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var both sync.WaitGroup
	both.Add(2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Go(func() {
			errs[i] = s.Update(ctx, func(tx keyhub.Tx) error {
				if _, err := tx.GetTenant(ctx, tenants[i].ID); err != nil { // locks the row
					return err
				}
				both.Done()
				both.Wait() // each holds one lock; now each wants the other's
				_, err := tx.GetTenant(ctx, tenants[1-i].ID)
				return err
			})
		})
	}
	wg.Wait()
	failed := 0
	for _, err := range errs {
		if err != nil {
			failed++
			wantUnavailable(t, "deadlocked Update", err)
		}
	}
	if failed != 1 {
		t.Errorf("%d of 2 deadlocked Updates failed (%v), want 1", failed, errs)
	}
}

// TestPoolSize: a URL without pool_max_conns gets DefaultMaxConns, more than
// pgx's four on a small machine; a URL that sets it is obeyed.
func TestPoolSize(t *testing.T) {
	url := pgtest.URL(t)
	if got := openURL(t, url).Pool().Config().MaxConns; got != postgres.DefaultMaxConns {
		t.Errorf("default pool: %d connections, want %d", got, postgres.DefaultMaxConns)
	}
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	if got := openURL(t, url+sep+"pool_max_conns=3").Pool().Config().MaxConns; got != 3 {
		t.Errorf("pool_max_conns=3: %d connections", got)
	}
}
