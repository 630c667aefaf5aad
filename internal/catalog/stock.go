package catalog

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
)

// Reservation takes the stock of items, all or nothing, as two parts of the caller's one
// statement: Lock's CTEs lock and read the products, the caller's CTEs follow (its insert reads
// reserved and reservable), then Take's CTE takes the stock only if the caller's gate CTE
// returned a row. So an order is placed in one statement, its own transaction: no BEGIN and
// COMMIT round trips, and the product rows stay locked only from that statement to its commit
// (docs/performance.md, "Place + pay regression"). items name each product once (merge repeats
// first). Only catalog names products; the caller names CTEs.
//
// reserved locks the rows in product id order (the lock is taken row by row above the sort, so
// two orders with the same products in opposite order never deadlock) and reads their latest
// committed version (READ COMMITTED re-reads a row updated while it waited); it has, per item
// found: product_id, station_id, name, price_fen, stock (before the reservation), listed,
// origin_code, quantity and item_no (the item's 1-based position in items). reservable is one row,
// ok: every item is listed and in stock on those locked rows. The caller should select reserved's
// rows whatever happened and give them to Shortfall, so a refusal is explained without another
// query. CHECK (stock >= 0) on products is the last line.
//
// The arrays reach the statement through sub-selects ((SELECT ?::uuid[])), which the planner
// cannot see into: its estimates are then the same whatever the arrays hold, so PostgreSQL keeps
// one generic plan for the statement instead of planning it afresh for every order (planning it
// afresh cost 12 % of the database's CPU under the order benchmark, docs/performance.md); the ids
// are named on the UPDATE's target as well, or the plan may join to a sequential scan of the
// whole catalogue.
type Reservation struct {
	ids, quantities string // array literals
	n               int
}

// NewReservation prepares the reservation of items (each product once).
func NewReservation(items []Item) Reservation {
	ids, quantities := make([]string, len(items)), make([]string, len(items))
	for i, it := range items {
		ids[i], quantities[i] = it.ProductID.String(), strconv.Itoa(it.Quantity)
	}
	return Reservation{ids: "{" + strings.Join(ids, ",") + "}", quantities: "{" + strings.Join(quantities, ",") + "}", n: len(items)}
}

// Lock is the CTEs reserved and reservable (see Reservation), with their parameters.
func (r Reservation) Lock() (string, []any) {
	return `reserve_locked AS (
		    SELECT id AS product_id, station_id, name, price_fen, stock, listed, origin_code
		    FROM products WHERE id = ANY(CAST((SELECT ?::uuid[]) AS uuid[])) ORDER BY id FOR UPDATE
		), reserved AS (
		    SELECT l.*, x.quantity, x.item_no::int AS item_no
		    FROM unnest((SELECT ?::uuid[]), (SELECT ?::int[])) WITH ORDINALITY AS x(product_id, quantity, item_no)
		    JOIN reserve_locked l ON l.product_id = x.product_id
		), reservable AS (
		    SELECT count(*) FILTER (WHERE listed AND stock >= quantity) = ? AS ok FROM reserved
		)`, []any{r.ids, r.ids, r.quantities, r.n}
}

// Take is the CTE reserve_taken, which takes every reserved item's stock if the caller's CTE
// gate (defined between Lock and Take) returned a row; the caller makes gate return a row only
// when reservable is ok.
func (r Reservation) Take(gate string) (string, []any) {
	return `reserve_taken AS (
		    UPDATE products p SET stock = p.stock - w.quantity, updated_at = now()
		    FROM reserved w WHERE p.id = ANY(CAST((SELECT ?::uuid[]) AS uuid[])) AND p.id = w.product_id
		      AND EXISTS (SELECT FROM ` + gate + `)
		)`, []any{r.ids}
}

