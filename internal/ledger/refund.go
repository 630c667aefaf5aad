package ledger

import (
	"context"
	"math/bits"
	"sort"
	"strconv"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/money"
)

// RefundLine asks to refund Quantity (> 0) items of one order line, sold at UnitPrice (> 0, fen):
// the facts procurement hands in from its order line (procurement.Orders.Refund).
type RefundLine struct {
	OrderLineID uuid.UUID
	Quantity    int
	UnitPrice   money.Money
}

// RefundedLine is what a refund took back from one line: Amount = Quantity × the line's unit
// price, in fen.
type RefundedLine struct {
	OrderLineID uuid.UUID
	Quantity    int
	Amount      money.Money
}

// PostRefund posts, inside the caller's transaction tx, one entry of kind refund for lines of a
// received order, and returns its id and what each line gave back. key must be unique per refund
// (the caller's refund id); a retry with the same key and lines replays.
//
// The entry mirrors the sale: for each line it is derived from the line's ORIGINAL sale postings
// (household income and station commission credits) minus what earlier refunds of the line
// already took back. The refund amount (quantity × unit price) is split over those remaining
// amounts by largest remainder, and the legs are negated: for each household debit its payable and
// its income and credit its attributed memorandum (both halves of the sale, see docs/ledger.md),
// debit the station's commission, and credit the unit's receivable with the total. Scaling the remainder by quantity / remaining quantity (rather than
// the original by quantity / line quantity) is what makes partial refunds add up, household by
// household and to the fen, to exactly the sale once the whole line is refunded; a share that
// rounds to 0 fen has no posting.
//
// The caller must hold a lock that serialises refunds of the order (procurement locks the order
// row) and guards the quantity itself; this function refuses too much all the same. The ledger
// reads no order line: what each line still holds is in its postings.
// Errors: Invalid (no lines, a nil or repeated line, quantity < 1, unit price < 1); Conflict
// naming lines[i].quantity when more is asked than is left to refund, or lines[i].order_line_id
// when the line has no sale entry of this order yet (not received).
func (s *Service) PostRefund(ctx context.Context, tx *gorm.DB, orderID, unitID uuid.UUID, key string, req []RefundLine, at time.Time) (uuid.UUID, []RefundedLine, error) {
	if err := checkRefundLines(req); err != nil {
		return uuid.Nil, nil, err
	}
	ids := make([]uuid.UUID, len(req))
	for i, l := range req {
		ids[i] = l.OrderLineID
	}
	held, err := heldByLine(ctx, tx, orderID, ids)
	if err != nil {
		return uuid.Nil, nil, err
	}
	oid := orderID
	e := Entry{Kind: KindRefund, IdempotencyKey: key, OrderID: &oid, Memo: "refund " + key + " of order " + orderID.String(), OccurredAt: at}
	out := make([]RefundedLine, 0, len(req))
	for i, r := range req {
		field := "lines[" + strconv.Itoa(i) + "]"
		hs := held[r.OrderLineID]
		var remaining int64
		weights := make([]int64, len(hs))
		for j, h := range hs {
			remaining += h.remaining
			weights[j] = h.remaining
		}
		if remaining == 0 {
			sold, err := hasSale(ctx, tx, orderID, r.OrderLineID)
			if err != nil {
				return uuid.Nil, nil, err
			}
			if !sold {
				return uuid.Nil, nil, apperr.ConflictField(field+".order_line_id", "the line has not been received, so there is nothing to refund yet")
			}
		}
		p := int64(r.UnitPrice)
		if left := remaining / p; int64(r.Quantity) > left {
			return uuid.Nil, nil, apperr.ConflictField(field+".quantity",
				"only %d of this line are left to refund, %d asked", left, r.Quantity).With("refundable_quantity", left)
		}
		amount := p * int64(r.Quantity)
		e.Postings = append(e.Postings, refundLegs(r.OrderLineID, unitID, hs, splitWide(amount, weights), amount)...)
		out = append(out, RefundedLine{OrderLineID: r.OrderLineID, Quantity: r.Quantity, Amount: money.Money(amount)})
	}
	id, _, err := s.Post(ctx, tx, e)
	return id, out, err
}

