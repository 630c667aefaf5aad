package procurement

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/database"
	"github.com/fupinmarket/fupin/internal/platform/money"
)

// lockOrderSQL locks order $1 FOR UPDATE and reads it, if it is in the caller's scope (as scoped
// narrows it; its condition is appended, with $2 the buyer's unit or the station).
const lockOrderSQL = `SELECT id, unit_id, placed_by, status, total_fen, placed_at, paid_at, shipped_at, completed_at, cancelled_at
FROM orders WHERE id = $1 AND `

// lockOrder reads an order FOR UPDATE within tx, scoped to p (out of scope is NotFound). Without
// gorm, as orderParts, which the order repository runs next.
func lockOrder(ctx context.Context, tx *gorm.DB, p auth.Principal, id uuid.UUID) (Order, error) {
	q, args := lockOrderSQL, []any{database.UUID(id)}
	switch p.Role {
	case auth.RoleAdmin:
		q += "true"
	case auth.RoleBuyer:
		q, args = q+"unit_id = $2", append(args, database.UUID(p.UnitID))
	case auth.RoleStation:
		q, args = q+"EXISTS (SELECT 1 FROM order_lines ol WHERE ol.order_id = orders.id AND ol.station_id = $2)",
			append(args, database.UUID(p.StationID))
	default:
		q += "false"
	}
	var o Order
	var total int64
	err := database.QueryRow(ctx, tx, q+" FOR UPDATE", args...).Scan(&o.ID, &o.UnitID, &o.PlacedBy, &o.Status, &total,
		&o.PlacedAt, &o.PaidAt, &o.ShippedAt, &o.CompletedAt, &o.CancelledAt)
	if errors.Is(err, sql.ErrNoRows) {
		return Order{}, apperr.NotFound("order")
	}
	o.TotalFen = money.Money(total)
	return o, apperr.DB(err, "order")
}

// orderPartsSQL reads an order's lines (kind 0, by line_no) and its shipments (kind 1, by
// station) in one statement: the order repository (Orders.update) reads both after locking the
// order, on every transition, and two statements were two round trips. Run after the lock's own
// statement, so that under READ COMMITTED it sees what the transaction that held the lock
// committed (read with the lock in one statement, the lines and shipments would be as they were
// before the wait). Without gorm (database.Query, scanned by position): gorm's reflective Find of
// both was about a fifth of a receipt's client CPU (docs/performance.md, "Receive and posting").
const orderPartsSQL = `
SELECT 0 AS kind, l.id, l.line_no, l.product_id, l.station_id, l.quantity, l.unit_price_fen, l.amount_fen,
       l.shipped_at, l.refunded_quantity, NULL::text AS status, NULL::timestamptz AS received_at, NULL::uuid AS sale_entry_id
FROM order_lines l WHERE l.order_id = $1
UNION ALL
SELECT 1, NULL, NULL, NULL, s.station_id, NULL, NULL, NULL, s.shipped_at, NULL, s.status, s.received_at, s.sale_entry_id
FROM shipments s WHERE s.order_id = $1
ORDER BY kind, line_no, station_id`

// orderParts returns the lines (by line number) and shipments (by station id) of order orderID,
// read through db (the caller's transaction) in one statement. Errors: database errors as apperr.DB.
func orderParts(ctx context.Context, db *gorm.DB, orderID uuid.UUID) ([]Line, []Shipment, error) {
	rows, err := database.Query(ctx, db, orderPartsSQL, database.UUID(orderID))
	if err != nil {
		return nil, nil, apperr.DB(err, "order")
	}
	defer rows.Close()
	lines, shipments, err := scanOrderParts(orderID, rows)
	return lines, shipments, apperr.DB(err, "order")
}

// scanOrderParts scans orderPartsSQL's rows by position.
func scanOrderParts(orderID uuid.UUID, rows *sql.Rows) ([]Line, []Shipment, error) {
	var lines []Line
	var shipments []Shipment
	for rows.Next() {
		var (
			kind                       int
			id, productID, saleEntryID *uuid.UUID
			stationID                  uuid.UUID
			lineNo, quantity, refunded *int64
			unitPrice, amount          *int64
			shippedAt, receivedAt      *time.Time
			status                     *string
		)
		if err := rows.Scan(&kind, &id, &lineNo, &productID, &stationID, &quantity, &unitPrice, &amount,
			&shippedAt, &refunded, &status, &receivedAt, &saleEntryID); err != nil {
			return nil, nil, err
		}
		if kind == 0 {
			lines = append(lines, Line{ID: *id, OrderID: orderID, LineNo: int(*lineNo), ProductID: *productID,
				StationID: stationID, Quantity: int(*quantity), UnitPriceFen: money.Money(*unitPrice),
				AmountFen: money.Money(*amount), ShippedAt: shippedAt, RefundedQuantity: int(*refunded)})
			continue
		}
		shipments = append(shipments, Shipment{OrderID: orderID, StationID: stationID, Status: ShipmentStatus(*status),
			ShippedAt: shippedAt, ReceivedAt: receivedAt, SaleEntryID: saleEntryID})
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	return lines, shipments, nil
}
