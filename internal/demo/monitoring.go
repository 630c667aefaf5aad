package demo

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/fupinmarket/fupin/internal/app"
	"github.com/fupinmarket/fupin/internal/household"
	"github.com/fupinmarket/fupin/internal/ledger"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/civil"
	"github.com/fupinmarket/fupin/internal/platform/money"
)

// atRisk puts one household on the county office's early warning list (docs/monitoring.md): a
// 十八洞村 household was paid a ¥3,000 dividend by the village collective (财产性收入) on the 15th of
// the month thirteen months before this one, the middle of the three months a year before the
// last three complete months; everything else of the demo happens today, in a month not yet
// complete. Its income through the platform in the last three complete months is then ¥0 against
// ¥3,000 a year earlier, down 100 %, more than the default 30 %: the warning appears whenever the
// demo is loaded, and stays for the next two months. The dividend is recorded through the ledger
// on a clock set to its day, as the station would have recorded it then.
func atRisk(ctx context.Context, a *app.App, admin auth.Principal) error {
	village, err := a.Households.List(ctx, admin, household.ListFilter{VillageCode: "433124110226", Limit: 500})
	if err != nil {
		return err
	}
	if len(village) < 6 {
		return ErrPartial
	}
	slices.SortFunc(village, func(x, y household.Household) int { return strings.Compare(x.ArchiveNo, y.ArchiveNo) })
	t := time.Now().In(civil.China)
	paid := time.Date(t.Year(), t.Month()-13, 15, 12, 0, 0, 0, civil.China)
	day, _ := civil.ParseDate(paid.Format(time.DateOnly))
	then := a.Ledger.WithClock(func() time.Time { return paid })
	if _, err := then.RecordDividend(ctx, ledger.DividendRequest{HouseholdID: village[5].ID, PayerKind: ledger.PayerCollective,
		PayerName: "十八洞村股份经济合作社", PaidOn: day, Amount: money.Yuan(3000), Key: "demo-dividend-1", RecordedBy: admin.UserID}); err != nil {
		return fmt.Errorf("dividend: %w", err)
	}
	return nil
}
