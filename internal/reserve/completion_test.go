package reserve_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/civil"
	"github.com/fupinmarket/fupin/internal/platform/sheet/sheettest"
)

type completion struct {
	ThroughMonth int `json:"through_month"`
	Units        []struct {
		UnitID           uuid.UUID   `json:"unit_id"`
		CoveredUnitIDs   []uuid.UUID `json:"covered_unit_ids"`
		ReservedFen      int64       `json:"reserved_fen"`
		BoughtFen        int64       `json:"bought_fen"`
		BoughtThroughFen int64       `json:"bought_through_fen"`
		ExpectedFen      int64       `json:"expected_fen"`
		Behind           bool
		GapFen           int64 `json:"gap_fen"`
		Months           []struct {
			Month     string
			BoughtFen int64 `json:"bought_fen"`
		}
	}
	Supervisors []struct {
		UnitID      uuid.UUID `json:"unit_id"`
		Filings     int
		UnitsBehind int   `json:"units_behind"`
		ReservedFen int64 `json:"reserved_fen"`
		BoughtFen   int64 `json:"bought_fen"`
	}
}

// TestCompletionAndNotice measures approved filings against what their units (the filer and the
// units sharing its canteen) paid for through the platform, per month, unit and supervising
// department, and lists the units behind schedule and those without an approved filing.
func TestCompletionAndNotice(t *testing.T) {
	a := testApp(t)
	admin := login(t, a, auth.RoleAdmin, nil, nil)
	now := time.Now().In(civil.China)
	year, month := now.Year(), int(now.Month())
	sup, supBuyer := unit(t, a, admin, "花垣县教育局")
	unitA, buyerA := unit(t, a, admin, "花垣县第一中学")
	unitB, buyerB := unit(t, a, admin, "花垣县实验小学")
	unitD, buyerD := unit(t, a, admin, "花垣县幼儿园")
	unitE, _ := unit(t, a, admin, "花垣县少年宫")
	unitF, buyerF := unit(t, a, admin, "花垣县图书馆")
	for _, u := range []uuid.UUID{unitA, unitD, unitE, unitF} {
		admin.do("PUT", "/api/v1/reserve/units/"+u.String(), map[string]any{"region_code": "433124", "supervisor_unit_id": sup}).want(200)
	}
	admin.do("PUT", "/api/v1/reserve/units/"+sup.String(), map[string]any{"region_code": "433124"}).want(200)
	file := func(b client, u uuid.UUID, body map[string]any) uuid.UUID {
		var f filing
		b.do("PUT", fmt.Sprintf("/api/v1/units/%s/reserve-filings/%d", u, year), body).want(200).json(&f)
		return f.ID
	}
	// A: ¥120,000.00 × 15 % = ¥18,000.00 reserved, B sharing its canteen; D: ¥1,000.00 × 12 % = ¥120.00.
	supBuyer.do("POST", "/api/v1/reserve/filings/"+file(buyerA, unitA, own(120_000_00, 1500, unitB)).String()+"/approval", nil).want(200)
	supBuyer.do("POST", "/api/v1/reserve/filings/"+file(buyerD, unitD, own(1_000_00, 1200)).String()+"/approval", nil).want(200)
	supBuyer.do("POST", "/api/v1/reserve/filings/"+file(buyerF, unitF, own(5_000_00, 1200)).String()+"/return",
		map[string]any{"reason": "请补充合同"}).want(200)

	s := newSeller(t, a, admin)
	s.buyAndRefund(t, buyerA, 2, 1) // ¥200.00, ¥100.00 of it refunded
	s.buy(t, buyerB, 1)             // ¥100.00, counted for A's filing, which covers B
	s.buy(t, buyerD, 2)             // ¥200.00, more than D's whole reserve

	var c completion
	admin.do("GET", fmt.Sprintf("/api/v1/reserve/completion?year=%d&through_month=%d", year, month), nil).want(200).json(&c)
	if len(c.Units) != 2 {
		t.Fatalf("completion has %d filings, want the 2 approved: %+v", len(c.Units), c)
	}
	byUnit := map[uuid.UUID]int{c.Units[0].UnitID: 0, c.Units[1].UnitID: 1}
	ua, ud := c.Units[byUnit[unitA]], c.Units[byUnit[unitD]]
	wantExpected := int64(18_000_00) * int64(month) / 12
	if ua.ReservedFen != 18_000_00 || ua.BoughtFen != 200_00 || ua.BoughtThroughFen != 200_00 || ua.ExpectedFen != wantExpected ||
		!ua.Behind || ua.GapFen != wantExpected-200_00 || len(ua.CoveredUnitIDs) != 1 || ua.CoveredUnitIDs[0] != unitB {
		t.Fatalf("A's completion = %+v, want ¥200.00 bought (net of the refund) of ¥18,000.00, expected %d, behind", ua, wantExpected)
	}
	if len(ua.Months) != 12 || ua.Months[month-1].BoughtFen != 200_00 || ua.Months[month-1].Month != fmt.Sprintf("%d-%02d", year, month) {
		t.Fatalf("A's months = %+v, want ¥200.00 in month %d", ua.Months, month)
	}
	if ud.BoughtFen != 200_00 || ud.Behind {
		t.Fatalf("D's completion = %+v, want ¥200.00 bought and not behind", ud)
	}
	if len(c.Supervisors) != 1 || c.Supervisors[0].UnitID != sup || c.Supervisors[0].Filings != 2 || c.Supervisors[0].UnitsBehind != 1 ||
		c.Supervisors[0].ReservedFen != 18_120_00 || c.Supervisors[0].BoughtFen != 400_00 {
		t.Fatalf("supervisors = %+v", c.Supervisors)
	}
	// Before any month has ended nothing is expected yet; a month past 12 is refused.
	admin.do("GET", fmt.Sprintf("/api/v1/reserve/completion?year=%d&through_month=0", year), nil).want(200).json(&c)
	for _, u := range c.Units {
		if u.Behind || u.ExpectedFen != 0 {
			t.Fatalf("through month 0: %+v", u)
		}
	}
	admin.do("GET", fmt.Sprintf("/api/v1/reserve/completion?year=%d&through_month=13", year), nil).problem(422, "through_month")
	admin.do("GET", "/api/v1/reserve/completion?year=2019", nil).problem(422, "year")
	admin.do("GET", fmt.Sprintf("/api/v1/reserve/completion?year=%d", year+2), nil).problem(422, "year")
	admin.do("GET", "/api/v1/reserve/filings?year=1", nil).problem(422, "year")
	admin.do("GET", "/api/v1/reserve/notice?year=99999", nil).problem(422, "year")
	// A covered unit sees the filing covering it, and only that.
	buyerB.do("GET", fmt.Sprintf("/api/v1/reserve/completion?year=%d", year), nil).want(200).json(&c)
	if len(c.Units) != 1 || c.Units[0].UnitID != unitA {
		t.Fatalf("B sees %+v, want A's filing only", c.Units)
	}

	var n struct {
		Behind []struct {
			UnitID uuid.UUID `json:"unit_id"`
		}
		Unfiled []struct {
			UnitID       uuid.UUID `json:"unit_id"`
			FilingStatus string    `json:"filing_status"`
		}
	}
	notice := fmt.Sprintf("/api/v1/reserve/notice?year=%d&through_month=%d", year, month)
	admin.do("GET", notice, nil).want(200).json(&n)
	if len(n.Behind) != 1 || n.Behind[0].UnitID != unitA {
		t.Fatalf("behind = %+v, want A only", n.Behind)
	}
	unfiled := map[uuid.UUID]string{}
	for _, u := range n.Unfiled {
		unfiled[u.UnitID] = u.FilingStatus
	}
	if len(unfiled) != 3 || unfiled[unitE] != "none" || unfiled[unitF] != "returned" || unfiled[sup] != "none" {
		t.Fatalf("unfiled = %+v, want E (none), F (returned), the department itself (none)", n.Unfiled)
	}
	buyerA.do("GET", notice, nil).problem(403, "")
	admin.do("GET", notice+"&format=pdf", nil).problem(422, "format")

	// The export opens in LibreOffice Calc with the unit behind and its amounts as numbers in yuan.
	x := admin.do("GET", notice+"&format=xlsx", nil).want(200)
	rows := sheettest.Calc(t, x.Body.Bytes(), "xlsx")
	var found bool
	for _, r := range rows {
		if len(r) >= 7 && r[0].Text == "1" && r[3].Number && r[3].Text == "18000" && r[6].Number {
			found = true
		}
	}
	if !found {
		t.Fatalf("the export shows no row for A with ¥18,000.00 reserved as a number: %+v", rows)
	}
}
