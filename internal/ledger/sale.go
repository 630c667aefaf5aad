package ledger

import (
	"context"
	"slices"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/money"
)

// PostSale attributes a completed order inside the caller's transaction tx: it builds the sale
// entry of lines (SaleEntry) and posts it. The caller hands the facts, as they were frozen with
// each line when the order was placed (procurement.SaleLines: the line's amount, its station's
// commission then, and its product's supplier shares then, households and cooperatives with their
// members' shares), never the current ones; the rule that turns them into postings lives here.
// Errors: as SaleEntry and Post.
func (s *Service) PostSale(ctx context.Context, tx *gorm.DB, orderID, unitID uuid.UUID, lines []SaleLine, at time.Time) (uuid.UUID, error) {
	e, err := SaleEntry(orderID, unitID, lines, at)
	if err != nil {
		return uuid.Nil, err
	}
	id, _, err := s.Post(ctx, tx, e)
	if err != nil {
		return uuid.Nil, err
	}
	return id, s.postRebate(ctx, tx, orderID, e.IdempotencyKey, lines, at)
}

// SaleRow is one (line, supplier, cooperative member) of a sale as its owner reads it: the line's
// amount in fen, station and commission, one supplier (household, or cooperative with one of its
// members and the member's share; a cooperative without members has a nil MemberID).
type SaleRow struct {
	OrderLineID   uuid.UUID
	AmountFen     money.Money
	StationID     uuid.UUID
	CommissionBP  int32
	HouseholdID   *uuid.UUID
	CooperativeID *uuid.UUID
	ShareBP       int32
	MemberID      *uuid.UUID
	MemberShareBP *int32
	// Settlement, CostFen and RebateBP are the line's settlement fixed at shipment by its batches'
	// deliveries (supply's order_line_settlements_view), nil when it has none.
	Settlement *string
	CostFen    *int64
	RebateBP   *int32
}

// GroupSaleRows folds rows ordered by line, then supplier (household id, then cooperative id),
// then member, into sale lines.
func GroupSaleRows(rows []SaleRow) []SaleLine {
	var lines []SaleLine
	for _, r := range rows {
		if len(lines) == 0 || lines[len(lines)-1].OrderLineID != r.OrderLineID {
			lines = append(lines, SaleLine{OrderLineID: r.OrderLineID, Amount: r.AmountFen,
				StationID: r.StationID, CommissionBP: r.CommissionBP})
			if l := &lines[len(lines)-1]; r.Settlement != nil && *r.Settlement == "purchase" {
				l.Purchase, l.Cost, l.RebateBP = true, money.Money(*r.CostFen), *r.RebateBP
			}
		}
		last := &lines[len(lines)-1]
		switch {
		case r.HouseholdID != nil:
			last.Suppliers = append(last.Suppliers, Supplier{HouseholdID: *r.HouseholdID, ShareBP: r.ShareBP})
		case r.CooperativeID != nil:
			n := len(last.Suppliers)
			if n == 0 || last.Suppliers[n-1].CooperativeID != *r.CooperativeID {
				last.Suppliers = append(last.Suppliers, Supplier{CooperativeID: *r.CooperativeID, ShareBP: r.ShareBP})
				n++
			}
			if r.MemberID != nil {
				last.Suppliers[n-1].Members = append(last.Suppliers[n-1].Members,
					Member{HouseholdID: *r.MemberID, ShareBP: *r.MemberShareBP})
			}
		}
	}
	return lines
}

// ItemShare is what one household gets of one item: its effective share of the product's revenue
// in basis points (a cooperative member's is its cooperative's share × its own, rounded down, for
// display) and, for a sold item, its part of the item's price in fen after commission, by the same
// rule and rounding as the sale entry.
type ItemShare struct {
	HouseholdID uuid.UUID
	ShareBP     int32
	Fen         money.Money
}

