package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/store/sqlite"
	"github.com/keyhub/keyhub/internal/store/storetest"
)

// open opens a store on the file at path, closed when the test ends.
func open(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// TestStore runs the conformance suite. A database is a file; every store
// the suite opens on it is another handle on that file, as another keyhub
// process would have. SQLite keeps NUL and invalid UTF-8 in text columns,
// so the suite accepts a faithful round trip of such text.
func TestStore(t *testing.T) {
	storetest.Run(t, storetest.Backend{
		NewDatabase: func(t *testing.T) func() keyhub.Store {
			path := filepath.Join(t.TempDir(), "keyhub.db")
			return func() keyhub.Store { return open(t, path) }
		},
	})
}