// checkRefundLines refuses an empty refund, nil or repeated lines and non-positive quantities
// or prices. Errors: Invalid naming lines[i].*.
func checkRefundLines(req []RefundLine) error {
	var f apperr.Fields
	if len(req) == 0 {
		f.Add("lines", "a refund needs at least one line")
	}
	seen := map[uuid.UUID]bool{}
	for i, l := range req {
		field := "lines[" + strconv.Itoa(i) + "]"
		if l.OrderLineID == uuid.Nil || seen[l.OrderLineID] {
			f.Add(field+".order_line_id", "must be a distinct order line id")
		}
		seen[l.OrderLineID] = true
		if l.Quantity < 1 {
			f.Add(field+".quantity", "must be at least 1")
		}
		if l.UnitPrice < 1 {
			f.Add(field+".unit_price", "must be at least 1 fen")
		}
	}
	return f.Err()
}

// holder is one beneficiary of a line: a household its business income, a station its
// commission, with what it still holds of the line.
type holder struct {
	kind      AccountKind
	owner     uuid.UUID
	remaining int64
}

// heldByLine reads what each beneficiary still holds of each line of order orderID, as credited
// by the sale less earlier refunds, from the postings; beneficiaries holding nothing are left out.
func heldByLine(ctx context.Context, tx *gorm.DB, orderID uuid.UUID, ids []uuid.UUID) (map[uuid.UUID][]holder, error) {
	var legs []struct {
		OrderLineID uuid.UUID
		Kind        AccountKind
		OwnerID     uuid.UUID
		Remaining   int64
	}
	if err := tx.WithContext(ctx).Raw(`
		SELECT p.order_line_id, a.kind, a.owner_id, -sum(p.amount_fen) AS remaining
		FROM postings p
		JOIN journal_entries e ON e.id = p.entry_id AND e.kind IN ('sale', 'refund') AND e.order_id = ?
		JOIN ledger_accounts a ON a.id = p.account_id AND a.kind IN ('household_income', 'station_commission', 'station_sales')
		WHERE p.order_line_id IN ?
		GROUP BY p.order_line_id, a.kind, a.owner_id
		ORDER BY p.order_line_id, a.kind, a.owner_id`, orderID, ids).Scan(&legs).Error; err != nil {
		return nil, err
	}
	held := map[uuid.UUID][]holder{}
	for _, l := range legs {
		if l.Remaining > 0 {
			held[l.OrderLineID] = append(held[l.OrderLineID], holder{l.Kind, l.OwnerID, l.Remaining})
		}
	}
	return held, nil
}

// hasSale says whether line has a sale posting in an entry of order orderID.
func hasSale(ctx context.Context, tx *gorm.DB, orderID, line uuid.UUID) (bool, error) {
	var sold int64
	err := tx.WithContext(ctx).Raw(`SELECT count(*) FROM postings p
		JOIN journal_entries e ON e.id = p.entry_id AND e.kind = 'sale' AND e.order_id = ?
		WHERE p.order_line_id = ?`, orderID, line).Scan(&sold).Error
	return sold > 0, err
}

// refundLegs are the postings giving back amount of a line: parts[j] from holder hs[j] (both
// halves of the sale for a household: less owed, and less income in the register; the commission
// for a station), and the unit's receivable credited with the whole, line by line, so that each
// line's refunds can be checked.
func refundLegs(line, unitID uuid.UUID, hs []holder, parts []int64, amount int64) []Posting {
	var ps []Posting
	for j, part := range parts {
		if part == 0 {
			continue
		}
		h, amt := hs[j], money.Money(part)
		if h.kind == StationCommission || h.kind == StationSales { // a station's part: commission, or the sale of bought produce
			ps = append(ps, Posting{Account: AccountRef{Kind: h.kind, OwnerID: h.owner}, Amount: amt, OrderLineID: &line})
			continue
		}
		ps = append(ps,
			Posting{Account: AccountRef{Kind: HouseholdPayable, OwnerID: h.owner}, Amount: amt, OrderLineID: &line},
			Posting{Account: AccountRef{Kind: HouseholdAttributed, OwnerID: h.owner}, Amount: -amt, OrderLineID: &line},
			Posting{Account: AccountRef{Kind: HouseholdIncome, OwnerID: h.owner}, Amount: amt, OrderLineID: &line})
	}
	return append(ps, Posting{Account: AccountRef{Kind: UnitReceivable, OwnerID: unitID}, Amount: -money.Money(amount), OrderLineID: &line})
}

