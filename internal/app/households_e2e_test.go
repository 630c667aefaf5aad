package app

import (
	"bytes"
	"mime/multipart"
	"strings"
	"testing"
	"time"
)

// upload posts a roster as multipart/form-data field "file".
func upload(c client, path, name, content string) resp {
	c.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		c.t.Fatal(err)
	}
	fw.Write([]byte(content))
	mw.Close()
	return c.do("POST", path, body.Bytes(), "Content-Type", mw.FormDataContentType())
}

// TestHouseholdsLedgerReportsOverHTTP walks the issue-5 routes as their users would: a station
// imports a roster, records paid work, the county office pays out, reads a household's income
// against the line, the waiting list and the monthly report in every format.
func TestHouseholdsLedgerReportsOverHTTP(t *testing.T) {
	w := newWorld(t)
	header := "\ufeff户编号,户主姓名,身份证号,联系电话,家庭人口,所在村,户类型\n"
	a1, a2 := "IMP"+randDigits(8), "IMP"+randDigits(8)
	good := header + a1 + ",龙金花," + idNumber() + ",,3,433124110226,脱贫户\n" + a2 + ",施大哥," + idNumber() + ",,2,十八洞村,边缘易致贫户\n"
	bad := header + "X" + randDigits(6) + ",吴二," + idNumber()[:17] + "Z,,3,433124110226,脱贫户\n"

	upload(w.opA, "/api/v1/households/import", "bad.csv", bad).problem(422, "rows[2].身份证号")
	var rep struct {
		Rows, Inserted, Unchanged int
		Applied                   bool
	}
	upload(w.opA, "/api/v1/households/import", "roster.csv", good).want(200).json(&rep)
	if rep.Rows != 2 || rep.Inserted != 2 || !rep.Applied {
		t.Fatalf("import report %+v", rep)
	}
	upload(w.opA, "/api/v1/households/import", "roster.csv", good).want(200).json(&rep)
	if rep.Unchanged != 2 || rep.Inserted != 0 {
		t.Errorf("re-import report %+v", rep)
	}
	// Station B does not serve 十八洞村: every row is refused.
	upload(w.opB, "/api/v1/households/import", "roster.csv", good).problem(422, "rows[2].所在村")
	w.opA.do("POST", "/api/v1/households/import?skip_bad_rows=maybe", nil).problem(422, "skip_bad_rows")

	var list struct {
		Households []struct {
			ID        string
			ArchiveNo string `json:"archive_no"`
		}
	}
	w.opA.do("GET", "/api/v1/households?village_code=433124110226&limit=500", nil).want(200).json(&list)
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
	w.admin.do("GET", "/api/v1/households/"+imported+"/audit", nil).want(200).json(&audit)
	if len(audit.Audit) != 1 || audit.Audit[0].Action != "import" || audit.Audit[0].ActorRole != "station" ||
		audit.Audit[0].Changes["head_name"].To != "龙*花" {
		t.Errorf("audit %+v", audit)
	}
	w.opB.do("GET", "/api/v1/households/"+imported+"/audit", nil).problem(404, "")
	w.opA.do("PATCH", "/api/v1/households/"+imported, map[string]any{"members": 4, "effective_from": "2025-01-01"}).problem(422, "effective_from")
	w.opA.do("PATCH", "/api/v1/households/"+imported, map[string]any{"members": 4}).want(200)
	var hist struct{ History []struct{ Members int } }
	w.opA.do("GET", "/api/v1/households/"+imported+"/history", nil).want(200).json(&hist)
	if len(hist.History) != 1 || hist.History[0].Members != 4 { // the same day: the last write wins
		t.Errorf("history %+v", hist)
	}

	// Paid work, then a payout of part of it.
	today := time.Now().In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly)
	work := map[string]any{"household_id": imported, "task": "picking", "work_date": today, "minutes": 480, "pay_fen": 12000}
	w.opA.do("POST", "/api/v1/work-records", work, "Idempotency-Key", "pick-"+randDigits(6)).want(201)
	w.opB.do("POST", "/api/v1/work-records", work, "Idempotency-Key", "pick-"+randDigits(6)).problem(422, "household_id")
	var po struct {
		OwedAfterFen int64 `json:"owed_after_fen"`
	}
	w.admin.do("POST", "/api/v1/households/"+imported+"/payouts", map[string]any{"amount_fen": 5000, "reference": "B" + randDigits(10),
		"paid_at": time.Now().UTC().Format(time.RFC3339)}).want(201).json(&po)
	if po.OwedAfterFen != 7000 {
		t.Errorf("owed after payout %d", po.OwedAfterFen)
	}
	w.admin.do("POST", "/api/v1/households/"+imported+"/payouts", map[string]any{"amount_fen": 7001, "reference": "B" + randDigits(10),
		"paid_at": time.Now().UTC().Format(time.RFC3339)}).problem(409, "amount_fen")
	var st struct {
		IncomeFen     int64 `json:"income_fen"`
		WageIncomeFen int64 `json:"wage_income_fen"`
		OwedFen       int64 `json:"owed_fen"`
	}
	w.opA.do("GET", "/api/v1/households/"+imported+"/ledger", nil).want(200).json(&st)
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
		w.opA.do("GET", "/api/v1/payouts/waiting?days="+days, nil).want(200).json(&waiting)
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
	w.opA.do("GET", "/api/v1/households/"+imported+"/income", nil).want(200).json(&inc)
	if inc.Year.WageFen != 12000 || inc.Year.PerCapitaFen != 3000 || !inc.BelowLine {
		t.Errorf("income %+v", inc)
	}
	w.opA.do("GET", "/api/v1/households/"+imported+"/income?line=none", nil).problem(422, "line")
	var below struct{ Below int }
	w.admin.do("GET", "/api/v1/reports/below-line?village_code=433124110226", nil).want(200).json(&below)
	if below.Below < 1 {
		t.Errorf("below-line list %+v", below)
	}
	w.admin.do("PUT", "/api/v1/poverty-lines", map[string]any{"year": year, "province_code": "43", "kind": "monitoring",
		"amount_fen": 800000, "source": "test"}).want(200)
	w.opA.do("PUT", "/api/v1/poverty-lines", map[string]any{}).problem(403, "")

	// The monthly report of 花垣县 this month, in each format.
	month := time.Now().In(time.FixedZone("CST", 8*3600)).Format("2006-01")
	base := "/api/v1/reports/monthly?region_code=433124&month=" + month
	var m struct {
		Totals struct {
			WageFen int64 `json:"wage_fen"`
		}
		Villages []struct{ Code string }
	}
	w.admin.do("GET", base, nil).want(200).json(&m)
	if m.Totals.WageFen < 12000 || len(m.Villages) == 0 {
		t.Errorf("monthly %+v", m.Totals)
	}
	r := w.admin.do("GET", base+"&format=csv", nil).want(200)
	if !strings.HasPrefix(r.Header().Get("Content-Type"), "text/csv") || !strings.HasPrefix(r.Body.String(), "\ufeff月份") {
		t.Errorf("csv %q %q", r.Header().Get("Content-Type"), r.Body.String()[:20])
	}
	r = w.admin.do("GET", base+"&format=xlsx", nil).want(200)
	if !strings.HasPrefix(r.Body.String(), "PK") {
		t.Error("xlsx is not a zip")
	}
	r = w.admin.do("GET", base+"&format=html", nil).want(200)
	if !strings.Contains(r.Body.String(), "<svg") {
		t.Error("html has no chart")
	}
	w.admin.do("GET", "/api/v1/reports/monthly?region_code=433124&format=pdf", nil).problem(422, "format")
	w.admin.do("GET", "/api/v1/reports/monthly", nil).problem(422, "region_code")
	w.buyer1.do("GET", base, nil).problem(403, "")
}
