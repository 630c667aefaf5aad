package ledger

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/money"
)

// OrderIncomeEntry is one sale, rebate or refund entry of an order, read back from its postings
// as the impact receipt (internal/impact) needs it. GrossFen is the entry's net posting to the
// unit's receivable (a sale's debit, positive; a refund's credit, negative; a rebate's 0);
// CommissionFen what it credited to station commission (positive for a sale, negative for a
// refund); StationSalesFen what it credited to the station's sales of produce it bought (收购,
// station_sales: positive for a sale of purchase-model lines, negative for their refund and for
// the rebate the station shares back); Households what it credited to each household's business
// income (household_income, 经营性收入): positive for a sale or rebate, negative for a refund. A
// household whose parts net to zero is left out.
type OrderIncomeEntry struct {
	ID              uuid.UUID
	Kind            string // KindSale, KindRebate or KindRefund
	OccurredAt      time.Time
	GrossFen        money.Money
	CommissionFen   money.Money
	StationSalesFen money.Money
	Households      map[uuid.UUID]money.Money
}

// orderIncomeSQL sums the postings of an order's sale, rebate and refund entries by entry and
// account. None of these kinds is ever reversed (only payments, double charges and purchases
// are), so they are the whole story of what the order did to household income: a consignment
// line's sale credits the households, a purchase-model line's sale the station, whose rebate
// (二次返利, docs/ledger.md "Purchase model") then credits the households.
const orderIncomeSQL = `
SELECT e.id, e.kind, e.occurred_at, a.kind AS account_kind, a.owner_id, sum(p.amount_fen) AS amount_fen
FROM journal_entries e
JOIN postings p ON p.entry_id = e.id
JOIN ledger_accounts a ON a.id = p.account_id
WHERE e.order_id = ? AND e.kind IN ('sale', 'rebate', 'refund')
  AND a.kind IN ('household_income', 'station_commission', 'station_sales', 'unit_receivable')
GROUP BY e.id, e.kind, e.occurred_at, a.kind, a.owner_id
ORDER BY e.occurred_at, e.id`

// OrderIncome returns the sale, rebate and refund entries of an order, oldest first, with what
// each did to household income, commission, the station's sales and the unit's receivable. An order without any is an empty
// list. Errors: Unavailable.
func (s *Service) OrderIncome(ctx context.Context, orderID uuid.UUID) ([]OrderIncomeEntry, error) {
	var rows []struct {
		ID          uuid.UUID
		Kind        string
		OccurredAt  time.Time
		AccountKind AccountKind
		OwnerID     *uuid.UUID
		AmountFen   int64
	}
	if err := s.db.WithContext(ctx).Raw(orderIncomeSQL, orderID).Scan(&rows).Error; err != nil {
		return nil, apperr.DB(err, "journal entry")
	}
	var out []OrderIncomeEntry
	for _, r := range rows {
		if len(out) == 0 || out[len(out)-1].ID != r.ID {
			out = append(out, OrderIncomeEntry{ID: r.ID, Kind: r.Kind, OccurredAt: r.OccurredAt.UTC(),
				Households: map[uuid.UUID]money.Money{}})
		}
		e := &out[len(out)-1]
		switch r.AccountKind {
		case UnitReceivable:
			e.GrossFen += money.Money(r.AmountFen)
		case StationCommission:
			e.CommissionFen -= money.Money(r.AmountFen)
		case StationSales:
			e.StationSalesFen -= money.Money(r.AmountFen)
		case HouseholdIncome:
			if r.OwnerID != nil && r.AmountFen != 0 {
				e.Households[*r.OwnerID] -= money.Money(r.AmountFen)
			}
		}
	}
	return out, nil
}
