package dbtest

// A database on a real PostgreSQL primary with a streaming standby (scripts/replica.sh, started by
// scripts/test.sh: TEST_REPLICA_PRIMARY_URL, TEST_REPLICA_URL), for the replica tests.

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// ReplicaPair is a fresh database, migrated or not, on the primary and as seen through the standby.
type ReplicaPair struct {
	PrimaryURL string // the database on the primary
	ReplicaURL string // the same database on the standby
	Name       string
}

// NewReplicaPair creates a database on the primary, waits for the standby to have it, and drops it at the
// end of the test. It skips the test when TEST_REPLICA_PRIMARY_URL or TEST_REPLICA_URL is unset
// (scripts/test.sh always sets them). Tests that use the pair hold a lock on the primary for their
// duration, so that one package pausing the standby's replay never surprises another's.
func NewReplicaPair(t testing.TB) ReplicaPair {
	t.Helper()
	primary, standby := os.Getenv("TEST_REPLICA_PRIMARY_URL"), os.Getenv("TEST_REPLICA_URL")
	if primary == "" || standby == "" {
		t.Skip("TEST_REPLICA_PRIMARY_URL and TEST_REPLICA_URL are unset: no streaming replica to test against " +
			"(scripts/test.sh starts one with scripts/replica.sh; or run `scripts/replica.sh` and export what it prints)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	lock, err := pgx.Connect(ctx, primary)
	if err != nil {
		t.Fatalf("replica test primary: %v", err)
	}
	t.Cleanup(func() { lock.Close(context.Background()) })
	// One test at a time across packages (a session lock: released when the connection ends).
	if _, err := lock.Exec(ctx, `SELECT pg_advisory_lock(4815162342)`); err != nil {
		t.Fatalf("replica test lock: %v", err)
	}
	// A test that failed half-way may have left replay paused.
	if sc, err := pgx.Connect(ctx, standby); err == nil {
		_, _ = sc.Exec(ctx, `SELECT pg_wal_replay_resume()`)
		sc.Close(ctx)
	}
	name := "fupin_replica_" + randHex(4)
	if _, err := lock.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		_, _ = lock.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	p := ReplicaPair{PrimaryURL: withDatabase(primary, name), ReplicaURL: withDatabase(standby, name), Name: name}
	for {
		c, err := pgx.Connect(ctx, p.ReplicaURL)
		if err == nil {
			c.Close(ctx)
			return p
		}
		if ctx.Err() != nil {
			t.Fatalf("the standby never had database %s: %v", name, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ExecOn runs one statement on url (a pause or resume of replay, a write on the primary).
func ExecOn(t testing.TB, url, sql string, args ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// TableReads returns the sequential and index scans the server at url has counted on a table
// (its own pg_stat_user_tables: a standby counts the reads it served). Backends report their
// counts when idle, up to a second late (PostgreSQL 15), so callers wait for a rise.
func TableReads(t testing.TB, url, table string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer c.Close(ctx)
	var n int64
	if err := c.QueryRow(ctx, `SELECT coalesce(sum(coalesce(seq_scan, 0) + coalesce(idx_scan, 0)), 0)::bigint
		FROM pg_stat_user_tables WHERE relname = $1`, table).Scan(&n); err != nil {
		t.Fatalf("pg_stat_user_tables: %v", err)
	}
	return n
}

// WaitReads waits (up to 30 s) until the server at url has counted more reads of table than
// before, and returns the count; it fails the test otherwise.
func WaitReads(t testing.TB, url, table string, before int64) int64 {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		n := TableReads(t, url, table)
		if n > before {
			return n
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: no read of %s counted after 30 s (still %d)", url, table, n)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
