package procurement_test

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

	"github.com/fupinmarket/fupin/internal/app"
	"github.com/fupinmarket/fupin/internal/household"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/cache"
	"github.com/fupinmarket/fupin/internal/platform/config"
	"github.com/fupinmarket/fupin/internal/platform/dbtest"
	"github.com/fupinmarket/fupin/internal/procurement"
	"github.com/fupinmarket/fupin/internal/region"
)

// Procurement's behaviour tests drive the buying side as its users do, over the API of the whole
// application (the composition root builds the order service with its real collaborators: ledger,
// trace, catalog) on this package's test database; internal/app keeps the wiring, end-to-end and
// contract tests.

func TestMain(m *testing.M) { os.Exit(dbtest.Run(m)) }

// testApp is the whole application on this package's test database and a Redis prefix of its own.
func testApp(t *testing.T) *app.App {
	t.Helper()
	cfg, err := config.Load()
	if err != nil {
		t.Fatal(err)
	}
	cfg.BodyLimitBytes = 64 << 10
	cfg.BcryptCost = 4 // the lowest bcrypt allows: tests make many users
	rdb, prefix := dbtest.Redis(t)
	a, err := app.New(cfg, dbtest.DB(t), cache.New(rdb, prefix, 50*time.Millisecond), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := region.LoadSeed(context.Background(), a.DB); err != nil {
		t.Fatal(err)
	}
	return a
}

// client calls the router as one user.
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

// problem asserts an RFC 9457 problem with status and an error naming field ("" for none).
func (r resp) problem(status int, field string) {
	r.t.Helper()
	r.want(status)
	if ct := r.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		r.t.Fatalf("content type %q, want problem+json: %s", ct, r.Body.String())
	}
	var p struct {
		Status int `json:"status"`
		Errors []struct{ Field, Reason string }
	}
	r.json(&p)
	if p.Status != status {
		r.t.Fatalf("problem status %d, want %d", p.Status, status)
	}
	if field == "" {
		return
	}
	for _, e := range p.Errors {
		if e.Field == field && e.Reason != "" {
			return
		}
	}
	r.t.Fatalf("problem does not name field %q: %s", field, r.Body.String())
}

