package report

import (
	"bytes"
	"context"
	"encoding/csv"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fupinmarket/fupin/internal/ledger"
	"github.com/fupinmarket/fupin/internal/platform/civil"
	"github.com/fupinmarket/fupin/internal/platform/money"
)

// dividend records a village collective's dividend (财产性收入) to h on day, through the ledger on
// its own day's clock (an open month then).
func (c *county) dividend(t testing.TB, h uuid.UUID, day string, amount money.Money) {
	t.Helper()
	d, _ := civil.ParseDate(day)
	at := c.ledger.WithClock(func() time.Time { return d.Time.Add(12 * time.Hour) })
	if _, err := at.RecordDividend(context.Background(), ledger.DividendRequest{HouseholdID: h, PayerKind: ledger.PayerCollective,
		PayerName: "村股份经济合作社", PaidOn: d, Amount: amount, Key: randHex(6)}); err != nil {
		t.Fatal(err)
	}
}

// Property income is the third kind beside business and wage income: in the household's months,
// year and rolling figures, and in the monthly report's totals, areas and CSV column 财产性收入(元).
func TestPropertyIncomeInReports(t *testing.T) {
	ctx := context.Background()
	c := newCounty(t)
	h := c.household(t, c.villages[0], 2)
	c.wage(t, h, "2026-10-20", 8000)
	c.dividend(t, h, "2026-10-25", money.Yuan(500))
	c.dividend(t, h, "2026-10-31", money.Yuan(1)) // the day starts 2026-10-30 16:00 UTC: still October in China
	svc := NewService(c.db)
	svc.now = func() time.Time { return time.Date(2026, 11, 5, 9, 0, 0, 0, civil.China) }

	inc, err := svc.HouseholdIncomeOf(ctx, c.admin, h, 2026, LineMonitoring)
	if err != nil {
		t.Fatal(err)
	}
	oct := inc.Months[9]
	if oct.Period != "2026-10" || oct.PropertyFen != 50100 || oct.WageFen != 8000 || oct.TotalFen != 58100 || oct.PerCapitaFen != 29050 {
		t.Errorf("October %+v", oct)
	}
	if inc.Year.PropertyFen != 50100 || inc.Year.TotalFen != 58100 || inc.Rolling12.PropertyFen != 50100 {
		t.Errorf("year %+v rolling %+v", inc.Year, inc.Rolling12)
	}

	rep, err := svc.MonthlyReport(ctx, c.admin, c.code, Month{2026, time.October})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Totals.PropertyFen != 50100 || rep.Totals.IncomeFen != 58100 || rep.Totals.HouseholdsBenefited != 1 {
		t.Errorf("totals %+v", rep.Totals)
	}
	var buf bytes.Buffer
	if err := WriteCSV(&buf, rep, "areas"); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(buf.Bytes()[3:])).ReadAll()
	if err != nil || recs[0][10] != "财产性收入(元)" || recs[1][10] != "501.00" || recs[1][7] != "581.00" {
		t.Errorf("areas CSV %q %v", recs, err)
	}
	// November holds none of it.
	if rep, err := svc.MonthlyReport(ctx, c.admin, c.code, Month{2026, time.November}); err != nil || rep.Totals.PropertyFen != 0 {
		t.Errorf("November %+v %v", rep.Totals, err)
	}
}
