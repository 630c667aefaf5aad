package catalog

import (
	"bytes"
	"context"
	"fmt"
	"slices"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
)

// LockSQL locks the products named by its one parameter (their ids as a PostgreSQL array
// literal, "{id,id,…}") in id order and
// returns them as Locked rows (product_id, station_id, name, price_fen, stock, listed; and
// origin_code, which the order line freezes). It is the
// first step of taking stock, meant as the first CTE of the caller's statement: the lock is taken
// row by row above the sort, so every statement locks in id order and two orders with the same
// products in opposite order never deadlock. What it returns is the rows' latest committed
// version (READ COMMITTED re-reads a row updated while it waited), and nobody else can change
// them until the caller commits: a stock guard evaluated on these rows holds for an UPDATE of
// them later in the same statement. CHECK (stock >= 0) on products is the last line.
//
// The array reaches the condition through a sub-select: see procurement's placeStmt for why.
const LockSQL = `SELECT id AS product_id, station_id, name, price_fen, stock, listed, origin_code
		FROM products WHERE id = ANY(CAST((SELECT ?::uuid[]) AS uuid[])) ORDER BY id FOR UPDATE`

// Shortfall names the first item (in request order) that the locked rows cannot supply, or
// returns nil when every item can be taken.
// Errors: Invalid naming items[i].product_id for an unknown or unlisted product; Conflict
// ("insufficient stock") naming items[i].quantity, with the product and what is left.
func Shortfall(items []Item, locked []Locked) error {
	byID := make(map[uuid.UUID]Locked, len(locked))
	for _, l := range locked {
		byID[l.ProductID] = l
	}
	for i, it := range items {
		p, ok := byID[it.ProductID]
		field := fmt.Sprintf("items[%d]", i)
		switch {
		case !ok:
			return apperr.Invalid(apperr.Field(field+".product_id", "names no product"))
		case !p.Listed:
			return apperr.Invalid(apperr.Field(field+".product_id", "names a product that is not listed for sale"))
		case p.Stock < it.Quantity:
			e := apperr.ConflictField(field+".quantity", "insufficient stock of %s: %d ordered, %d left", p.Name, it.Quantity, p.Stock)
			return e.With("product_id", it.ProductID).With("available", p.Stock)
		}
	}
	return nil
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
