package app

import (
	"bytes"
	"maps"
	"mime/multipart"
	"strings"
	"testing"
	"time"

	"github.com/fupinmarket/fupin/internal/fixture"
)

// upload posts a roster as multipart/form-data field "file".
func upload(c fixture.Client, path, name, content string) fixture.Resp {
	c.T.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		c.T.Fatal(err)
	}
	fw.Write([]byte(content))
	mw.Close()
	return c.Do("POST", path, body.Bytes(), "Content-Type", mw.FormDataContentType())
}

// TestHouseholdsLedgerReportsOverHTTP walks the issue-5 routes as their users would: a station
// imports a roster, records paid work, the county office pays out, reads a household's income
// against the line, the waiting list and the monthly report in every format.
func TestHouseholdsLedgerReportsOverHTTP(t *testing.T) {
	w := newWorld(t)
	header := "\ufeff户编号,户主姓名,身份证号,联系电话,家庭人口,所在村,户类型\n"
	a1, a2 := "IMP"+fixture.RandDigits(8), "IMP"+fixture.RandDigits(8)
	good := header + a1 + ",龙金花," + fixture.IDNumber() + ",,3,433124110226,脱贫户\n" + a2 + ",施大哥," + fixture.IDNumber() + ",,2,十八洞村,边缘易致贫户\n"
	bad := header + "X" + fixture.RandDigits(6) + ",吴二," + fixture.IDNumber()[:17] + "Z,,3,433124110226,脱贫户\n"

	upload(w.OpA, "/api/v1/households/import", "bad.csv", bad).Problem(422, "rows[2].身份证号")
	var rep struct {
		Rows, Inserted, Unchanged int
		Applied                   bool
	}
	upload(w.OpA, "/api/v1/households/import", "roster.csv", good).Want(200).JSON(&rep)
	if rep.Rows != 2 || rep.Inserted != 2 || !rep.Applied {
		t.Fatalf("import report %+v", rep)
	}
	upload(w.OpA, "/api/v1/households/import", "roster.csv", good).Want(200).JSON(&rep)
	if rep.Unchanged != 2 || rep.Inserted != 0 {
		t.Errorf("re-import report %+v", rep)
	}
	// Station B does not serve 十八洞村: every row is refused.
	upload(w.OpB, "/api/v1/households/import", "roster.csv", good).Problem(422, "rows[2].所在村")
	w.OpA.Do("POST", "/api/v1/households/import?skip_bad_rows=maybe", nil).Problem(422, "skip_bad_rows")

	var list struct {
		Households []struct {
			ID        string
			ArchiveNo string `json:"archive_no"`
		}
	}
	w.OpA.Do("GET", "/api/v1/households?village_code=433124110226&limit=500", nil).Want(200).JSON(&list)
	var imported string
	for _, h := range list.Households {
		if h.ArchiveNo == a1 {
			imported = h.ID
		}
	}
	if imported == "" {
		t.Fatal("imported household not listed")
	}
	var audit struct {
		Audit []struct {
			Action    string
			ActorRole string `json:"actor_role"`
			Changes   map[string]struct{ From, To any }
		}
	}
	w.Admin.Do("GET", "/api/v1/households/"+imported+"/audit", nil).Want(200).JSON(&audit)
	if len(audit.Audit) != 1 || audit.Audit[0].Action != "import" || audit.Audit[0].ActorRole != "station" ||
		audit.Audit[0].Changes["head_name"].To != "龙*花" {
		t.Errorf("audit %+v", audit)
	}
	w.OpB.Do("GET", "/api/v1/households/"+imported+"/audit", nil).Problem(404, "")
	w.OpA.Do("PATCH", "/api/v1/households/"+imported, map[string]any{"members": 4, "effective_from": "2025-01-01"}).Problem(422, "effective_from")
	w.OpA.Do("PATCH", "/api/v1/households/"+imported, map[string]any{"members": 4}).Want(200)
	var hist struct{ History []struct{ Members int } }
	w.OpA.Do("GET", "/api/v1/households/"+imported+"/history", nil).Want(200).JSON(&hist)
	if len(hist.History) != 1 || hist.History[0].Members != 4 { // the same day: the last write wins
		t.Errorf("history %+v", hist)
	}

	// Paid work, then a payout of part of it.
	today := time.Now().In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly)
	work := map[string]any{"household_id": imported, "task": "picking", "work_date": today, "minutes": 480, "pay_fen": 12000}
	w.OpA.Do("POST", "/api/v1/work-records", work, "Idempotency-Key", "pick-"+fixture.RandDigits(6)).Want(201)
	w.OpB.Do("POST", "/api/v1/work-records", work, "Idempotency-Key", "pick-"+fixture.RandDigits(6)).Problem(422, "household_id")
	// The county office names the station; an id of no station is that field's fault, not the household's.
	nowhere := map[string]any{"station_id": "0190f3b2-7c1e-7d2a-9f00-1a2b3c4d5e6f"}
	maps.Copy(nowhere, work)
	w.Admin.Do("POST", "/api/v1/work-records", nowhere, "Idempotency-Key", "pick-"+fixture.RandDigits(6)).Problem(422, "station_id")
	var po struct {
		OwedAfterFen int64 `json:"owed_after_fen"`
	}
	w.Admin.Do("POST", "/api/v1/households/"+imported+"/payouts", map[string]any{"amount_fen": 5000, "reference": "B" + fixture.RandDigits(10),
		"paid_at": time.Now().UTC().Format(time.RFC3339)}).Want(201).JSON(&po)
	if po.OwedAfterFen != 7000 {
		t.Errorf("owed after payout %d", po.OwedAfterFen)
	}
	w.Admin.Do("POST", "/api/v1/households/"+imported+"/payouts", map[string]any{"amount_fen": 7001, "reference": "B" + fixture.RandDigits(10),
		"paid_at": time.Now().UTC().Format(time.RFC3339)}).Problem(409, "amount_fen")
	var st struct {
		IncomeFen     int64 `json:"income_fen"`
		WageIncomeFen int64 `json:"wage_income_fen"`
		OwedFen       int64 `json:"owed_fen"`
	}
	w.OpA.Do("GET", "/api/v1/households/"+imported+"/ledger", nil).Want(200).JSON(&st)
	if st.WageIncomeFen != 12000 || st.OwedFen != 7000 || st.IncomeFen != 0 {
		t.Errorf("statement %+v", st)
	}
	var waiting struct {
		Households []struct {
			HouseholdID string `json:"household_id"`
		}
	}
	listed := func(days string) bool {
		waiting.Households = nil
		w.OpA.Do("GET", "/api/v1/payouts/waiting?days="+days, nil).Want(200).JSON(&waiting)
		for _, h := range waiting.Households {
			if h.HouseholdID == imported {
				return true
			}
		}
		return false
	}
	if !listed("0") || listed("1") {
		t.Errorf("the household paid for work today should wait more than 0 days, not more than 1")
	}

	// Income against the line: 12,000 fen over 4 people is 3,000 per head, below every line.
	year := time.Now().In(time.FixedZone("CST", 8*3600)).Year()
	var inc struct {
		Year struct {
			WageFen      int64 `json:"wage_fen"`
			PerCapitaFen int64 `json:"per_capita_fen"`
		}
		BelowLine bool `json:"below_line"`
	}
	w.OpA.Do("GET", "/api/v1/households/"+imported+"/income", nil).Want(200).JSON(&inc)
	if inc.Year.WageFen != 12000 || inc.Year.PerCapitaFen != 3000 || !inc.BelowLine {
		t.Errorf("income %+v", inc)
	}
	w.OpA.Do("GET", "/api/v1/households/"+imported+"/income?line=none", nil).Problem(422, "line")
	var below struct{ Below int }
	w.Admin.Do("GET", "/api/v1/reports/below-line?village_code=433124110226", nil).Want(200).JSON(&below)
	if below.Below < 1 {
		t.Errorf("below-line list %+v", below)
	}
	w.Admin.Do("PUT", "/api/v1/poverty-lines", map[string]any{"year": year, "province_code": "43", "kind": "monitoring",
		"amount_fen": 800000, "source": "test"}).Want(200)
	w.OpA.Do("PUT", "/api/v1/poverty-lines", map[string]any{}).Problem(403, "")
	// Two digits that name no province are refused, and nothing is stored under them.
	w.Admin.Do("PUT", "/api/v1/poverty-lines", map[string]any{"year": year, "province_code": "99", "kind": "monitoring",
		"amount_fen": 800000, "source": "test"}).Problem(422, "province_code")
	w.Admin.Do("PUT", "/api/v1/poverty-lines", map[string]any{"year": year, "province_code": "43", "kind": "monitoring",
		"amount_fen": 1, "source": "test"}).Problem(422, "amount_fen")
	if body := w.Admin.Do("GET", "/api/v1/poverty-lines", nil).Want(200).Body.String(); strings.Contains(body, `"province_code":"99"`) {
		t.Errorf("a line for province 99 was stored: %s", body)
	}

	// The monthly report of 花垣县 this month, in each format.
	month := time.Now().In(time.FixedZone("CST", 8*3600)).Format("2006-01")
	base := "/api/v1/reports/monthly?region_code=433124&month=" + month
	var m struct {
		Totals struct {
			WageFen int64 `json:"wage_fen"`
		}
		Villages []struct{ Code string }
	}
	w.Admin.Do("GET", base, nil).Want(200).JSON(&m)
	if m.Totals.WageFen < 12000 || len(m.Villages) == 0 {
		t.Errorf("monthly %+v", m.Totals)
	}
	r := w.Admin.Do("GET", base+"&format=csv", nil).Want(200)
	if !strings.HasPrefix(r.Header().Get("Content-Type"), "text/csv") || !strings.HasPrefix(r.Body.String(), "\ufeff月份") {
		t.Errorf("csv %q %q", r.Header().Get("Content-Type"), r.Body.String()[:20])
	}
	r = w.Admin.Do("GET", base+"&format=xlsx", nil).Want(200)
	if !strings.HasPrefix(r.Body.String(), "PK") {
		t.Error("xlsx is not a zip")
	}
	r = w.Admin.Do("GET", base+"&format=html", nil).Want(200)
	if !strings.Contains(r.Body.String(), "<svg") {
		t.Error("html has no chart")
	}
	w.Admin.Do("GET", "/api/v1/reports/monthly?region_code=433124&format=pdf", nil).Problem(422, "format")
	w.Admin.Do("GET", "/api/v1/reports/monthly", nil).Problem(422, "region_code")
	// A month after this one has no figures yet: named, not an all-zero report (this month's, so far, is served above).
	cst := time.Now().In(time.FixedZone("CST", 8*3600))
	next := time.Date(cst.Year(), cst.Month()+1, 1, 0, 0, 0, 0, cst.Location()).Format("2006-01")
	w.Admin.Do("GET", "/api/v1/reports/monthly?region_code=433124&month="+next, nil).Problem(422, "month")
	w.Admin.Do("GET", "/api/v1/reports/household-income?month="+next, nil).Problem(422, "month")
	w.Buyer1.Do("GET", base, nil).Problem(403, "")
}
