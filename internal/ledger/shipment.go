package ledger

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// PostShipmentSale attributes one received station shipment of an order inside the caller's
// transaction tx: lines, the order's lines of stationID as the caller hands them
// (procurement.SaleLines), attributed exactly as PostSale does for a whole order (commission,
// suppliers, cooperatives), posted as one sale entry under the key
// "order:<order id>:sale:<station id>" (so an order of N stations ends with N sale entries whose
// unit debits sum to the order total), and the rebate of its purchase-model lines (RebateEntry)
// when they have one. Returns the sale entry's id; a retry replays both.
// Errors: as SaleEntry and Post (Invalid when the order has no lines of that station).
func (s *Service) PostShipmentSale(ctx context.Context, tx *gorm.DB, orderID, unitID, stationID uuid.UUID, lines []SaleLine, at time.Time) (uuid.UUID, error) {
	e, err := SaleEntry(orderID, unitID, lines, at)
	if err != nil {
		return uuid.Nil, err
	}
	e.IdempotencyKey = fmt.Sprintf("order:%s:sale:%s", orderID, stationID)
	e.Memo = fmt.Sprintf("sale of order %s, shipment of station %s", orderID, stationID)
	id, _, err := s.Post(ctx, tx, e)
	if err != nil {
		return uuid.Nil, err
	}
	return id, s.postRebate(ctx, tx, orderID, e.IdempotencyKey, lines, at)
}
