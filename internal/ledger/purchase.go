package ledger

import (
	"context"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/money"
)

// PurchaseEntry is what a station pays household householdID for delivery deliveryID of produce
// it buys (收购, docs/supply.md): amount fen (quantity × purchase price, > 0) debited to the
// station's purchases (the produce is now the station's), credited to what the platform owes the
// household (household_payable, settled by a payout) and, as the memorandum pair, to its business
// income (经营性收入: the household sold its produce on that day). at is the delivery day's start in
// China time, so the income counts in that month. Key "delivery:<id>:purchase".
func PurchaseEntry(deliveryID, stationID, householdID uuid.UUID, amount money.Money, at time.Time) Entry {
	return Entry{Kind: KindPurchase, IdempotencyKey: purchaseKey(deliveryID), OccurredAt: at,
		Memo: "purchase of delivery " + deliveryID.String(),
		Postings: []Posting{
			{Account: AccountRef{Kind: StationPurchases, OwnerID: stationID}, Amount: amount},
			{Account: AccountRef{Kind: HouseholdPayable, OwnerID: householdID}, Amount: -amount},
			{Account: AccountRef{Kind: HouseholdAttributed, OwnerID: householdID}, Amount: amount},
			{Account: AccountRef{Kind: HouseholdIncome, OwnerID: householdID}, Amount: -amount},
		}}
}

func purchaseKey(deliveryID uuid.UUID) string { return "delivery:" + deliveryID.String() + ":purchase" }

// PostPurchase posts PurchaseEntry inside the caller's transaction tx and returns its id; a retry
// replays it. Errors: Invalid (amount not positive, nil ids); as Post.
func (s *Service) PostPurchase(ctx context.Context, tx *gorm.DB, deliveryID, stationID, householdID uuid.UUID, amount money.Money, at time.Time) (uuid.UUID, error) {
	if amount <= 0 || deliveryID == uuid.Nil {
		return uuid.Nil, apperr.Invalid(apperr.Field("purchase_price_fen", "a purchase must be worth at least 1 fen"))
	}
	id, _, err := s.Post(ctx, tx, PurchaseEntry(deliveryID, stationID, householdID, amount, at))
	return id, err
}

// ReversePurchase reverses the purchase entry of delivery deliveryID inside tx (the delivery was
// recorded in error and is reversed by a reversing delivery): the household's payable and income
// go back. Idempotent per delivery. Errors: NotFound (no purchase entry); as Reverse.
func (s *Service) ReversePurchase(ctx context.Context, tx *gorm.DB, deliveryID uuid.UUID, reason string, at time.Time) (uuid.UUID, error) {
	e, err := entryByKey(ctx, tx, purchaseKey(deliveryID))
	if err != nil {
		return uuid.Nil, err
	}
	return s.Reverse(ctx, tx, e.ID, purchaseKey(deliveryID)+":reversed", "delivery reversed: "+reason, at)
}

// RebateEntry shares part of the station's margin on the purchase-model lines of a sale back with
// the households that delivered the items (二次返利), as its own entry under key saleKey+":rebate".
// For each line with Purchase set: the margin is what the sale credited the station
// (Amount − commission, as SaleEntry splits it) less Cost, the rebate is margin × RebateBP / 10000
// rounded down (none when the margin is not positive), split over the line's Suppliers (the
// delivering households, by their shares) by largest remainder; debit the station's sales, credit
// each household's payable and, with the memorandum pair, its business income (经营性收入).
// ok is false when no line has a rebate (nothing to post). Errors: Invalid as SaleEntry.
func RebateEntry(orderID uuid.UUID, saleKey string, lines []SaleLine, at time.Time) (e Entry, ok bool, err error) {
	oid := orderID
	e = Entry{Kind: KindRebate, IdempotencyKey: saleKey + ":rebate", OrderID: &oid,
		Memo: "rebate (二次返利) of " + saleKey, OccurredAt: at}
	for _, l := range lines {
		r := LineRebate(l)
		if r == 0 {
			continue
		}
		lineID := l.OrderLineID
		w, ok := supplierWeights(l.Suppliers)
		if !ok {
			return Entry{}, false, apperr.Invalid(apperr.Field("suppliers", "the delivering households' shares must sum to 10000 basis points"))
		}
		parts, _ := money.Split(r, w)
		e.Postings = append(e.Postings, Posting{Account: AccountRef{Kind: StationSales, OwnerID: l.StationID}, Amount: r, OrderLineID: &lineID})
		for j, sp := range l.Suppliers {
			if parts[j] == 0 {
				continue
			}
			e.Postings = append(e.Postings,
				Posting{Account: AccountRef{Kind: HouseholdPayable, OwnerID: sp.HouseholdID}, Amount: -parts[j], OrderLineID: &lineID},
				Posting{Account: AccountRef{Kind: HouseholdAttributed, OwnerID: sp.HouseholdID}, Amount: parts[j], OrderLineID: &lineID},
				Posting{Account: AccountRef{Kind: HouseholdIncome, OwnerID: sp.HouseholdID}, Amount: -parts[j], OrderLineID: &lineID})
		}
	}
	return e, len(e.Postings) > 0, nil
}

// LineRebate is the rebate (二次返利) of purchase-model line l in fen, by RebateEntry's rule: 0 for
// a consignment line, a line without a rebate or without a positive margin.
func LineRebate(l SaleLine) money.Money {
	if !l.Purchase || l.RebateBP <= 0 {
		return 0
	}
	margin := stationNet(l) - l.Cost
	if margin <= 0 {
		return 0
	}
	return money.Money(int64(margin) * int64(l.RebateBP) / int64(money.Whole))
}

// stationNet is what a sale line leaves after the station's commission (SaleEntry's split).
func stationNet(l SaleLine) money.Money {
	if l.CommissionBP <= 0 {
		return l.Amount
	}
	parts, _ := money.Split(l.Amount, []int64{int64(money.Whole) - int64(l.CommissionBP), int64(l.CommissionBP)})
	return parts[0]
}

// postRebate posts the rebate of a sale posted under key saleKey, if it has one.
func (s *Service) postRebate(ctx context.Context, tx *gorm.DB, orderID uuid.UUID, saleKey string, lines []SaleLine, at time.Time) error {
	e, ok, err := RebateEntry(orderID, saleKey, lines, at)
	if err != nil || !ok {
		return err
	}
	_, _, err = s.Post(ctx, tx, e)
	return err
}
