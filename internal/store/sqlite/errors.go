package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/keyhub/keyhub"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// translate turns a driver error into the error keyhub.Store promises: a
// missing row is KindNotFound, a unique or foreign key violation is
// KindConflict, a database locked past the busy timeout is KindUnavailable,
// a context error passes through, and anything else is wrapped with op.
// Messages name the operation, never the values, so no key hash or secret
// can leak through an error.
func translate(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	var kerr *keyhub.Error
	if errors.As(err, &kerr) {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if errors.Is(err, sql.ErrNoRows) {
		return keyhub.Errorf(keyhub.KindNotFound, "sqlite: %s: not found", op)
	}
	var serr *sqlite.Error
	if errors.As(err, &serr) {
		switch code := serr.Code(); {
		case code == sqlite3.SQLITE_CONSTRAINT_UNIQUE, code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return keyhub.CodedErrorf(keyhub.KindConflict, "already_exists", "%s: already exists", op)
		case code == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY,
			// ON DELETE RESTRICT is enforced by an internal trigger, so the
			// violation arrives as a trigger constraint with this message.
			code == sqlite3.SQLITE_CONSTRAINT_TRIGGER && strings.Contains(serr.Error(), "FOREIGN KEY constraint failed"):
			return keyhub.CodedErrorf(keyhub.KindConflict, "in_use", "%s: refers to or is referred to by another object", op)
		case code&0xff == sqlite3.SQLITE_INTERRUPT && ctx.Err() != nil:
			// The driver interrupts a statement when its context ends.
			return ctx.Err()
		case code&0xff == sqlite3.SQLITE_BUSY, code&0xff == sqlite3.SQLITE_LOCKED:
			return keyhub.Errorf(keyhub.KindUnavailable, "sqlite: %s: database is locked", op)
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}

// notFound is the error for an unknown object of kind what.
func notFound(what, id string) error { return keyhub.NotFound(what, id) }
