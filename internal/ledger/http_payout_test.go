package ledger

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/httpx"
)

func TestPayoutAndWorkHTTP(t *testing.T) {
	db := newWorld(t, 0).db
	s, r, token := soldRouter(t, db)
	h := s.w.households
	// Real users, since payouts and work records name who recorded them.
	admin := token(auth.Principal{UserID: s.w.userID, Role: auth.RoleAdmin})
	station := token(auth.Principal{UserID: s.w.userID, Role: auth.RoleStation, StationID: s.w.stationID})
	do := func(tok, method, path, key, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		return w
	}
	field := func(w *httptest.ResponseRecorder) string {
		var p httpx.Problem
		if json.Unmarshal(w.Body.Bytes(), &p) != nil || len(p.Errors) == 0 {
			return ""
		}
		return p.Errors[0].Field
	}

	path := "/api/v1/households/" + h[0].String() + "/payouts"
	ref := "TX" + randHex(5)
	if w := do(admin, "POST", path, "", `{"amount_fen":1000,"reference":"`+ref+`","paid_at":"2024-06-01T02:00:00Z"}`); w.Code != http.StatusCreated ||
		!strings.Contains(w.Body.String(), `"owed_after_fen":5549`) {
		t.Fatalf("payout: %d %s", w.Code, w.Body)
	}
	if w := do(admin, "POST", path, "", `{"amount_fen":1000,"reference":"`+ref+`","paid_at":"2024-06-01T02:00:00Z"}`); w.Code != http.StatusOK ||
		w.Header().Get("Idempotency-Replayed") != "true" {
		t.Errorf("payout replay: %d %s", w.Code, w.Body)
	}
	// The same reference typed with a Chinese input method (full-width forms) is the same transfer.
	wide := strings.Map(func(r rune) rune { return r + 0xFEE0 }, ref)
	if w := do(admin, "POST", path, "", `{"amount_fen":1000,"reference":"`+wide+`","paid_at":"2024-06-01T02:00:00Z"}`); w.Code != http.StatusOK ||
		w.Header().Get("Idempotency-Replayed") != "true" || !strings.Contains(w.Body.String(), `"owed_after_fen":5549`) {
		t.Errorf("full-width payout reference %q is not a replay of %q: %d %s", wide, ref, w.Code, w.Body)
	}
	if w := do(admin, "POST", path, "", `{"amount_fen":999999,"reference":"X`+ref+`","paid_at":"2024-06-01T02:00:00Z"}`); w.Code != http.StatusConflict ||
		field(w) != "amount_fen" || !strings.Contains(w.Body.String(), `"owed_fen":5549`) {
		t.Errorf("payout above owed: %d %s", w.Code, w.Body)
	}
	if w := do(admin, "POST", path, "", `{"amount_fen":-1,"reference":"Y","paid_at":"2024-06-01T02:00:00Z"}`); w.Code != http.StatusUnprocessableEntity || field(w) != "amount_fen" {
		t.Errorf("negative payout: %d %s", w.Code, w.Body)
	}
	if w := do(station, "POST", path, "", `{}`); w.Code != http.StatusForbidden {
		t.Errorf("station pays out: %d", w.Code)
	}
	if w := do(admin, "POST", "/api/v1/households/"+h[2].String()+"/payouts", "", `{"amount_fen":1,"reference":"Z","paid_at":"2024-06-01T02:00:00Z"}`); w.Code != http.StatusNotFound {
		t.Errorf("invisible household: %d", w.Code)
	}

	for _, q := range []string{"?days=0", "?days=abc", "?days=-1"} {
		w := do(station, "GET", "/api/v1/payouts/waiting"+q, "", "")
		if q == "?days=0" {
			if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), h[0].String()) {
				t.Errorf("waiting: %d %s", w.Code, w.Body)
			}
		} else if w.Code != http.StatusUnprocessableEntity || field(w) != "days" {
			t.Errorf("waiting%s: %d %s", q, w.Code, w.Body)
		}
	}
	if w := do(admin, "GET", "/api/v1/payouts/delays?from=2024-05-01&to=2024-06-30", "", ""); w.Code != http.StatusOK ||
		!strings.Contains(w.Body.String(), `"delay_days":11`) {
		t.Errorf("delays: %d %s", w.Code, w.Body)
	}
	if w := do(admin, "GET", "/api/v1/payouts/delays?from=2024-07-01&to=2024-06-30", "", ""); w.Code != http.StatusUnprocessableEntity || field(w) != "to" {
		t.Errorf("delays backwards: %d %s", w.Code, w.Body)
	}

	work := `{"household_id":"` + h[1].String() + `","task":"sorting","work_date":"2024-06-03","minutes":300,"pay_fen":9000}`
	if w := do(station, "POST", "/api/v1/work-records", "w-"+ref, work); w.Code != http.StatusCreated || !strings.Contains(w.Body.String(), `"pay_yuan":"¥90.00"`) {
		t.Fatalf("work: %d %s", w.Code, w.Body)
	}
	if w := do(station, "POST", "/api/v1/work-records", "w-"+ref, work); w.Code != http.StatusOK {
		t.Errorf("work replay: %d %s", w.Code, w.Body)
	}
	// A household of one recorded member (no household_history here: counted as one) has 1140 of its
	// day's 1440 minutes left after that record.
	if w := do(station, "POST", "/api/v1/work-records", "w4-"+ref, strings.Replace(work, `"minutes":300`, `"minutes":1200`, 1)); w.Code != http.StatusUnprocessableEntity ||
		field(w) != "minutes" || !strings.Contains(w.Body.String(), "1140 minutes are left") ||
		!strings.HasPrefix(w.Header().Get("Content-Type"), "application/problem+json") {
		t.Errorf("work beyond the household's day: %d %s", w.Code, w.Body)
	}
	if w := do(station, "POST", "/api/v1/work-records", "", work); w.Code != http.StatusUnprocessableEntity || field(w) != "Idempotency-Key" {
		t.Errorf("work without key: %d %s", w.Code, w.Body)
	}
	if w := do(admin, "POST", "/api/v1/work-records", "w2-"+ref, work); w.Code != http.StatusUnprocessableEntity || field(w) != "station_id" {
		t.Errorf("admin without station: %d %s", w.Code, w.Body)
	}
	if w := do(station, "POST", "/api/v1/work-records", "w3-"+ref, strings.Replace(work, "sorting", "dancing", 1)); w.Code != http.StatusUnprocessableEntity || field(w) != "task" {
		t.Errorf("bad task: %d %s", w.Code, w.Body)
	}
	mustVerify(t, s.w.db)
}
