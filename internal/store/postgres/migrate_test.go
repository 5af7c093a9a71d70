package postgres_test

import (
	"errors"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/keyhub/keyhub"
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

// TestMigrationKeepsExistingKeys upgrades a database holding a key made
// under the first schema: the key comes back without limits or links.
func TestMigrationKeepsExistingKeys(t *testing.T) {
	url, conn := schemaUpTo(t, "0001_init")
	now := time.Now().UTC().Truncate(time.Microsecond)
	id := keyhub.NewID(keyhub.PrefixAPIKey, now)
	_, err := conn.Exec(ctx, `INSERT INTO api_keys (id, name, environment, start, hash, enabled, creator_type,
		creator_id, created_at, updated_at) VALUES ($1, 'old', 'live', 'kh_live_abcd', '\x01', true, 'system', '', $2, $2)`,
		id, now)
	if err != nil {
		t.Fatal(err)
	}
	s := openURL(t, url)
	var k *keyhub.APIKey
	err = s.View(ctx, func(tx keyhub.Tx) error {
		k, err = tx.GetAPIKey(ctx, "", id)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if k.Name != "old" || k.RateLimit != nil || k.Credits != nil || k.RotatedFrom != "" || k.ReplacedBy != "" {
		t.Errorf("migrated key = %+v, want the old key without limits", k)
	}
	err = s.Update(ctx, func(tx keyhub.Tx) error {
		_, _, err := tx.SpendCredits(ctx, id, 1, time.Time{})
		return err
	})
	if !errors.Is(err, keyhub.ErrNoCredits) {
		t.Errorf("SpendCredits on a migrated key = %v, want ErrNoCredits", err)
	}
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
	s := openURL(t, url)
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
