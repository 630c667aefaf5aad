package database_test

import (
	"context"
	"testing"

	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/database"
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
