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

// translate turns a driver error into the errors keyhub.Store promises: a
// store error of the root package (wrapped with op for logs), a context
// error, or, for anything unexpected, the driver error wrapped with op.
//
// Mapped errors keep nothing of the driver's message: SQLite's names only
// columns, but the rule "no value in an error" is easiest kept by carrying
// none. Only ErrUnavailable keeps its cause, for the logs of an operator
// chasing a locked file.
func translate(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	var kerr *keyhub.Error
	if errors.As(err, &kerr) {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("sqlite: %s: %w", op, err)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return fail(op, keyhub.ErrNotFound)
	}
	var serr *sqlite.Error
	if errors.As(err, &serr) {
		switch code := serr.Code(); {
		case code == sqlite3.SQLITE_CONSTRAINT_UNIQUE, code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fail(op, keyhub.ErrExists)
		case code == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY,
			// ON DELETE RESTRICT is enforced by an internal trigger, so the
			// violation arrives as a trigger constraint with this message.
			code == sqlite3.SQLITE_CONSTRAINT_TRIGGER && strings.Contains(serr.Error(), "FOREIGN KEY constraint failed"):
			return fail(op, keyhub.ErrReferenced)
		case code == sqlite3.SQLITE_CONSTRAINT_CHECK:
			// The schema's only CHECK is credits_remaining >= 0.
			return fail(op, keyhub.ErrBelowZero)
		case code == sqlite3.SQLITE_CONSTRAINT_DATATYPE:
			// SQLite turns an integer sum past int64 into a REAL, which a
			// STRICT INTEGER column refuses. Every value is bound from a Go
			// integer, so overflow is the only way to get here.
			return fail(op, keyhub.ErrOutOfRange)
		case code&0xff == sqlite3.SQLITE_INTERRUPT && ctx.Err() != nil:
			// The driver interrupts a statement when its context ends.
			return fmt.Errorf("sqlite: %s: %w", op, ctx.Err())
		case code&0xff == sqlite3.SQLITE_BUSY, code&0xff == sqlite3.SQLITE_LOCKED,
			code&0xff == sqlite3.SQLITE_CANTOPEN:
			return unavailable(op, err)
		}
	}
	if ctx.Err() != nil {
		return fmt.Errorf("sqlite: %s: %w", op, ctx.Err())
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}

// fail wraps a store error of the root package with the operation, so that
// logs say what failed while errors.As finds the sentinel itself.
func fail(op string, sentinel *keyhub.Error) error {
	return fmt.Errorf("sqlite: %s: %w", op, sentinel)
}

// unavailable is ErrUnavailable that still unwraps to its cause: errors.As
// finds the sentinel first, so callers answer "store unavailable", and the
// cause stays in the chain for logs.
func unavailable(op string, cause error) error {
	return fmt.Errorf("sqlite: %s: %w: %w", op, keyhub.ErrUnavailable, cause)
}
