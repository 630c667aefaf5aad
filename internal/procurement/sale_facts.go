package procurement

import (
	"context"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/ledger"
	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/money"
)

// SaleLines reads, through db (the caller's transaction), what the ledger posts for the lines of
// order orderID (only those of station stationID when it is set), in line order: each line's
// amount in fen, its station and the commission frozen on it when the order was placed
// (order_lines.commission_bp, migration 00060), and its product's supplier shares frozen with it
// (order_line_suppliers, migration 00050: households, and cooperatives with their members' shares
// then), never the current ones. Errors: database errors as apperr.DB.
func SaleLines(ctx context.Context, db *gorm.DB, orderID uuid.UUID, stationID *uuid.UUID) ([]ledger.SaleLine, error) {
	var rows []ledger.SaleRow
	err := db.WithContext(ctx).Raw(`
		SELECT l.id AS order_line_id, l.amount_fen, l.station_id, l.commission_bp, -- all frozen at placement
		       s.household_id, s.cooperative_id, s.share_bp, s.member_id, s.member_share_bp
		FROM order_lines l
		JOIN order_line_suppliers s ON s.order_line_id = l.id
		WHERE l.order_id = ? AND (CAST(? AS uuid) IS NULL OR l.station_id = ?)
		ORDER BY l.line_no, s.household_id, s.cooperative_id, s.member_id`, orderID, stationID, stationID).Find(&rows).Error
	if err != nil {
		return nil, apperr.DB(err, "order lines")
	}
	return ledger.GroupSaleRows(rows), nil
}

// LineSale is order line lineID as a sale of one item at price fen (what the scan page shows an
// item adds to each household): the line's station, frozen commission and supplier shares, with
// amount price. Errors: NotFound when the line has no suppliers (or does not exist).
func LineSale(ctx context.Context, db *gorm.DB, lineID uuid.UUID, price money.Money) (ledger.SaleLine, error) {
	var rows []ledger.SaleRow
	err := db.WithContext(ctx).Raw(`
		SELECT l.id AS order_line_id, CAST(? AS bigint) AS amount_fen, l.station_id, l.commission_bp,
		       s.household_id, s.cooperative_id, s.share_bp, s.member_id, s.member_share_bp
		FROM order_lines l
		JOIN order_line_suppliers s ON s.order_line_id = l.id
		WHERE l.id = ?
		ORDER BY s.household_id, s.cooperative_id, s.member_id`, int64(price), lineID).Find(&rows).Error
	if err != nil {
		return ledger.SaleLine{}, apperr.DB(err, "product suppliers")
	}
	lines := ledger.GroupSaleRows(rows)
	if len(lines) == 0 {
		return ledger.SaleLine{}, apperr.NotFound("suppliers of the product")
	}
	return lines[0], nil
}