func (c client) do(method, path string, body any, headers ...string) resp {
	c.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req := httptest.NewRequest(method, path, rd)
	req.Header.Set("Content-Type", "application/json")
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

// login creates a user directly and returns a client holding its token.
func login(t *testing.T, a *app.App, role auth.Role, stationID, unitID *string) client {
	t.Helper()
	name := fmt.Sprintf("%s-%s", role, randDigits(8))
	req := auth.NewUser{Username: name, Password: testPassword, Role: role}
	if stationID != nil {
		id := mustUUID(t, *stationID)
		req.StationID = &id
	}
	if unitID != nil {
		id := mustUUID(t, *unitID)
		req.UnitID = &id
	}
	if _, err := a.Users.Create(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	anon := client{t: t, h: a.Router}
	var tok struct{ Token string }
	anon.do("POST", "/api/v1/auth/login", map[string]string{"username": name, "password": testPassword}).want(200).json(&tok)
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

// idNumber returns a fresh valid resident ID number of 花垣县 (a random birth date from 1950 to
// 1999 and sequence number).
func idNumber() string {
	n := func(max int64) int64 {
		v, _ := rand.Int(rand.Reader, big.NewInt(max))
		return v.Int64()
	}
	first17 := fmt.Sprintf("433124%04d%02d%02d%03d", 1950+n(50), 1+n(12), 1+n(28), n(1000))
	return first17 + string(household.IDCheckChar(first17))
}

// creditCode returns a fresh valid unified social credit code.
func creditCode() string {
	first17 := "914331" + randDigits(11)
	return first17 + string(procurement.CreditCheckChar(first17))
}

func mustUUID(t *testing.T, s string) uuid.UUID {
	t.Helper()
	id, err := uuid.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// world is one county office, two stations with their operators and households, a product of
// station A with three suppliers, and two assisting units with a buyer each.
type world struct {
	a                  *app.App
	admin, opA, opB    client
	buyer1, buyer2     client
	stationA, stationB string
	households         []string // of station A's village 十八洞村
	householdB         string   // of station B's village 马鞍村
	product            string   // station A, ¥100.00, stock 10, shares 3334/3333/3333
}

func newWorld(t *testing.T) world {
	t.Helper()
	a := testApp(t)
	w := world{a: a, admin: login(t, a, auth.RoleAdmin, nil, nil)}
	var st struct{ ID string }
	w.admin.do("POST", "/api/v1/stations", map[string]any{"name": "十八洞村电商服务点", "level": "village",
		"region_code": "433124110226", "village_codes": []string{"433124110226"}}).want(201).json(&st)
	w.stationA = st.ID
	w.admin.do("POST", "/api/v1/stations", map[string]any{"name": "双龙镇电商服务站", "level": "township",
		"region_code": "433124110", "village_codes": []string{"433124110225"}}).want(201).json(&st)
	w.stationB = st.ID
	w.opA = login(t, a, auth.RoleStation, &w.stationA, nil)
	w.opB = login(t, a, auth.RoleStation, &w.stationB, nil)
	for i := 0; i < 3; i++ {
		w.households = append(w.households, w.registerHousehold(t, w.opA, "433124110226"))
	}
	w.householdB = w.registerHousehold(t, w.opB, "433124110225")
	w.product = w.listProduct(t, 10000, 10, []int{3334, 3333, 3333})
	for _, b := range []*client{&w.buyer1, &w.buyer2} {
		var u struct{ ID string }
		w.admin.do("POST", "/api/v1/units", map[string]any{"name": "示例单位" + randDigits(4), "credit_code": creditCode(),
			"kind": "state_owned"}).want(201).json(&u)
		*b = login(t, a, auth.RoleBuyer, nil, &u.ID)
	}
	return w
}

func (w world) registerHousehold(t *testing.T, op client, village string) string {
	t.Helper()
	var h struct{ ID string }
	op.do("POST", "/api/v1/households", map[string]any{"archive_no": "T" + randDigits(10), "head_name": "龙金花",
		"id_number": idNumber(), "phone": "1397430" + randDigits(4), "village_code": village, "members": 4, "status": "lifted"}).
		want(201).json(&h)
	return h.ID
}

func (w world) listProduct(t *testing.T, priceFen, stock int, shares []int) string {
	t.Helper()
	var sup []map[string]any
	for i, s := range shares {
		sup = append(sup, map[string]any{"household_id": w.households[i], "share_bp": s})
	}
	var p struct{ ID string }
	w.opA.do("POST", "/api/v1/products", map[string]any{"name": "十八洞猕猴桃", "category": "水果", "unit": "箱", "spec": "5kg/箱",
		"price_fen": priceFen, "stock": stock, "origin_code": "433124110226", "suppliers": sup}).want(201).json(&p)
	return p.ID
}

// issue records a batch of the product and issues n codes.
func (w world) issue(t *testing.T, product string, n int) []string {
	t.Helper()
	var b struct{ ID string }
	w.opA.do("POST", "/api/v1/products/"+product+"/batches", map[string]any{"batch_no": "B" + randDigits(6),
		"produced_on": "2026-11-20", "quantity": n}).want(201).json(&b)
	certify(w.opA, b.ID)
	var out struct{ Codes []struct{ Code string } }
	w.opA.do("POST", "/api/v1/batches/"+b.ID+"/codes", map[string]any{"count": n}).want(201).json(&out)
	codes := make([]string, len(out.Codes))
	for i, c := range out.Codes {
		codes[i] = c.Code
	}
	return codes
}

// certify issues a batch's 承诺达标合格证, which codes of a covered product (水果) need first
// (internal/certificate).
func certify(op client, batch string) {
	op.do("POST", "/api/v1/batches/"+batch+"/certificates", map[string]any{"quantity": 100, "quantity_unit": "箱",
		"contact_name": "石站长", "contact_phone": "0743-7221234", "basis": []string{"self_test"},
		"commitments": []string{"no_banned_inputs", "residues_within_limits", "truthful"}}).want(201)
}

type order struct {
	ID       string
	Status   string
	TotalFen int64 `json:"total_fen"`
	Lines    []struct {
		ID        string
		Quantity  int
		AmountFen int64 `json:"amount_fen"`
	}
}

type statement struct {
	IncomeFen int64 `json:"income_fen"`
	Lines     []map[string]any
}
