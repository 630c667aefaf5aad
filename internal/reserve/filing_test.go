package reserve_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/civil"
)

type filing struct {
	ID               uuid.UUID
	Status           string
	Version          int
	ReservedFen      int64       `json:"reserved_fen"`
	MinRatioBP       int64       `json:"min_ratio_bp"`
	MinRatioRegion   string      `json:"min_ratio_region_code"`
	SupervisorUnitID *uuid.UUID  `json:"supervisor_unit_id"`
	SharedUnitIDs    []uuid.UUID `json:"shared_unit_ids"`
	ContactName      string      `json:"contact_name"`
	ContactPhone     string      `json:"contact_phone"`
	ReturnReason     string      `json:"return_reason"`
	History          []struct {
		Version int
		Action  string
		Reason  string
		Figures map[string]any
	}
}

func own(total, ratio int64, shared ...uuid.UUID) map[string]any {
	if shared == nil {
		shared = []uuid.UUID{}
	}
	return map[string]any{"canteen": "own", "canteen_total_fen": total, "ratio_bp": ratio, "shared_unit_ids": shared,
		"contact_name": "龙晓燕", "contact_phone": "13974301234"}
}

// TestFilingAndReview files a unit's reserved share through every refusal the rules name, has its
// supervising department return it, approve the corrected version, and refuse a second approval.
func TestFilingAndReview(t *testing.T) {
	a := testApp(t)
	admin := login(t, a, auth.RoleAdmin, nil, nil)
	year := time.Now().In(civil.China).Year()
	sup, supBuyer := unit(t, a, admin, "花垣县教育局")
	unitA, buyerA := unit(t, a, admin, "花垣县第一中学")
	unitB, buyerB := unit(t, a, admin, "花垣县实验小学")
	unitC, buyerC := unit(t, a, admin, "花垣县档案馆")
	path := func(u uuid.UUID, y int) string { return fmt.Sprintf("/api/v1/units/%s/reserve-filings/%d", u, y) }

	// Not yet a budget unit: the county office must register its area first.
	buyerA.do("PUT", path(unitA, year), own(100_000_00, 1500)).problem(409, "")

	// Minimum ratios: Hunan 15 %, 湘西州 12 %: the city's, more specific, wins for a county unit.
	admin.do("PUT", "/api/v1/reserve/minimum-ratios/43", map[string]any{"ratio_bp": 1500, "source": "省级通知（测试）"}).want(200)
	admin.do("PUT", "/api/v1/reserve/minimum-ratios/4331", map[string]any{"ratio_bp": 1200, "source": "州级通知（测试）"}).want(200)
	admin.do("PUT", "/api/v1/reserve/minimum-ratios/433124110", map[string]any{"ratio_bp": 1200, "source": "x"}).problem(422, "region_code")
	admin.do("PUT", "/api/v1/reserve/minimum-ratios/43", map[string]any{"ratio_bp": 0, "source": "x"}).problem(422, "ratio_bp")
	buyerA.do("PUT", "/api/v1/reserve/minimum-ratios/43", map[string]any{"ratio_bp": 1500, "source": "x"}).problem(403, "")

	admin.do("PUT", "/api/v1/reserve/units/"+sup.String(), map[string]any{"region_code": "433124"}).want(200)
	var bu struct {
		MinRatioBP     int64  `json:"min_ratio_bp"`
		MinRatioRegion string `json:"min_ratio_region_code"`
	}
	admin.do("PUT", "/api/v1/reserve/units/"+unitA.String(), map[string]any{"region_code": "433124", "supervisor_unit_id": sup}).
		want(200).json(&bu)
	if bu.MinRatioBP != 1200 || bu.MinRatioRegion != "4331" {
		t.Fatalf("minimum for 433124 = %d bp from %q, want 1200 from 4331 (the most specific)", bu.MinRatioBP, bu.MinRatioRegion)
	}
	admin.do("PUT", "/api/v1/reserve/units/"+sup.String(), map[string]any{"region_code": "433124", "supervisor_unit_id": unitA}).
		problem(422, "supervisor_unit_id") // A is supervised: not a first-level unit
	admin.do("PUT", "/api/v1/reserve/units/"+unitA.String(), map[string]any{"region_code": "999999"}).problem(422, "region_code")
	admin.do("PUT", "/api/v1/reserve/units/"+unitC.String(), map[string]any{"region_code": "433124"}).want(200)

	// Refusals, each naming what to fix; nothing is written.
	buyerA.do("PUT", path(unitA, year), own(100_000_00, 1100)).problem(422, "ratio_bp") // below the 12 % of 4331
	buyerA.do("PUT", path(unitC, year), own(100_000_00, 1500)).problem(403, "")         // another unit's filing
	buyerA.do("PUT", path(unitA, year), own(-1, 1500)).problem(422, "canteen_total_fen")
	// total × ratio must stay in int64: 922,337,203,685,477 fen at 10,000 bp was a 500 from the database.
	buyerA.do("PUT", path(unitA, year), own(922_337_203_685_477, 10000)).problem(422, "canteen_total_fen")
	buyerA.do("PUT", path(unitA, year), own(100_000_000_000_001, 10000)).problem(422, "canteen_total_fen")
	buyerA.do("PUT", path(unitA, year), map[string]any{"canteen": "none", "canteen_total_fen": 5000, "zero_reason": "无食堂",
		"contact_name": "龙晓燕", "contact_phone": "13974301234"}).problem(422, "canteen_total_fen")
	buyerA.do("PUT", path(unitA, year), own(100_000_00, 1500, uuid.Must(uuid.NewV7()))).problem(422, "shared_unit_ids[0]")
	buyerA.do("PUT", path(unitA, 2020), own(100_000_00, 1500)).problem(422, "year")
	buyerA.do("PUT", path(unitA, year+2), own(100_000_00, 1500)).problem(422, "year")
	out := own(100_000_00, 1500)
	out["canteen"] = "outsourced"
	buyerA.do("PUT", path(unitA, year), out).problem(422, "contractor")
	buyerA.do("GET", path(unitA, year), nil).problem(404, "")

	// Filed: ¥100,000.00 at 15 % with 实验小学 sharing the canteen.
	var f filing
	buyerA.do("PUT", path(unitA, year), own(100_000_00, 1500, unitB)).want(200).json(&f)
	if f.Status != "submitted" || f.ReservedFen != 15_000_00 || f.MinRatioBP != 1200 || f.SupervisorUnitID == nil ||
		*f.SupervisorUnitID != sup || len(f.SharedUnitIDs) != 1 || f.ContactName != "龙*燕" || f.ContactPhone != "139****1234" {
		t.Fatalf("filing = %+v", f)
	}
	buyerB.do("PUT", path(unitB, year), own(10_000_00, 1500)).problem(409, "") // covered by A's filing
	// Another unit cannot claim B as well.
	admin.do("PUT", "/api/v1/reserve/units/"+unitC.String(), map[string]any{"region_code": "433124"}).want(200)
	buyerC.do("PUT", path(unitC, year), own(10_000_00, 1500, unitB)).problem(409, "shared_unit_ids")

	// Review by someone not the supervising department.
	buyerB.do("POST", "/api/v1/reserve/filings/"+f.ID.String()+"/approval", nil).problem(403, "")
	admin.do("POST", "/api/v1/reserve/filings/"+f.ID.String()+"/approval", nil).problem(403, "")
	buyerC.do("POST", "/api/v1/reserve/filings/"+f.ID.String()+"/approval", nil).problem(404, "")
	supBuyer.do("POST", "/api/v1/reserve/filings/"+f.ID.String()+"/return", map[string]any{"reason": ""}).problem(422, "reason")

	// Returned with a reason, corrected, approved once.
	supBuyer.do("POST", "/api/v1/reserve/filings/"+f.ID.String()+"/return", map[string]any{"reason": "总额与决算不符"}).want(200).json(&f)
	if f.Status != "returned" || f.ReturnReason != "总额与决算不符" {
		t.Fatalf("returned filing = %+v", f)
	}
	supBuyer.do("POST", "/api/v1/reserve/filings/"+f.ID.String()+"/approval", nil).problem(409, "")
	buyerA.do("PUT", path(unitA, year), own(120_000_00, 1500, unitB)).want(200).json(&f)
	supBuyer.do("POST", "/api/v1/reserve/filings/"+f.ID.String()+"/approval", nil).want(200).json(&f)
	p := supBuyer.do("POST", "/api/v1/reserve/filings/"+f.ID.String()+"/approval", nil).problem(409, "")
	if p["current_status"] != "approved" {
		t.Fatalf("second approval: %v, want current_status approved", p)
	}
	buyerA.do("PUT", path(unitA, year), own(90_000_00, 1500, unitB)).problem(409, "") // approved is final

	buyerB.do("GET", path(unitA, year), nil).want(200).json(&f) // a covered unit reads it
	if f.Status != "approved" || f.Version != 2 || f.ReservedFen != 18_000_00 || len(f.History) != 4 {
		t.Fatalf("approved filing = %+v", f)
	}
	for i, want := range []string{"submitted", "returned", "submitted", "approved"} {
		if f.History[i].Action != want {
			t.Fatalf("history[%d] = %s, want %s: %+v", i, f.History[i].Action, want, f.History)
		}
	}
	if f.History[0].Figures["canteen_total_fen"] != float64(100_000_00) || f.History[1].Reason != "总额与决算不符" {
		t.Fatalf("history keeps the first version's figures and the reason: %+v", f.History)
	}
	if err := a.DB.Exec(`UPDATE reserve_filing_events SET reason = 'x'`).Error; err == nil {
		t.Fatal("the history was updated; it must be append-only")
	}
	if err := a.DB.Exec(`DELETE FROM reserve_filing_events`).Error; err == nil {
		t.Fatal("the history was deleted; it must be append-only")
	}

	// The approved filing replaces the bare target in the unit's progress.
	admin.do("PUT", fmt.Sprintf("/api/v1/units/%s/targets/%d", unitA, year), map[string]any{"amount_fen": 1_000_00}).want(200)
	var pr struct {
		TargetFen    int64  `json:"target_fen"`
		TargetSource string `json:"target_source"`
	}
	buyerA.do("GET", fmt.Sprintf("/api/v1/units/%s/progress?year=%d", unitA, year), nil).want(200).json(&pr)
	if pr.TargetFen != 18_000_00 || pr.TargetSource != "reserve_filing" {
		t.Fatalf("progress target = %d from %s, want 1800000 from reserve_filing", pr.TargetFen, pr.TargetSource)
	}

	// A zero return (零填报), reviewed by the county office since C has no supervising department.
	buyerC.do("PUT", path(unitC, year), map[string]any{"canteen": "none", "zero_reason": "本单位无食堂，职工就餐自理",
		"contact_name": "石光明", "contact_phone": "0743-7221234"}).want(200).json(&f)
	if f.ReservedFen != 0 || f.SupervisorUnitID != nil {
		t.Fatalf("zero return = %+v", f)
	}
	supBuyer.do("POST", "/api/v1/reserve/filings/"+f.ID.String()+"/approval", nil).problem(404, "")
	admin.do("POST", "/api/v1/reserve/filings/"+f.ID.String()+"/approval", nil).want(200)

	var list struct {
		Filings []struct {
			UnitID uuid.UUID `json:"unit_id"`
		}
	}
	supBuyer.do("GET", fmt.Sprintf("/api/v1/reserve/filings?year=%d", year), nil).want(200).json(&list)
	if len(list.Filings) != 1 || list.Filings[0].UnitID != unitA {
		t.Fatalf("the supervising department lists %+v, want only A's", list.Filings)
	}
}

