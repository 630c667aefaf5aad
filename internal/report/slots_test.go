package report

import (
	"context"
	"testing"
	"time"

	"github.com/fupinmarket/fupin/internal/ledger"
)

// A household's income accounts are kept in slots (ledger migration 00520): its sales credit
// several rows. Every report reads the sum of them, equal to what the postings say.
func TestReportsSumAHouseholdsSlots(t *testing.T) {
	ctx := context.Background()
	c := newCounty(t)
	svc := NewService(c.db)
	h := c.household(t, c.villages[0], 4)
	tea := c.product(t, "茶叶", 1000, ledger.Supplier{HouseholdID: h, ShareBP: 10000})
	for i := range 20 {
		c.sell(t, tea, 1, int64(1000+i), time.Date(2024, 6, 3, 1, i, 0, 0, time.UTC))
	}
	c.wage(t, h, "2024-06-04", 30000)
	var slots int
	if err := c.db.Raw(`SELECT count(*) FROM ledger_accounts WHERE kind = 'household_income' AND owner_id = ?`, h).Row().Scan(&slots); err != nil {
		t.Fatal(err)
	}
	if slots < 3 {
		t.Fatalf("the household's income is in %d slots after 20 sales, want it spread", slots)
	}
	// What the postings say, the truth each report must match.
	var business int64
	if err := c.db.Raw(`SELECT -sum(p.amount_fen) FROM postings p JOIN ledger_accounts a ON a.id = p.account_id
		WHERE a.kind = 'household_income' AND a.owner_id = ?`, h).Row().Scan(&business); err != nil {
		t.Fatal(err)
	}
	if business <= 0 {
		t.Fatalf("business income %d", business)
	}

	year, err := svc.HouseholdIncomeOf(ctx, c.admin, h, 2024, LinePoverty)
	if err != nil || year.Year.BusinessFen != business || year.Year.WageFen != 30000 {
		t.Errorf("household income: %+v %v; want business %d, wage 30000", year.Year, err, business)
	}
	june := Month{2024, time.June}
	month, err := svc.MonthIncomesOf(ctx, c.admin, june, c.villages[0], 0)
	if err != nil || len(month.Households) != 1 || month.Households[0].BusinessFen != business || month.Households[0].WageFen != 30000 {
		t.Errorf("month incomes: %+v %v; want business %d, wage 30000", month, err, business)
	}
	rep, err := svc.MonthlyReport(ctx, c.admin, c.code, june)
	if err != nil || rep.Totals.BusinessFen != business || rep.Totals.WageFen != 30000 || rep.Totals.HouseholdsBenefited != 1 {
		t.Errorf("monthly report totals: %+v %v; want business %d, wage 30000, 1 household", rep.Totals, err, business)
	}
}
