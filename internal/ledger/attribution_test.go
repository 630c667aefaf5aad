package ledger

import (
	"maps"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/money"
)

// credits returns each household's income credit on each line (positive fen).
func credits(e Entry) map[uuid.UUID]map[uuid.UUID]money.Money {
	out := map[uuid.UUID]map[uuid.UUID]money.Money{}
	for _, p := range e.Postings {
		if p.Account.Kind != HouseholdIncome {
			continue
		}
		if out[*p.OrderLineID] == nil {
			out[*p.OrderLineID] = map[uuid.UUID]money.Money{}
		}
		out[*p.OrderLineID][p.Account.OwnerID] += -p.Amount
	}
	return out
}

func TestSaleEntryRounding(t *testing.T) {
	orderID, unitID := newID(), newID()
	a, b, c := newID(), newID(), newID()
	shares := []Supplier{{HouseholdID: a, ShareBP: 3334}, {HouseholdID: b, ShareBP: 3333}, {HouseholdID: c, ShareBP: 3333}}

	cases := []struct {
		name   string
		amount money.Money
		want   map[uuid.UUID]money.Money
	}{
		{"¥100.00 three ways", money.Yuan(100), map[uuid.UUID]money.Money{a: 3334, b: 3333, c: 3333}},
		{"10 fen three ways", 10, map[uuid.UUID]money.Money{a: 4, b: 3, c: 3}},
		// 1999 × .3334 = 666.47, × .3333 = 666.27: the odd fen goes to the largest remainder.
		{"¥19.99 three ways", 1999, map[uuid.UUID]money.Money{a: 667, b: 666, c: 666}},
		// Shares that round to 0 fen get no posting (postings are never zero).
		{"1 fen three ways", 1, map[uuid.UUID]money.Money{a: 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			line := newID()
			e, err := SaleEntry(orderID, unitID, []SaleLine{{OrderLineID: line, Amount: tc.amount, Suppliers: shares}}, t0)
			if err != nil {
				t.Fatal(err)
			}
			if got := credits(e)[line]; len(got) != len(tc.want) || !maps.Equal(got, tc.want) {
				t.Errorf("credits %v, want %v", got, tc.want)
			}
			if e.Postings[0].Account != unit(unitID) || e.Postings[0].Amount != tc.amount {
				t.Errorf("first posting %+v, want a debit of the unit's receivable by %d", e.Postings[0], tc.amount)
			}
			// Per household: owed (payable) and the memorandum pair (attributed, income).
			if len(e.Postings) != 1+3*len(tc.want) {
				t.Errorf("%d postings, want %d", len(e.Postings), 1+3*len(tc.want))
			}
			if err := e.validate(false); err != nil {
				t.Errorf("entry does not validate: %v", err)
			}
		})
	}

	t.Run("¥19.99 × 3 lines", func(t *testing.T) {
		lines := []SaleLine{{OrderLineID: newID(), Amount: 1999, Suppliers: shares}, {OrderLineID: newID(), Amount: 1999, Suppliers: shares}, {OrderLineID: newID(), Amount: 1999, Suppliers: shares}}
		e, err := SaleEntry(orderID, unitID, lines, t0)
		if err != nil {
			t.Fatal(err)
		}
		if e.IdempotencyKey != "order:"+orderID.String()+":sale" || e.Kind != KindSale || *e.OrderID != orderID {
			t.Errorf("header %q %q %v", e.Kind, e.IdempotencyKey, e.OrderID)
		}
		var debit money.Money
		for _, p := range e.Postings {
			if p.Account == unit(unitID) {
				debit += p.Amount
			}
		}
		if debit != 5997 {
			t.Errorf("unit debit %d, want 5997", debit)
		}
		per := map[uuid.UUID]money.Money{}
		for _, l := range lines {
			lc := credits(e)[l.OrderLineID]
			if lc[a]+lc[b]+lc[c] != 1999 {
				t.Errorf("line %s credits %v do not sum to 1999", l.OrderLineID, lc)
			}
			for h, v := range lc {
				per[h] += v
			}
		}
		if want := (map[uuid.UUID]money.Money{a: 2001, b: 1998, c: 1998}); !maps.Equal(per, want) {
			t.Errorf("household totals %v, want %v", per, want)
		}
	})

	t.Run("ties do not depend on the suppliers' order", func(t *testing.T) {
		half := []Supplier{{HouseholdID: a, ShareBP: 5000}, {HouseholdID: b, ShareBP: 5000}}
		var lines, reversed []SaleLine
		for range 40 {
			id := newID()
			lines = append(lines, SaleLine{OrderLineID: id, Amount: 1999, Suppliers: half})
			reversed = append(reversed, SaleLine{OrderLineID: id, Amount: 1999, Suppliers: []Supplier{half[1], half[0]}})
		}
		e1, err1 := SaleEntry(orderID, unitID, lines, t0)
		e2, err2 := SaleEntry(orderID, unitID, reversed, t0)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if string(requestHash(e1, nil)) != string(requestHash(e2, nil)) {
			t.Error("the same sale listed in another order hashes differently: a retry would conflict")
		}
		// The odd fen of each line goes to a or b by the line's hash, not always to the same one.
		wins := map[uuid.UUID]int{}
		for _, c := range credits(e1) {
			if c[a]+c[b] != 1999 || (c[a] != 1000 && c[a] != 999) {
				t.Fatalf("line split %v", c)
			}
			if c[a] == 1000 {
				wins[a]++
			} else {
				wins[b]++
			}
		}
		if wins[a] == 0 || wins[b] == 0 {
			t.Errorf("the odd fen of 40 lines always went to the same household: %v", wins)
		}
	})

	t.Run("refused", func(t *testing.T) {
		bad := map[string][]SaleLine{
			"shares sum to 9999":  {{OrderLineID: newID(), Amount: 100, Suppliers: []Supplier{{HouseholdID: a, ShareBP: 5000}, {HouseholdID: b, ShareBP: 4999}}}},
			"shares over 10000":   {{OrderLineID: newID(), Amount: 100, Suppliers: []Supplier{{HouseholdID: a, ShareBP: 5001}, {HouseholdID: b, ShareBP: 5000}}}},
			"zero amount":         {{OrderLineID: newID(), Amount: 0, Suppliers: shares}},
			"negative amount":     {{OrderLineID: newID(), Amount: -5, Suppliers: shares}},
			"no suppliers":        {{OrderLineID: newID(), Amount: 100, Suppliers: nil}},
			"repeated household":  {{OrderLineID: newID(), Amount: 100, Suppliers: []Supplier{{HouseholdID: a, ShareBP: 5000}, {HouseholdID: a, ShareBP: 5000}}}},
			"zero share":          {{OrderLineID: newID(), Amount: 100, Suppliers: []Supplier{{HouseholdID: a, ShareBP: 10000}, {HouseholdID: b, ShareBP: 0}}}},
			"no order line id":    {{OrderLineID: uuid.Nil, Amount: 100, Suppliers: shares}},
			"no lines":            nil,
			"repeated order line": {{OrderLineID: orderID, Amount: 100, Suppliers: shares}, {OrderLineID: orderID, Amount: 100, Suppliers: shares}},
		}
		for name, lines := range bad {
			if _, err := SaleEntry(orderID, unitID, lines, t0); !apperr.Is(err, apperr.KindInvalid) {
				t.Errorf("%s: err %v, want Invalid", name, err)
			}
		}
	})
}

func TestPaymentEntry(t *testing.T) {
	orderID, unitID := newID(), newID()
	e := PaymentEntry(orderID, unitID, 5997, "wx-4200001", t0)
	if e.Kind != KindPayment || e.IdempotencyKey != "order:"+orderID.String()+":payment" || *e.OrderID != orderID {
		t.Errorf("header %+v", e)
	}
	want := []Posting{{Account: AccountRef{Kind: Bank}, Amount: 5997}, {Account: unit(unitID), Amount: -5997}}
	if !slices.Equal(e.Postings, want) {
		t.Errorf("postings %+v, want %+v", e.Postings, want)
	}
	if err := e.validate(false); err != nil {
		t.Error(err)
	}
}
