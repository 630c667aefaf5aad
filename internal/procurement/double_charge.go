package procurement

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/fupinmarket/fupin/internal/ledger"
	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/money"
)

// DoubleCharge is a second charge of one order: a succeeded charge under another reference than
// the order's payment (a callback, or the buyer's own charge that found the order paid meanwhile).
// The order is paid once; this money is owed back to the unit from CreatedAt until the provider
// has returned it (ReturnedAt, ReturnRef), like a cancelled order's payment. One per provider
// reference.
type DoubleCharge struct {
	ID          uuid.UUID   `gorm:"primaryKey" json:"id"`
	OrderID     uuid.UUID   `json:"-"`
	AmountFen   money.Money `json:"amount_fen"`
	Provider    string      `json:"provider"`
	ProviderRef string      `json:"provider_ref"`
	ChargedAt   time.Time   `json:"charged_at"`
	CreatedAt   time.Time   `json:"owed_since"`
	ReturnedAt  *time.Time  `json:"returned_at"`
	ReturnRef   *string     `json:"return_ref"`
	ReturnHeld  *string     `json:"-"` // why the county office holds the return back (the pass skips it)
}

// oweDoubleCharge records the charge of amount fen under provider reference ref for order o, which
// has its payment under another reference, as a double charge owed back to o's unit: the row and its ledger entry
// (DoubleChargeEntry) in one statement, nothing when a double charge with this reference is
// already recorded (the provider repeating its callback); then the return is tried (giveBack,
// doubleChargeBack), and if that fails the background pass returns it. The writes do not stop when
// the client goes: the money has moved. An error means the charge could not be recorded (the
// database failed); it is logged at ERROR with what the operators need to return it by hand.
func (s *Orders) oweDoubleCharge(ctx context.Context, o Order, ref string, amount money.Money) error {
	ctx = context.WithoutCancel(ctx)
	dc := DoubleCharge{ID: uuid.Must(uuid.NewV7()), OrderID: o.ID, AmountFen: amount, Provider: s.payments.Name(),
		ProviderRef: ref, ChargedAt: s.now()}
	guard := ledger.Guard{SQL: `
		guard AS (
		    INSERT INTO double_charges (id, order_id, amount_fen, provider, provider_ref, charged_at)
		    VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (provider_ref) DO NOTHING RETURNING id
		)`, Args: []any{dc.ID, dc.OrderID, dc.AmountFen, dc.Provider, dc.ProviderRef, dc.ChargedAt}}
	posted, err := s.ledger.WithTx(s.db).PostDoubleCharge(ctx, guard, dc.ID, o.ID, o.UnitID, dc.AmountFen, dc.ProviderRef, dc.ChargedAt)
	if err != nil {
		s.log.Error("a charge that does not pay its order could not be recorded: return it by hand",
			"order_id", o.ID, "unit_id", o.UnitID, "provider_ref", ref, "amount_fen", int64(amount), "err", err)
		return apperr.DB(err, "double charge")
	}
	if posted {
		_, _, _ = s.giveBack(ctx, doubleChargeBack, dc.ID) // on failure the money stays owed, for the background pass
	}
	return nil
}

// doubleCharges lists the double charges of order orderID, oldest first.
func (s *Orders) doubleCharges(ctx context.Context, orderID uuid.UUID) ([]DoubleCharge, error) {
	out := []DoubleCharge{}
	err := s.db.WithContext(ctx).Where("order_id = ?", orderID).Order("created_at, id").Find(&out).Error
	return out, apperr.DB(err, "double charge")
}
