package ledger

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/civil"
	"github.com/fupinmarket/fupin/internal/platform/money"
)

func TestPayoutsReduceWhatIsOwedNotIncome(t *testing.T) {
	ctx := context.Background()
	svc := NewService(newWorld(t, 0).db).WithClock(worldNow)
	s := sellOrder(t, svc) // the unit paid at t0+1h
	h := s.w.households[0]
	income := -balance(t, s.w.db, AccountRef{HouseholdIncome, h})
	owed := -balance(t, s.w.db, AccountRef{HouseholdPayable, h})
	if income <= 0 || owed != income {
		t.Fatalf("after the sale: income %d, owed %d; want equal and positive", income, owed)
	}
	ref := "BANK-" + randHex(6)
	paidAt := t0.Add(10 * 24 * time.Hour)

	// More than owed: refused, nothing written.
	_, err := svc.PayOut(ctx, PayoutRequest{HouseholdID: h, Amount: owed + 1, Reference: ref, PaidAt: paidAt})
	if e, ok := apperr.As(err); !ok || e.Kind != apperr.KindConflict || len(e.Fields) != 1 || e.Fields[0].Field != "amount_fen" {
		t.Fatalf("payout above owed: %v", err)
	}
	for name, req := range map[string]PayoutRequest{
		"zero amount":  {HouseholdID: h, Amount: 0, Reference: ref, PaidAt: paidAt},
		"future":       {HouseholdID: h, Amount: 1, Reference: ref, PaidAt: time.Now().Add(24 * time.Hour)},
		"1900":         {HouseholdID: h, Amount: 1, Reference: ref, PaidAt: time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)},
		"no reference": {HouseholdID: h, Amount: 1, Reference: "  ", PaidAt: paidAt},
		"no time":      {HouseholdID: h, Amount: 1, Reference: ref},
	} {
		if _, err := svc.PayOut(ctx, req); !apperr.Is(err, apperr.KindInvalid) {
			t.Errorf("%s: %v, want Invalid", name, err)
		}
	}

	// Dated before the sale that earned it (received at t0+72h): the household was owed nothing then.
	_, err = svc.PayOut(ctx, PayoutRequest{HouseholdID: h, Amount: 1000, Reference: ref, PaidAt: t0.Add(71 * time.Hour)})
	if e, ok := apperr.As(err); !ok || e.Kind != apperr.KindConflict || len(e.Fields) != 1 || e.Fields[0].Field != "paid_at" {
		t.Fatalf("payout dated before the sale: %v, want Conflict naming paid_at", err)
	}

	p, err := svc.PayOut(ctx, PayoutRequest{HouseholdID: h, Amount: 1000, Reference: ref, PaidAt: paidAt})
	if err != nil || p.Replayed || p.OwedAfter != owed-1000 {
		t.Fatalf("payout: %+v, %v", p, err)
	}
	if got := -balance(t, s.w.db, AccountRef{HouseholdIncome, h}); got != income {
		t.Errorf("income moved to %d on a payout, want %d", got, income)
	}
	if got := -balance(t, s.w.db, AccountRef{HouseholdPayable, h}); got != owed-1000 {
		t.Errorf("owed %d, want %d", got, owed-1000)
	}
	// The same transfer again replays; the same reference for another amount is a conflict.
	again, err := svc.PayOut(ctx, PayoutRequest{HouseholdID: h, Amount: 1000, Reference: ref, PaidAt: paidAt.Add(time.Hour)})
	if err != nil || !again.Replayed || again.ID != p.ID {
		t.Errorf("replay: %+v, %v", again, err)
	}
	if _, err := svc.PayOut(ctx, PayoutRequest{HouseholdID: h, Amount: 999, Reference: ref, PaidAt: paidAt}); !apperr.Is(err, apperr.KindConflict) {
		t.Errorf("reused reference: %v, want Conflict", err)
	}
	mustVerify(t, s.w.db)

	// Delay: the unit paid at t0+1h, the transfer went out 10 days after t0.
	delays, err := svc.PayoutDelays(ctx, nil, t0, t0.Add(30*24*time.Hour), 100)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, d := range delays {
		if d.PayoutID == p.ID {
			found = true
			if !d.OldestSince.Equal(t0.Add(time.Hour)) || d.DelayDays != 9 {
				t.Errorf("delay %+v, want since t0+1h and 9 whole days", d)
			}
		}
	}
	if !found {
		t.Errorf("payout %s not in the delays %+v", p.ID, delays)
	}

	// Waiting: h still owed since t0+1h; listed after 20 days, not after 40 (at t0+30d).
	now := t0.Add(30 * 24 * time.Hour)
	waiting := func(days int) map[string]Waiting {
		ws, err := svc.WaitingHouseholds(ctx, nil, days, now, 1000)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]Waiting{}
		for _, w := range ws {
			out[w.HouseholdID.String()] = w
		}
		return out
	}
	if w, ok := waiting(20)[h.String()]; !ok || w.Owed != owed-1000 || w.WaitingDays != 29 {
		t.Errorf("waiting > 20 days: %+v (listed %v), want owed %d for 29 days", w, ok, owed-1000)
	}
	if _, ok := waiting(40)[h.String()]; ok {
		t.Error("listed as waiting more than 40 days after 30")
	}
	// Scoped to another station: not listed.
	other := newID()
	if ws, err := svc.WaitingHouseholds(ctx, &other, 0, now, 1000); err != nil || len(ws) != 0 {
		t.Errorf("another station sees %v, %v", ws, err)
	}
	// Paid in full: no longer waiting.
	if _, err := svc.PayOut(ctx, PayoutRequest{HouseholdID: h, Amount: owed - 1000, Reference: ref + "-2", PaidAt: paidAt}); err != nil {
		t.Fatal(err)
	}
	if _, ok := waiting(0)[h.String()]; ok {
		t.Error("a household paid in full is still listed as waiting")
	}
	mustVerify(t, s.w.db)
}

func TestWageIncomeIsKeptApart(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, 2)
	svc := NewService(w.db).WithClock(worldNow)
	h := w.households[0]
	day, _ := civil.ParseDate("2024-05-31")
	req := WorkRequest{StationID: w.stationID, HouseholdID: h, Task: "packing", WorkDate: day, Minutes: 240,
		Pay: money.Yuan(80), Key: "shift-" + randHex(4)}
	rec, err := svc.RecordWork(ctx, req)
	if err != nil || rec.Replayed {
		t.Fatalf("record work: %+v %v", rec, err)
	}
	if got := -balance(t, w.db, AccountRef{HouseholdWageIncome, h}); got != 8000 {
		t.Errorf("wage income %d, want 8000", got)
	}
	if got := balance(t, w.db, AccountRef{HouseholdIncome, h}); got != 0 {
		t.Errorf("business income moved to %d by a wage", got)
	}
	if got := -balance(t, w.db, AccountRef{HouseholdPayable, h}); got != 8000 {
		t.Errorf("owed %d, want 8000", got)
	}
	// The work day is 31 May in China: the entry is at 2024-05-30 16:00 UTC.
	var at time.Time
	if err := w.db.Raw(`SELECT occurred_at FROM journal_entries WHERE id = ?`, rec.EntryID).Scan(&at).Error; err != nil {
		t.Fatal(err)
	}
	if !at.Equal(time.Date(2024, 5, 30, 16, 0, 0, 0, time.UTC)) {
		t.Errorf("wage entry at %s", at)
	}
	again, err := svc.RecordWork(ctx, req)
	if err != nil || !again.Replayed || again.ID != rec.ID {
		t.Errorf("retry: %+v %v", again, err)
	}
	changed := req
	changed.Pay++
	if _, err := svc.RecordWork(ctx, changed); !apperr.Is(err, apperr.KindConflict) {
		t.Errorf("same key, other pay: %v, want Conflict", err)
	}
	// A household outside the station's villages (none served here) and bad inputs.
	exec(t, w.db, `DELETE FROM station_villages WHERE station_id = ?`, w.stationID)
	outside := req
	outside.Key = "other"
	if _, err := svc.RecordWork(ctx, outside); !apperr.Is(err, apperr.KindInvalid) {
		t.Errorf("household outside the station: %v", err)
	}
	for name, mut := range map[string]func(*WorkRequest){
		"task":     func(r *WorkRequest) { r.Task = "singing" },
		"minutes":  func(r *WorkRequest) { r.Minutes = 0 },
		"pay":      func(r *WorkRequest) { r.Pay = -1 },
		"date":     func(r *WorkRequest) { r.WorkDate = civil.Date{} },
		"future":   func(r *WorkRequest) { r.WorkDate = civil.Date{Time: time.Now().AddDate(0, 0, 2)} },
		"1990":     func(r *WorkRequest) { r.WorkDate, _ = civil.ParseDate("1990-12-02") },
		"too much": func(r *WorkRequest) { r.Pay = MaxWageFen + 1 },
		"max int":  func(r *WorkRequest) { r.Pay = money.Money(math.MaxInt64) },
		"key":      func(r *WorkRequest) { r.Key = "" },
	} {
		r := req
		mut(&r)
		if _, err := svc.RecordWork(ctx, r); !apperr.Is(err, apperr.KindInvalid) {
			t.Errorf("%s: %v, want Invalid", name, err)
		}
	}
	mustVerify(t, w.db)
}

