package procurement

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
)

// A lost connection is retried once (every fn given to retry is idempotent); a second loss is
// returned, and so is a COMMIT whose outcome is unknown, at once.
func TestRetryLostConnection(t *testing.T) {
	ctx := context.Background()
	lost := &pgconn.PgError{Severity: "FATAL", Code: apperr.PgAdminShutdown}
	calls := 0
	if err := retry(ctx, func() error {
		calls++
		if calls == 1 {
			return lost
		}
		return nil
	}); err != nil || calls != 2 {
		t.Fatalf("after one lost connection: %v in %d calls", err, calls)
	}
	calls = 0
	if err := retry(ctx, func() error { calls++; return lost }); !errors.Is(err, lost) || calls != 2 {
		t.Fatalf("always lost: %v in %d calls", err, calls)
	}
	calls = 0
	unknown := apperr.OutcomeUnknown(lost)
	if err := retry(ctx, func() error { calls++; return unknown }); !errors.Is(err, apperr.ErrOutcomeUnknown) || calls != 1 {
		t.Fatalf("commit outcome unknown: %v in %d calls", err, calls)
	}
}
