package app

import (
	"context"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/catalog"
	"github.com/fupinmarket/fupin/internal/household"
	"github.com/fupinmarket/fupin/internal/ledger"
	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/money"
	"github.com/fupinmarket/fupin/internal/procurement"
	"github.com/fupinmarket/fupin/internal/station"
	"github.com/fupinmarket/fupin/internal/supply"
)

// itemAttribution is trace's Attribution: it gathers the facts of one item from their owners and
// applies the ledger's sale rule to them (ledger.ItemAttribution). A sold item (price > 0) is its
// order line as procurement froze it (or supply fixed it at shipment, by the deliveries of the
// item's batch); an unsold one is the households who delivered into its batch (supply), or for a
// batch without deliveries the product's current suppliers and cooperative members (catalog,
// household), with the station's commission now and no amounts.
type itemAttribution struct{ db *gorm.DB }

// ItemAttribution: see trace.Attribution. Errors: NotFound when the product (or line) has no
// suppliers.
func (a itemAttribution) ItemAttribution(ctx context.Context, productID, batchID, lineID uuid.UUID, price money.Money) ([]ledger.ItemShare, error) {
	if price > 0 {
		line, err := procurement.LineSale(ctx, a.db, lineID, price)
		if err != nil {
			return nil, err
		}
		return ledger.ItemAttribution(line)
	}
	delivered, err := supply.BatchShares(ctx, a.db, batchID)
	if err != nil {
		return nil, err
	}
	if len(delivered) > 0 {
		line := ledger.SaleLine{OrderLineID: lineID}
		for _, d := range delivered {
			line.Suppliers = append(line.Suppliers, ledger.Supplier{HouseholdID: d.HouseholdID, ShareBP: d.ShareBP})
		}
		return ledger.ItemAttribution(line)
	}
	line, err := a.currentSale(ctx, productID, lineID)
	if err != nil {
		return nil, err
	}
	return ledger.ItemAttribution(line)
}

// currentSale is product productID as a sale line of no amount, with the shares it has now.
func (a itemAttribution) currentSale(ctx context.Context, productID, lineID uuid.UUID) (ledger.SaleLine, error) {
	stationID, sups, err := catalog.CurrentSuppliers(ctx, a.db, productID)
	line := ledger.SaleLine{OrderLineID: lineID, StationID: stationID}
	if err != nil || len(sups) == 0 { // no suppliers: ledger.ItemAttribution says NotFound
		return line, apperr.DB(err, "product suppliers")
	}
	if line.CommissionBP, err = station.CommissionOf(ctx, a.db, stationID); err != nil {
		return ledger.SaleLine{}, err
	}
	var coops []uuid.UUID
	for _, s := range sups {
		if s.CooperativeID != nil {
			coops = append(coops, *s.CooperativeID)
		}
	}
	var members map[uuid.UUID][]household.MemberShare
	if len(coops) > 0 {
		if members, err = household.Members(ctx, a.db, coops); err != nil {
			return ledger.SaleLine{}, apperr.DB(err, "product suppliers")
		}
	}
	for _, s := range sups {
		switch {
		case s.HouseholdID != nil:
			line.Suppliers = append(line.Suppliers, ledger.Supplier{HouseholdID: *s.HouseholdID, ShareBP: int32(s.ShareBP)})
		case s.CooperativeID != nil:
			sp := ledger.Supplier{CooperativeID: *s.CooperativeID, ShareBP: int32(s.ShareBP)}
			for _, m := range members[*s.CooperativeID] {
				sp.Members = append(sp.Members, ledger.Member{HouseholdID: m.HouseholdID, ShareBP: m.ShareBP})
			}
			line.Suppliers = append(line.Suppliers, sp)
		}
	}
	return line, nil
}
