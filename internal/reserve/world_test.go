package reserve_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/app"
	"github.com/fupinmarket/fupin/internal/household"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/cache"
	"github.com/fupinmarket/fupin/internal/platform/config"
	"github.com/fupinmarket/fupin/internal/platform/dbtest"
	"github.com/fupinmarket/fupin/internal/procurement"
	"github.com/fupinmarket/fupin/internal/region"
)

// Reserve's tests drive the whole application over its API, on this package's test database.

func TestMain(m *testing.M) { os.Exit(dbtest.Run(m)) }

func testApp(t *testing.T) *app.App {
	t.Helper()
	return testAppOn(t, dbtest.DB(t))
}

// testAppOn is the application on db (dbtest.Fresh for a test that needs a database of its own).
func testAppOn(t *testing.T, db *gorm.DB) *app.App {
	t.Helper()
	cfg, err := config.Load()
	if err != nil {
		t.Fatal(err)
	}
	cfg.BcryptCost = 4
	rdb, prefix := dbtest.Redis(t)
	a, err := app.New(cfg, db, cache.New(rdb, prefix, 50*time.Millisecond), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := region.LoadSeed(context.Background(), a.DB); err != nil {
		t.Fatal(err)
	}
	return a
}

type client struct {
	t     *testing.T
	h     http.Handler
	token string
}

type resp struct {
	*httptest.ResponseRecorder
	t *testing.T
}

func (r resp) json(dst any) {
	r.t.Helper()
	if err := json.Unmarshal(r.Body.Bytes(), dst); err != nil {
		r.t.Fatalf("decode %s: %v", r.Body.String(), err)
	}
}

func (r resp) want(status int) resp {
	r.t.Helper()
	if r.Code != status {
		r.t.Fatalf("status %d, want %d: %s", r.Code, status, r.Body.String())
	}
	return r
}

// problem asserts an RFC 9457 problem with status naming field ("" for none) and returns it.
func (r resp) problem(status int, field string) map[string]any {
	r.t.Helper()
	r.want(status)
	if ct := r.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		r.t.Fatalf("content type %q, want problem+json: %s", ct, r.Body.String())
	}
	var p map[string]any
	r.json(&p)
	if field == "" {
		return p
	}
	errs, _ := p["errors"].([]any)
	for _, e := range errs {
		if m, _ := e.(map[string]any); m["field"] == field && m["reason"] != "" {
			return p
		}
	}
	r.t.Fatalf("problem does not name field %q: %s", field, r.Body.String())
	return nil
}

func (c client) do(method, path string, body any, headers ...string) resp {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		j, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req := httptest.NewRequest(method, path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	c.h.ServeHTTP(w, req)
	return resp{w, c.t}
}

const testPassword = "correct horse battery"

func login(t *testing.T, a *app.App, role auth.Role, stationID, unitID *uuid.UUID) client {
	t.Helper()
	name := fmt.Sprintf("%s-%s", role, randDigits(8))
	if _, err := a.Users.Create(context.Background(), auth.NewUser{Username: name, Password: testPassword, Role: role,
		StationID: stationID, UnitID: unitID}); err != nil {
		t.Fatal(err)
	}
	var tok struct{ Token string }
	client{t: t, h: a.Router}.do("POST", "/api/v1/auth/login", map[string]string{"username": name, "password": testPassword}).
		want(200).json(&tok)
	return client{t: t, h: a.Router, token: tok.Token}
}

func randDigits(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		d, _ := rand.Int(rand.Reader, big.NewInt(10))
		b.WriteByte(byte('0' + d.Int64()))
	}
	return b.String()
}

// unit registers an assisting unit and returns its id and a buyer of it.
func unit(t *testing.T, a *app.App, admin client, name string) (uuid.UUID, client) {
	t.Helper()
	first17 := "114331" + randDigits(11)
	var u struct{ ID uuid.UUID }
	admin.do("POST", "/api/v1/units", map[string]any{"name": name + randDigits(4),
		"credit_code": first17 + string(procurement.CreditCheckChar(first17)), "kind": "agency"}).want(201).json(&u)
	return u.ID, login(t, a, auth.RoleBuyer, nil, &u.ID)
}

