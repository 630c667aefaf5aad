package household

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
)

// villageSeq numbers the villages these tests add under 双龙镇 (433124110300 on), one per call in
// the package's database.
var villageSeq atomic.Int64

func (f *fixture) newVillage(t *testing.T) string {
	t.Helper()
	code := fmt.Sprintf("433124110%03d", 300+villageSeq.Add(1))
	exec(t, f.db, `INSERT INTO regions (code, name, level, parent_code) VALUES (?, ?, 5, '433124110')`, code, "测试村"+code[9:])
	return code
}

// wantFK fails unless err is a foreign-key violation (23503) naming constraint.
func wantFK(t *testing.T, what string, err error, constraint string) {
	t.Helper()
	if apperr.PgCode(err) != apperr.PgForeignKeyViolation || apperr.PgConstraint(err) != constraint {
		t.Errorf("%s: %v (constraint %q); want a foreign key violation of %s", what, err, apperr.PgConstraint(err), constraint)
	}
}

const insertHousehold = `INSERT INTO households (id, archive_no, head_name_enc, id_number_enc, id_number_hmac, village_code,
	county_code, members, status) VALUES (gen_random_uuid(), ?, '\x01', '\x01', decode(md5(random()::text), 'hex'), ?, ?, 2, 'poor')`

// Migration 00480 checks the references around households once per statement (triggers) instead
// of by foreign keys; each reference still refuses a row that names nothing, with the old
// constraint's name.
func TestHouseholdReferencesRefuseUnknownParents(t *testing.T) {
	f := newFixture(t)
	h := f.register(t, f.admin, shibadong)
	nobody := uuid.Must(uuid.NewV7())
	unknownVillage := "433124110999" // no such village: newVillage stops before 999

	wantFK(t, "household in an unknown village", f.db.Exec(insertHousehold, archive(), unknownVillage, "433124").Error,
		"households_village_code_fkey")
	wantFK(t, "household moved to an unknown village", f.db.Exec(`UPDATE households SET village_code = ? WHERE id = ?`,
		unknownVillage, h.ID).Error, "households_village_code_fkey")
	wantFK(t, "village record of no household", f.db.Exec(`INSERT INTO household_villages (household_id, valid_from, village_code)
		VALUES (?, now(), ?)`, nobody, shibadong).Error, "household_villages_household_id_fkey")
	wantFK(t, "village record of an unknown village", f.db.Exec(`INSERT INTO household_villages (household_id, valid_from, village_code)
		VALUES (?, now(), ?)`, h.ID, unknownVillage).Error, "household_villages_village_code_fkey")
	wantFK(t, "history of no household", f.db.Exec(`INSERT INTO household_history (household_id, valid_from, status, members)
		VALUES (?, '2020-01-01', 'poor', 2)`, nobody).Error, "household_history_household_id_fkey")
	wantFK(t, "history moved to no household", f.db.Exec(`UPDATE household_history SET household_id = ? WHERE household_id = ?`,
		nobody, h.ID).Error, "household_history_household_id_fkey")
	wantFK(t, "audit of no household", f.db.Exec(`INSERT INTO household_audit (id, household_id, actor_id, actor_role, action, changes)
		VALUES (?, ?, NULL, 'command', 'import', '{}')`, uuid.Must(uuid.NewV7()), nobody).Error, "household_audit_household_id_fkey")
	wantFK(t, "audit by no user", f.db.Exec(`INSERT INTO household_audit (id, household_id, actor_id, actor_role, action, changes)
		VALUES (?, ?, ?, 'admin', 'import', '{}')`, uuid.Must(uuid.NewV7()), h.ID, nobody).Error, "household_audit_actor_id_fkey")

	// The same statements with parents that exist pass.
	v := f.newVillage(t)
	if err := f.db.Exec(insertHousehold, archive(), v, "433124").Error; err != nil {
		t.Errorf("household in a known village: %v", err)
	}
	if err := f.db.Exec(`INSERT INTO household_history (household_id, valid_from, status, members) VALUES (?, '2020-01-01', 'poor', 2)`,
		h.ID).Error; err != nil {
		t.Errorf("history of a household: %v", err)
	}
}

