package household

import (
	"context"
	"crypto/sha256"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
)

// An import is one row of household_imports (who, when, the file's hash and the counts) that the
// households it registers name; the row is kept (00620): its counts are written once, it is never
// deleted, and a household's import never changes nor names an import that is not there.
func TestImportIsOneEvent(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	file, archives := chunkRoster(3, nil)
	file += "BAD!,龙先生,433124197001011234,2," + shibadong + ",脱贫户\n"
	rep, err := f.svc.Import(ctx, f.admin, strings.NewReader(file), ImportOptions{SkipBadRows: true})
	if err != nil || rep.Inserted != 3 || rep.Skipped != 1 {
		t.Fatalf("import: %+v %v", rep, err)
	}
	var im struct {
		ID                                              uuid.UUID
		ActorID                                         uuid.UUID
		ActorRole                                       string
		FileSha256                                      []byte
		RowsRead, Inserted, Updated, Unchanged, Skipped int
		Households                                      int
	}
	if err := f.db.Raw(`SELECT i.*, (SELECT count(*) FROM households h WHERE h.import_id = i.id) AS households
		FROM household_imports i WHERE i.id = (SELECT import_id FROM households WHERE archive_no = ?)`, archives[0]).Scan(&im).Error; err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(file))
	if im.ActorID != f.admin.UserID || im.ActorRole != "admin" || string(im.FileSha256) != string(sum[:]) || im.RowsRead != 4 ||
		im.Inserted != 3 || im.Updated != 0 || im.Unchanged != 0 || im.Skipped != 1 || im.Households != 3 {
		t.Errorf("the import's row: %+v", im)
	}
	refused := func(what string, err error) { // restrict_violation
		t.Helper()
		if apperr.PgCode(err) != "23001" {
			t.Errorf("%s: %v; want it refused", what, err)
		}
	}
	refused("counts written again", f.db.Exec(`UPDATE household_imports SET inserted = 4 WHERE id = ?`, im.ID).Error)
	refused("import deleted", f.db.Exec(`DELETE FROM household_imports WHERE id = ?`, im.ID).Error)
	refused("household's import changed", f.db.Exec(`UPDATE households SET import_id = NULL WHERE archive_no = ?`, archives[0]).Error)
	wantFK(t, "household of no import", f.db.Exec(`INSERT INTO households (id, archive_no, head_name_enc, id_number_enc, id_number_hmac,
		village_code, county_code, members, status, import_id) VALUES (gen_random_uuid(), ?, '\x01', '\x01', decode(md5(random()::text), 'hex'),
		?, '433124', 2, 'poor', ?)`, archive(), shibadong, uuid.Must(uuid.NewV7())).Error, "households_import_id_fkey")

	// A refused file leaves no import behind.
	var before int
	f.db.Raw(`SELECT count(*) FROM household_imports`).Scan(&before)
	if _, err := f.svc.Import(ctx, f.admin, strings.NewReader(file), ImportOptions{}); !apperr.Is(err, apperr.KindInvalid) {
		t.Fatalf("refused import: %v", err)
	}
	if n := f.count(t, `SELECT count(*) FROM household_imports`); n != before {
		t.Errorf("a refused import left a row (%d, was %d)", n, before)
	}
}

