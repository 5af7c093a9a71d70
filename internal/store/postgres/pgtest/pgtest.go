// Package pgtest gives tests a fresh, empty PostgreSQL database each. The
// server comes from the KEYHUB_TEST_POSTGRES environment variable, e.g.
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable; tests skip
// when it is unset.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvVar names the environment variable holding the server URL.
const EnvVar = "KEYHUB_TEST_POSTGRES"

// URL creates a database named keyhub_test_<random> on the server of
// KEYHUB_TEST_POSTGRES, drops it (disconnecting any session) when the test
// ends, and returns its URL. It skips the test when the variable is unset.
func URL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvVar)
	if base == "" {
		t.Skipf("%s is not set; skipping PostgreSQL test", EnvVar)
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	name := "keyhub_test_" + hex.EncodeToString(b[:])

	// The name is generated here from hex digits, so it is safe in SQL.
	admin(t, base, "CREATE DATABASE "+name+" TEMPLATE template0")
	t.Cleanup(func() { admin(t, base, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") })

	u, err := withDatabase(base, name)
	if err != nil {
		t.Fatalf("pgtest: %s: %v", EnvVar, err)
	}
	return u
}

// admin runs one statement on the base database.
func admin(t testing.TB, base, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("pgtest: connect to %s: %v", EnvVar, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("pgtest: %s: %v", sql, err)
	}
}

// withDatabase returns base with its database replaced by name. It accepts
// URLs and keyword/value connection strings.
func withDatabase(base, name string) (string, error) {
	if strings.HasPrefix(base, "postgres://") || strings.HasPrefix(base, "postgresql://") {
		u, err := url.Parse(base)
		if err != nil {
			return "", err
		}
		u.Path = "/" + name
		u.RawPath = ""
		return u.String(), nil
	}
	// In a keyword/value string the last occurrence of a keyword wins.
	return base + " dbname=" + name, nil
}
