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

// PostSale attributes a completed order inside the caller's transaction tx: it reads the order's
// lines with what was frozen on each when the order was placed: its station's commission
// (order_lines.commission_bp, migration 00060) and its product's supplier shares
// (order_line_suppliers, migration 00050: households, and cooperatives with their members' shares
// then), never the current ones; builds the sale entry
// (SaleEntry) and posts it. The attribution rule lives here, in the ledger, so that callers only
// say "this order is complete". Errors: as SaleEntry and Post.
func (s *Service) PostSale(ctx context.Context, tx *gorm.DB, orderID, unitID uuid.UUID, at time.Time) (uuid.UUID, error) {
	lines, err := saleLines(ctx, tx, orderID, nil)
	if err != nil {
		return uuid.Nil, err
	}
	e, err := SaleEntry(orderID, unitID, lines, at)
	if err != nil {
		return uuid.Nil, err
	}
	id, _, err := s.Post(ctx, tx, e)
	return id, err
}

// saleLines reads the lines of an order (only those of one station when stationID is set) with
// their station's commission and the supplier shares frozen with them at placement.
func saleLines(ctx context.Context, tx *gorm.DB, orderID uuid.UUID, stationID *uuid.UUID) ([]SaleLine, error) {
	var rows []saleRow
	err := tx.WithContext(ctx).Raw(`
		SELECT l.id AS order_line_id, l.amount_fen, l.station_id, l.commission_bp, -- all frozen at placement
		       s.household_id, s.cooperative_id, s.share_bp, s.member_id, s.member_share_bp
		FROM order_lines l
		JOIN order_line_suppliers s ON s.order_line_id = l.id
		WHERE l.order_id = ? AND (CAST(? AS uuid) IS NULL OR l.station_id = ?)
		ORDER BY l.line_no, s.household_id, s.cooperative_id, s.member_id`, orderID, stationID, stationID).Find(&rows).Error
	if err != nil {
		return nil, apperr.DB(err, "order lines")
	}
	return groupSaleRows(rows), nil
}

// saleRow is one (line, supplier, cooperative member) of the attribution query.
type saleRow struct {
	OrderLineID   uuid.UUID
	AmountFen     money.Money
	StationID     uuid.UUID
	CommissionBP  int32
	HouseholdID   *uuid.UUID
	CooperativeID *uuid.UUID
	ShareBP       int32
	MemberID      *uuid.UUID
	MemberShareBP *int32
}

// groupSaleRows folds rows ordered by line, supplier and member into sale lines.
func groupSaleRows(rows []saleRow) []SaleLine {
	var lines []SaleLine
	for _, r := range rows {
		if len(lines) == 0 || lines[len(lines)-1].OrderLineID != r.OrderLineID {
			lines = append(lines, SaleLine{OrderLineID: r.OrderLineID, Amount: r.AmountFen,
				StationID: r.StationID, CommissionBP: r.CommissionBP})
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

// ItemAttribution tells what one item of a product adds to each producing household: the sale
// rule (commission, suppliers, cooperatives; SaleEntry) applied to price fen as if lineID were a
// line of that one item. A sold item (price > 0, lineID its order line) is split by the shares
// frozen with its line when the order was placed (what its sale entry credits); price 0 (not sold yet) gives the product's
// current shares with no amounts. Households are in order of share, largest first.
// Errors: NotFound when the product (or line) has no suppliers.
func (s *Service) ItemAttribution(ctx context.Context, productID, lineID uuid.UUID, price money.Money) ([]ItemShare, error) {
	var rows []saleRow
	q := s.db.WithContext(ctx)
	if price > 0 {
		q = q.Raw(`
		SELECT l.id AS order_line_id, CAST(? AS bigint) AS amount_fen, l.station_id, l.commission_bp,
		       s.household_id, s.cooperative_id, s.share_bp, s.member_id, s.member_share_bp
		FROM order_lines l
		JOIN order_line_suppliers s ON s.order_line_id = l.id
		WHERE l.id = ?
		ORDER BY s.household_id, s.cooperative_id, s.member_id`, int64(price), lineID)
	} else {
		q = q.Raw(`
		SELECT CAST(? AS uuid) AS order_line_id, CAST(? AS bigint) AS amount_fen, p.station_id, st.commission_bp,
		       ps.household_id, ps.cooperative_id, ps.share_bp,
		       cm.household_id AS member_id, cm.share_bp AS member_share_bp
		FROM products p
		JOIN stations st ON st.id = p.station_id
		JOIN product_suppliers ps ON ps.product_id = p.id
		LEFT JOIN cooperative_members cm ON cm.cooperative_id = ps.cooperative_id
		WHERE p.id = ?
		ORDER BY ps.household_id, ps.cooperative_id, cm.household_id`, lineID, int64(price), productID)
	}
	if err := q.Find(&rows).Error; err != nil {
		return nil, apperr.DB(err, "product suppliers")
	}
	lines := groupSaleRows(rows)
	if len(lines) == 0 {
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
	for _, sp := range lines[0].Suppliers {
		if sp.CooperativeID == uuid.Nil {
			add(sp.HouseholdID, sp.ShareBP)
			continue
		}
		for _, m := range sp.Members {
			add(m.HouseholdID, int32(int64(sp.ShareBP)*int64(m.ShareBP)/int64(money.Whole)))
		}
	}
	if price > 0 {
		// Any non-nil ids will do: the entry is only computed, never posted.
		e, err := SaleEntry(lineID, lineID, lines, time.Time{})
		if err != nil {
			return nil, err
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