// The referenced side: a household is never deleted nor given another id; a region or a user is
// deleted (or recoded) only while nothing refers to it.
func TestHouseholdReferencesKeepParents(t *testing.T) {
	f := newFixture(t)
	v := f.newVillage(t)
	h := f.register(t, f.admin, v)

	if err := f.db.Exec(`DELETE FROM households WHERE id = ?`, h.ID).Error; apperr.PgCode(err) != apperr.PgForeignKeyViolation {
		t.Errorf("deleting a household: %v; want it refused", err)
	}
	if err := f.db.Exec(`UPDATE households SET id = ? WHERE id = ?`, uuid.Must(uuid.NewV7()), h.ID).Error; apperr.PgCode(err) != apperr.PgForeignKeyViolation {
		t.Errorf("changing a household's id: %v; want it refused", err)
	}
	if err := f.db.Exec(`UPDATE households SET id = id, members = 3 WHERE id = ?`, h.ID).Error; err != nil {
		t.Errorf("an update naming the id without changing it: %v", err)
	}
	wantFK(t, "deleting a village with households", f.db.Exec(`DELETE FROM regions WHERE code = ?`, v).Error, "households_village_code_fkey")
	wantFK(t, "recoding a village with households", f.db.Exec(`UPDATE regions SET code = '433124110998' WHERE code = ?`, v).Error,
		"households_village_code_fkey")
	if err := f.db.Exec(`UPDATE regions SET name = name || '村' WHERE code = ?`, v).Error; err != nil {
		t.Errorf("renaming a village with households: %v", err)
	}
	free := f.newVillage(t)
	if err := f.db.Exec(`DELETE FROM regions WHERE code = ?`, free).Error; err != nil {
		t.Errorf("deleting a village nobody refers to: %v", err)
	}

	// An admin who has written audit entries stays; one who has not can go.
	wantFK(t, "deleting an audited user", f.db.Exec(`DELETE FROM users WHERE id = ?`, f.admin.UserID).Error, "household_audit_actor_id_fkey")
	idle := uuid.Must(uuid.NewV7())
	exec(t, f.db, `INSERT INTO users (id, username, password_hash, role) VALUES (?, ?, 'x', 'admin')`, idle, "idle-"+randHex(4))
	if err := f.db.Exec(`DELETE FROM users WHERE id = ?`, idle).Error; err != nil {
		t.Errorf("deleting a user without audit entries: %v", err)
	}
}

// A village's delete that starts while a transaction is inserting a household there waits for
// that transaction (the insert's check locks the village FOR KEY SHARE, as the foreign key did)
// and is refused once it commits: no household is left pointing at a deleted village.
func TestHouseholdReferencesDeleteWaitsForInsert(t *testing.T) {
	f := newFixture(t)
	v := f.newVillage(t)
	tx := f.db.Begin()
	defer tx.Rollback()
	if err := tx.Exec(insertHousehold, archive(), v, "433124").Error; err != nil {
		t.Fatal(err)
	}
	deleted := make(chan error, 1)
	go func() { deleted <- f.db.Exec(`DELETE FROM regions WHERE code = ?`, v).Error }()
	// Wait (polling, not timing) until the delete is blocked on a lock; if it finishes first, the
	// insert took no lock and the test fails.
	for waiting := false; !waiting; {
		select {
		case err := <-deleted:
			t.Fatalf("the delete did not wait for the inserting transaction: %v", err)
		default:
		}
		var n int
		if err := f.db.Raw(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
			AND wait_event_type = 'Lock' AND query LIKE 'DELETE FROM regions%'`).Scan(&n).Error; err != nil {
			t.Fatal(err)
		}
		waiting = n > 0
		if !waiting {
			time.Sleep(10 * time.Millisecond) // poll interval only; nothing is asserted about time
		}
	}
	if err := tx.Commit().Error; err != nil {
		t.Fatal(err)
	}
	wantFK(t, "delete after the insert committed", <-deleted, "households_village_code_fkey")
	var n int64
	f.db.Table("regions").Where("code = ?", v).Count(&n)
	if n != 1 {
		t.Errorf("the village is gone (%d rows) but a household refers to it", n)
	}
}
