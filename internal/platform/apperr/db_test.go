package apperr

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// A server restart or a broken connection is Unavailable (503), whatever shape it reaches us in;
// errors the server sent about the statement itself are not.
func TestConnectionLostIsUnavailable(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("failed to receive message: %w", err) }
	lost := map[string]error{
		"57P01 admin shutdown":      &pgconn.PgError{Severity: "FATAL", Code: "57P01"},
		"57P02 crash shutdown":      &pgconn.PgError{Severity: "FATAL", Code: "57P02"},
		"57P03 cannot connect now":  &pgconn.PgError{Severity: "FATAL", Code: "57P03"},
		"08006 connection failure":  &pgconn.PgError{Severity: "FATAL", Code: "08006"},
		"08P01 protocol violation":  &pgconn.PgError{Severity: "FATAL", Code: "08P01"},
		"EOF":                       wrap(io.EOF),
		"unexpected EOF":            wrap(io.ErrUnexpectedEOF),
		"connection reset":          wrap(&net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}),
		"broken pipe (bare errno)":  wrap(syscall.EPIPE),
		"closed network connection": wrap(net.ErrClosed),
		"pgx conn closed":           wrap(pgconn.ErrConnClosed),
	}
	for name, err := range lost {
		if !IsConnectionLost(err) || !IsUnavailable(err) {
			t.Errorf("%s: connection lost %v, unavailable %v", name, IsConnectionLost(err), IsUnavailable(err))
		}
		if e := DB(err, "order"); !Is(e, KindUnavailable) {
			t.Errorf("%s: DB gives %v, want Unavailable", name, e)
		}
	}
	notLost := map[string]error{
		"unique violation": &pgconn.PgError{Code: PgUniqueViolation},
		"deadlock":         &pgconn.PgError{Code: PgDeadlockDetected},
		"syntax":           &pgconn.PgError{Code: "42601"},
		"plain":            errors.New("boom"),
		"nil":              nil,
	}
	for name, err := range notLost {
		if IsConnectionLost(err) || IsUnavailable(err) {
			t.Errorf("%s: taken for a lost connection", name)
		}
	}
	if !IsUnavailable(context.DeadlineExceeded) || IsConnectionLost(context.DeadlineExceeded) {
		t.Error("a timeout is unavailable, but not a lost connection")
	}
	unknown := OutcomeUnknown(lost["57P01 admin shutdown"])
	if !Is(unknown, KindUnavailable) || !errors.Is(unknown, ErrOutcomeUnknown) || !IsConnectionLost(unknown) {
		t.Errorf("OutcomeUnknown: %v", unknown)
	}
}
