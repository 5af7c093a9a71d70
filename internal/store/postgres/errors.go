package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/keyhub/keyhub"
)

// SQLSTATE codes the store translates.
const (
	codeUniqueViolation      = "23505"
	codeForeignKeyViolation  = "23503"
	codeCheckViolation       = "23514"
	codeNumericOutOfRange    = "22003"
	codeBadEncoding          = "22021" // NUL or invalid UTF-8 in text
	codeUntranslatable       = "22P05" // \u0000 in jsonb
	codeInvalidText          = "22P02" // among others, a lone surrogate escape in jsonb
	codeQueryCanceled        = "57014"
	codeSerializationFailure = "40001"
	codeDeadlockDetected     = "40P01"
)

// creditsCheck is the constraint that keeps a balance at or above zero.
const creditsCheck = "api_keys_credits_remaining_check"

// jsonRoutine is the server function that reports every jsonb input error.
const jsonRoutine = "json_ereport_error"

// translate turns a driver error into the errors keyhub.Store promises: a
// store error of the root package wrapped with op, a context error, or, for
// anything unexpected, the driver error wrapped with op.
//
// Mapped errors carry nothing of the server's message: a constraint's
// Detail quotes the offending row (a key hash, say) and an encoding error
// quotes the bytes, so the rule "no value in an error" is kept by carrying
// none. Only ErrUnavailable keeps its cause, for the logs.
func translate(ctx context.Context, err error, op string) error {
	if err == nil {
		return nil
	}
	var ke *keyhub.Error
	if errors.As(err, &ke) {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return wrap(op, err)
	}
	code := pgCode(err)
	if ctx.Err() != nil && (code == codeQueryCanceled || code == "" || isConnectionCode(code)) {
		// The caller gave up: pgx cancelled the statement or dropped the
		// connection under it. The database may be fine.
		return wrap(op, ctx.Err())
	}
	if isNoRows(err) {
		return fail(op, keyhub.ErrNotFound)
	}
	switch {
	case code == codeUniqueViolation:
		return fail(op, keyhub.ErrExists)
	case code == codeForeignKeyViolation:
		return fail(op, keyhub.ErrReferenced)
	case code == codeCheckViolation && constraint(err) == creditsCheck:
		return fail(op, keyhub.ErrBelowZero)
	case code == codeNumericOutOfRange:
		return fail(op, keyhub.ErrOutOfRange)
	case code == codeBadEncoding, code == codeUntranslatable:
		return fail(op, keyhub.ErrUnstorableText)
	case code == codeInvalidText && routine(err) == jsonRoutine:
		// jsonb refuses a lone surrogate escape ("\ud800") as invalid
		// input syntax, told apart from a syntax error only by a localised
		// detail. The store is handed JSON its caller has parsed, so what
		// the jsonb parser refuses is JSON it cannot hold.
		return fail(op, keyhub.ErrUnstorableText)
	case code == codeSerializationFailure, code == codeDeadlockDetected:
		// Transient: the same request would succeed on retry.
		return unavailable(op, err)
	case isConnectionCode(code):
		return unavailable(op, err)
	case code != "":
		return wrap(op, err)
	}
	if isConnectionError(err) {
		return unavailable(op, err)
	}
	return wrap(op, err)
}

// fail wraps a store error of the root package with the operation, so that
// logs say what failed while errors.As finds the sentinel itself.
func fail(op string, sentinel *keyhub.Error) error {
	return fmt.Errorf("postgres: %s: %w", op, sentinel)
}

// unavailable is ErrUnavailable that still unwraps to its cause: errors.As
// finds the sentinel first, so callers answer "store unavailable", and the
// cause stays in the chain for logs.
func unavailable(op string, cause error) error {
	return fmt.Errorf("postgres: %s: %w: %w", op, keyhub.ErrUnavailable, cause)
}

// isConnectionCode reports SQLSTATEs that mean the server cannot serve us
// now: connection exceptions (class 08), shutdown and start-up (57P0x) and
// too many connections.
func isConnectionCode(code string) bool {
	switch {
	case strings.HasPrefix(code, "08"):
		return true
	case code == "57P01", code == "57P02", code == "57P03", code == "53300":
		return true
	}
	return false
}

// isConnectionError reports client-side failures to reach the server.
func isConnectionError(err error) bool {
	var ce *pgconn.ConnectError
	var ne net.Error
	switch {
	case errors.As(err, &ce), errors.As(err, &ne):
		return true
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		return true
	case pgconn.Timeout(err), pgconn.SafeToRetry(err):
		return true
	case strings.Contains(err.Error(), "closed pool"):
		// pgxpool reports use after Close only by message.
		return true
	}
	return false
}

// constraint names the constraint a server error is about, or "".
func constraint(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.ConstraintName
	}
	return ""
}

// routine names the server function that raised an error, or "". Unlike
// the message it does not depend on the server's language.
func routine(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Routine
	}
	return ""
}
