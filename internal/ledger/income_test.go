package ledger

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/database"
	"github.com/fupinmarket/fupin/internal/platform/dbtest"
	"github.com/fupinmarket/fupin/internal/platform/money"
)

// sold is a completed order with its sale and payment posted, as procurement would do it.
type sold struct {
	order
	w        *world
	products []uuid.UUID
	sale     uuid.UUID
}

// sellOrder lists two products (rice: 3334/3333/3333 of three households, honey: 5000/5000 of the
// first two), orders 3 boxes of rice at ¥19.99 and 2 jars of honey at ¥45.50, pays and completes
// it: the payment row, the payment entry, the status change and the sale entry each commit with
// their business event.
func sellOrder(t *testing.T, svc *Service) sold {
	t.Helper()
	ctx := context.Background()
	w := newWorld(t, 3)
	h := w.households
	rice := w.product(t, "十八洞猕猴桃", 1999, Supplier{HouseholdID: h[0], ShareBP: 3334}, Supplier{HouseholdID: h[1], ShareBP: 3333}, Supplier{HouseholdID: h[2], ShareBP: 3333})
	honey := w.product(t, "苗家蜂蜜", 4550, Supplier{HouseholdID: h[0], ShareBP: 5000}, Supplier{HouseholdID: h[1], ShareBP: 5000})
	o := w.order(t, "placed", lineSpec{rice, 3, 1999}, lineSpec{honey, 2, 4550})
	paidAt, doneAt := t0.Add(time.Hour), t0.Add(72*time.Hour)

	err := database.Tx(ctx, w.db, func(tx *gorm.DB) error {
		if err := tx.Exec(`INSERT INTO payments (id, order_id, amount_fen, provider, provider_ref, paid_at)
			VALUES (?, ?, ?, 'test', ?, ?)`, newID(), o.ID, int64(o.Total), "ref-"+randHex(6), paidAt).Error; err != nil {
			return err
		}
		if err := tx.Exec(`UPDATE orders SET status = 'paid', paid_at = ? WHERE id = ?`, paidAt, o.ID).Error; err != nil {
			return err
		}
		_, _, err := svc.Post(ctx, tx, PaymentEntry(o.ID, w.unitID, o.Total, "ref", paidAt))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	s := sold{order: o, w: w, products: []uuid.UUID{rice, honey}}
	err = database.Tx(ctx, w.db, func(tx *gorm.DB) error {
		if err := tx.Exec(`UPDATE orders SET status = 'completed', completed_at = ? WHERE id = ?`, doneAt, o.ID).Error; err != nil {
			return err
		}
		e, err := SaleEntry(o.ID, w.unitID, []SaleLine{
			{OrderLineID: o.Lines[0], Amount: 3 * 1999, Suppliers: []Supplier{{HouseholdID: h[0], ShareBP: 3334}, {HouseholdID: h[1], ShareBP: 3333}, {HouseholdID: h[2], ShareBP: 3333}}},
			{OrderLineID: o.Lines[1], Amount: 2 * 4550, Suppliers: []Supplier{{HouseholdID: h[0], ShareBP: 5000}, {HouseholdID: h[1], ShareBP: 5000}}},
		}, doneAt)
		if err != nil {
			return err
		}
		s.sale, _, err = svc.Post(ctx, tx, e)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestHouseholdIncome(t *testing.T) {
	db := dbtest.DB(t)
	svc := NewService(db)
	s := sellOrder(t, svc)
	h := s.w.households

	// Rice: 5997 fen at 3334/3333/3333 is 1999.3998 / 1998.8001 / 1998.8001: floors 1999, 1998, 1998
	// and the two fen left go to the largest remainders, so 1999 each. Honey: 9100 → 4550 each.
	want := map[uuid.UUID]money.Money{h[0]: 1999 + 4550, h[1]: 1999 + 4550, h[2]: 1999}
	for i, id := range h {
		st, err := svc.HouseholdIncome(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		var sum money.Money
		for _, l := range st.Lines {
			sum += l.AmountFen
			if l.Kind != KindSale || *l.OrderID != s.ID || l.EntryID != s.sale || !l.OccurredAt.Equal(t0.Add(72*time.Hour)) {
				t.Errorf("line header %+v", l)
			}
			switch *l.OrderLineID {
			case s.Lines[0]:
				if l.ProductName != "十八洞猕猴桃" || *l.ProductID != s.products[0] || l.Quantity != 3 || l.AmountFen != 1999 {
					t.Errorf("rice line %+v", l)
				}
			case s.Lines[1]:
				if l.ProductName != "苗家蜂蜜" || l.Quantity != 2 || l.AmountFen != 4550 {
					t.Errorf("honey line %+v", l)
				}
			default:
				t.Errorf("line of another order line %+v", l)
			}
		}
		if st.IncomeFen != want[id] || st.IncomeFen != sum || st.HouseholdID != id || st.Entries != 1 ||
			st.Postings != len(st.Lines) || st.Truncated {
			t.Errorf("household %d: statement %+v, want income %d; lines sum to %d", i, st, want[id], sum)
		}
	}

	// Newest first: a second sale shows above the first.
	s2 := w2sale(t, svc, s)
	st, err := svc.HouseholdIncome(context.Background(), h[0])
	if err != nil {
		t.Fatal(err)
	}
	if st.Entries != 2 || len(st.Lines) != 3 || *st.Lines[0].OrderID != s2 || st.IncomeFen != want[h[0]]+1000 {
		t.Errorf("after a second sale: %+v", st)
	}

	// A household that never sold has a zero statement.
	st, err = svc.HouseholdIncome(context.Background(), newID())
	if err != nil || st.IncomeFen != 0 || st.Entries != 0 || len(st.Lines) != 0 || st.Lines == nil {
		t.Errorf("empty statement %+v %v", st, err)
	}
}

// w2sale completes a second, later order of 1 box of rice at ¥10.00 for the first household only.
func w2sale(t *testing.T, svc *Service, s sold) uuid.UUID {
	t.Helper()
	w := s.w
	solo := w.product(t, "腊肉", 1000, Supplier{HouseholdID: w.households[0], ShareBP: 10000})
	o := w.order(t, "completed", lineSpec{solo, 1, 1000})
	later := t0.Add(240 * time.Hour)
	e, err := SaleEntry(o.ID, w.unitID, []SaleLine{{OrderLineID: o.Lines[0], Amount: 1000, Suppliers: []Supplier{{HouseholdID: w.households[0], ShareBP: 10000}}}}, later)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.Post(context.Background(), nil, e); err != nil {
		t.Fatal(err)
	}
	return o.ID
}

func TestVerify(t *testing.T) {
	db := dbtest.DB(t)
	svc := NewService(db)
	ctx := context.Background()
	s := sellOrder(t, svc)

	var out bytes.Buffer
	n, err := Verify(ctx, db, &out)
	if err != nil || n != 0 {
		t.Fatalf("verify on good data: %d mismatches, err %v\n%s", n, err, out.String())
	}
	if !strings.Contains(out.String(), "ledger verify OK: 0 mismatches") {
		t.Errorf("summary %q", out.String())
	}

	// A stored balance one fen off (accounts are not append-only, so this is possible).
	hhRef := AccountRef{Kind: HouseholdIncome, OwnerID: s.w.households[0]}
	exec(t, db, `UPDATE ledger_accounts SET balance_fen = balance_fen + 1 WHERE kind = ? AND owner_id = ?`, string(hhRef.Kind), hhRef.OwnerID)
	out.Reset()
	n, err = Verify(ctx, db, &out)
	if err != nil || n != 1 || !strings.Contains(out.String(), "MISMATCH account") || !strings.Contains(out.String(), "FAILED") {
		t.Errorf("verify after corrupting a balance: %d, %v\n%s", n, err, out.String())
	}
	exec(t, db, `UPDATE ledger_accounts SET balance_fen = balance_fen - 1 WHERE kind = ? AND owner_id = ?`, string(hhRef.Kind), hhRef.OwnerID)

	// A completed order without its sale entry: the order and each of its two lines.
	o := s.w.order(t, "completed", lineSpec{s.products[0], 1, 1999}, lineSpec{s.products[1], 1, 4550})
	out.Reset()
	n, err = Verify(ctx, db, &out)
	if err != nil || n != 3 || !strings.Contains(out.String(), "order "+o.ID.String()+" (completed): expected 1 sale entries (one per station shipment), found 0") {
		t.Errorf("verify with an unattributed order: %d, %v\n%s", n, err, out.String())
	}
	// A payment row without its payment entry.
	exec(t, db, `UPDATE orders SET status = 'paid' WHERE id = ?`, o.ID)
	exec(t, db, `INSERT INTO payments (id, order_id, amount_fen, provider, provider_ref, paid_at)
		VALUES (?, ?, ?, 'test', ?, now())`, newID(), o.ID, int64(o.Total), "ref-"+randHex(6))
	out.Reset()
	n, err = Verify(ctx, db, &out)
	if err != nil || n != 1 || !strings.Contains(out.String(), "expected exactly 1 payment entry") {
		t.Errorf("verify with an unposted payment: %d, %v\n%s", n, err, out.String())
	}
	// Post it, and all is well again.
	payEntry, _, err := svc.Post(ctx, nil, PaymentEntry(o.ID, s.w.unitID, o.Total, "ref", t0))
	if err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if n, err = Verify(ctx, db, &out); err != nil || n != 0 {
		t.Errorf("verify after repair: %d, %v\n%s", n, err, out.String())
	}

	// A refund paid back (return_ref set) without its refund_payment entry; then one of the wrong
	// amount; both found. (The refund row points at the payment entry: this check reads only its
	// return.)
	refundID := newID()
	exec(t, db, `INSERT INTO refunds (id, order_id, amount_fen, entry_id, created_by, created_at, returned_at, return_ref)
		VALUES (?, ?, 1999, ?, ?, now(), now(), ?)`, refundID, o.ID, payEntry, s.w.userID, "ret-"+randHex(6))
	out.Reset()
	n, err = Verify(ctx, db, &out)
	if err != nil || n != 1 || !strings.Contains(out.String(), "refund "+refundID.String()+": expected exactly 1 refund payment entry") {
		t.Errorf("verify with a refund not paid back in the ledger: %d, %v\n%s", n, err, out.String())
	}
	if _, _, err := svc.Post(ctx, nil, RefundPaymentEntry(refundID, o.ID, s.w.unitID, 1998, "ret", t0)); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	n, err = Verify(ctx, db, &out)
	if err != nil || n != 1 || !strings.Contains(out.String(), "expected bank credit and unit debit 1999 fen") {
		t.Errorf("verify with a refund paid back short: %d, %v\n%s", n, err, out.String())
	}
	exec(t, db, `UPDATE refunds SET amount_fen = 1998 WHERE id = ?`, refundID)
	out.Reset()
	if n, err = Verify(ctx, db, &out); err != nil || n != 0 {
		t.Errorf("verify after the refund's amount agrees: %d, %v\n%s", n, err, out.String())
	}

	// A cancelled order whose payment is neither owed back nor returned: the money kept.
	exec(t, db, `UPDATE orders SET status = 'cancelled' WHERE id = ?`, o.ID)
	out.Reset()
	n, err = Verify(ctx, db, &out)
	if err != nil || n != 1 || !strings.Contains(out.String(), "order "+o.ID.String()+" is cancelled, but its payment") {
		t.Errorf("verify with a cancelled order's payment kept: %d, %v\n%s", n, err, out.String())
	}
	// Owed back: consistent, and the summary says how much is owed.
	exec(t, db, `UPDATE payments SET return_due_at = now() WHERE order_id = ?`, o.ID)
	out.Reset()
	n, err = Verify(ctx, db, &out)
	if err != nil || n != 0 || !strings.Contains(out.String(), "owed back to units, not yet returned by the payment provider: 6549 fen (¥65.49) in 1") {
		t.Errorf("verify with a payment owed back: %d, %v\n%s", n, err, out.String())
	}
	// Owed back for an order that is not cancelled.
	exec(t, db, `UPDATE orders SET status = 'paid' WHERE id = ?`, o.ID)
	out.Reset()
	n, err = Verify(ctx, db, &out)
	if err != nil || n != 1 || !strings.Contains(out.String(), "order "+o.ID.String()+" is paid, but its payment of 6549 fen") {
		t.Errorf("verify with a live order's payment owed back: %d, %v\n%s", n, err, out.String())
	}
	exec(t, db, `UPDATE payments SET return_due_at = NULL WHERE order_id = ?`, o.ID) // the package's other tests verify too
}
