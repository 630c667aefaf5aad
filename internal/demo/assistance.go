package demo

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/fupinmarket/fupin/internal/app"
	"github.com/fupinmarket/fupin/internal/household"
	"github.com/fupinmarket/fupin/internal/ledger"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/civil"
	"github.com/fupinmarket/fupin/internal/platform/money"
)

// assistance adds what the household side of the demo shows beyond sales, through the services:
// a cooperative of three 十八洞村 households, a day of paid packing work at the 十八洞村 station
// (wage income, 工资性收入), and a payout to the first household that earned from sales, so that
// fupin verify checks a pass-through-ready cooperative, a wage and a payout on the demo data.
func assistance(ctx context.Context, a *app.App, admin auth.Principal) error {
	village, err := a.Households.List(ctx, admin, household.ListFilter{VillageCode: "433124110226", Limit: 500})
	if err != nil {
		return err
	}
	slices.SortFunc(village, func(x, y household.Household) int { return strings.Compare(x.ArchiveNo, y.ArchiveNo) })
	var members []uuid.UUID
	for _, h := range village[:min(3, len(village))] {
		members = append(members, h.ID)
	}
	if len(members) < 3 {
		return ErrPartial
	}
	if _, err := a.Households.RegisterCooperative(ctx, admin, household.NewCooperative{Name: "十八洞村猕猴桃专业合作社",
		VillageCode: "433124110226", Members: []household.MemberShare{{HouseholdID: members[0], ShareBP: 4000},
			{HouseholdID: members[1], ShareBP: 3000}, {HouseholdID: members[2], ShareBP: 3000}}}); err != nil {
		return fmt.Errorf("cooperative: %w", err)
	}
	stationID, err := stationOf(ctx, a, "station-shibadong")
	if err != nil {
		return err
	}
	day, _ := civil.ParseDate(time.Now().In(civil.China).Format(time.DateOnly))
	if _, err := a.Ledger.RecordWork(ctx, ledger.WorkRequest{StationID: stationID, HouseholdID: members[1], Task: "packing",
		WorkDate: day, Minutes: 300, Pay: money.Yuan(120), Key: "demo-packing-1", RecordedBy: admin.UserID}); err != nil {
		return fmt.Errorf("work record: %w", err)
	}
	owed, err := mostOwed(ctx, a)
	if err != nil {
		return err
	}
	if owed.Owed > 1 {
		if _, err := a.Ledger.PayOut(ctx, ledger.PayoutRequest{HouseholdID: owed.HouseholdID, Amount: owed.Owed / 2,
			Reference: "DEMO-TRANSFER-0001", PaidAt: time.Now().UTC(), CreatedBy: admin.UserID}); err != nil {
			return fmt.Errorf("payout: %w", err)
		}
	}
	return nil
}

// stationOf returns the station of the operator account username.
func stationOf(ctx context.Context, a *app.App, username string) (uuid.UUID, error) {
	users, err := a.Users.List(ctx, auth.RoleStation)
	if err != nil {
		return uuid.Nil, err
	}
	for _, u := range users {
		if u.Username == username && u.StationID != nil {
			return *u.StationID, nil
		}
	}
	return uuid.Nil, ErrPartial
}

// mostOwed is the household the platform owes most (the lower id on a tie), from the ledger's
// list of households waiting for a payout; zero when none is owed anything.
func mostOwed(ctx context.Context, a *app.App) (ledger.Waiting, error) {
	waiting, err := a.Ledger.WaitingHouseholds(ctx, nil, 0, time.Now().UTC(), 1000)
	var top ledger.Waiting
	for _, w := range waiting {
		if w.Owed > top.Owed || (w.Owed == top.Owed && bytes.Compare(w.HouseholdID[:], top.HouseholdID[:]) < 0) {
			top = w
		}
	}
	return top, err
}
