package oauth

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/store/sqlite"
)

// newTestStore returns a fresh SQLite store in a temporary directory.
func newTestStore(t testing.TB) keyhub.Store {
	t.Helper()
	return openTestStore(t, filepath.Join(t.TempDir(), "keyhub.db"))
}

// openTestStore opens the database at path; opening one path twice gives
// two handles on one database, as two keyhub processes would have.
func openTestStore(t testing.TB, path string) keyhub.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }
