package household

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/civil"
)

func TestUpdateKeepsHistoryAndAudit(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	// On 2024-03-20 March is the open month (February's report was due on the 10th).
	f.svc.now = func() time.Time { return time.Date(2024, 3, 20, 9, 0, 0, 0, civil.China) }
	h := f.register(t, f.station, shibadong)
	// As if registered at the start of 2024.
	exec(t, f.db, `UPDATE household_history SET valid_from = '2024-01-01' WHERE household_id = ?`, h.ID)

	members, status := 5, StatusLifted
	phone := "13812345678"
	day, _ := civil.ParseDate("2024-03-01")
	got, err := f.svc.Update(ctx, f.station, h.ID, Patch{Members: &members, Status: &status, Phone: &phone, EffectiveFrom: &day})
	if err != nil || got.Members != 5 || got.Status != StatusLifted || got.Phone != phone {
		t.Fatalf("update: %+v %v", got, err)
	}
	// The same patch again changes nothing and leaves no audit entry.
	if _, err := f.svc.Update(ctx, f.station, h.ID, Patch{Members: &members, Status: &status, Phone: &phone}); err != nil {
		t.Fatal(err)
	}
	hist, err := f.svc.History(ctx, f.admin, h.ID)
	if err != nil || len(hist) != 2 || hist[1].ValidFrom.String() != "2024-03-01" || hist[1].Members != 5 ||
		hist[0].Members != 4 || hist[0].Status != StatusPoor || hist[1].Status != StatusLifted {
		t.Errorf("history %+v %v", hist, err)
	}
	audit, err := f.svc.Audit(ctx, f.admin, h.ID)
	if err != nil || len(audit) != 2 {
		t.Fatalf("audit %+v %v", audit, err)
	}
	reg, upd := audit[0], audit[1]
	if reg.Action != "register" || reg.ActorRole != "station" || *reg.ActorID != f.station.UserID || reg.Changes["head_name"].To != "龙*生" {
		t.Errorf("register entry %+v", reg)
	}
	if upd.Action != "update" || len(upd.Changes) != 3 || upd.Changes["members"].From != float64(4) || upd.Changes["members"].To != float64(5) ||
		upd.Changes["phone"].To != "138****5678" || upd.Changes["status"].To != "lifted" {
		t.Errorf("update entry %+v", upd)
	}
	for _, e := range audit {
		for k, c := range e.Changes {
			for _, v := range []any{c.From, c.To} {
				if s, ok := v.(string); ok && (strings.Contains(s, h.IDNumber) || s == "龙先生" || s == phone) {
					t.Errorf("audit %s %s shows personal data: %q", e.Action, k, s)
				}
			}
		}
	}
	// Bad inputs, nothing written; out of scope is not found; the audit log is append-only.
	future := civil.Date{Time: time.Now().AddDate(0, 0, 3)}
	earlier, _ := civil.ParseDate("2024-02-01")
	zero, six := 0, 6
	for name, p := range map[string]Patch{"future day": {Members: &members, EffectiveFrom: &future}, "zero members": {Members: &zero},
		"before the last change": {Members: &six, EffectiveFrom: &earlier}} {
		if _, err := f.svc.Update(ctx, f.station, h.ID, p); !apperr.Is(err, apperr.KindInvalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
	other := f.register(t, f.admin, zhuxi)
	if _, err := f.svc.Update(ctx, f.station, other.ID, Patch{Members: &members}); !apperr.Is(err, apperr.KindNotFound) {
		t.Errorf("out of scope: %v", err)
	}
	if _, err := f.svc.Audit(ctx, f.station, other.ID); !apperr.Is(err, apperr.KindNotFound) {
		t.Errorf("audit out of scope: %v", err)
	}
	if err := f.db.Exec(`DELETE FROM household_audit WHERE household_id = ?`, h.ID).Error; err == nil {
		t.Error("deleting audit entries was allowed")
	}
}

func TestCooperatives(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	a, b := f.register(t, f.station, shibadong), f.register(t, f.station, shibadong)
	outside := f.register(t, f.admin, zhuxi)
	c, err := f.svc.RegisterCooperative(ctx, f.station, NewCooperative{Name: "  十八洞猕猴桃合作社\u3000", VillageCode: shibadong,
		Members: []MemberShare{{a.ID, 6000}, {b.ID, 4000}}})
	if err != nil || c.Name != "十八洞猕猴桃合作社" {
		t.Fatalf("register: %+v %v", c, err)
	}
	got, err := f.svc.GetCooperative(ctx, f.station, c.ID)
	if err != nil || len(got.Members) != 2 || got.Members[0].HouseholdID != a.ID || got.Members[0].ShareBP != 6000 {
		t.Errorf("get: %+v %v", got, err)
	}
	bad := map[string]NewCooperative{
		"shares 9999":      {Name: "x", VillageCode: shibadong, Members: []MemberShare{{a.ID, 5000}, {b.ID, 4999}}},
		"repeated member":  {Name: "x", VillageCode: shibadong, Members: []MemberShare{{a.ID, 5000}, {a.ID, 5000}}},
		"no members":       {Name: "x", VillageCode: shibadong},
		"empty name":       {Name: "\u200b ", VillageCode: shibadong, Members: []MemberShare{{a.ID, 10000}}},
		"member elsewhere": {Name: "x", VillageCode: shibadong, Members: []MemberShare{{outside.ID, 10000}}},
		"unserved village": {Name: "x", VillageCode: zhuxi, Members: []MemberShare{{a.ID, 10000}}},
		"unknown member":   {Name: "x", VillageCode: shibadong, Members: []MemberShare{{uuid.Must(uuid.NewV7()), 10000}}},
	}
	for name, req := range bad {
		if _, err := f.svc.RegisterCooperative(ctx, f.station, req); !apperr.Is(err, apperr.KindInvalid) {
			t.Errorf("%s: %v, want Invalid", name, err)
		}
	}
	other, err := f.svc.RegisterCooperative(ctx, f.admin, NewCooperative{Name: "竹子村合作社", VillageCode: zhuxi,
		Members: []MemberShare{{outside.ID, 10000}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.GetCooperative(ctx, f.station, other.ID); !apperr.Is(err, apperr.KindNotFound) {
		t.Errorf("station sees another village's cooperative: %v", err)
	}
}

// A change of size or status may not reach back into a closed month (whose report was filed by
// the 10th of the next month), so a closed month's report never changes; until the 10th, last
// month is still open.
func TestEffectiveFromNotInClosedMonth(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	h := f.register(t, f.station, shibadong)
	exec(t, f.db, `UPDATE household_history SET valid_from = '2026-01-01' WHERE household_id = ?`, h.ID)
	members := 5
	at := func(now time.Time, day string) error {
		f.svc.now = func() time.Time { return now }
		d, _ := civil.ParseDate(day)
		_, err := f.svc.Update(ctx, f.admin, h.ID, Patch{Members: &members, EffectiveFrom: &d})
		members++
		return err
	}
	dec10 := time.Date(2026, 12, 10, 23, 0, 0, 0, civil.China)
	dec11 := time.Date(2026, 12, 11, 0, 30, 0, 0, civil.China)
	if err := at(dec10, "2026-11-20"); err != nil {
		t.Errorf("on the 10th, last month is open: %v", err)
	}
	err := at(dec11, "2026-11-25")
	var ae *apperr.Error
	if !errors.As(err, &ae) || ae.Kind != apperr.KindInvalid || len(ae.Fields) != 1 || ae.Fields[0].Field != "effective_from" ||
		!strings.Contains(ae.Fields[0].Reason, "2026-12-01") {
		t.Errorf("on the 11th, a change backdated into last month: %v; want 422 on effective_from naming 2026-12-01", err)
	}
	if err := at(dec11, "2026-12-01"); err != nil {
		t.Errorf("the first day of the open month: %v", err)
	}
	// A future day is called future, not given the closed-month advice.
	err = at(dec11, "2026-12-12")
	if !errors.As(err, &ae) || len(ae.Fields) != 1 || ae.Fields[0].Field != "effective_from" ||
		!strings.Contains(ae.Fields[0].Reason, "must not be in the future: 2026-12-12") || strings.Contains(ae.Fields[0].Reason, "closed") {
		t.Errorf("on the 11th, a change dated the 12th: %v; want 422 on effective_from saying it is in the future", err)
	}
	hist, err := f.svc.History(ctx, f.admin, h.ID)
	if err != nil || len(hist) != 3 || hist[1].ValidFrom.String() != "2026-11-20" || hist[2].ValidFrom.String() != "2026-12-01" {
		t.Errorf("history %+v %v", hist, err)
	}
}
