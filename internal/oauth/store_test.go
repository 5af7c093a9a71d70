package oauth

import (
	"errors"
	"testing"

	"github.com/keyhub/keyhub"
)

// newTestStore returns the store the tests run on.
func newTestStore(t testing.TB) keyhub.Store {
	t.Helper()
	return newMemStore()
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }
