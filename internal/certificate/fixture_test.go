package certificate_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fupinmarket/fupin/internal/app"
	"github.com/fupinmarket/fupin/internal/catalog"
	"github.com/fupinmarket/fupin/internal/household"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/cache"
	"github.com/fupinmarket/fupin/internal/platform/config"
	"github.com/fupinmarket/fupin/internal/platform/dbtest"
	"github.com/fupinmarket/fupin/internal/region"
	"github.com/fupinmarket/fupin/internal/station"
	"github.com/fupinmarket/fupin/internal/trace"
)

// village is 十八洞村 (花垣县双龙镇).
const village = "433124110226"

var (
	appMu    sync.Mutex
	seedOnce sync.Once
)

// newApp wires the application on the package's database and Redis under the test's prefix,
// with the regions of 花垣县 loaded.
func newApp(t *testing.T) *app.App {
	t.Helper()
	rdb, prefix := dbtest.Redis(t)
	cfg, err := config.Load()
	if err != nil {
		t.Fatal(err)
	}
	appMu.Lock()
	a, err := app.New(cfg, dbtest.DB(t), cache.New(rdb, prefix, 50*time.Millisecond), slog.New(slog.NewTextHandler(io.Discard, nil)))
	appMu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	seedOnce.Do(func() {
		if _, err := region.LoadSeed(context.Background(), a.DB); err != nil {
			t.Fatal(err)
		}
	})
	return a
}

// client sends requests through the router as one principal ("" token: anonymous).
type client struct {
	t     *testing.T
	h     http.Handler
	token string
}

func as(t *testing.T, a *app.App, p auth.Principal) client {
	t.Helper()
	tok, _, err := a.Users.Start(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	return client{t: t, h: a.Router, token: tok}
}

type resp struct {
	*httptest.ResponseRecorder
	t *testing.T
}

func (c client) do(method, target string, body any) resp {
	c.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		r = strings.NewReader(string(raw))
	}
	req := httptest.NewRequest(method, target, r)
	if r != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	rec := httptest.NewRecorder()
	c.h.ServeHTTP(rec, req)
	return resp{rec, c.t}
}

// want fails the test unless the status is code.
func (r resp) want(code int) resp {
	r.t.Helper()
	if r.Code != code {
		r.t.Fatalf("status %d, want %d: %s", r.Code, code, r.Body)
	}
	return r
}

func (r resp) json(dst any) {
	r.t.Helper()
	if err := json.Unmarshal(r.Body.Bytes(), dst); err != nil {
		r.t.Fatalf("%v: %s", err, r.Body)
	}
}

// problem decodes a problem+json answer of the given status and returns its fields by name.
func (r resp) problem(code int) (detail string, fields map[string]string) {
	r.t.Helper()
	r.want(code)
	var p struct {
		Detail string
		Errors []struct{ Field, Reason string } `json:"errors"`
	}
	r.json(&p)
	fields = map[string]string{}
	for _, e := range p.Errors {
		fields[e.Field] = e.Reason
	}
	return p.Detail, fields
}

// world is a station of 十八洞村 with its operator and a household, another station's operator,
// the county office and a buyer.
type world struct {
	a                      *app.App
	station                uuid.UUID
	admin, op, other, anon client
	buyer                  client
	household              uuid.UUID
	adminP, opP            auth.Principal
}

func newWorld(t *testing.T) world {
	t.Helper()
	a := newApp(t)
	ctx := t.Context()
	w := world{a: a, anon: client{t: t, h: a.Router}}
	mk := func(role auth.Role, station *uuid.UUID, unit ...*uuid.UUID) auth.Principal {
		nu := auth.NewUser{Username: fmt.Sprintf("%s-%s", role, dbtest.RandHex(6)), Password: "test-password-2026",
			Role: role, StationID: station}
		if len(unit) > 0 {
			nu.UnitID = unit[0]
		}
		u, err := a.Users.Create(ctx, nu)
		if err != nil {
			t.Fatal(err)
		}
		return u.Principal()
	}
	newStation := func() uuid.UUID {
		st, err := a.Stations.Create(ctx, station.NewStation{Name: "合格证测试服务点-" + dbtest.RandHex(4), Level: station.LevelVillage,
			RegionCode: village, VillageCodes: []string{village}})
		if err != nil {
			t.Fatal(err)
		}
		return st.ID
	}
	w.station = newStation()
	other := newStation()
	w.adminP, w.opP = mk(auth.RoleAdmin, nil), mk(auth.RoleStation, &w.station)
	w.admin, w.op, w.other = as(t, a, w.adminP), as(t, a, w.opP), as(t, a, mk(auth.RoleStation, &other))
	var unit struct{ ID uuid.UUID }
	w.admin.do("POST", "/api/v1/units", map[string]any{"name": "合格证测试单位" + dbtest.RandHex(3), "credit_code": creditCode(),
		"kind": "state_owned"}).want(201).json(&unit)
	w.buyer = as(t, a, mk(auth.RoleBuyer, nil, &unit.ID))
	birth := time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, int(randInt(18000)))
	first17 := fmt.Sprintf("433124%s%03d", birth.Format("20060102"), randInt(1000))
	h, err := a.Households.Register(ctx, w.adminP, household.NewHousehold{ArchiveNo: "C-" + strings.ToUpper(dbtest.RandHex(8)),
		HeadName: "龙合格", IDNumber: first17 + string(household.IDCheckChar(first17)), Phone: "13974301234",
		VillageCode: village, Members: 3, Status: household.StatusLifted})
	if err != nil {
		t.Fatal(err)
	}
	w.household = h.ID
	return w
}

// product lists a product of the world's station in category.
func (w world) product(t *testing.T, name, category string) uuid.UUID {
	t.Helper()
	p, err := w.a.Catalog.Create(t.Context(), w.opP, catalog.NewProduct{Name: name, Category: category, Unit: "箱", Spec: "5kg/箱",
		PriceFen: 9800, Stock: 100, OriginCode: village, Suppliers: []catalog.Supplier{{HouseholdID: &w.household, ShareBP: 10000}}})
	if err != nil {
		t.Fatal(err)
	}
	return p.ID
}

// batch records a batch of quantity items of a product.
func (w world) batch(t *testing.T, product uuid.UUID, quantity int) uuid.UUID {
	t.Helper()
	b, err := w.a.Trace.CreateBatch(t.Context(), w.opP, product, trace.NewBatch{BatchNo: "C" + strings.ToUpper(dbtest.RandHex(5)),
		ProducedOn: time.Now().AddDate(0, 0, -1).Format(time.DateOnly), Quantity: quantity})
	if err != nil {
		t.Fatal(err)
	}
	return b.ID
}

// certificateBody is a complete certificate request.
func certificateBody() map[string]any {
	return map[string]any{"quantity": 250, "quantity_unit": "箱", "contact_name": "石站长", "contact_phone": "0743-7221234",
		"commitments": []string{"no_banned_inputs", "residues_within_limits", "truthful"}, "basis": []string{"self_test", "internal_control"}}
}

type certificateJSON struct {
	ID, Serial, URL, Quantity string
	ProductName               string `json:"product_name"`
	OriginName                string `json:"origin_name"`
	IssuerName                string `json:"issuer_name"`
	Supersedes                string
	SupersededBy              string    `json:"superseded_by"`
	IssuedAt                  time.Time `json:"issued_at"`
	RetainUntil               time.Time `json:"retain_until"`
	Commitments, Basis        []string
}

func randInt(n int64) int64 {
	v, err := rand.Int(rand.Reader, big.NewInt(n))
	if err != nil {
		panic(err)
	}
	return v.Int64()
}

// creditCode is a valid unified social credit code (GB 32100-2015) with random digits.
func creditCode() string {
	const alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
	weights := []int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}
	body := "91433124" + strings.ToUpper(dbtest.RandHex(5))[:5] + "0000"
	body = body[:17]
	sum := 0
	for i, r := range body {
		sum += strings.IndexRune(alphabet, r) * weights[i]
	}
	return body + string(alphabet[(31-sum%31)%31])
}
