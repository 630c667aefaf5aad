package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/fupinmarket/fupin/internal/app"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/civil"
	"github.com/fupinmarket/fupin/internal/procurement"
	"github.com/fupinmarket/fupin/internal/reserve"
)

// reserveShares shows reserved shares (预留份额, docs/reserve.md) through the services: 花垣县教育局,
// a supervising department (主管部门, account buyer-education), approves this year's filing of
// 花垣县民族中学 (account buyer-school: a canteen of ¥800,000.00 a year, 10 % reserved, shared with
// 花垣县民族小学), whose paid order of kiwifruit then shows in the completion and the notice list.
func reserveShares(ctx context.Context, a *app.App, admin auth.Principal, products map[string]uuid.UUID) error {
	type member struct {
		user, name, code string
		id               uuid.UUID
		p                auth.Principal
	}
	units := []*member{
		{user: "buyer-education", name: "花垣县教育局", code: "11433124MB0123456D"},
		{user: "buyer-school", name: "花垣县民族中学", code: "12433124MB0234567F"},
		{name: "花垣县民族小学", code: "12433124MB0345678H"},
	}
	for _, m := range units {
		code := m.code[:17] + string(procurement.CreditCheckChar(m.code[:17]))
		u, err := a.Units.Create(ctx, procurement.NewUnit{Name: m.name, CreditCode: code, Kind: procurement.UnitAgency})
		if err != nil {
			return fmt.Errorf("unit %s: %w", m.name, err)
		}
		m.id = u.ID
		if m.user != "" {
			user, err := a.Users.Create(ctx, auth.NewUser{Username: m.user, Password: Password, Role: auth.RoleBuyer, UnitID: &u.ID})
			if err != nil {
				return err
			}
			m.p = user.Principal()
		}
	}
	dept, school, primary := units[0], units[1], units[2]
	for _, m := range units {
		req := reserve.BudgetUnitRequest{RegionCode: "433124"}
		if m != dept {
			req.SupervisorUnitID = &dept.id
		}
		if _, err := a.Reserve.SetBudgetUnit(ctx, admin, m.id, req); err != nil {
			return fmt.Errorf("budget unit %s: %w", m.name, err)
		}
	}
	year := time.Now().In(civil.China).Year()
	f, err := a.Reserve.File(ctx, school.p, school.id, year, reserve.FilingRequest{Canteen: reserve.CanteenOwn,
		CanteenTotalFen: 800_000_00, RatioBP: 1000, SharedUnitIDs: []uuid.UUID{primary.id},
		ContactName: "石秀英", ContactPhone: "0743-7221234"})
	if err != nil {
		return fmt.Errorf("reserve filing: %w", err)
	}
	if _, err := a.Reserve.Approve(ctx, dept.p, f.ID); err != nil {
		return fmt.Errorf("reserve approval: %w", err)
	}
	o, _, err := a.Orders.Place(ctx, school.p, "demo-buyer-school-0", procurement.PlaceRequest{
		Items: []procurement.ItemRequest{{ProductID: products[kiwi], Quantity: 30}, {ProductID: products["十八洞苗家腊肉"], Quantity: 20}}})
	if err != nil {
		return fmt.Errorf("school order: %w", err)
	}
	_, _, err = a.Orders.Pay(ctx, school.p, o.ID, "demo-pay-"+o.ID.String())
	return err
}
