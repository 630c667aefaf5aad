package demo

import (
	"context"
	"fmt"
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
	var members []uuid.UUID
	if err := a.DB.WithContext(ctx).Table("households").Where("village_code = ?", "433124110226").
		Order("archive_no").Limit(3).Pluck("id", &members).Error; err != nil {
		return err
	}
	if len(members) < 3 {
		return ErrPartial
	}
	if _, err := a.Households.RegisterCooperative(ctx, admin, household.NewCooperative{Name: "十八洞村猕猴桃专业合作社",
		VillageCode: "433124110226", Members: []household.MemberShare{{HouseholdID: members[0], ShareBP: 4000},
			{HouseholdID: members[1], ShareBP: 3000}, {HouseholdID: members[2], ShareBP: 3000}}}); err != nil {
		return fmt.Errorf("cooperative: %w", err)
	}
	var stationID uuid.UUID
	if err := a.DB.WithContext(ctx).Raw(`SELECT station_id FROM users WHERE username = 'station-shibadong'`).Row().Scan(&stationID); err != nil {
		return err
	}
	day, _ := civil.ParseDate(time.Now().In(civil.China).Format(time.DateOnly))
	if _, err := a.Ledger.RecordWork(ctx, ledger.WorkRequest{StationID: stationID, HouseholdID: members[1], Task: "packing",
		WorkDate: day, Minutes: 300, Pay: money.Yuan(120), Key: "demo-packing-1", RecordedBy: admin.UserID}); err != nil {
		return fmt.Errorf("work record: %w", err)
	}
	var owed struct {
		OwnerID uuid.UUID
		Owed    int64
	}
	if err := a.DB.WithContext(ctx).Raw(`SELECT owner_id, -balance_fen AS owed FROM ledger_accounts
		WHERE kind = 'household_payable' AND balance_fen < 0 ORDER BY balance_fen, owner_id LIMIT 1`).Scan(&owed).Error; err != nil {
		return err
	}
	if owed.Owed > 1 {
		if _, err := a.Ledger.PayOut(ctx, ledger.PayoutRequest{HouseholdID: owed.OwnerID, Amount: money.Money(owed.Owed / 2),
			Reference: "DEMO-TRANSFER-0001", PaidAt: time.Now().UTC(), CreatedBy: admin.UserID}); err != nil {
			return fmt.Errorf("payout: %w", err)
		}
	}
	return nil
}
