package procurement

import (
	"context"

	"github.com/google/uuid"

	"github.com/fupinmarket/fupin/internal/platform/money"
)

// OweLateCharge is Orders.oweLateCharge for order id under reference ref (amount fen), as a late
// report of a charge records it.
func OweLateCharge(s *Orders, ctx context.Context, id uuid.UUID, ref string, amount int64) error {
	var o Order
	if err := s.db.WithContext(ctx).Take(&o, "id = ?", id).Error; err != nil {
		return err
	}
	return s.oweLateCharge(ctx, o, Payment{ID: uuid.Must(uuid.NewV7()), OrderID: id, AmountFen: money.Money(amount),
		Provider: s.payments.Name(), ProviderRef: ref, PaidAt: s.now()})
}
