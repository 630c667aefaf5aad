package demo

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/fupinmarket/fupin/internal/app"
	"github.com/fupinmarket/fupin/internal/catalog"
	"github.com/fupinmarket/fupin/internal/household"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/civil"
	"github.com/fupinmarket/fupin/internal/procurement"
	"github.com/fupinmarket/fupin/internal/supply"
	"github.com/fupinmarket/fupin/internal/trace"
)

// supplyDemo shows batch supply records (docs/supply.md) through the services: a purchase-model
// (收购) product of the 十八洞村 station, 高山大米, with a 20 % rebate (二次返利); a batch of it made of
// three households' deliveries (each with its 承诺达标合格证 number, paid on delivery at its purchase
// price); codes issued up to what was delivered; and an order of 3 bags received, so that the
// scan page of a sold bag names the three households and fupin verify re-derives the purchase
// entries and the rebate.
func supplyDemo(ctx context.Context, a *app.App, admin auth.Principal) error {
	stationID, err := stationOf(ctx, a, "station-shibadong")
	if err != nil {
		return err
	}
	village, err := a.Households.List(ctx, admin, household.ListFilter{VillageCode: "433124110226", Limit: 500})
	if err != nil {
		return err
	}
	slices.SortFunc(village, func(x, y household.Household) int { return strings.Compare(x.ArchiveNo, y.ArchiveNo) })
	if len(village) < 6 {
		return ErrPartial
	}
	growers := village[3:6]
	operator := auth.Principal{Role: auth.RoleStation, StationID: stationID, UserID: admin.UserID}
	purchase, rebate := catalog.Purchase, int32(2000)
	p, err := a.Catalog.Create(ctx, operator, catalog.NewProduct{Name: "十八洞村高山大米", Category: "粮油", Unit: "袋", Spec: "5kg/袋",
		PriceFen: 6800, Stock: 40, OriginCode: "433124110226", Settlement: &purchase, RebateBP: &rebate,
		Suppliers: []catalog.Supplier{{HouseholdID: &growers[0].ID, ShareBP: 10000}}})
	if err != nil {
		return fmt.Errorf("purchase-model product: %w", err)
	}
	today := civil.Today(time.Now())
	b, err := a.Trace.CreateBatch(ctx, admin, p.ID, trace.NewBatch{BatchNo: "HY-RICE-" + today.Format("0102"), ProducedOn: today.String(), Quantity: 40})
	if err != nil {
		return fmt.Errorf("rice batch: %w", err)
	}
	for i, g := range growers {
		price := int64(4000 + 200*i) // ¥40.00, ¥42.00, ¥44.00 a bag
		issued := today
		_, _, err := a.Supply.Record(ctx, operator, b.ID, supply.NewDelivery{HouseholdID: g.ID, Quantity: 4 + 2*i, DeliveredOn: today,
			Certificate:      &supply.Certificate{Number: fmt.Sprintf("HGZ-433124-%s-%03d", today.Format("20060102"), i+1), IssuedOn: &issued},
			PurchasePriceFen: &price}, fmt.Sprintf("demo-rice-%d", i))
		if err != nil {
			return fmt.Errorf("delivery %d: %w", i, err)
		}
	}
	codes, err := a.Trace.IssueCodes(ctx, admin, b.ID, 18) // 4 + 6 + 8 delivered
	if err != nil {
		return fmt.Errorf("rice codes: %w", err)
	}
	units, err := a.Users.List(ctx, auth.RoleBuyer)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(units, func(u auth.User) bool { return u.Username == "buyer-agency" })
	if i < 0 {
		return ErrPartial
	}
	buyer := units[i].Principal()
	o, _, err := a.Orders.Place(ctx, buyer, "demo-rice", procurement.PlaceRequest{Items: []procurement.ItemRequest{{ProductID: p.ID, Quantity: 3}}})
	if err != nil {
		return fmt.Errorf("rice order: %w", err)
	}
	if _, _, err := a.Orders.Pay(ctx, buyer, o.ID, "demo-pay-rice"); err != nil {
		return fmt.Errorf("rice payment: %w", err)
	}
	if _, err := a.Orders.Ship(ctx, admin, o.ID, procurement.ShipRequest{Lines: []procurement.ShipLine{{LineID: o.Lines[0].ID, Codes: codes[:3]}}}); err != nil {
		return fmt.Errorf("rice shipment: %w", err)
	}
	_, err = a.Orders.Receive(ctx, buyer, o.ID)
	return err
}