// ItemAttribution tells what one item adds to each producing household: the sale rule
// (commission, suppliers, cooperatives; SaleEntry) applied to line as a line of that one item,
// its Amount the item's price. The caller hands the facts: for a sold item its order line's
// station, commission and supplier shares frozen when the order was placed (what its sale entry
// credits; procurement.LineSale), with Amount its unit price; for an item not sold yet the
// product's current ones with Amount 0, which gives shares and no amounts. OrderLineID only breaks
// rounding ties. Households are in order of share, largest first. For a purchase-model line (收购,
// the households were paid on delivery and the sale credits the station) Fen is the household's
// part of the item's rebate (RebateEntry), 0 without one.
// Errors: NotFound when line has no suppliers; as SaleEntry for a sold item.
func ItemAttribution(line SaleLine) ([]ItemShare, error) {
	if len(line.Suppliers) == 0 {
		return nil, apperr.NotFound("suppliers of the product")
	}
	byHousehold := map[uuid.UUID]*ItemShare{}
	var out []*ItemShare
	add := func(id uuid.UUID, bp int32) {
		if sh, ok := byHousehold[id]; ok {
			sh.ShareBP += bp
			return
		}
		sh := &ItemShare{HouseholdID: id, ShareBP: bp}
		byHousehold[id] = sh
		out = append(out, sh)
	}
	for _, sp := range line.Suppliers {
		if sp.CooperativeID == uuid.Nil {
			add(sp.HouseholdID, sp.ShareBP)
			continue
		}
		for _, m := range sp.Members {
			add(m.HouseholdID, int32(int64(sp.ShareBP)*int64(m.ShareBP)/int64(money.Whole)))
		}
	}
	if line.Amount > 0 {
		// Any non-nil ids will do: the entry is only computed, never posted.
		e, err := SaleEntry(line.OrderLineID, line.OrderLineID, []SaleLine{line}, time.Time{})
		if err != nil {
			return nil, err
		}
		if line.Purchase { // the sale credits the station; households get the item's rebate (二次返利)
			e, _, _ = RebateEntry(line.OrderLineID, "item", []SaleLine{line}, time.Time{})
		}
		for _, p := range e.Postings {
			if p.Account.Kind == HouseholdIncome {
				if sh, ok := byHousehold[p.Account.OwnerID]; ok {
					sh.Fen -= p.Amount
				}
			}
		}
	}
	res := make([]ItemShare, len(out))
	for i, sh := range out {
		res[i] = *sh
	}
	slices.SortStableFunc(res, func(a, b ItemShare) int { return int(b.ShareBP) - int(a.ShareBP) })
	return res, nil
}

// ReversePayment reverses the payment entry of order orderID inside tx: the money goes back from
// the bank to the unit (its receivable returns to what it was before the payment). Idempotent
// per order. Errors: NotFound when the order has no payment entry; as Reverse.
func (s *Service) ReversePayment(ctx context.Context, tx *gorm.DB, orderID uuid.UUID, at time.Time) (uuid.UUID, error) {
	pay, err := entryByKey(ctx, tx, paymentKey(orderID))
	if err != nil {
		return uuid.Nil, err
	}
	return s.Reverse(ctx, tx, pay.ID, paymentKey(orderID)+":returned", "payment returned: order cancelled before shipment", at)
}

// PostRefundPayment posts, inside the caller's transaction tx, the entry of refund refundID's
// money going back to its unit (RefundPaymentEntry). Errors: as Post.
func (s *Service) PostRefundPayment(ctx context.Context, tx *gorm.DB, refundID, orderID, unitID uuid.UUID, amount money.Money, providerRef string, at time.Time) (uuid.UUID, error) {
	id, _, err := s.Post(ctx, tx, RefundPaymentEntry(refundID, orderID, unitID, amount, providerRef, at))
	return id, err
}

// PostPayment posts the entry of a confirmed payment (PaymentEntry) in one statement with the
// caller's guard, through db: a transaction, or the pool, where the statement is a transaction of
// its own. posted is false when guard returned no row: then nothing was written.
// Errors: as PostGuarded.
func (s *Service) PostPayment(ctx context.Context, db *gorm.DB, guard Guard, orderID, unitID uuid.UUID, amount money.Money, providerRef string, at time.Time) (posted bool, err error) {
	return s.PostGuarded(ctx, db, guard, PaymentEntry(orderID, unitID, amount, providerRef, at))
}