// splitWide is money.Split (largest remainder, ties to the earlier part) for 0 <= total <= the
// sum of weights, with 128-bit products: the weights here are amounts in fen, and
// total × weight overflows int64 for lines above ¥30 million, where money.Split's basis-point
// weights never do.
func splitWide(total int64, weights []int64) []int64 {
	var sum uint64
	for _, w := range weights {
		sum += uint64(w)
	}
	parts := make([]int64, len(weights))
	rems := make([]uint64, len(weights))
	var given int64
	for i, w := range weights {
		hi, lo := bits.Mul64(uint64(total), uint64(w))
		q, r := bits.Div64(hi, lo, sum) // hi < sum because total <= sum
		parts[i], rems[i] = int64(q), r
		given += int64(q)
	}
	order := make([]int, len(weights))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return rems[order[a]] > rems[order[b]] })
	for k := int64(0); k < total-given; k++ {
		parts[order[k]]++
	}
	return parts
}

// refunds checks every order line refunded through procurement (it has refund rows or a
// refunded quantity; refund entries posted by other means are covered by the sale checks, which
// count every refund entry against the line's amount): the refund rows' quantities equal the line's
// refunded_quantity, their amounts equal quantity × unit price and the household income debited
// by refund entries for that line, and never exceed the line's amount. Called by Verify.
func (v *verifier) refunds(tx *gorm.DB) error {
	var rows []struct {
		ID, OrderID                    uuid.UUID
		AmountFen, UnitPriceFen        int64
		RefundedQuantity, RowsQuantity int
		RowsFen, PostedFen             int64
	}
	err := tx.Raw(`
		WITH rl AS (
		    SELECT order_line_id, sum(quantity) AS q, sum(amount_fen) AS a FROM refund_lines_view
		    WHERE ` + v.in("lines", "order_line_id") + ` GROUP BY order_line_id
		), rp AS (
		    SELECT p.order_line_id, sum(p.amount_fen) AS a
		    FROM ` + v.postings + ` p
		    JOIN ` + v.from("entry_rows") + ` e ON e.id = p.entry_id AND e.kind = 'refund'
		    JOIN ledger_accounts acc ON acc.id = p.account_id AND acc.kind IN ('household_income', 'station_commission', 'station_sales')
		    WHERE p.order_line_id IS NOT NULL AND ` + v.in("lines", "p.order_line_id") + `
		    GROUP BY p.order_line_id
		)
		SELECT ol.id, ol.order_id, ol.amount_fen, ol.unit_price_fen, ol.refunded_quantity,
		       coalesce(rl.q, 0) AS rows_quantity, coalesce(rl.a, 0) AS rows_fen, coalesce(rp.a, 0) AS posted_fen
		FROM ` + v.from("lines") + ` ol
		LEFT JOIN rl ON rl.order_line_id = ol.id
		LEFT JOIN rp ON rp.order_line_id = ol.id
		WHERE (rl.order_line_id IS NOT NULL OR ol.refunded_quantity <> 0)
		  AND (coalesce(rl.q, 0) <> ol.refunded_quantity OR coalesce(rl.a, 0) <> coalesce(rp.a, 0)
		       OR coalesce(rl.a, 0) <> ol.refunded_quantity * ol.unit_price_fen OR coalesce(rl.a, 0) > ol.amount_fen)
		ORDER BY ol.order_id, ol.id`).Scan(&rows).Error
	for _, r := range rows {
		v.report("order %s line %s: refunded %d items (refund rows say %d) worth %s at %s each; refund entries debit household income and commission %s",
			r.OrderID, r.ID, r.RefundedQuantity, r.RowsQuantity, fen(r.RowsFen), fen(r.UnitPriceFen), fen(r.PostedFen))
	}
	return err
}
