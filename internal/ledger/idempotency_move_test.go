package ledger

import (
	"context"
	"log/slog"
	"testing"

	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/civil"
	"github.com/fupinmarket/fupin/internal/platform/database"
	"github.com/fupinmarket/fupin/internal/platform/money"
)

// remigrateFrom rolls the migrations back to just before version, then up again: rows written
// before the move to idempotency_keys are then copied by the migration, as on a live database.
func remigrateFrom(t *testing.T, db *gorm.DB, version int64) {
	t.Helper()
	ctx, quiet := context.Background(), slog.New(slog.DiscardHandler)
	for {
		var current int64
		if err := db.Raw(`SELECT coalesce(max(version_id), 0) FROM goose_db_version`).Scan(&current).Error; err != nil {
			t.Fatal(err)
		}
		if current < version {
			break
		}
		if err := database.MigrateDown(ctx, db, quiet); err != nil {
			t.Fatal(err)
		}
	}
	if err := database.Migrate(ctx, db, quiet); err != nil {
		t.Fatal(err)
	}
}

// Work recorded with a key before 00090 (the key then lived only in the wage entry's key) is
// replayed after it, and the key still refuses other work.
func TestWorkKeysFromBeforeTheMoveReplay(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, 1)
	svc := NewService(w.db).WithClock(worldNow)
	day, _ := civil.ParseDate("2024-05-31")
	req := WorkRequest{StationID: w.stationID, HouseholdID: w.households[0], Task: "sorting", WorkDate: day, Minutes: 60,
		Pay: money.Yuan(20), Key: "before-" + randHex(4)}
	rec, err := svc.RecordWork(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	remigrateFrom(t, w.db, 90)
	if n := count(t, w.db, `SELECT count(*) FROM idempotency_keys WHERE scope = ? AND key = ? AND result_ref = ?`,
		"work_record:"+w.stationID.String(), req.Key, rec.ID.String()); n != 1 {
		t.Fatalf("the work's key was copied %d times, want once", n)
	}
	again, err := svc.RecordWork(ctx, req)
	if err != nil || !again.Replayed || again.ID != rec.ID || again.EntryID != rec.EntryID {
		t.Fatalf("retry after the move: %+v %v; want the first record %s", again, err, rec.ID)
	}
	changed := req
	changed.Pay++
	_, err = svc.RecordWork(ctx, changed)
	if e, ok := apperr.As(err); !ok || e.Kind != apperr.KindConflict || len(e.Fields) != 1 || e.Fields[0].Field != "Idempotency-Key" {
		t.Fatalf("same key, other work: %v; want a Conflict naming Idempotency-Key", err)
	}
	if n := count(t, w.db, `SELECT count(*) FROM work_records WHERE station_id = ?`, w.stationID); n != 1 {
		t.Errorf("%d work records, want 1", n)
	}
}
