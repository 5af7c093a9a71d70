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
	codeSerializationFailure = "40001"
	codeDeadlockDetected     = "40P01"
	codeNumericOutOfRange    = "22003"
)

// translate turns a driver error into keyhub's error at the store boundary.
// op names what failed ("list api keys"). Server messages are kept for
// unexpected errors, but a constraint's Detail, which quotes the offending
// values (a key hash, say), is never copied into the result.
func translate(err error, op string) error {
	if err == nil {
		return nil
	}
	var ke *keyhub.Error
	if errors.As(err, &ke) {
		return err
	}
	if isNoRows(err) {
		return keyhub.CodedErrorf(keyhub.KindNotFound, "not_found", "%s: not found", op)
	}
	switch code := pgCode(err); {
	case code == codeUniqueViolation:
		return keyhub.CodedErrorf(keyhub.KindConflict, "already_exists", "%s: %s already exists", op, constraintSubject(err))
	case code == codeForeignKeyViolation:
		return keyhub.CodedErrorf(keyhub.KindConflict, "conflict", "%s: a referenced object is missing or still referenced", op)
	case code == codeNumericOutOfRange:
		// A count or balance beyond bigint, from a caller's huge delta.
		return keyhub.CodedErrorf(keyhub.KindInvalid, "out_of_range", "%s: number out of range", op)
	case code == codeSerializationFailure || code == codeDeadlockDetected:
		// Transient: the same request would succeed on retry.
		return unavailable(op, "transaction aborted by a concurrent one, retry", err)
	case isConnectionCode(code):
		return unavailable(op, "database unavailable", err)
	case code != "":
		return wrap(op, err)
	}
	if isConnectionError(err) {
		return unavailable(op, "database unavailable", err)
	}
	return wrap(op, err)
}

// unavailable is a KindUnavailable error that still unwraps to its cause,
// so logs keep the reason while the HTTP layer sees a 503.
func unavailable(op, msg string, cause error) error {
	return fmt.Errorf("%w: %w", keyhub.CodedErrorf(keyhub.KindUnavailable, "unavailable", "postgres: %s: %s", op, msg), cause)
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
	if errors.Is(err, context.Canceled) {
		// The caller gave up; the database may be fine.
		return false
	}
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

// constraintSubject names, without values, what a unique violation was on.
func constraintSubject(err error) string {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return "object"
	}
	switch pe.ConstraintName {
	case "api_keys_hash_key":
		return "an API key with this secret"
	case "tenants_pkey":
		return "tenant"
	case "scopes_pkey":
		return "scope"
	case "roles_pkey":
		return "role"
	case "api_keys_pkey":
		return "api key"
	case "audit_events_pkey":
		return "audit event"
	case "clients_pkey":
		return "client"
	case "signing_keys_pkey":
		return "signing key"
	}
	return "object"
}
