package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

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

// TestFilesArePrivate opens a new database and writes to it: the database
// file and the -wal and -shm files SQLite makes beside it are readable by
// their owner only, whatever the umask lets through.
func TestFilesArePrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	path := filepath.Join(t.TempDir(), "keyhub.db")
	s := open(t, path)
	if err := s.Update(context.Background(), func(tx keyhub.Tx) error {
		return tx.CreateScope(context.Background(), &keyhub.ScopeEntry{Name: "a:read", CreatedAt: time.Now().UTC()})
	}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if mode := fi.Mode().Perm(); mode != 0o600 {
			t.Errorf("%s has mode %o, want 600", filepath.Base(name), mode)
		}
	}
}
