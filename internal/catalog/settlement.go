package catalog

import (
	"context"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/money"
)

// Settlement models of a product (products.settlement, migration 00240; docs/supply.md).
const (
	// Consignment (代销): the station sells for the households, who are credited when an item is
	// sold. The default, and how every product was settled before issue 14.
	Consignment = "consignment"
	// Purchase (收购): the station buys each delivery at a purchase price (the household is paid
	// on delivery), the sale credits the station, and RebateBP of its margin is shared back with
	// the delivering households (二次返利).
	Purchase = "purchase"
)

// SettlementTerms is how a product is settled: its model and, for a purchase-model product, the
// part of the station's margin shared back with the delivering households in basis points
// (0..10000; 0 for consignment).
type SettlementTerms struct {
	Settlement string `json:"settlement"`
	RebateBP   int32  `json:"rebate_bp"`
}

// checkSettlement validates the terms given (nil: not given): a known model, a rebate of 0..10000
// basis points, and a positive rebate only with the purchase model when both are given.
func checkSettlement(f *apperr.Fields, settlement *string, rebate *int32) {
	if settlement != nil && *settlement != Consignment && *settlement != Purchase {
		f.Add("settlement", "must be consignment (代销: households credited when sold) or purchase (收购: the station buys on delivery)")
	}
	if rebate != nil && (*rebate < 0 || *rebate > int32(money.Whole)) {
		f.Add("rebate_bp", "must be 0 to 10000 basis points of the station's margin")
	}
	if rebate != nil && *rebate > 0 && settlement != nil && *settlement != Purchase {
		f.Add("rebate_bp", "a rebate (二次返利) is shared from the margin of bought produce: give settlement purchase with it")
	}
}

// SettlementOf returns the settlement terms of product productID as they are now, read through db
// (a transaction or the pool). Errors: NotFound; database errors.
func SettlementOf(ctx context.Context, db *gorm.DB, productID uuid.UUID) (SettlementTerms, error) {
	var t SettlementTerms
	res := db.WithContext(ctx).Raw(`SELECT settlement, rebate_bp FROM products WHERE id = ?`, productID).Scan(&t)
	if res.Error == nil && t.Settlement == "" {
		return t, apperr.NotFound("product")
	}
	return t, apperr.DB(res.Error, "product")
}
