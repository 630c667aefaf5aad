package ledger

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/civil"
	"github.com/fupinmarket/fupin/internal/platform/money"
)

// A household's work on one day is at most members × 1440 minutes, members as recorded for that
// day (household_history), not as today: a refusal names minutes and says what is left, writes
// nothing, and two records at once cannot both fit in what is left.
func TestWorkMinutesAreCappedPerHouseholdDay(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, 1)
	svc := NewService(w.db).WithClock(worldNow)
	h := w.households[0]
	// Two members until July 2024, four (households.members) since.
	exec(t, w.db, `INSERT INTO household_history (household_id, valid_from, status, members) VALUES (?, '2024-01-01', 'poor', 2)`, h)
	exec(t, w.db, `INSERT INTO household_history (household_id, valid_from, status, members) VALUES (?, '2024-07-01', 'poor', 4)`, h)
	work := func(day string, minutes int, key string) (WorkRecord, error) {
		d, _ := civil.ParseDate(day)
		return svc.RecordWork(ctx, WorkRequest{StationID: w.stationID, HouseholdID: h, Task: "picking", WorkDate: d,
			Minutes: minutes, Pay: money.Yuan(100), Key: key})
	}
	minutes := func(day string) (n int) {
		if err := w.db.Raw(`SELECT coalesce(sum(minutes), 0) FROM work_records WHERE household_id = ? AND work_date = ?`, h, day).Scan(&n).Error; err != nil {
			t.Fatal(err)
		}
		return n
	}

	first := "cap-" + randHex(6)
	if _, err := work("2024-05-31", 1440, first); err != nil {
		t.Fatal(err)
	}
	if _, err := work("2024-05-31", 1000, "cap-"+randHex(6)); err != nil {
		t.Fatal(err)
	}
	_, err := work("2024-05-31", 500, "cap-"+randHex(6))
	if e, ok := apperr.As(err); !ok || e.Kind != apperr.KindInvalid || len(e.Fields) != 1 || e.Fields[0].Field != "minutes" ||
		!strings.Contains(e.Fields[0].Reason, "440 minutes are left") || !strings.Contains(e.Fields[0].Reason, "2 members") {
		t.Errorf("2940 minutes for 2 members: %v, want a refusal naming minutes with 440 left", err)
	}
	if got := minutes("2024-05-31"); got != 2440 {
		t.Errorf("recorded %d minutes after the refusal, want 2440", got)
	}
	// A retry of a record already counted still replays.
	if rec, err := work("2024-05-31", 1440, first); err != nil || !rec.Replayed {
		t.Errorf("replay on a full day: %+v %v", rec, err)
	}

	// Two records at once where only one fits: exactly one is recorded, on every try.
	for _, day := range []string{"2024-05-20", "2024-05-21", "2024-05-22", "2024-05-23", "2024-05-24"} {
		if _, err := work(day, 1000, "cap-"+randHex(6)); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = work(day, 1000, "cap-"+randHex(6))
			}()
		}
		wg.Wait()
		if (errs[0] == nil) == (errs[1] == nil) {
			t.Errorf("%s: two records of 1000 minutes with 1880 left: %v, %v, want exactly one refused", day, errs[0], errs[1])
		}
		if got := minutes(day); got != 2000 {
			t.Errorf("%s: %d minutes recorded, want 2000", day, got)
		}
	}
	mustVerify(t, w.db)
}
