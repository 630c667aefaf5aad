package ledger

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fupinmarket/fupin/internal/platform/money"
)

// A purchase-model line credits the station, no household; its rebate is the declared part of the
// margin rounded down, split over the delivering households by largest remainder, and balances.
func TestPurchaseLineAndRebate(t *testing.T) {
	station, unit, a, b := uuid.New(), uuid.New(), uuid.New(), uuid.New()
	line := SaleLine{OrderLineID: uuid.New(), Amount: 20400, StationID: station, CommissionBP: 300, Purchase: true,
		Cost: money.Money(12733), RebateBP: 2000, Suppliers: []Supplier{{HouseholdID: a, ShareBP: 3333}, {HouseholdID: b, ShareBP: 6667}}}
	e, err := SaleEntry(uuid.New(), unit, []SaleLine{line}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var sales, households money.Money
	for _, p := range e.Postings {
		switch p.Account.Kind {
		case StationSales:
			sales -= p.Amount
		case HouseholdIncome, HouseholdPayable:
			households -= p.Amount
		}
	}
	// ¥204.00 less 3 % commission (¥6.12) = ¥197.88 to the station.
	if sales != 19788 || households != 0 {
		t.Fatalf("station credited %d, households %d; want 19788 and 0", sales, households)
	}
	// Margin 19788 − 12733 = 7055; 20 % = 1411 (exact); a 3333/6667 split is 470.2/940.7 → 470, 941.
	if r := LineRebate(line); r != 1411 {
		t.Fatalf("rebate %d, want 1411", r)
	}
	line.RebateBP = 1999 // 7055 × 0.1999 = 1410.29 → 1410, rounded down
	if r := LineRebate(line); r != 1410 {
		t.Fatalf("rebate %d, want 1410", r)
	}
	line.RebateBP = 2000
	re, ok, err := RebateEntry(uuid.New(), "order:x:sale", []SaleLine{line}, time.Now())
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if err := re.validate(false); err != nil {
		t.Fatalf("rebate entry does not balance: %v", err)
	}
	got := map[uuid.UUID]money.Money{}
	for _, p := range re.Postings {
		if p.Account.Kind == HouseholdIncome {
			got[p.Account.OwnerID] -= p.Amount
		}
	}
	if got[a] != 470 || got[b] != 941 {
		t.Fatalf("rebate split %v, want 470 and 941", got)
	}
	line.Cost = 20000 // no margin, no rebate entry
	if _, ok, _ := RebateEntry(uuid.New(), "k", []SaleLine{line}, time.Now()); ok {
		t.Fatal("a line sold below its cost posted a rebate")
	}
}
