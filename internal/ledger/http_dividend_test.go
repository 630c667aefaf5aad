package ledger

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/cache"
	"github.com/fupinmarket/fupin/internal/platform/civil"
	"github.com/fupinmarket/fupin/internal/platform/dbtest"
	"github.com/fupinmarket/fupin/internal/platform/httpx"
)

// TestDividendHTTP records a dividend (财产性收入) through the API: property income apart from
// business and wage income, the memorandum pair only (nothing owed), replayed by its key, and the
// refusals: a closed month, the future, an unknown payer kind, no key, a household of another
// station's villages. Verify re-derives it.
func TestDividendHTTP(t *testing.T) {
	wd := newWorldOn(t, dbtest.Fresh(t), 2)
	r, token := routerOn(t, wd.db, scope{wd.households[0]: wd.stationID, wd.households[1]: wd.stationID})
	h := wd.households
	admin := token(auth.Principal{UserID: wd.userID, Role: auth.RoleAdmin})
	station := token(auth.Principal{UserID: wd.userID, Role: auth.RoleStation, StationID: wd.stationID})
	other := token(auth.Principal{UserID: wd.userID, Role: auth.RoleStation, StationID: newID()})
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
	before := ledgerOf(t, do(admin, "GET", "/api/v1/households/"+h[1].String()+"/ledger", "", ""))

	body := `{"household_id":"` + h[1].String() + `","payer_kind":"collective","payer_name":"十八洞村股份经济合作社","paid_on":"2024-06-03","amount_fen":12345}`
	key := "d-" + randHex(6)
	if w := do(station, "POST", "/api/v1/dividends", key, body); w.Code != http.StatusCreated || !strings.Contains(w.Body.String(), `"amount_yuan":"¥123.45"`) {
		t.Fatalf("dividend: %d %s", w.Code, w.Body)
	}
	if w := do(station, "POST", "/api/v1/dividends", key, body); w.Code != http.StatusOK || w.Header().Get("Idempotency-Replayed") != "true" {
		t.Errorf("dividend replay: %d %s", w.Code, w.Body)
	}
	if w := do(station, "POST", "/api/v1/dividends", key, strings.Replace(body, "12345", "12346", 1)); w.Code != http.StatusConflict || field(w) != "Idempotency-Key" {
		t.Errorf("key reused for another dividend: %d %s", w.Code, w.Body)
	}
	after := ledgerOf(t, do(admin, "GET", "/api/v1/households/"+h[1].String()+"/ledger", "", ""))
	if after.Property-before.Property != 12345 || after.Income != before.Income || after.Wage != before.Wage || after.Owed != before.Owed {
		t.Errorf("ledger before %+v, after %+v: want property +12345 and nothing else (the payer pays the household itself)", before, after)
	}

	for name, c := range map[string]struct {
		tok, key, body, field string
		status                int
	}{
		"closed month":  {station, "c1", strings.Replace(body, "2024-06-03", "2024-04-30", 1), "paid_on", 422},
		"future":        {station, "c2", strings.Replace(body, "2024-06-03", "2024-06-06", 1), "paid_on", 422},
		"payer kind":    {station, "c3", strings.Replace(body, "collective", "bank", 1), "payer_kind", 422},
		"no payer":      {station, "c4", strings.Replace(body, "十八洞村股份经济合作社", " ", 1), "payer_name", 422},
		"no key":        {station, "", body, "Idempotency-Key", 422},
		"zero":          {station, "c5", strings.Replace(body, "12345", "0", 1), "amount_fen", 422},
		"other station": {other, "c6", body, "household_id", 422},
	} {
		if w := do(c.tok, "POST", "/api/v1/dividends", c.key, c.body); w.Code != c.status || field(w) != c.field {
			t.Errorf("%s: %d %s, want %d naming %s", name, w.Code, w.Body, c.status, c.field)
		}
	}
	if w := do(station, "POST", "/api/v1/dividends", "f1", strings.Replace(body, "2024-06-03", "2024-06-06", 1)); !strings.Contains(w.Body.String(), "must not be in the future: 2024-06-06") ||
		strings.Contains(w.Body.String(), "closed") {
		t.Errorf("a future paid_on: %s, want it called future, without closed-month advice", w.Body)
	}
	if w := do(admin, "POST", "/api/v1/dividends", "a-"+key, strings.Replace(body, "collective", "cooperative", 1)); w.Code != http.StatusCreated {
		t.Errorf("county office records a dividend: %d %s", w.Code, w.Body)
	}
	mustVerify(t, wd.db)

	// A dividend entry without its row is what verify exists to catch (seen inside a transaction
	// that is rolled back, so other tests' verify stays clean).
	tx := wd.db.Begin()
	defer tx.Rollback()
	e := DividendEntry(DividendRequest{HouseholdID: h[1], PayerKind: PayerCollective, PayerName: "x", PaidOn: civil.Today(worldNow()),
		Amount: 100, Key: "orphan-" + randHex(6)})
	if _, _, err := NewService(wd.db).Post(t.Context(), tx, e); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if n, err := Verify(t.Context(), tx, &out); err != nil || n != 1 || !strings.Contains(out.String(), "no dividend row records it") {
		t.Errorf("verify of an orphan dividend entry: %d mismatches, err %v\n%s", n, err, out.String())
	}
}

// routerOn serves the ledger's handler on db (dated as the world is) behind the application's
// authentication; token starts a session of p, whose UserID must name an account.
func routerOn(t *testing.T, db *gorm.DB, visible scope) (*gin.Engine, func(p auth.Principal) string) {
	t.Helper()
	r, token := authenticatedRouter(t, db)
	NewHandler(NewService(db).WithClock(worldNow), visible).Register(r)
	return r, token
}

// authenticatedRouter is a router on db behind the application's error writer and
// authentication, with no routes yet; token starts a session of p.
func authenticatedRouter(t *testing.T, db *gorm.DB) (*gin.Engine, func(p auth.Principal) string) {
	t.Helper()
	gin.SetMode(gin.TestMode)
	rdb, prefix := dbtest.Redis(t)
	users := auth.NewUsers(db, cache.New(rdb, prefix, time.Second),
		auth.NewTokens("test-secret-test-secret-test-secret", time.Hour), bcrypt.MinCost)
	r := gin.New()
	r.Use(httpx.Errors(slog.New(slog.DiscardHandler)), users.Authenticate())
	return r, func(p auth.Principal) string {
		t.Helper()
		tok, _, err := users.Start(t.Context(), p)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
}

type ledgerFigures struct {
	Income   int64 `json:"income_fen"`
	Wage     int64 `json:"wage_income_fen"`
	Property int64 `json:"property_income_fen"`
	Owed     int64 `json:"owed_fen"`
}

func ledgerOf(t *testing.T, w *httptest.ResponseRecorder) ledgerFigures {
	t.Helper()
	var f ledgerFigures
	if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &f) != nil {
		t.Fatalf("ledger: %d %s", w.Code, w.Body)
	}
	return f
}
