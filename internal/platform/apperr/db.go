package apperr

import (
	"context"
	"errors"
	"net"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
)

// PostgreSQL error codes we map (https://www.postgresql.org/docs/current/errcodes-appendix.html).
const (
	PgUniqueViolation      = "23505"
	PgForeignKeyViolation  = "23503"
	PgCheckViolation       = "23514"
	PgBadCharacter         = "22021" // character_not_in_repertoire: NUL or invalid UTF-8 in text
	PgSerializationFailure = "40001"
	PgDeadlockDetected     = "40P01"
)

// PgCode returns the SQLSTATE of a PostgreSQL error inside err, or "".
func PgCode(err error) string {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code
	}
	return ""
}

// PgConstraint returns the constraint named by a PostgreSQL error inside err, or "".
func PgConstraint(err error) string {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.ConstraintName
	}
	return ""
}

// DB classifies an error from the database. Only gorm.ErrRecordNotFound means "not found"
// (reported as `what` not found); an unreachable database is Unavailable (503), never a 404.
// Errors already typed pass through; anything else is returned as is (a 500).
func DB(err error, what string) error {
	if err == nil {
		return nil
	}
	if _, ok := As(err); ok {
		return err
	}
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return NotFound(what)
	}
	if PgCode(err) == PgBadCharacter {
		return Invalid(Field("body", "holds a character the database cannot store (NUL or invalid UTF-8)"))
	}
	if IsUnavailable(err) {
		return Unavailable("the database", err)
	}
	return err
}

// IsUnavailable reports whether err means the database could not be reached or the caller gave up.
func IsUnavailable(err error) bool {
	var netErr net.Error
	var connErr *pgconn.ConnectError
	switch {
	case errors.As(err, &connErr), errors.As(err, &netErr):
		return true
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return true
	}
	return pgconn.SafeToRetry(err) || pgconn.Timeout(err)
}