// seller is a station of 十八洞村 with three households and a product of ¥100.00 that buyers
// can order and pay for.
type seller struct {
	product string
	op      client
}

func newSeller(t *testing.T, a *app.App, admin client) seller {
	t.Helper()
	var st struct{ ID uuid.UUID }
	admin.do("POST", "/api/v1/stations", map[string]any{"name": "十八洞村电商服务点", "level": "village",
		"region_code": "433124110226", "village_codes": []string{"433124110226"}}).want(201).json(&st)
	op := login(t, a, auth.RoleStation, &st.ID, nil)
	var sup []map[string]any
	for _, share := range []int{3334, 3333, 3333} {
		first17 := fmt.Sprintf("433124%04d%02d%02d%s", 1950+len(sup)*7, 1+len(sup), 10+len(sup), randDigits(3))
		var h struct{ ID string }
		op.do("POST", "/api/v1/households", map[string]any{"archive_no": "T" + randDigits(10), "head_name": "龙金花",
			"id_number": first17 + string(household.IDCheckChar(first17)), "phone": "1397430" + randDigits(4),
			"village_code": "433124110226", "members": 4, "status": "lifted"}).want(201).json(&h)
		sup = append(sup, map[string]any{"household_id": h.ID, "share_bp": share})
	}
	var p struct{ ID string }
	op.do("POST", "/api/v1/products", map[string]any{"name": "十八洞猕猴桃", "category": "水果", "unit": "箱", "spec": "5kg/箱",
		"price_fen": 10000, "stock": 1000, "origin_code": "433124110226", "suppliers": sup}).want(201).json(&p)
	return seller{product: p.ID, op: op}
}

// buy has buyer order n boxes (¥100.00 each) and pay: a purchase counted from its payment.
func (s seller) buy(t *testing.T, buyer client, n int) string {
	t.Helper()
	var o struct {
		ID    string
		Lines []struct{ ID string }
	}
	buyer.do("POST", "/api/v1/orders", map[string]any{"items": []map[string]any{{"product_id": s.product, "quantity": n}}},
		"Idempotency-Key", "order-"+randDigits(12)).want(201).json(&o)
	buyer.do("POST", "/api/v1/orders/"+o.ID+"/payment", nil, "Idempotency-Key", "pay-"+randDigits(12)).want(201)
	return o.ID
}

// buyAndRefund buys n boxes, has them shipped and received, and refunds r of them.
func (s seller) buyAndRefund(t *testing.T, buyer client, n, r int) {
	t.Helper()
	id := s.buy(t, buyer, n)
	var o struct{ Lines []struct{ ID string } }
	buyer.do("GET", "/api/v1/orders/"+id, nil).want(200).json(&o)
	var b struct{ ID string }
	s.op.do("POST", "/api/v1/products/"+s.product+"/batches", map[string]any{"batch_no": "B" + randDigits(6),
		"produced_on": "2026-11-20", "quantity": n}).want(201).json(&b)
	// Fruit (水果): the batch's 承诺达标合格证 before its codes (internal/certificate).
	s.op.do("POST", "/api/v1/batches/"+b.ID+"/certificates", map[string]any{"quantity": n, "quantity_unit": "箱",
		"contact_name": "石站长", "contact_phone": "0743-7221234", "basis": []string{"self_test"},
		"commitments": []string{"no_banned_inputs", "residues_within_limits", "truthful"}}).want(201)
	var issued struct{ Codes []struct{ Code string } }
	s.op.do("POST", "/api/v1/batches/"+b.ID+"/codes", map[string]any{"count": n}, "Idempotency-Key", "codes-"+randDigits(12)).
		want(201).json(&issued)
	codes := []string{}
	for _, c := range issued.Codes {
		codes = append(codes, c.Code)
	}
	s.op.do("POST", "/api/v1/orders/"+id+"/shipments", map[string]any{"lines": []map[string]any{{"line_id": o.Lines[0].ID, "codes": codes}}}).
		want(200)
	buyer.do("POST", "/api/v1/orders/"+id+"/receipt", nil).want(200)
	buyer.do("POST", "/api/v1/orders/"+id+"/refunds", map[string]any{"lines": []map[string]any{{"line_id": o.Lines[0].ID, "quantity": r}}},
		"Idempotency-Key", "refund-"+randDigits(12)).want(201)
}
