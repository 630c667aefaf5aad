package apperr

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

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
	PgAdminShutdown        = "57P01" // the server is shutting down or an administrator ended the backend
	PgCrashShutdown        = "57P02" // another backend crashed: the server is restarting
	PgCannotConnectNow     = "57P03" // the server is starting up, shutting down or in recovery
	PgTooManyConnections   = "53300"
	pgConnectionClass      = "08" // connection_exception: 08000, 08003, 08006, 08001, 08004, 08P01
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

// IsUnavailable reports whether err means the database could not be reached, was lost or is
// restarting, or the caller gave up: a 503, never a 500. For errors of database calls only: any
// syscall error passes for a net.Error.
func IsUnavailable(err error) bool {
	var netErr net.Error
	switch {
	case err == nil:
		return false
	case IsDatabaseDown(err), errors.As(err, &netErr):
		return true
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return true
	}
	return false
}

// IsDatabaseDown reports whether err came from a database that could not be reached (connect
// failed, too many connections, timed out), was lost or is restarting (IsConnectionLost). Unlike
// IsUnavailable it holds for database errors only, so that it can judge an error of any origin.
func IsDatabaseDown(err error) bool {
	var connErr *pgconn.ConnectError
	switch {
	case err == nil:
		return false
	case errors.As(err, &connErr), IsConnectionLost(err), PgCode(err) == PgTooManyConnections:
		return true
	}
	return pgconn.SafeToRetry(err) || pgconn.Timeout(err)
}

// IsConnectionLost reports whether err means the connection to PostgreSQL broke or the server is
// shutting down or restarting: SQLSTATE 57P01, 57P02, 57P03 or class 08, or the socket failed
// (EOF, reset, broken pipe, refused, closed). Whatever the statement did is rolled back unless it
// was a COMMIT (or an autocommitted statement), whose outcome is then unknown.
func IsConnectionLost(err error) bool {
	if err == nil {
		return false
	}
	switch code := PgCode(err); {
	case code == PgAdminShutdown, code == PgCrashShutdown, code == PgCannotConnectNow:
		return true
	case strings.HasPrefix(code, pgConnectionClass):
		return true
	case code != "":
		return false // any other error the server sent: the connection worked
	}
	for _, target := range []error{io.EOF, io.ErrUnexpectedEOF, syscall.ECONNRESET, syscall.EPIPE,
		syscall.ECONNREFUSED, syscall.ECONNABORTED, net.ErrClosed, driver.ErrBadConn, sql.ErrConnDone, pgconn.ErrConnClosed} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}
