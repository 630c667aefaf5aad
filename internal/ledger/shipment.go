package ledger

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/money"
)

// PostShipmentSale attributes one received station shipment of an order inside the caller's
// transaction tx: the order's lines of stationID, split among their products' supplier shares
// exactly as SaleEntry does for a whole order, posted as one sale entry under the key
// "order:<order id>:sale:<station id>" (so an order of N stations ends with N sale entries whose
// unit debits sum to the order total). Returns the entry id; a retry replays it.
// Errors: as SaleEntry and Post (Invalid when the order has no lines of that station).
func (s *Service) PostShipmentSale(ctx context.Context, tx *gorm.DB, orderID, unitID, stationID uuid.UUID, at time.Time) (uuid.UUID, error) {
	var rows []struct {
		OrderLineID uuid.UUID
		AmountFen   money.Money
		HouseholdID uuid.UUID
		ShareBP     int32
	}
	err := tx.WithContext(ctx).Raw(`
		SELECT l.id AS order_line_id, l.amount_fen, ps.household_id, ps.share_bp
		FROM order_lines l JOIN product_suppliers ps ON ps.product_id = l.product_id
		WHERE l.order_id = ? AND l.station_id = ? ORDER BY l.line_no, ps.household_id`, orderID, stationID).Scan(&rows).Error
	if err != nil {
		return uuid.Nil, err
	}
	var lines []SaleLine
	for _, r := range rows {
		if len(lines) == 0 || lines[len(lines)-1].OrderLineID != r.OrderLineID {
			lines = append(lines, SaleLine{OrderLineID: r.OrderLineID, Amount: r.AmountFen})
		}
		last := &lines[len(lines)-1]
		last.Suppliers = append(last.Suppliers, Supplier{HouseholdID: r.HouseholdID, ShareBP: r.ShareBP})
	}
	e, err := SaleEntry(orderID, unitID, lines, at)
	if err != nil {
		return uuid.Nil, err
	}
	e.IdempotencyKey = fmt.Sprintf("order:%s:sale:%s", orderID, stationID)
	e.Memo = fmt.Sprintf("sale of order %s, shipment of station %s", orderID, stationID)
	id, _, err := s.Post(ctx, tx, e)
	return id, err
}
