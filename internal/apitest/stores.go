// Package apitest is keyhub's one HTTP test harness. It gives tests fresh
// databases (SQLite always, PostgreSQL when KEYHUB_TEST_POSTGRES is set),
// runs the real server in-process on 127.0.0.1:0 over them, and talks HTTP
// to any keyhub base URL — an in-process server or the binary started by
// cmd/keyhub's tests — with a Client and table-driven Scenarios in the shape
// of PocketBase's tests.ApiScenario.
package apitest

import (
	"crypto/rand"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/keyhub/keyhub/internal/store/postgres/pgtest"
)

// Store is a kind of database the whole-program tests run on.
type Store struct {
	// Name names the store in subtest names: "sqlite" or "postgres".
	Name string
	// New creates a fresh, empty database that lives until t ends and
	// returns its DSN.
	New func(t testing.TB) string
}

// Stores lists the stores every whole-program test runs on: a SQLite file
// always, then PostgreSQL when KEYHUB_TEST_POSTGRES is set.
func Stores() []Store {
	s := []Store{{Name: "sqlite", New: SQLite}}
	if os.Getenv(pgtest.EnvVar) != "" {
		s = append(s, Store{Name: "postgres", New: Postgres})
	}
	return s
}

// EachStore runs f as one subtest per store of Stores, each with a fresh
// database.
func EachStore(t *testing.T, f func(t *testing.T, dsn string)) {
	t.Helper()
	for _, s := range Stores() {
		t.Run(s.Name, func(t *testing.T) { f(t, s.New(t)) })
	}
}

// SQLite returns the DSN of a new SQLite file in a directory of t's own.
// The server creates its master key file beside it.
func SQLite(t testing.TB) string {
	t.Helper()
	return "sqlite:" + filepath.Join(t.TempDir(), "keyhub.db")
}

// Postgres creates a PostgreSQL database that is dropped when t ends and
// returns its URL; it skips t when KEYHUB_TEST_POSTGRES is not set.
func Postgres(t testing.TB) string {
	t.Helper()
	return pgtest.URL(t)
}

// masterKeys holds one master key per PostgreSQL DSN for the life of the
// test process, as an operator keeps one per deployment.
var masterKeys sync.Map

// MasterKey returns the master key (base64 of 32 bytes) every node on dsn
// must be given: the same one for every call with the same dsn. It is ""
// for SQLite, whose server keeps its key in a file beside the database.
func MasterKey(dsn string) string {
	if !IsPostgres(dsn) {
		return ""
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	k, _ := masterKeys.LoadOrStore(dsn, base64.StdEncoding.EncodeToString(b[:]))
	return k.(string)
}

// IsPostgres reports whether dsn names a PostgreSQL database.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}