// Chunks are written before they are checked against the register (insertUnchecked) until one
// meets a registered archive or ID number; that chunk is then checked and written as before, with
// the same updates and reports, and all or nothing still holds for the chunks written unchecked.
func TestImportUncheckedFallsBack(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	known, other := f.register(t, f.admin, shibadong), f.register(t, f.admin, shibadong)
	file, archives := chunkRoster(importChunk+5, nil)
	file += known.ArchiveNo + ",龙先生," + known.IDNumber + ",5," + shibadong + ",脱贫户\n" + // an update (4 → 5 members)
		archive() + ",龙先生," + other.IDNumber + ",2," + shibadong + ",脱贫户\n" // the ID number of another
	last := importChunk + 5 + 3

	rep, err := f.svc.Import(ctx, f.admin, strings.NewReader(file), ImportOptions{})
	if !apperr.Is(err, apperr.KindInvalid) || rep.ErrorsTotal != 1 || rep.Errors[0].Row != last || rep.Errors[0].Column != "身份证号" ||
		!strings.Contains(rep.Errors[0].Reason, other.ArchiveNo) {
		t.Fatalf("refused: %+v %v", rep, err)
	}
	if n := f.count(t, `SELECT count(*) FROM households WHERE archive_no IN ?`, archives[:3]); n != 0 {
		t.Errorf("a refused roster left %d households of its unchecked first chunk", n)
	}

	rep, err = f.svc.Import(ctx, f.admin, strings.NewReader(file), ImportOptions{SkipBadRows: true})
	if err != nil || rep.Inserted != importChunk+5 || rep.Updated != 1 || rep.Skipped != 1 {
		t.Fatalf("skip mode: %+v %v", rep, err)
	}
	if n := f.count(t, `SELECT count(*) FROM households WHERE archive_no IN ? AND import_id IS NOT NULL`, archives); n != importChunk+5 {
		t.Errorf("%d households of the roster, want %d", n, importChunk+5)
	}
	audit, err := f.svc.Audit(ctx, f.admin, known.ID)
	if err != nil || len(audit) != 2 || audit[0].Action != "register" || audit[1].Action != "import" ||
		audit[1].Changes["members"].From != float64(4) || audit[1].Changes["members"].To != float64(5) {
		t.Errorf("the updated household's audit: %+v %v", audit, err)
	}
}

// The county log pages through stored entries and imported households' derived registrations
// alike, newest first, each once; a registration shows the values of its import, not later ones.
func TestAuditLogDerivedRegistrations(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	file, archives := chunkRoster(3, nil)
	if rep, err := f.svc.Import(ctx, f.admin, strings.NewReader(file), ImportOptions{}); err != nil || rep.Inserted != 3 {
		t.Fatalf("import: %+v %v", rep, err)
	}
	var ids []uuid.UUID
	f.db.Raw(`SELECT id FROM households WHERE archive_no IN ? ORDER BY id`, archives).Scan(&ids)
	members := 7
	if _, err := f.svc.Update(ctx, f.admin, ids[1], Patch{Members: &members}); err != nil {
		t.Fatal(err)
	}
	later := f.register(t, f.admin, shibadong)

	var all []LogEntry
	before := uuid.Nil
	for {
		page, err := f.svc.AuditLog(ctx, before, 2)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		if len(page) < 2 || len(all) >= 5 {
			break
		}
		before = page[len(page)-1].ID
	}
	if len(all) < 5 {
		t.Fatalf("%d entries: %+v", len(all), all)
	}
	want := []struct {
		household uuid.UUID
		action    string
	}{{later.ID, "register"}, {ids[1], "update"}, {ids[2], "import"}, {ids[1], "import"}, {ids[0], "import"}}
	for i, w := range want {
		e := all[i]
		if e.HouseholdID != w.household || e.Action != w.action || (i > 0 && e.ID.String() >= all[i-1].ID.String()) {
			t.Errorf("entry %d: %+v; want %s of %v, below the one before", i, e, w.action, w.household)
		}
	}
	reg := all[3]
	if reg.ID != ids[1] || reg.ArchiveNo != archives[1] || reg.ActorRole != "admin" || reg.Changes["members"].To != float64(2) ||
		reg.Changes["members"].From != nil || len(reg.Changes) != 7 {
		t.Errorf("the derived registration of %s: %+v", archives[1], reg)
	}
	if all[1].Changes["members"].From != float64(2) || all[1].Changes["members"].To != float64(7) {
		t.Errorf("the update: %+v", all[1])
	}
}
