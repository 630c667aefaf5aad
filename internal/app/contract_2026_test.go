package app

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fupinmarket/fupin/internal/fixture"
	"github.com/fupinmarket/fupin/internal/ledger"
	"github.com/fupinmarket/fupin/internal/platform/civil"
	"github.com/fupinmarket/fupin/internal/platform/money"
)

// TestContractTour2026 calls the routes of the 2026 rules (reserved shares, monitoring,
// dividends) with success, so that their answers are checked against api/openapi.yaml like every
// other route's (the reserve and monitoring packages test their rules and refusals).
func TestContractTour2026(t *testing.T) { contractTour2026(t, newWorld(t)) }

// contractTour2026 is TestContractTour2026's walk on w (TestNoRequestNeedsASecondConnection walks
// it too).
func contractTour2026(t *testing.T, w world) {
	unitOf := func(c fixture.Client) string {
		var me struct {
			UnitID string `json:"unit_id"`
		}
		c.Do("GET", "/api/v1/auth/me", nil).Want(200).JSON(&me)
		if me.UnitID == "" {
			t.Fatal("the buyer's /auth/me names no unit_id")
		}
		return me.UnitID
	}
	unit, dept := unitOf(w.Buyer1), unitOf(w.Buyer2)
	today := civil.Today(time.Now()).String()

	// Reserved shares: a prefecture's minimum set and withdrawn, Buyer2's unit the supervising
	// department of Buyer1's, a filing returned, filed again and approved.
	w.Admin.Do("PUT", "/api/v1/reserve/minimum-ratios/4331", map[string]any{"ratio_bp": 1200, "source": "州级通知（测试）"}).Want(200)
	w.Admin.Do("DELETE", "/api/v1/reserve/minimum-ratios/4331", nil).Want(204)
	w.Admin.Do("PUT", "/api/v1/reserve/units/"+dept, map[string]any{"region_code": "433124"}).Want(200)
	w.Admin.Do("PUT", "/api/v1/reserve/units/"+unit, map[string]any{"region_code": "433124", "supervisor_unit_id": dept}).Want(200)
	w.Admin.Do("GET", "/api/v1/reserve/units/"+unit, nil).Want(200)
	year := time.Now().In(civil.China).Year()
	filing := fmt.Sprintf("/api/v1/units/%s/reserve-filings/%d", unit, year)
	body := map[string]any{"canteen": "own", "canteen_total_fen": 100_000_00, "ratio_bp": 1500, "shared_unit_ids": []string{},
		"contact_name": "龙晓燕", "contact_phone": "13974301234"}
	var f struct{ ID string }
	w.Buyer1.Do("PUT", filing, body).Want(200).JSON(&f)
	w.Buyer1.Do("GET", filing, nil).Want(200)
	w.Buyer2.Do("POST", "/api/v1/reserve/filings/"+f.ID+"/return", map[string]any{"reason": "请补充合同"}).Want(200)
	w.Buyer1.Do("PUT", filing, body).Want(200).JSON(&f)
	w.Buyer2.Do("POST", "/api/v1/reserve/filings/"+f.ID+"/approval", nil).Want(200)

	// A dividend through the API (today), and one recorded thirteen months back on the ledger's
	// clock (the API refuses closed months), which puts the household on the warning list.
	w.Admin.Do("POST", "/api/v1/dividends", map[string]any{"household_id": w.Households[1], "payer_kind": "collective",
		"payer_name": "十八洞村股份经济合作社", "paid_on": today, "amount_fen": 500_00},
		"Idempotency-Key", "contract-dividend-"+fixture.RandDigits(6)).Want(201)
	now := time.Now().In(civil.China)
	paid := time.Date(now.Year(), now.Month()-13, 15, 12, 0, 0, 0, civil.China)
	day, _ := civil.ParseDate(paid.Format(time.DateOnly))
	household := uuid.MustParse(w.Households[0])
	// Registered before it (income is not dated before the household's registration): its first
	// status and size from the first of the month before.
	if err := w.a.DB.Exec(`INSERT INTO household_history (household_id, valid_from, status, members)
		SELECT household_id, ?, status, members FROM household_history WHERE household_id = ? ORDER BY valid_from LIMIT 1`,
		time.Date(paid.Year(), paid.Month()-1, 1, 0, 0, 0, 0, time.UTC).Format(time.DateOnly), household).Error; err != nil {
		t.Fatal(err)
	}
	if _, err := w.a.Ledger.WithClock(func() time.Time { return paid }).RecordDividend(t.Context(), ledger.DividendRequest{
		HouseholdID: household, PayerKind: ledger.PayerCollective, PayerName: "十八洞村股份经济合作社", PaidOn: day,
		Amount: money.Yuan(3000), Key: "contract-" + fixture.RandDigits(8)}); err != nil {
		t.Fatal(err)
	}
	var list struct {
		Warnings []struct {
			ID          string `json:"id"`
			HouseholdID string `json:"household_id"`
		} `json:"warnings"`
	}
	w.Admin.Do("GET", "/api/v1/monitoring/warnings?region_code=433124", nil).Want(200).JSON(&list)
	var warning string
	for _, x := range list.Warnings {
		if x.HouseholdID == w.Households[0] {
			warning = x.ID
		}
	}
	if warning == "" {
		t.Fatalf("household %s is not on the warning list %+v", w.Households[0], list)
	}
	var reg struct{ ID string }
	w.Admin.Do("POST", "/api/v1/monitoring/warnings/"+warning+"/registration", map[string]any{}).Want(201).JSON(&reg)
	w.Admin.Do("GET", "/api/v1/monitoring/registrations/"+reg.ID, nil).Want(200)
	w.Admin.Do("POST", "/api/v1/monitoring/registrations", map[string]any{"household_id": w.Households[2], "channel": "local_check",
		"risk_type": "illness", "reason": "户主重病住院", "entered_on": today}).Want(201).JSON(&reg)
	w.Admin.Do("POST", "/api/v1/monitoring/registrations/"+reg.ID+"/exit", map[string]any{"exited_on": today,
		"reason": "医保报销后收入稳定, 风险消除"}).Want(200)
}
