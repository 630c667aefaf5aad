package database_test

import (
	"context"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/database"
	"github.com/fupinmarket/fupin/internal/platform/dbtest"
)

// The next run of a migration that a failed run left with an INVALID index (a CREATE INDEX
// CONCURRENTLY cut off part-way: a cancel, a deadlock, a restart) builds it again, for 00720,
// 00780 and 00880: 00720 failed again at every run ("index is not valid"), the others skipped the
// index (IF NOT EXISTS) and left it invalid for good. A valid index is not built again. The failed
// builds are left as PostgreSQL leaves them, marked invalid by hand.
func TestMigrationRerunRebuildsInvalidIndexes(t *testing.T) {
	t.Parallel()
	t.Run("00720", func(t *testing.T) {
		t.Parallel()
		// Its key's index was built before the run failed; the run again makes it the key.
		m := failedAt(t, 719)
		m.failedBuild(`CREATE UNIQUE INDEX CONCURRENTLY postings_entry_id_key ON postings (entry_id, id)`, "postings_entry_id_key")
		m.rerun(720)
		var key string
		m.db.Raw(`SELECT pg_get_indexdef(conindid) FROM pg_constraint WHERE conname = 'postings_pkey'`).Scan(&key)
		if want := "CREATE UNIQUE INDEX postings_pkey ON public.postings USING btree (entry_id, id)"; key != want {
			t.Errorf("postings' key after 00720 again: %q, want %q", key, want)
		}
	})
	t.Run("00780", func(t *testing.T) {
		t.Parallel()
		m := failedAt(t, 779)
		m.failedBuild(`CREATE INDEX CONCURRENTLY refunds_created_at ON refunds (created_at, order_id)`, "refunds_created_at")
		// And one that an earlier rerun set aside but could not drop.
		m.failedBuild(`CREATE INDEX CONCURRENTLY invalid_index_1 ON refunds (order_id)`, "invalid_index_1")
		m.rerun(780)
		m.exists("refunds_created_at")
	})
	t.Run("00880", func(t *testing.T) {
		t.Parallel()
		// The columns were added and one index built; the other's build failed.
		m := failedAt(t, 879)
		m.exec(`ALTER TABLE login_throttle ADD COLUMN account text, ADD COLUMN address text, ADD COLUMN last_success_at timestamptz`)
		m.exec(`CREATE INDEX CONCURRENTLY login_throttle_account ON login_throttle (account)`)
		m.failedBuild(`CREATE INDEX CONCURRENTLY login_throttle_address ON login_throttle (address, last_failure_at) WHERE failures > 0`,
			"login_throttle_address")
		built := m.oid("login_throttle_account")
		m.rerun(880)
		m.exists("login_throttle_address")
		if now := m.oid("login_throttle_account"); now != built {
			t.Errorf("the valid login_throttle_account was built again (oid %d, was %d)", now, built)
		}
	})
}

// migrationRun is a database of a test's own where a migration's run failed part-way.
type migrationRun struct {
	t    *testing.T
	db   *gorm.DB
	exec func(q string, args ...any)
}

// failedAt is a database of t's own at version, the version before the migration whose run failed.
func failedAt(t *testing.T, version int64) migrationRun {
	db, exec := freshAt(t, version)
	return migrationRun{t, db, exec}
}

// failedBuild runs create, the build of index, and leaves the index as a build that failed does.
func (m migrationRun) failedBuild(create, index string) {
	m.t.Helper()
	m.exec(create)
	m.exec(`UPDATE pg_index SET indisvalid = false WHERE indexrelid = ?::regclass`, index)
}

// rerun runs the migrations again up to version and checks that no index is left invalid.
func (m migrationRun) rerun(version int64) {
	m.t.Helper()
	if err := database.MigrateUpTo(context.Background(), m.db, quietLog, version); err != nil {
		m.t.Fatalf("%05d again: %v", version, err)
	}
	var names []string
	m.db.Raw(`SELECT indexrelid::regclass::text FROM pg_index WHERE NOT indisvalid`).Scan(&names)
	if len(names) > 0 {
		m.t.Errorf("after %05d again, invalid indexes %v", version, names)
	}
}

func (m migrationRun) exists(index string) {
	m.t.Helper()
	var ok bool
	m.db.Raw(`SELECT to_regclass(?) IS NOT NULL`, index).Scan(&ok)
	if !ok {
		m.t.Errorf("index %s missing", index)
	}
}

func (m migrationRun) oid(index string) uint32 {
	m.t.Helper()
	var oid uint32
	if err := m.db.Raw(`SELECT ?::regclass::oid`, index).Scan(&oid).Error; err != nil {
		m.t.Fatal(err)
	}
	return oid
}

// An index that is INVALID because its build is still under way (another replica migrating) is
// left to that build: the drop waits for the build's lock on the table, looks again, and finds it
// valid. Looked at once, without the lock, it dropped the index that the build had just finished.
func TestInvalidIndexUnderConstructionIsLeftAlone(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := dbtest.Fresh(t)
	dbtest.Exec(t, db, `CREATE INDEX refunds_under_way ON refunds (created_at)`)
	dbtest.Exec(t, db, `UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'refunds_under_way'::regclass`)
	var oid uint32
	db.Raw(`SELECT 'refunds_under_way'::regclass::oid`).Scan(&oid)
	build := db.Begin() // holds what CREATE INDEX CONCURRENTLY holds from start to end
	defer build.Rollback()
	if err := build.Exec(`LOCK TABLE refunds IN SHARE UPDATE EXCLUSIVE MODE`).Error; err != nil {
		t.Fatal(err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		dropped bool
		err     error
	}
	done := make(chan result, 1)
	go func() { d, err := database.DropIfInvalid(ctx, sqlDB, "refunds_under_way"); done <- result{d, err} }()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		var waiting int
		db.Raw(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'
			AND query LIKE 'LOCK TABLE%'`).Scan(&waiting)
		if waiting > 0 {
			break
		}
		select {
		case r := <-done:
			t.Fatalf("the drop did not wait for the build: dropped %v, %v", r.dropped, r.err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the drop did not wait for the table's lock within 30 s")
		}
	}
	// The build ends: the index is valid.
	if err := build.Exec(`UPDATE pg_index SET indisvalid = true WHERE indexrelid = ?`, oid).Error; err != nil {
		t.Fatal(err)
	}
	if err := build.Commit().Error; err != nil {
		t.Fatal(err)
	}
	if r := <-done; r.dropped || r.err != nil {
		t.Fatalf("dropped %v, %v; want the finished index left alone", r.dropped, r.err)
	}
	var now uint32
	db.Raw(`SELECT to_regclass('refunds_under_way')::oid`).Scan(&now)
	if now != oid {
		t.Errorf("refunds_under_way is oid %d, was %d", now, oid)
	}
	// Left over for good (no build holds the table), it is dropped.
	dbtest.Exec(t, db, `UPDATE pg_index SET indisvalid = false WHERE indexrelid = ?`, oid)
	if dropped, err := database.DropIfInvalid(ctx, sqlDB, "refunds_under_way"); !dropped || err != nil {
		t.Fatalf("a leftover invalid index: dropped %v, %v", dropped, err)
	}
	var left int
	db.Raw(`SELECT count(*) FROM pg_class WHERE oid = ?`, oid).Scan(&left)
	if left != 0 {
		t.Error("the leftover index is still there")
	}
}
