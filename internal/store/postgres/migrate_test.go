package postgres_test

import (
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/store/postgres"
	"github.com/keyhub/keyhub/internal/store/postgres/pgtest"
)

// schemaUpTo creates, on a fresh database, the schema of the migrations
// named, recorded as applied, and returns the database's URL and a
// connection to it.
func schemaUpTo(t *testing.T, versions ...string) (string, *pgx.Conn) {
	t.Helper()
	url := pgtest.URL(t)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(ctx) })
	if _, err := conn.Exec(ctx, `CREATE TABLE schema_migrations (version text PRIMARY KEY,
		applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		t.Fatal(err)
	}
	for _, v := range versions {
		body, err := os.ReadFile("migrations/" + v + ".sql")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(ctx, string(body)); err != nil {
			t.Fatalf("apply %s: %v", v, err)
		}
		if _, err := conn.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, v); err != nil {
			t.Fatal(err)
		}
	}
	return url, conn
}

// TestMigrationKeepsExistingClients upgrades a database whose clients
// predate the token epoch: they come back in epoch 0, the epoch of every
// token issued so far.
func TestMigrationKeepsExistingClients(t *testing.T) {
	url, conn := schemaUpTo(t, "0001_init", "0002_limits_usage_oauth")
	now := time.Now().UTC().Truncate(time.Microsecond)
	_, err := conn.Exec(ctx, `INSERT INTO clients (id, name, secret_hash, token_ttl_ns, enabled, creator_type,
		creator_id, created_at, updated_at) VALUES ('cli_old', 'old', '\x01', 60000000000, true, 'system', '', $1, $1)`, now)
	if err != nil {
		t.Fatal(err)
	}
	s, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatalf("Open over the second schema: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
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
