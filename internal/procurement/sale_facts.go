package procurement

import (
	"context"
	"database/sql"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/ledger"
	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/database"
	"github.com/fupinmarket/fupin/internal/platform/money"
)

// SaleLines reads, through db (the caller's transaction), what the ledger posts for the lines of
// order orderID (only those of station stationID when it is set), in line order: each line's
// amount in fen, its station and the commission frozen on it when the order was placed
// (order_lines.commission_bp, migration 00060), and its suppliers: the shares fixed at shipment by
// the deliveries of its items' batches, with the line's settlement (supply's
// order_line_settlements_view and order_line_deliveries_view, migration 00240, docs/supply.md),
// or else its product's supplier shares frozen with it at placement (order_line_suppliers,
// migration 00050: households, and cooperatives with their members' shares then), never the
// current ones. Errors: database errors as apperr.DB.
func SaleLines(ctx context.Context, db *gorm.DB, orderID uuid.UUID, stationID *uuid.UUID) ([]ledger.SaleLine, error) {
	station := database.NullUUID(stationID)
	rows, err := saleRows(database.Query(ctx, db, saleLinesSQL, database.UUID(orderID), station, station))
	if err != nil {
		return nil, apperr.DB(err, "order lines")
	}
	return ledger.GroupSaleRows(rows), nil
}

// saleLinesSQL is SaleLines' statement, with $n placeholders: the sale facts are read once by
// every receipt and sale, so without gorm (database.Query).
var saleLinesSQL = saleFactsSQL + `
		WHERE l.order_id = $1 AND (CAST($2 AS uuid) IS NULL OR l.station_id = $3)
		ORDER BY l.line_no, household_id, cooperative_id, member_id`

// saleRows scans the rows of a saleFactsSQL query (closing them) by position: gorm's scan by
// column name (reflection over ledger.SaleRow per row) was about a tenth of the client's CPU in
// BenchmarkAttribution, where every sale reads its facts once.
func saleRows(rows *sql.Rows, err error) ([]ledger.SaleRow, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ledger.SaleRow
	for rows.Next() {
		var r ledger.SaleRow
		var amount int64
		if err := rows.Scan(&r.OrderLineID, &amount, &r.StationID, &r.CommissionBP, &r.HouseholdID, &r.CooperativeID,
			&r.ShareBP, &r.MemberID, &r.MemberShareBP, &r.Settlement, &r.CostFen, &r.RebateBP); err != nil {
			return nil, err
		}
		r.AmountFen = money.Money(amount)
		out = append(out, r)
	}
	return out, rows.Err()
}

// saleFactsSQL selects a line's sale facts from its lines l (all frozen at placement, or fixed at
// shipment): the shares by deliveries where the line has them, the product's frozen ones otherwise.
// The caller adds the WHERE on l and the order.
const saleFactsSQL = `
		SELECT order_line_id, amount_fen, station_id, commission_bp, household_id, cooperative_id, share_bp,
		       member_id, member_share_bp, settlement, cost_fen, rebate_bp
		FROM (
		    SELECT l.id AS order_line_id, l.order_id, l.line_no, l.amount_fen, l.unit_price_fen, l.station_id, l.commission_bp,
		           s.household_id, s.cooperative_id, s.share_bp, s.member_id, s.member_share_bp,
		           NULL::text AS settlement, NULL::bigint AS cost_fen, NULL::integer AS rebate_bp
		    FROM order_lines l
		    JOIN order_line_suppliers s ON s.order_line_id = l.id
		    WHERE NOT EXISTS (SELECT 1 FROM order_line_settlements_view f WHERE f.order_line_id = l.id)
		    UNION ALL
		    SELECT l.id, l.order_id, l.line_no, l.amount_fen, l.unit_price_fen, l.station_id, l.commission_bp,
		           d.household_id, NULL, d.share_bp, NULL, NULL,
		           f.settlement, f.cost_fen, f.rebate_bp
		    FROM order_lines l
		    JOIN order_line_settlements_view f ON f.order_line_id = l.id
		    JOIN order_line_deliveries_view d ON d.order_line_id = l.id
		) l`

// LineSale is order line lineID as a sale of one item at price fen (what the scan page shows an
// item adds to each household): the line's station, frozen commission and suppliers (as SaleLines
// reads them), with amount price; a purchase-model line's cost is one item's. Errors: NotFound
// when the line has no suppliers (or does not exist).
func LineSale(ctx context.Context, db *gorm.DB, lineID uuid.UUID, price money.Money) (ledger.SaleLine, error) {
	rows, err := saleRows(db.WithContext(ctx).Raw(saleFactsSQL+`
		WHERE l.order_line_id = ?
		ORDER BY household_id, cooperative_id, member_id`, lineID).Rows())
	if err != nil {
		return ledger.SaleLine{}, apperr.DB(err, "product suppliers")
	}
	lines := ledger.GroupSaleRows(rows)
	if len(lines) == 0 {
		return ledger.SaleLine{}, apperr.NotFound("suppliers of the product")
	}
	l := lines[0]
	if l.Purchase && l.Amount > 0 {
		l.Cost = money.Money(int64(l.Cost) * int64(price) / int64(l.Amount)) // the line's cost per item, rounded down
	}
	l.Amount = price
	return l, nil
}
