package ledger

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/database"

	"github.com/fupinmarket/fupin/internal/platform/money"
)

// refundEntry is a refund of amount fen of one sold line, derived from the line's attribution as
// the refunds of procurement are (kind refund, the order and its line on every posting): the
// postings of a sale of that amount on that line, negated.
func refundEntry(t *testing.T, orderID, unitID uuid.UUID, line SaleLine, amount money.Money, at time.Time) Entry {
	t.Helper()
	line.Amount = amount
	e, err := SaleEntry(orderID, unitID, []SaleLine{line}, at)
	if err != nil {
		t.Fatal(err)
	}
	e.Kind, e.IdempotencyKey, e.Memo = KindRefund, "refund:"+randHex(8), "refund of line "+line.OrderLineID.String()
	for i := range e.Postings {
		e.Postings[i].Amount = -e.Postings[i].Amount
	}
	return e
}

// TestLedgerProperties runs random orders (products of households and cooperatives with random
// shares, stations with random commissions), partial refunds, undone refunds and payouts; after
// every step verify passes and the households' income equals completed sales − refunds −
// commission, to the fen. PROPERTY_STEPS and the seed in the failure message reproduce a run.
func TestLedgerProperties(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 5))
	t.Logf("seed %d", seed)
	ctx := context.Background()
	w := newWorld(t, 8)
	svc := NewService(w.db).WithClock(worldNow)
	h := w.households

	shares := func(n int) []int64 { // n random positive shares summing to 10000
		cuts := map[int64]bool{}
		for int64(len(cuts)) < int64(n-1) {
			cuts[1+rng.Int64N(9999)] = true
		}
		out, prev := []int64{}, int64(0)
		for c := int64(1); c < 10000; c++ {
			if cuts[c] {
				out = append(out, c-prev)
				prev = c
			}
		}
		return append(out, 10000-prev)
	}
	pick := func(n int) []uuid.UUID { // n distinct households
		p := rng.Perm(len(h))[:n]
		out := make([]uuid.UUID, n)
		for i, k := range p {
			out[i] = h[k]
		}
		return out
	}
	var coops []Supplier // with members
	for range 2 {
		ms := pick(2 + rng.IntN(3))
		sh := shares(len(ms))
		var members []Member
		for i, m := range ms {
			members = append(members, Member{m, int32(sh[i])})
		}
		coops = append(coops, Supplier{CooperativeID: w.cooperative(t, members...), Members: members})
	}
	type product struct {
		id    uuid.UUID
		price int64
		sups  []Supplier
	}
	var products []product
	for i := range 6 {
		var sups []Supplier
		direct := pick(rng.IntN(3))
		if len(direct) == 0 && i%2 == 0 {
			direct = pick(1)
		}
		nc := rng.IntN(len(coops) + 1)
		if len(direct)+nc == 0 {
			nc = 1
		}
		sh := shares(len(direct) + nc)
		for j, d := range direct {
			sups = append(sups, Supplier{HouseholdID: d, ShareBP: int32(sh[j])})
		}
		for j := range nc {
			c := coops[j]
			c.ShareBP = int32(sh[len(direct)+j])
			sups = append(sups, c)
		}
		price := 1 + rng.Int64N(20000)
		products = append(products, product{w.product(t, "产品", price, sups...), price, sups})
	}

	// Lines of even index are refunded by amount (refundEntry, which may be undone by a
	// reversal); lines of odd index by quantity through PostRefund, as procurement does.
	type soldLine struct {
		orderID   uuid.UUID
		line      SaleLine
		remaining money.Money
		quantity  int // items not yet refunded (PostRefund lines)
		price     int64
	}
	var lines []soldLine
	type refund struct {
		entry  uuid.UUID
		line   int
		amount money.Money
	}
	var refunds []refund
	var sales, refunded money.Money

	check := func(step int, what string) {
		t.Helper()
		mustVerifyStep(t, w, step, what, seed)
		var income, commission int64
		if err := w.db.Raw(`SELECT coalesce(-sum(balance_fen), 0) FROM ledger_accounts WHERE kind = 'household_income' AND owner_id IN ?`, h).
			Scan(&income).Error; err != nil {
			t.Fatal(err)
		}
		if err := w.db.Raw(`SELECT coalesce(-sum(balance_fen), 0) FROM ledger_accounts WHERE kind = 'station_commission' AND owner_id = ?`, w.stationID).
			Scan(&commission).Error; err != nil {
			t.Fatal(err)
		}
		if money.Money(income) != sales-refunded-money.Money(commission) {
			t.Fatalf("seed %d step %d (%s): household income %d, want sales %d - refunds %d - commission %d = %d",
				seed, step, what, income, sales, refunded, commission, sales-refunded-money.Money(commission))
		}
	}

	steps := 40
	if testing.Short() {
		steps = 10
	}
	for step := range steps {
		at := t0.Add(time.Duration(step) * time.Hour)
		switch r := rng.IntN(10); {
		case r < 5 || len(lines) == 0: // a completed order
			bp := int32(0)
			if rng.IntN(2) == 0 {
				bp = int32(rng.IntN(MaxCommissionBP + 1))
			}
			exec(t, w.db, `UPDATE stations SET commission_bp = ? WHERE id = ?`, bp, w.stationID)
			var specs []lineSpec
			var ps []product
			for _, k := range rng.Perm(len(products))[:1+rng.IntN(3)] {
				specs = append(specs, lineSpec{products[k].id, 1 + rng.IntN(5), products[k].price})
				ps = append(ps, products[k])
			}
			o := w.order(t, "placed", specs...)
			w.complete(t, svc, o, at)
			sales += o.Total
			for i, id := range o.Lines {
				amt := money.Money(int64(specs[i].quantity) * specs[i].price)
				lines = append(lines, soldLine{o.ID, SaleLine{OrderLineID: id, Amount: amt, Suppliers: ps[i].sups,
					StationID: w.stationID, CommissionBP: bp}, amt, specs[i].quantity, specs[i].price})
			}
			check(step, "order")
		case r < 8: // a partial refund of a line
			li := rng.IntN(len(lines))
			l := &lines[li]
			if li%2 == 1 {
				if l.quantity == 0 {
					continue
				}
				q := 1 + rng.IntN(l.quantity)
				err := database.Tx(ctx, w.db, func(tx *gorm.DB) error {
					_, got, err := svc.PostRefund(ctx, tx, l.orderID, w.unitID, "r-"+randHex(6), []RefundLine{{l.line.OrderLineID, q, money.Money(l.price)}}, at)
					if err == nil && (len(got) != 1 || got[0].Amount != money.Money(int64(q)*l.price)) {
						err = fmt.Errorf("refunded %+v, want %d × %d", got, q, l.price)
					}
					return err
				})
				if err != nil {
					t.Fatalf("seed %d step %d: PostRefund: %v", seed, step, err)
				}
				l.quantity -= q
				refunded += money.Money(int64(q) * l.price)
				check(step, "refund by quantity")
				if l.quantity == 0 { // a whole line refunded leaves nobody anything from it, to the fen
					var left []int64
					if err := w.db.Raw(`SELECT sum(p.amount_fen) FROM postings p JOIN ledger_accounts a ON a.id = p.account_id
						WHERE p.order_line_id = ? GROUP BY a.kind, a.owner_id HAVING sum(p.amount_fen) <> 0`, l.line.OrderLineID).Scan(&left).Error; err != nil {
						t.Fatal(err)
					}
					if len(left) != 0 {
						t.Fatalf("seed %d step %d: a fully refunded line leaves %v on its accounts", seed, step, left)
					}
				}
				continue
			}
			if l.remaining == 0 {
				continue
			}
			amt := 1 + money.Money(rng.Int64N(int64(l.remaining)))
			id, _, err := svc.Post(ctx, nil, refundEntry(t, l.orderID, w.unitID, l.line, amt, at))
			if err != nil {
				t.Fatal(err)
			}
			l.remaining -= amt
			refunded += amt
			refunds = append(refunds, refund{id, li, amt})
			check(step, "refund")
		case r < 9 && len(refunds) > 0: // a refund undone by a reversal
			k := rng.IntN(len(refunds))
			rf := refunds[k]
			if _, err := svc.Reverse(ctx, nil, rf.entry, "undo:"+rf.entry.String(), "", at); err != nil {
				t.Fatal(err)
			}
			refunds = append(refunds[:k], refunds[k+1:]...)
			refunded -= rf.amount
			lines[rf.line].remaining += rf.amount
			check(step, "undo refund")
		default: // a payout of part of what a household is owed
			hid := h[rng.IntN(len(h))]
			owed := -balance(t, w.db, AccountRef{HouseholdPayable, hid})
			if owed <= 0 {
				continue
			}
			if _, err := svc.PayOut(ctx, PayoutRequest{HouseholdID: hid, Amount: 1 + money.Money(rng.Int64N(int64(owed))),
				Reference: "P-" + randHex(6), PaidAt: at}); err != nil {
				t.Fatal(err)
			}
			check(step, "payout")
		}
	}
}

func mustVerifyStep(t *testing.T, w *world, step int, what string, seed uint64) {
	t.Helper()
	if t.Failed() {
		return
	}
	defer func() {
		if t.Failed() {
			t.Logf("seed %d step %d (%s)", seed, step, what)
		}
	}()
	mustVerify(t, w.db)
}