// A month closes on the 10th of the next month (civil.FirstOpenDay): until the end of that day
// wages and payouts may still be dated into it, from the next minute they are refused with a 422
// naming the field and the first open day.
func TestClosedMonthsRefuseWagesAndPayouts(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, 2)
	h := w.households[0]
	china := func(y int, m time.Month, d, hh, mm int) time.Time {
		return time.Date(y, m, d, hh, mm, 0, 0, civil.China)
	}
	work := func(svc *Service, day string) error {
		d, _ := civil.ParseDate(day)
		_, err := svc.RecordWork(ctx, WorkRequest{StationID: w.stationID, HouseholdID: h, Task: "picking", WorkDate: d,
			Minutes: 60, Pay: money.Yuan(50), Key: "w-" + randHex(6)})
		return err
	}
	pay := func(svc *Service, at time.Time) error {
		_, err := svc.PayOut(ctx, PayoutRequest{HouseholdID: h, Amount: 1, Reference: "B-" + randHex(6), PaidAt: at})
		return err
	}
	refused := func(err error, field string) {
		t.Helper()
		e, ok := apperr.As(err)
		if !ok || e.Kind != apperr.KindInvalid || len(e.Fields) != 1 || e.Fields[0].Field != field ||
			!strings.Contains(e.Fields[0].Reason, "2024-06-01") {
			t.Errorf("want a refusal naming %s and the first open day 2024-06-01, got %v", field, err)
		}
	}

	// The last open day: 10 June, late evening in China. May is still open, April is not.
	lastDay := NewService(w.db).WithClock(func() time.Time { return china(2024, 6, 10, 23, 59) })
	if err := work(lastDay, "2024-05-01"); err != nil {
		t.Fatalf("work on 1 May, recorded on 10 June: %v", err)
	}
	if err := pay(lastDay, china(2024, 5, 1, 0, 0)); err != nil {
		t.Fatalf("payout dated 1 May 00:00, recorded on 10 June: %v", err)
	}
	if err := work(lastDay, "2024-04-30"); err == nil {
		t.Error("work on 30 April recorded on 10 June: accepted, want refused (April's report was due on 10 May)")
	}

	// The next morning May is closed.
	closed := NewService(w.db).WithClock(func() time.Time { return china(2024, 6, 11, 0, 30) })
	refused(work(closed, "2024-05-31"), "work_date")
	refused(pay(closed, china(2024, 5, 31, 23, 59)), "paid_at")
	if err := work(closed, "2024-06-01"); err != nil {
		t.Errorf("work on the first open day: %v", err)
	}
	if err := pay(closed, china(2024, 6, 1, 0, 0)); err != nil {
		t.Errorf("payout at the first open day's first minute: %v", err)
	}
	// A future day or time is a typo, not a late record: the reason says so and gives no
	// closed-month advice (the fresh-user review found "so date late work 2024-06-01" for next year).
	future := func(err error, field, day string) {
		t.Helper()
		e, ok := apperr.As(err)
		if !ok || len(e.Fields) != 1 || e.Fields[0].Field != field || !strings.Contains(e.Fields[0].Reason, "must not be in the future: "+day) ||
			strings.Contains(e.Fields[0].Reason, "closed") {
			t.Errorf("want a refusal naming %s as in the future (%s), without closed-month advice, got %v", field, day, err)
		}
	}
	future(work(closed, "2024-06-12"), "work_date", "2024-06-12")
	future(pay(closed, time.Date(2025, 6, 11, 10, 0, 0, 0, time.UTC)), "paid_at", "2025-06-11T10:00:00Z")
	if n := count(t, w.db, `SELECT count(*) FROM work_records WHERE station_id = ?`, w.stationID); n != 2 {
		t.Errorf("%d work records, want the 2 accepted", n)
	}
	mustVerify(t, w.db)
}

// A payout recorded before references were folded (its key full-width, as typed) replays when the
// same transfer is typed the same way again: never a second payout.
func TestPayoutUnderAFullWidthReferenceOfBeforeFoldingReplays(t *testing.T) {
	ctx := context.Background()
	svc := NewService(newWorld(t, 0).db).WithClock(worldNow)
	s := sellOrder(t, svc)
	h := s.w.households[0]
	ref := "OLD-" + randHex(6)
	wide := strings.Map(func(r rune) rune { return r + 0xFEE0 }, ref) // "ＯＬＤ－…", as a Chinese input method types it
	req := PayoutRequest{HouseholdID: h, Amount: 500, Reference: ref, PaidAt: t0.Add(10 * 24 * time.Hour)}
	first, err := svc.PayOut(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	// As the code before folding stored it: the key and the payout under the typed form.
	for _, q := range []string{`UPDATE idempotency_keys SET key = ? WHERE scope = 'payout' AND key = ?`,
		`UPDATE payouts SET reference = ? WHERE reference = ?`} {
		if err := s.w.db.Exec(q, wide, ref).Error; err != nil {
			t.Fatal(err)
		}
	}
	req.Reference = wide
	again, err := svc.PayOut(ctx, req)
	if err != nil || !again.Replayed || again.ID != first.ID {
		t.Fatalf("the same transfer typed again: %+v, %v; want the first payout replayed", again, err)
	}
	var payouts int
	s.w.db.Raw(`SELECT count(*) FROM payouts WHERE household_id = ?`, h).Scan(&payouts)
	if owed := -balance(t, s.w.db, AccountRef{HouseholdPayable, h}); payouts != 1 || owed != first.OwedAfter {
		t.Errorf("%d payouts, owed %d; want 1 and %d", payouts, owed, first.OwedAfter)
	}
}
