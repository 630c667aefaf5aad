package ledger

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/dbtest"
	"github.com/fupinmarket/fupin/internal/platform/httpx"
)

// Income is not dated before the household was registered (its first status and size, from
// which the monthly report counts it): a dividend or a wage dated the day before is a 422 naming
// paid_on or work_date with the day it may be from; on that day both are recorded.
func TestIncomeNotBeforeRegistration(t *testing.T) {
	wd := newWorldOn(t, dbtest.DB(t), 1)
	h := wd.households[0]
	exec(t, wd.db, `INSERT INTO household_history (household_id, valid_from, status, members) VALUES (?, '2024-06-02', 'poor', 4)`, h)
	r, token := routerOn(t, wd.db, scope{h: wd.stationID})
	station := token(auth.Principal{UserID: wd.userID, Role: auth.RoleStation, StationID: wd.stationID})
	post := func(path, key, body string) (int, httpx.Problem) {
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+station)
		req.Header.Set("Idempotency-Key", key)
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		var p httpx.Problem
		_ = json.Unmarshal(w.Body.Bytes(), &p)
		return w.Code, p
	}
	dividend := func(day string) string {
		return `{"household_id":"` + h.String() + `","payer_kind":"cooperative","payer_name":"十八洞村猕猴桃合作社","paid_on":"` + day + `","amount_fen":5000}`
	}
	work := func(day string) string {
		return `{"household_id":"` + h.String() + `","task":"packing","work_date":"` + day + `","minutes":120,"pay_fen":6000}`
	}
	for _, c := range []struct{ path, field, body, okBody string }{
		{"/api/v1/dividends", "paid_on", dividend("2024-06-01"), dividend("2024-06-02")},
		{"/api/v1/work-records", "work_date", work("2024-06-01"), work("2024-06-02")},
	} {
		key := "reg-" + randHex(6)
		code, p := post(c.path, key, c.body)
		if code != http.StatusUnprocessableEntity || len(p.Errors) != 1 || p.Errors[0].Field != c.field ||
			!strings.Contains(p.Errors[0].Reason, "on or after 2024-06-02, the day the household was registered") {
			t.Errorf("%s dated the day before registration: %d %+v, want 422 naming %s from 2024-06-02", c.path, code, p, c.field)
		}
		if code, p := post(c.path, key, c.okBody); code != http.StatusCreated {
			t.Errorf("%s dated the registration day: %d %+v", c.path, code, p)
		}
	}
	mustVerify(t, wd.db)
}
