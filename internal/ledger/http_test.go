package ledger

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/cache"
	"github.com/fupinmarket/fupin/internal/platform/dbtest"
	"github.com/fupinmarket/fupin/internal/platform/httpx"
)

// scope stands in for the household package: a station sees only its own households.
type scope map[uuid.UUID]uuid.UUID // household → station

func (s scope) CheckVisible(_ context.Context, p auth.Principal, id uuid.UUID) error {
	st, ok := s[id]
	if !ok || (p.Role == auth.RoleStation && p.StationID != st) {
		return apperr.NotFound("household")
	}
	return nil
}

// soldRouter sells an order on db and serves the ledger's handler behind the application's
// authentication, a station seeing the first two households; token starts a session of p, whose
// UserID must name an account.
func soldRouter(t *testing.T, db *gorm.DB) (sold, *gin.Engine, func(p auth.Principal) string) {
	t.Helper()
	svc := NewService(db).WithClock(worldNow) // the world's payouts and work are dated in May and June 2024
	s := sellOrder(t, svc)
	h := s.w.households
	r, token := ledgerRouter(t, s.w.db, svc, scope{h[0]: s.w.stationID, h[1]: s.w.stationID})
	return s, r, token
}

// ledgerRouter serves svc's handler behind the application's authentication on db.
func ledgerRouter(t *testing.T, db *gorm.DB, svc *Service, visible scope) (*gin.Engine, func(p auth.Principal) string) {
	t.Helper()
	gin.SetMode(gin.TestMode)
	rdb, prefix := dbtest.Redis(t)
	users := auth.NewUsers(db, cache.New(rdb, prefix, time.Second),
		auth.NewTokens("test-secret-test-secret-test-secret", time.Hour), bcrypt.MinCost)
	r := gin.New()
	r.Use(httpx.Errors(slog.New(slog.DiscardHandler)), users.Authenticate())
	NewHandler(svc, visible).Register(r)
	return r, func(p auth.Principal) string {
		t.Helper()
		tok, _, err := users.Start(t.Context(), p)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
}

func TestHandler(t *testing.T) {
	s, r, token := soldRouter(t, dbtest.DB(t))
	h := s.w.households
	// Sessions of the world's one account, in each role and scope.
	admin := token(auth.Principal{UserID: s.w.userID, Role: auth.RoleAdmin})
	station := token(auth.Principal{UserID: s.w.userID, Role: auth.RoleStation, StationID: s.w.stationID})
	otherStation := token(auth.Principal{UserID: s.w.userID, Role: auth.RoleStation, StationID: newID()})
	buyer := token(auth.Principal{UserID: s.w.userID, Role: auth.RoleBuyer, UnitID: s.w.unitID})

	get := func(tok, id string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, "/api/v1/households/"+id+"/ledger", nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		return w
	}

	for _, tok := range []string{admin, station} {
		w := get(tok, h[0].String())
		if w.Code != http.StatusOK {
			t.Fatalf("GET ledger: %d %s", w.Code, w.Body)
		}
		// Numbers decoded as json.Number: money is compared as the integer text it is sent as.
		var body map[string]any
		dec := json.NewDecoder(bytes.NewReader(w.Body.Bytes()))
		dec.UseNumber()
		if err := dec.Decode(&body); err != nil {
			t.Fatal(err)
		}
		if body["income_fen"] != json.Number("6549") || body["income_yuan"] != "¥65.49" || body["household_id"] != h[0].String() ||
			body["entries"] != json.Number("1") || body["truncated"] != false {
			t.Errorf("body %s", w.Body)
		}
		lines, _ := body["lines"].([]any)
		if len(lines) != 2 {
			t.Fatalf("lines %v", body["lines"])
		}
		first := lines[0].(map[string]any)
		for _, k := range []string{"entry_id", "kind", "occurred_at", "order_id", "order_line_id", "product_id",
			"product_name", "quantity", "amount_fen", "amount_yuan"} {
			if _, ok := first[k]; !ok {
				t.Errorf("line has no %q: %v", k, first)
			}
		}
	}

	var problem httpx.Problem
	for name, tc := range map[string]struct {
		tok, id string
		status  int
	}{
		"bad id":           {admin, "not-a-uuid", http.StatusUnprocessableEntity},
		"invisible":        {otherStation, h[0].String(), http.StatusNotFound},
		"unknown":          {admin, newID().String(), http.StatusNotFound},
		"outside scope":    {station, h[2].String(), http.StatusNotFound},
		"buyer":            {buyer, h[0].String(), http.StatusForbidden},
		"anonymous":        {"", h[0].String(), http.StatusUnauthorized},
		"second household": {admin, h[1].String(), http.StatusOK},
	} {
		w := get(tc.tok, tc.id)
		if w.Code != tc.status {
			t.Errorf("%s: %d %s, want %d", name, w.Code, w.Body, tc.status)
		}
		if name == "bad id" {
			if err := json.Unmarshal(w.Body.Bytes(), &problem); err != nil || len(problem.Errors) != 1 || problem.Errors[0].Field != "id" {
				t.Errorf("bad id problem %s", w.Body)
			}
		}
	}
}
