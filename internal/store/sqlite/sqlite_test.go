package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/keyhub/keyhub"
	"github.com/keyhub/keyhub/internal/store/sqlite"
	"github.com/keyhub/keyhub/internal/store/storetest"
)

func open(t *testing.T) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "keyhub.db"))
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

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) keyhub.Store { return open(t) })
}
