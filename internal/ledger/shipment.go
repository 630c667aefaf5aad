package ledger

import (
	"context"
	"fmt"
	"time"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/google/uuid"
	"gorm.io/gorm"
)

// PostShipmentSale attributes one received station shipment of an order inside the caller's
// transaction tx: lines, the order's lines of stationID as the caller hands them
// (procurement.SaleLines), attributed exactly as PostSale does for a whole order (commission,
// suppliers, cooperatives), posted as one sale entry with id entryID under the key
// "order:<order id>:sale:<station id>" (so an order of N stations ends with N sale entries whose
// unit debits sum to the order total), in one statement with the caller's guard (Guard: the
// receipt's own writes, which may name entryID, go in the same round trip), then the rebate of its
// purchase-model lines (RebateEntry) when they have one. There is no replay: the caller holds the
// order locked and posts a shipment's sale once (a used key fails the statement, guard included).
// Errors: as SaleEntry and PostGuarded (Invalid when the order has no lines of that station;
// Conflict when guard returned no row).
func (s *Service) PostShipmentSale(ctx context.Context, tx *gorm.DB, guard Guard, entryID, orderID, unitID, stationID uuid.UUID, lines []SaleLine, at time.Time) error {
	e, err := SaleEntry(orderID, unitID, lines, at)
	if err != nil {
		return err
	}
	e.IdempotencyKey = fmt.Sprintf("order:%s:sale:%s", orderID, stationID)
	e.Memo = fmt.Sprintf("sale of order %s, shipment of station %s", orderID, stationID)
	if err := e.validate(false); err != nil {
		return err
	}
	posted, err := insertEntry(ctx, tx, &guard, entryID, e, requestHash(e, nil), nil)
	if err != nil {
		return err
	}
	if !posted {
		return apperr.Conflict("the sale of order %s, station %s, was not posted: its guard returned no row", orderID, stationID)
	}
	return s.postRebate(ctx, tx, orderID, e.IdempotencyKey, lines, at)
}
