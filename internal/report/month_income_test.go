package report

import (
	"context"
	"testing"
	"time"

	"github.com/fupinmarket/fupin/internal/ledger"
	"github.com/fupinmarket/fupin/internal/platform/apperr"
)

// One answer holds each household's month, by China's calendar, within the caller's villages.
func TestMonthIncomesOfEveryHouseholdInOneCall(t *testing.T) {
	ctx := context.Background()
	c := newCounty(t)
	svc := NewService(c.db)
	a := c.household(t, c.villages[0], 4)
	b := c.household(t, c.villages[0], 2)
	idle := c.household(t, c.villages[0], 3)
	far := c.household(t, c.villages[2], 1)
	kiwi := c.product(t, "猕猴桃", 10000, ledger.Supplier{HouseholdID: a, ShareBP: 7000}, ledger.Supplier{HouseholdID: b, ShareBP: 3000})
	tea := c.product(t, "茶叶", 10000, ledger.Supplier{HouseholdID: far, ShareBP: 10000})
	// 17:00 UTC on 31 May is 01:00 on 1 June in China: June's. 15:00 UTC is still May.
	c.sell(t, kiwi, 10, 10000, time.Date(2024, 5, 31, 17, 0, 0, 0, time.UTC))
	c.sell(t, kiwi, 2, 10000, time.Date(2024, 5, 31, 15, 0, 0, 0, time.UTC))
	c.sell(t, tea, 1, 10000, time.Date(2024, 6, 3, 0, 0, 0, 0, time.UTC))
	c.wage(t, b, "2024-06-02", 30000)
	c.dividend(t, b, "2024-06-20", 4500)

	june := Month{2024, time.June}
	got, err := svc.MonthIncomesOf(ctx, c.operator, june, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	by := map[string]MonthIncome{}
	for _, h := range got.Households {
		by[h.HouseholdID.String()] = h
	}
	if got.Month != "2024-06" || len(got.Households) != 2 || got.Truncated {
		t.Fatalf("%+v", got)
	}
	if h := by[a.String()]; h.BusinessFen != 70000 || h.WageFen != 0 || h.TotalFen != 70000 || h.VillageCode != c.villages[0] {
		t.Errorf("a: %+v", h)
	}
	if h := by[b.String()]; h.BusinessFen != 30000 || h.WageFen != 30000 || h.PropertyFen != 4500 || h.TotalFen != 64500 {
		t.Errorf("b: %+v", h)
	}
	if _, ok := by[idle.String()]; ok {
		t.Errorf("a household without income is listed")
	}
	if _, ok := by[far.String()]; ok {
		t.Errorf("a household outside the station's villages is listed")
	}
	// The county office sees every village; a prefix narrows; a limit truncates.
	all, err := svc.MonthIncomesOf(ctx, c.admin, june, "", 0)
	if err != nil || len(all.Households) < 3 {
		t.Errorf("admin: %+v %v", all, err)
	}
	one, err := svc.MonthIncomesOf(ctx, c.admin, june, c.villages[2], 0)
	if err != nil || len(one.Households) != 1 || one.Households[0].HouseholdID != far {
		t.Errorf("village %s: %+v %v", c.villages[2], one, err)
	}
	cut, err := svc.MonthIncomesOf(ctx, c.operator, june, "", 1)
	if err != nil || len(cut.Households) != 1 || !cut.Truncated {
		t.Errorf("limit 1: %+v %v", cut, err)
	}
	may, err := svc.MonthIncomesOf(ctx, c.operator, Month{2024, time.May}, "", 0)
	if err != nil || len(may.Households) != 2 || may.Households[0].TotalFen+may.Households[1].TotalFen != 20000 {
		t.Errorf("may: %+v %v", may, err)
	}
	if _, err := svc.MonthIncomesOf(ctx, c.admin, june, "43x", 0); !apperr.Is(err, apperr.KindInvalid) {
		t.Errorf("bad village code: %v", err)
	}
}
