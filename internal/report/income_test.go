package report

import (
	"context"
	"testing"
	"time"

	"github.com/fupinmarket/fupin/internal/ledger"
	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/money"
)

func TestHouseholdIncomeAgainstTheLine(t *testing.T) {
	ctx := context.Background()
	c := newCounty(t)
	svc := NewService(c.db)
	svc.now = func() time.Time { return time.Date(2025, 3, 15, 0, 0, 0, 0, time.UTC) }
	a := c.household(t, c.villages[0], 4)
	b := c.household(t, c.villages[0], 2)
	far := c.household(t, c.villages[2], 1)
	kiwi := c.product(t, "猕猴桃", 10000, ledger.Supplier{HouseholdID: a, ShareBP: 5000}, ledger.Supplier{HouseholdID: b, ShareBP: 5000})
	// 17:00 UTC on 31 May is 01:00 on 1 June in China: June income.
	c.sell(t, kiwi, 10, 10000, time.Date(2024, 5, 31, 17, 0, 0, 0, time.UTC)) // a, b: 50,000 fen each
	c.sell(t, kiwi, 2, 10000, time.Date(2024, 5, 31, 15, 0, 0, 0, time.UTC))  // May: 10,000 each
	c.wage(t, a, "2024-07-02", 30000)
	c.sell(t, kiwi, 4, 10000, time.Date(2024, 12, 1, 0, 0, 0, 0, time.UTC)) // Dec: 20,000 each
	// a's household grows to 5 from 1 September.
	exec(t, c.db, `INSERT INTO household_history (household_id, valid_from, status, members) VALUES (?, '2024-09-01', 'poor', 5)`, a)

	got, err := svc.HouseholdIncomeOf(ctx, c.operator, a, 2024, LinePoverty)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Months) != 12 || got.Months[4].BusinessFen != 10000 || got.Months[5].BusinessFen != 50000 ||
		got.Months[6].WageFen != 30000 || got.Months[11].BusinessFen != 20000 {
		t.Errorf("months %+v", got.Months)
	}
	if got.Months[5].Members != 4 || got.Months[5].PerCapitaFen != 12500 || got.Months[11].Members != 5 {
		t.Errorf("june %+v december %+v", got.Months[5], got.Months[11])
	}
	// Year: 80,000 business + 30,000 wage = 110,000 fen over 5 people = 22,000 per head, below
	// the ¥4,000 (2020) national line that applies in 2024.
	if got.Year.BusinessFen != 80000 || got.Year.WageFen != 30000 || got.Year.TotalFen != 110000 || got.Year.Members != 5 ||
		got.Year.PerCapitaFen != 22000 {
		t.Errorf("year %+v", got.Year)
	}
	if got.Line == nil || got.Line.Year != 2020 || got.Line.AmountFen != 400000 || !got.BelowLine || got.GapFen != 378000 {
		t.Errorf("line %+v below %v gap %d", got.Line, got.BelowLine, got.GapFen)
	}
	if got.Rolling12.Period != "2024-01..2024-12" || got.Rolling12.TotalFen != 110000 {
		t.Errorf("rolling %+v", got.Rolling12)
	}
	// The provincial monitoring line (example, 2024, province 43) applies to this county's households.
	mon, err := svc.HouseholdIncomeOf(ctx, c.admin, a, 2024, LineMonitoring)
	if err != nil || mon.Line == nil || mon.Line.ProvinceCode != "43" || mon.Line.AmountFen != 700000 {
		t.Errorf("monitoring line %+v %v", mon.Line, err)
	}
	// 2025 so far (now is 15 March 2025): rolling 12 months 2024-04..2025-03.
	cur, err := svc.HouseholdIncomeOf(ctx, c.admin, a, 2025, LinePoverty)
	if err != nil || len(cur.Months) != 3 || cur.Rolling12.Period != "2024-04..2025-03" || cur.Rolling12.TotalFen != 110000 {
		t.Errorf("2025: %d months, rolling %+v, %v", len(cur.Months), cur.Rolling12, err)
	}
	if _, err := svc.HouseholdIncomeOf(ctx, c.operator, far, 2024, LinePoverty); !apperr.Is(err, apperr.KindNotFound) {
		t.Errorf("outside the station's villages: %v", err)
	}
	if _, err := svc.HouseholdIncomeOf(ctx, c.admin, a, 1999, "x"); !apperr.Is(err, apperr.KindInvalid) {
		t.Errorf("bad year and line: %v", err)
	}

	// A line set by the county for 2024 replaces the 2020 one: the lowest a line can be, ¥2,300
	// (MinLineFen, also the database's CHECK since 00981). A June sale of 1,250,000 fen each puts a
	// and b above it.
	c.sell(t, kiwi, 250, 10000, time.Date(2024, 6, 10, 0, 0, 0, 0, time.UTC))
	if _, err := svc.SetLine(ctx, Line{Year: 2024, Kind: LinePoverty, AmountFen: MinLineFen, Source: "test"}); err != nil {
		t.Fatal(err)
	}
	defer exec(t, c.db, `DELETE FROM poverty_lines WHERE year = 2024 AND province_code = '' AND kind = 'poverty'`)
	rep, err := svc.BelowLine(ctx, c.admin, BelowLineQuery{Year: 2024, Kind: LinePoverty, VillagePrefix: c.code})
	if err != nil {
		t.Fatal(err)
	}
	// a: 1,360,000 / 5 = 272,000 per head; b: 1,330,000 / 2 = 665,000 (both above 230,000); far: 0 (below).
	if rep.Counted != 3 || rep.Below != 1 || len(rep.Villages) != 1 || rep.Villages[0].VillageCode != c.villages[2] ||
		rep.Villages[0].Households[0].HouseholdID != far || rep.Villages[0].Households[0].GapFen != 230000 {
		t.Errorf("below line %+v", rep)
	}
	// The station sees only its village, where nobody is below ¥2,300.
	rep, err = svc.BelowLine(ctx, c.operator, BelowLineQuery{Year: 2024, Kind: LinePoverty, VillagePrefix: c.code})
	if err != nil || rep.Counted != 2 || rep.Below != 0 {
		t.Errorf("station's list %+v %v", rep, err)
	}
	// Rolling 12 months to 2024-06: a had 1,310,000 fen over 4 people = 327,500 per head.
	to := Month{2024, time.June}
	rep, err = svc.BelowLine(ctx, c.admin, BelowLineQuery{RollingTo: &to, Kind: LinePoverty, VillagePrefix: c.villages[0]})
	if err != nil || rep.Period != "2023-07..2024-06" || rep.Counted != 2 || rep.Below != 0 {
		t.Errorf("rolling list %+v %v", rep, err)
	}
	if _, err := svc.SetLine(ctx, Line{Year: 2024, ProvinceCode: "4", Kind: "x", AmountFen: 0}); !apperr.Is(err, apperr.KindInvalid) {
		t.Errorf("bad line: %v", err)
	}
	// A 1-fen line, or one just below ¥2,300, is refused on amount_fen and stored nowhere.
	for _, fen := range []money.Money{1, MinLineFen - 1} {
		_, err := svc.SetLine(ctx, Line{Year: 2031, Kind: LineMonitoring, AmountFen: fen, Source: "test"})
		if e, ok := apperr.As(err); !ok || len(e.Fields) != 1 || e.Fields[0].Field != "amount_fen" {
			t.Errorf("line of %d fen: %v, want a refusal naming amount_fen", fen, err)
		}
	}
	var n int64
	if err := c.db.Raw(`SELECT count(*) FROM poverty_lines WHERE year = 2031`).Scan(&n).Error; err != nil || n != 0 {
		t.Errorf("%d lines of 2031 stored (%v), want none", n, err)
	}
}
