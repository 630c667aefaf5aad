package procurement

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
)

// Deadlocks and serialization failures are retried a bounded number of times and then become
// Unavailable (503), never a bare error (500); other errors are not retried.
func TestRetry(t *testing.T) {
	ctx := context.Background()
	calls := 0
	err := retry(ctx, func() error {
		calls++
		if calls < 3 {
			return &pgconn.PgError{Code: apperr.PgDeadlockDetected}
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Fatalf("after 2 deadlocks: %v in %d calls", err, calls)
	}
	calls = 0
	err = retry(ctx, func() error { calls++; return &pgconn.PgError{Code: apperr.PgSerializationFailure} })
	if !apperr.Is(err, apperr.KindUnavailable) || calls != 5 {
		t.Fatalf("always failing: %v in %d calls", err, calls)
	}
	calls = 0
	other := errors.New("boom")
	if err := retry(ctx, func() error { calls++; return other }); err != other || calls != 1 {
		t.Fatalf("other error: %v in %d calls", err, calls)
	}
}