// Shortfall names every item (in request order) that the locked rows cannot supply, or returns
// nil when every item can be taken, so that a buyer fixes the whole order in one round.
// Errors: Invalid naming items[i].product_id for each unknown or unlisted product (these come
// first: stock is not worth reporting on an order that cannot be placed as written); else
// Conflict ("insufficient stock") naming items[i].quantity of each item short, each reason with
// its product and what is left, and the problem's product_id and available those of the first.
func Shortfall(items []Item, locked []Locked) error {
	byID := make(map[uuid.UUID]Locked, len(locked))
	for _, l := range locked {
		byID[l.ProductID] = l
	}
	var invalid, short apperr.Fields
	var first *apperr.Error
	for i, it := range items {
		p, ok := byID[it.ProductID]
		field := fmt.Sprintf("items[%d]", i)
		switch {
		case !ok:
			invalid.Add(field+".product_id", "names no product")
		case !p.Listed:
			invalid.Add(field+".product_id", "names a product that is not listed for sale")
		case p.Stock < it.Quantity:
			e := apperr.ConflictField(field+".quantity", "insufficient stock of %s: %d ordered, %d left", p.Name, it.Quantity, p.Stock)
			if first == nil {
				first = e.With("product_id", it.ProductID).With("available", p.Stock)
			}
			short = append(short, e.Fields...)
		}
	}
	if err := invalid.Err(); err != nil {
		return err
	}
	if first != nil && len(short) > 1 {
		first.Msg = fmt.Sprintf("insufficient stock of %d of the order's products", len(short))
		first.Fields = short
	}
	if first == nil {
		return nil
	}
	return first
}

// Release returns reserved stock (an order cancelled before shipment), in product id order.
func Release(ctx context.Context, tx *gorm.DB, items []Item) error {
	sorted := slices.Clone(items)
	slices.SortFunc(sorted, func(a, b Item) int { return bytes.Compare(a.ProductID[:], b.ProductID[:]) })
	for _, it := range sorted {
		if err := tx.WithContext(ctx).Exec(`UPDATE products SET stock = stock + ?, updated_at = now() WHERE id = ?`,
			it.Quantity, it.ProductID).Error; err != nil {
			return err
		}
	}
	return nil
}

// SuppliersOf returns the suppliers of each product, read through db (a transaction or the pool).
func SuppliersOf(ctx context.Context, tx *gorm.DB, productIDs []uuid.UUID) (map[uuid.UUID][]Supplier, error) {
	var rows []Supplier
	err := tx.WithContext(ctx).Where("product_id IN ?", productIDs).Order("product_id, household_id").Find(&rows).Error
	out := make(map[uuid.UUID][]Supplier, len(productIDs))
	for _, s := range rows {
		out[s.ProductID] = append(out[s.ProductID], s)
	}
	return out, err
}

// CurrentSuppliers returns product id's station and its suppliers as they are now (households in
// id order, then cooperatives in id order), read through db; no suppliers when the product does
// not exist.
func CurrentSuppliers(ctx context.Context, db *gorm.DB, id uuid.UUID) (uuid.UUID, []Supplier, error) {
	var rows []struct {
		StationID uuid.UUID
		Supplier
	}
	err := db.WithContext(ctx).Raw(`SELECT p.station_id, s.product_id, s.household_id, s.cooperative_id, s.share_bp
		FROM products p JOIN product_suppliers s ON s.product_id = p.id
		WHERE p.id = ? ORDER BY s.household_id, s.cooperative_id`, id).Find(&rows).Error
	if err != nil || len(rows) == 0 {
		return uuid.Nil, nil, err
	}
	sups := make([]Supplier, len(rows))
	for i, r := range rows {
		sups[i] = r.Supplier
	}
	return rows[0].StationID, sups, nil
}

// MoveOrigins gives the products whose origin is one of villages from the origin to instead,
// inside the caller's transaction tx (a village merge: region.Merger). Order lines keep the
// origin frozen with them.
func MoveOrigins(ctx context.Context, tx *gorm.DB, from []string, to string, at time.Time) error {
	return tx.WithContext(ctx).Exec(`UPDATE products SET origin_code = ?, updated_at = ? WHERE origin_code IN ?`, to, at, from).Error
}
