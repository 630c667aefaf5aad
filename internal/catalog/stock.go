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

// Reserve takes stock for items inside the caller's transaction tx. Items must name distinct
// products. Rows are updated in product id order, so concurrent orders lock in the same order and
// never deadlock; each update is guarded (`stock >= n`), so stock never goes negative.
// Errors: Invalid naming items[i].product_id for an unknown or unlisted product; Conflict
// ("insufficient stock") with the product and what is left.
func Reserve(ctx context.Context, tx *gorm.DB, items []Item) ([]Reserved, error) {
	order := make([]int, len(items))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return bytes.Compare(items[a].ProductID[:], items[b].ProductID[:]) })
	out := make([]Reserved, len(items))
	for _, i := range order {
		it := items[i]
		var r Reserved
		res := tx.WithContext(ctx).Raw(`UPDATE products SET stock = stock - ?, updated_at = now()
			WHERE id = ? AND listed AND stock >= ?
			RETURNING id AS product_id, station_id, name, price_fen`, it.Quantity, it.ProductID, it.Quantity).Scan(&r)
		if res.Error != nil {
			return nil, res.Error
		}
		if res.RowsAffected == 0 {
			return nil, whyNotReserved(ctx, tx, i, it)
		}
		r.Quantity = it.Quantity
		out[i] = r
	}
	return out, nil
}

func whyNotReserved(ctx context.Context, tx *gorm.DB, i int, it Item) error {
	var p struct {
		Name   string
		Stock  int
		Listed bool
	}
	err := tx.WithContext(ctx).Table("products").Select("name", "stock", "listed").Where("id = ?", it.ProductID).Take(&p).Error
	field := fmt.Sprintf("items[%d].product_id", i)
	switch {
	case apperr.Is(apperr.DB(err, "product"), apperr.KindNotFound):
		return apperr.Invalid(apperr.Field(field, "names no product"))
	case err != nil:
		return err
	case !p.Listed:
		return apperr.Invalid(apperr.Field(field, "names a product that is not listed for sale"))
	}
	e := apperr.ConflictField(fmt.Sprintf("items[%d].quantity", i), "insufficient stock of %s: %d ordered, %d left", p.Name, it.Quantity, p.Stock)
	return e.With("product_id", it.ProductID).With("available", p.Stock)
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
