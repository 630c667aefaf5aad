package database_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/database"
	"github.com/fupinmarket/fupin/internal/platform/dbtest"
)

// onePool opens a pool of one connection on this package's database.
func onePool(t *testing.T) *gorm.DB {
	t.Helper()
	url := dbtest.URL(t)
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	db, err := database.Open(context.Background(), url+sep+"application_name=fupin-lost-test", database.Pool{MaxOpen: 1, MaxIdle: 1, MaxLifetime: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { database.Close(db) })
	return db
}

// terminate ends backend pid from another connection, as a PostgreSQL restart does, and waits
// until it is gone.
func terminate(t *testing.T, pid int) {
	t.Helper()
	admin := dbtest.DB(t)
	if err := admin.Exec("SELECT pg_terminate_backend(?)", pid).Error; err != nil {
		t.Fatal(err)
	}
	for range 500 {
		var n int
		admin.Raw("SELECT count(*) FROM pg_stat_activity WHERE pid = ?", pid).Scan(&n)
		if n == 0 {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatalf("backend %d still there", pid)
}

// A pooled connection whose backend was ended while idle fails at BEGIN (57P01): nothing had
// been sent, so Tx begins again on a new connection and the transaction runs once.
func TestTxRetriesLostConnectionAtBegin(t *testing.T) {
	ctx := context.Background()
	db := onePool(t)
	var old int
	if err := db.Raw("SELECT pg_backend_pid()").Scan(&old).Error; err != nil {
		t.Fatal(err)
	}
	terminate(t, old)
	calls, pid := 0, 0
	err := database.Tx(ctx, db, func(tx *gorm.DB) error {
		calls++
		return tx.Raw("SELECT pg_backend_pid()").Scan(&pid).Error
	})
	if err != nil || calls != 1 || pid == old || pid == 0 {
		t.Fatalf("Tx after the backend %d ended: %v, %d calls, ran on %d", old, err, calls, pid)
	}
}

// A connection lost between the work and COMMIT leaves the outcome unknown: Tx says so with a
// distinct Unavailable error (503) and does not run the transaction again.
func TestTxCommitLostIsOutcomeUnknown(t *testing.T) {
	ctx := context.Background()
	db := onePool(t)
	if err := db.Exec("CREATE TABLE IF NOT EXISTS lost_commit_probe (n int)").Error; err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dbtest.DB(t).Exec("DROP TABLE lost_commit_probe") }) // the migration tests count tables
	calls := 0
	err := database.Tx(ctx, db, func(tx *gorm.DB) error {
		calls++
		var pid int
		if err := tx.Raw("SELECT pg_backend_pid()").Scan(&pid).Error; err != nil {
			return err
		}
		if err := tx.Exec("INSERT INTO lost_commit_probe VALUES (1)").Error; err != nil {
			return err
		}
		terminate(t, pid)
		return nil
	})
	if !errors.Is(err, apperr.ErrOutcomeUnknown) || !apperr.Is(err, apperr.KindUnavailable) || calls != 1 {
		t.Fatalf("commit on a lost connection: %v after %d calls", err, calls)
	}
	var n int
	dbtest.DB(t).Raw("SELECT count(*) FROM lost_commit_probe").Scan(&n)
	if n != 0 {
		t.Fatalf("%d rows of a transaction whose backend ended before COMMIT", n)
	}
	// The pool recovers: the next transaction runs.
	if err := database.Tx(ctx, db, func(tx *gorm.DB) error { return tx.Exec("SELECT 1").Error }); err != nil {
		t.Fatalf("after the loss: %v", err)
	}
}

// DB_POOLER takes none, session or transaction ("" is none); anything else is refused by name.
func TestParsePooler(t *testing.T) {
	for in, want := range map[string]database.Pooler{"": database.PoolerNone, "none": database.PoolerNone,
		"session": database.PoolerSession, "transaction": database.PoolerTransaction} {
		if got, err := database.ParsePooler(in); err != nil || got != want {
			t.Errorf("%q: %q, %v", in, got, err)
		}
	}
	if _, err := database.ParsePooler("statement"); err == nil || !strings.Contains(err.Error(), "DB_POOLER") {
		t.Errorf("statement mode accepted: %v", err)
	}
	if _, err := database.Open(context.Background(), dbtest.URL(t), database.Pool{MaxOpen: 1, Pooler: "txn"}); err == nil {
		t.Error("Open took an unknown pooler")
	}
}