// TestConcurrentApprovals: two approvals of one filing at the same moment make one approval and
// one 409, and the history holds a single approved event.
func TestConcurrentApprovals(t *testing.T) {
	a := testApp(t)
	admin := login(t, a, auth.RoleAdmin, nil, nil)
	year := time.Now().In(civil.China).Year()
	sup, supBuyer := unit(t, a, admin, "花垣县卫健局")
	u, buyer := unit(t, a, admin, "花垣县人民医院")
	supBuyer2 := login(t, a, auth.RoleBuyer, nil, &sup)
	admin.do("PUT", "/api/v1/reserve/units/"+u.String(), map[string]any{"region_code": "433124", "supervisor_unit_id": sup}).want(200)
	var f filing
	buyer.do("PUT", fmt.Sprintf("/api/v1/units/%s/reserve-filings/%d", u, year), own(300_000_00, 1500)).want(200).json(&f) // 15 %: above any override the other tests set
	codes := make(chan int, 2)
	for _, c := range []client{supBuyer, supBuyer2} {
		go func(c client) {
			codes <- c.do("POST", "/api/v1/reserve/filings/"+f.ID.String()+"/approval", nil).Code
		}(c)
	}
	got := map[int]int{<-codes: 1}
	got[<-codes]++
	if got[200] != 1 || got[409] != 1 {
		t.Fatalf("two approvals at once answered %v, want one 200 and one 409", got)
	}
	buyer.do("GET", fmt.Sprintf("/api/v1/units/%s/reserve-filings/%d", u, year), nil).want(200).json(&f)
	if len(f.History) != 2 || f.History[1].Action != "approved" {
		t.Fatalf("history = %+v, want submitted then one approval", f.History)
	}
}
