package ledger

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/database"
	"github.com/fupinmarket/fupin/internal/platform/money"
)

// complete marks an order completed and posts its sale through PostSale with the facts frozen with
// its lines, as procurement does.
func (w *world) complete(t *testing.T, svc *Service, o order, at time.Time) uuid.UUID {
	t.Helper()
	var id uuid.UUID
	err := database.Tx(context.Background(), w.db, func(tx *gorm.DB) error {
		if err := tx.Exec(`UPDATE orders SET status = 'completed', completed_at = ? WHERE id = ?`, at, o.ID).Error; err != nil {
			return err
		}
		var err error
		id, err = svc.PostSale(context.Background(), tx, o.ID, w.unitID, frozenSale(t, tx, o.ID, nil), at)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// lineIncome is what each household was credited as income on one order line.
func lineIncome(t *testing.T, db *gorm.DB, lineID uuid.UUID) map[uuid.UUID]money.Money {
	t.Helper()
	var rows []struct {
		OwnerID uuid.UUID
		Income  int64
	}
	if err := db.Raw(`SELECT a.owner_id, -sum(p.amount_fen) AS income FROM postings p
		JOIN ledger_accounts a ON a.id = p.account_id AND a.kind = ?
		WHERE p.order_line_id = ? GROUP BY a.owner_id`, string(HouseholdIncome), lineID).Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	out := map[uuid.UUID]money.Money{}
	for _, r := range rows {
		out[r.OwnerID] = money.Money(r.Income)
	}
	return out
}

func mustVerify(t *testing.T, db *gorm.DB) {
	t.Helper()
	var out bytes.Buffer
	if n, err := Verify(context.Background(), db, &out); err != nil || n != 0 {
		t.Fatalf("verify: %d mismatches, err %v\n%s", n, err, out.String())
	}
}

func TestCooperativePassThrough(t *testing.T) {
	w := newWorld(t, 4)
	svc := NewService(w.db)
	h := w.households
	coop := w.cooperative(t, Member{h[0], 3334}, Member{h[1], 3333}, Member{h[2], 3333})

	t.Run("¥19.99 × 3 through a cooperative of 3334/3333/3333", func(t *testing.T) {
		kiwi := w.product(t, "猕猴桃", 1999, Supplier{CooperativeID: coop, ShareBP: 10000})
		o := w.order(t, "placed", lineSpec{kiwi, 3, 1999})
		w.complete(t, svc, o, t0)
		// 5997 × .3334 = 1999.40 and × .3333 = 1998.80: floors 1999+1998+1998 = 5995, the two
		// fen left go to the largest remainders (.80, .80).
		got := lineIncome(t, w.db, o.Lines[0])
		want := map[uuid.UUID]money.Money{h[0]: 1999, h[1]: 1999, h[2]: 1999}
		if len(got) != 3 || got[h[0]] != want[h[0]] || got[h[1]] != want[h[1]] || got[h[2]] != want[h[2]] {
			t.Errorf("income %v, want %v", got, want)
		}
		mustVerify(t, w.db)
	})

	t.Run("¥0.10 three ways through the cooperative", func(t *testing.T) {
		dime := w.product(t, "野菜", 10, Supplier{CooperativeID: coop, ShareBP: 10000})
		o := w.order(t, "placed", lineSpec{dime, 1, 10})
		w.complete(t, svc, o, t0)
		got := lineIncome(t, w.db, o.Lines[0])
		if got[h[0]] != 4 || got[h[1]] != 3 || got[h[2]] != 3 {
			t.Errorf("¥0.10 split %v, want 4/3/3", got)
		}
		mustVerify(t, w.db)
	})

	t.Run("a household and a cooperative with a commission", func(t *testing.T) {
		exec(t, w.db, `UPDATE stations SET commission_bp = 300 WHERE id = ?`, w.stationID)
		defer exec(t, w.db, `UPDATE stations SET commission_bp = 0 WHERE id = ?`, w.stationID)
		// h[0] is both a direct supplier (40%) and a member of the cooperative (60%).
		mixed := w.product(t, "腊肉", 12345, Supplier{HouseholdID: h[0], ShareBP: 4000}, Supplier{CooperativeID: coop, ShareBP: 6000})
		o := w.order(t, "placed", lineSpec{mixed, 7, 12345})
		entry := w.complete(t, svc, o, t0)
		line := money.Money(7 * 12345) // 86415
		// Commission 3% = 2592.45 → 2592; households get 83823: direct 40% = 33529.2 → 33529,
		// cooperative 60% = 50293.8 → 50294; its members: 50294 × .3334 = 16768.02, × .3333 = 16762.99
		// (twice) → 16768 + 16762 + 16762 = 50292, the 2 fen left to the two .99 remainders.
		var commission int64
		if err := w.db.Raw(`SELECT -sum(p.amount_fen) FROM postings p JOIN ledger_accounts a ON a.id = p.account_id
			WHERE p.entry_id = ? AND a.kind = 'station_commission' AND a.owner_id = ?`, entry, w.stationID).Scan(&commission).Error; err != nil {
			t.Fatal(err)
		}
		got := lineIncome(t, w.db, o.Lines[0])
		if commission != 2592 || got[h[0]] != 33529+16768 || got[h[1]] != 16763 || got[h[2]] != 16763 {
			t.Errorf("commission %d, income %v", commission, got)
		}
		if sum := money.Money(commission) + got[h[0]] + got[h[1]] + got[h[2]]; sum != line {
			t.Errorf("parts sum to %d, want the line's %d", sum, line)
		}
		// The cooperative's pass-through: credited and debited with its 50294 fen, keeping nothing.
		var legs []int64
		if err := w.db.Raw(`SELECT p.amount_fen FROM postings p JOIN ledger_accounts a ON a.id = p.account_id
			WHERE p.entry_id = ? AND a.kind = 'cooperative_passthrough' AND a.owner_id = ? ORDER BY p.amount_fen`, entry, coop).
			Scan(&legs).Error; err != nil {
			t.Fatal(err)
		}
		if len(legs) != 2 || legs[0] != -50294 || legs[1] != 50294 {
			t.Errorf("pass-through legs %v, want [-50294 50294]", legs)
		}
		// The scan page's figures for one item are the sale entry's, to the fen and the share.
		one := w.order(t, "placed", lineSpec{mixed, 1, 12345})
		w.complete(t, svc, one, t0)
		credited := lineIncome(t, w.db, one.Lines[0])
		shares, err := ItemAttribution(soldItem(t, w.db, one.Lines[0], 12345))
		if err != nil || len(shares) != 3 {
			t.Fatalf("ItemAttribution: %v, %v", shares, err)
		}
		wantBP := map[uuid.UUID]int32{h[0]: 4000 + 2000, h[1]: 1999, h[2]: 1999}
		for _, sh := range shares {
			if sh.Fen != credited[sh.HouseholdID] || sh.ShareBP != wantBP[sh.HouseholdID] {
				t.Errorf("item share %+v, sale credited %d and share %d", sh, credited[sh.HouseholdID], wantBP[sh.HouseholdID])
			}
		}
		if shares[0].HouseholdID != h[0] {
			t.Errorf("largest share first: %+v", shares)
		}
		// What is owed equals what was earned, per household.
		for _, id := range h[:3] {
			if p, i := balance(t, w.db, AccountRef{HouseholdPayable, id}), balance(t, w.db, AccountRef{HouseholdIncome, id}); p != i {
				t.Errorf("household %s owed %d, income %d", id, -p, -i)
			}
		}
		mustVerify(t, w.db)
	})

	t.Run("member shares must sum to 10000", func(t *testing.T) {
		err := database.Tx(context.Background(), w.db, func(tx *gorm.DB) error {
			id := newID()
			if err := tx.Exec(`INSERT INTO cooperatives (id, name, village_code, county_code) VALUES (?, '坏合作社', ?, '433124')`, id, village).Error; err != nil {
				return err
			}
			return tx.Exec(`INSERT INTO cooperative_members (cooperative_id, household_id, share_bp) VALUES (?, ?, 9999)`, id, h[3]).Error
		})
		if apperr.PgConstraint(err) != "cooperative_members_shares_sum" {
			t.Errorf("err %v, want the shares-sum trigger", err)
		}
		err = w.db.Exec(`INSERT INTO product_suppliers (product_id, household_id, cooperative_id, share_bp) VALUES (?, ?, ?, 1)`,
			newID(), h[3], coop).Error
		if apperr.PgConstraint(err) != "product_suppliers_one_supplier" {
			t.Errorf("err %v, want product_suppliers_one_supplier", err)
		}
	})

	t.Run("refused in SaleEntry", func(t *testing.T) {
		bad := map[string]SaleLine{
			"cooperative without members": {OrderLineID: newID(), Amount: 100, Suppliers: []Supplier{{CooperativeID: coop, ShareBP: 10000}}},
			"members summing to 9999": {OrderLineID: newID(), Amount: 100, Suppliers: []Supplier{{CooperativeID: coop, ShareBP: 10000,
				Members: []Member{{h[0], 5000}, {h[1], 4999}}}}},
			"household and cooperative in one supplier": {OrderLineID: newID(), Amount: 100, Suppliers: []Supplier{{HouseholdID: h[0],
				CooperativeID: coop, ShareBP: 10000, Members: []Member{{h[0], 10000}}}}},
			"commission over 5000":       {OrderLineID: newID(), Amount: 100, StationID: w.stationID, CommissionBP: 5001, Suppliers: []Supplier{{HouseholdID: h[0], ShareBP: 10000}}},
			"commission without station": {OrderLineID: newID(), Amount: 100, CommissionBP: 100, Suppliers: []Supplier{{HouseholdID: h[0], ShareBP: 10000}}},
		}
		for name, l := range bad {
			if _, err := SaleEntry(newID(), w.unitID, []SaleLine{l}, t0); !apperr.Is(err, apperr.KindInvalid) {
				t.Errorf("%s: err %v, want Invalid", name, err)
			}
		}
	})
}
