package ledger

import (
	"context"
	"fmt"
	"math/bits"
	"sort"
	"strconv"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/money"
)

// RefundLine asks to refund Quantity (> 0) items of one order line.
type RefundLine struct {
	OrderLineID uuid.UUID
	Quantity    int
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
// row) and guards the quantity itself; this function refuses too much all the same.
// Errors: Invalid (no lines, a nil or repeated line, quantity < 1); NotFound (a line not of this
// order); Conflict naming lines[i].quantity when more is asked than is left to refund, or
// lines[i].order_line_id when the line has no sale entry yet (not received).
func (s *Service) PostRefund(ctx context.Context, tx *gorm.DB, orderID, unitID uuid.UUID, key string, req []RefundLine, at time.Time) (uuid.UUID, []RefundedLine, error) {
	var f apperr.Fields
	if len(req) == 0 {
		f.Add("lines", "a refund needs at least one line")
	}
	ids := make([]uuid.UUID, 0, len(req))
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
		ids = append(ids, l.OrderLineID)
	}
	if err := f.Err(); err != nil {
		return uuid.Nil, nil, err
	}
	var lines []struct {
		ID           uuid.UUID
		UnitPriceFen int64
	}
	if err := tx.WithContext(ctx).Raw(`SELECT id, unit_price_fen FROM order_lines WHERE order_id = ? AND id IN ?`,
		orderID, ids).Scan(&lines).Error; err != nil {
		return uuid.Nil, nil, err
	}
	price := make(map[uuid.UUID]int64, len(lines))
	for _, l := range lines {
		price[l.ID] = l.UnitPriceFen
	}
	var legs []struct {
		OrderLineID uuid.UUID
		Kind        AccountKind
		OwnerID     uuid.UUID
		Remaining   int64
	}
	// What each beneficiary still holds of each line: a household its business income, a station
	// its commission, as credited by the sale less earlier refunds.
	if err := tx.WithContext(ctx).Raw(`
		SELECT p.order_line_id, a.kind, a.owner_id, -sum(p.amount_fen) AS remaining
		FROM postings p
		JOIN journal_entries e ON e.id = p.entry_id AND e.kind IN ('sale', 'refund')
		JOIN ledger_accounts a ON a.id = p.account_id AND a.kind IN ('household_income', 'station_commission')
		WHERE p.order_line_id IN ?
		GROUP BY p.order_line_id, a.kind, a.owner_id
		ORDER BY p.order_line_id, a.kind, a.owner_id`, ids).Scan(&legs).Error; err != nil {
		return uuid.Nil, nil, err
	}
	type holder struct {
		kind      AccountKind
		owner     uuid.UUID
		remaining int64
	}
	held := map[uuid.UUID][]holder{}
	for _, l := range legs {
		if l.Remaining > 0 {
			held[l.OrderLineID] = append(held[l.OrderLineID], holder{l.Kind, l.OwnerID, l.Remaining})
		}
	}
	oid := orderID
	e := Entry{Kind: KindRefund, IdempotencyKey: key, OrderID: &oid, Memo: "refund " + key + " of order " + orderID.String(), OccurredAt: at}
	out := make([]RefundedLine, 0, len(req))
	for i, r := range req {
		field := "lines[" + strconv.Itoa(i) + "]"
		p, ok := price[r.OrderLineID]
		if !ok {
			return uuid.Nil, nil, apperr.NotFound(fmt.Sprintf("order line %s of order %s", r.OrderLineID, orderID))
		}
		hs := held[r.OrderLineID]
		var remaining int64
		weights := make([]int64, len(hs))
		for j, h := range hs {
			remaining += h.remaining
			weights[j] = h.remaining
		}
		if remaining == 0 {
			var sold int64
			tx.WithContext(ctx).Raw(`SELECT count(*) FROM postings p JOIN journal_entries e ON e.id = p.entry_id AND e.kind = 'sale'
				WHERE p.order_line_id = ?`, r.OrderLineID).Scan(&sold)
			if sold == 0 {
				return uuid.Nil, nil, apperr.ConflictField(field+".order_line_id", "the line has not been received, so there is nothing to refund yet")
			}
		}
		left := remaining / p
		if int64(r.Quantity) > left {
			return uuid.Nil, nil, apperr.ConflictField(field+".quantity",
				"only %d of this line are left to refund, %d asked", left, r.Quantity).With("refundable_quantity", left)
		}
		amount := p * int64(r.Quantity)
		parts := splitWide(amount, weights)
		lineID := r.OrderLineID
		for j, part := range parts {
			if part == 0 {
				continue
			}
			h, amt := hs[j], money.Money(part)
			if h.kind == StationCommission {
				e.Postings = append(e.Postings, Posting{Account: AccountRef{Kind: StationCommission, OwnerID: h.owner}, Amount: amt, OrderLineID: &lineID})
				continue
			}
			// Both halves of the sale are undone: less owed, and less income in the register.
			e.Postings = append(e.Postings,
				Posting{Account: AccountRef{Kind: HouseholdPayable, OwnerID: h.owner}, Amount: amt, OrderLineID: &lineID},
				Posting{Account: AccountRef{Kind: HouseholdAttributed, OwnerID: h.owner}, Amount: -amt, OrderLineID: &lineID},
				Posting{Account: AccountRef{Kind: HouseholdIncome, OwnerID: h.owner}, Amount: amt, OrderLineID: &lineID})
		}
		// The unit's receivable is credited line by line, so that each line's refunds can be checked.
		e.Postings = append(e.Postings, Posting{Account: AccountRef{Kind: UnitReceivable, OwnerID: unitID}, Amount: -money.Money(amount), OrderLineID: &lineID})
		out = append(out, RefundedLine{OrderLineID: r.OrderLineID, Quantity: r.Quantity, Amount: money.Money(amount)})
	}
	id, _, err := s.Post(ctx, tx, e)
	return id, out, err
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
		    SELECT order_line_id, sum(quantity) AS q, sum(amount_fen) AS a FROM refund_lines GROUP BY order_line_id
		), rp AS (
		    SELECT p.order_line_id, sum(p.amount_fen) AS a
		    FROM postings p
		    JOIN journal_entries e ON e.id = p.entry_id AND e.kind = 'refund'
		    JOIN ledger_accounts acc ON acc.id = p.account_id AND acc.kind IN ('household_income', 'station_commission')
		    WHERE p.order_line_id IS NOT NULL
		    GROUP BY p.order_line_id
		)
		SELECT ol.id, ol.order_id, ol.amount_fen, ol.unit_price_fen, ol.refunded_quantity,
		       coalesce(rl.q, 0) AS rows_quantity, coalesce(rl.a, 0) AS rows_fen, coalesce(rp.a, 0) AS posted_fen
		FROM order_lines ol
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
