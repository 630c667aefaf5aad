package trace_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/app"
	"github.com/fupinmarket/fupin/internal/catalog"
	"github.com/fupinmarket/fupin/internal/certificate"
	"github.com/fupinmarket/fupin/internal/demo"
	"github.com/fupinmarket/fupin/internal/household"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/cache"
	"github.com/fupinmarket/fupin/internal/platform/config"
	"github.com/fupinmarket/fupin/internal/platform/dbtest"
	"github.com/fupinmarket/fupin/internal/station"
	"github.com/fupinmarket/fupin/internal/trace"
)

// village is 十八洞村 (花垣县双龙镇), where the demo's kiwifruit comes from.
const village = "433124110226"

// env is one test's application: the package's database, Redis under the test's own prefix.
type env struct {
	a      *app.App
	rdb    redis.UniversalClient
	prefix string
}

// appMu serialises app.New, which sets gin's mode (a package variable of gin).
var appMu sync.Mutex

func newEnv(t testing.TB) env {
	t.Helper()
	rdb, prefix := dbtest.Redis(t)
	return env{a: newApp(t, cache.New(rdb, prefix, 50*time.Millisecond)), rdb: rdb, prefix: prefix}
}

// newApp wires the whole application on the package's database and the given cache. The
// database is shared by the package's tests, so the app is never Closed.
func newApp(t testing.TB, c *cache.Cache) *app.App {
	t.Helper()
	return newAppOn(t, dbtest.DB(t), c)
}

// newAppOn wires the application on any database handle (for example one that cannot connect).
func newAppOn(t testing.TB, db *gorm.DB, c *cache.Cache) *app.App {
	t.Helper()
	cfg, err := config.Load()
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	appMu.Lock()
	defer appMu.Unlock()
	a, err := app.New(cfg, db, c, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("app.New: %v", err)
	}
	return a
}

var (
	demoMu  sync.Mutex
	demoSum *demo.Summary
)

// loadDemo loads the demo (regions of 花垣县, households, stations, products, completed orders)
// once per package database and returns its summary, whose ScanCode is a sold kiwifruit code.
func loadDemo(t testing.TB, a *app.App) demo.Summary {
	t.Helper()
	demoMu.Lock()
	defer demoMu.Unlock()
	if demoSum == nil {
		sum, err := demo.Load(context.Background(), a)
		if err != nil {
			t.Fatalf("demo.Load: %v", err)
		}
		demoSum = &sum
	}
	return *demoSum
}

var randHex = dbtest.RandHex

func randInt(n int64) int64 {
	v, err := rand.Int(rand.Reader, big.NewInt(n))
	if err != nil {
		panic(err)
	}
	return v.Int64()
}

// newUser creates an account (a real row: trace events reference their recorder).
func newUser(t testing.TB, a *app.App, role auth.Role, stationID *uuid.UUID) auth.Principal {
	t.Helper()
	u, err := a.Users.Create(context.Background(), auth.NewUser{Username: string(role) + "-" + randHex(6),
		Password: "test-password-2026", Role: role, StationID: stationID})
	if err != nil {
		t.Fatalf("create %s user: %v", role, err)
	}
	return u.Principal()
}

// stationFx is a station of 十八洞村 with an operator and one registered household.
type stationFx struct {
	ID        uuid.UUID
	Name      string
	Admin     auth.Principal
	Operator  auth.Principal
	Household household.Household
}

// newStation registers a station serving 十八洞村 (named name, or a fresh name when empty), its
// operator, and a household of the village, through the services.
func newStation(t testing.TB, a *app.App, name string) stationFx {
	t.Helper()
	loadDemo(t, a) // regions
	return stationIn(t, a, name)
}

// stationIn is newStation on an application whose database has the regions already (a fresh one
// given fixture.LoadRegions, say).
func stationIn(t testing.TB, a *app.App, name string) stationFx {
	t.Helper()
	ctx := context.Background()
	if name == "" {
		name = "测试服务点-" + randHex(4)
	}
	st, err := a.Stations.Create(ctx, station.NewStation{Name: name, Level: station.LevelVillage,
		RegionCode: village, VillageCodes: []string{village}})
	if err != nil {
		t.Fatalf("create station: %v", err)
	}
	fx := stationFx{ID: st.ID, Name: st.Name, Admin: newUser(t, a, auth.RoleAdmin, nil)}
	fx.Operator = newUser(t, a, auth.RoleStation, &st.ID)
	birth := time.Date(1950+int(randInt(50)), time.Month(1+randInt(12)), 1+int(randInt(28)), 0, 0, 0, 0, time.UTC)
	first17 := fmt.Sprintf("433124%s%03d", birth.Format("20060102"), randInt(1000))
	fx.Household, err = a.Households.Register(ctx, fx.Admin, household.NewHousehold{
		ArchiveNo:   "T-" + strings.ToUpper(randHex(8)),
		HeadName:    "龙测试",
		IDNumber:    first17 + string(household.IDCheckChar(first17)),
		Phone:       fmt.Sprintf("139%08d", randInt(100_000_000)),
		VillageCode: village,
		Members:     3,
		Status:      household.StatusPoor,
	})
	if err != nil {
		t.Fatalf("register household: %v", err)
	}
	return fx
}

// product lists a product of the station, supplied wholly by its household.
func (fx stationFx) product(t testing.TB, a *app.App, name string) catalog.Product {
	t.Helper()
	p, err := a.Catalog.Create(context.Background(), fx.Admin, catalog.NewProduct{StationID: &fx.ID, Name: name,
		Category: "水果", Unit: "箱", Spec: "5kg/箱", PriceFen: 9800, Stock: 100, OriginCode: village,
		Suppliers: []catalog.Supplier{{HouseholdID: &fx.Household.ID, ShareBP: 10000}}})
	if err != nil {
		t.Fatalf("create product %q: %v", name, err)
	}
	return p
}

// batch records a batch of quantity items of a product as the station's operator.
func (fx stationFx) batch(t testing.TB, a *app.App, productID uuid.UUID, quantity int) trace.Batch {
	t.Helper()
	b, err := a.Trace.CreateBatch(context.Background(), fx.Operator, productID, trace.NewBatch{
		BatchNo: "T" + strings.ToUpper(randHex(5)), ProducedOn: time.Now().AddDate(0, 0, -3).Format(time.DateOnly),
		Quantity: quantity})
	if err != nil {
		t.Fatalf("create batch: %v", err)
	}
	// The product is fruit (水果): its codes need the batch's 承诺达标合格证 first (internal/certificate).
	if _, err := a.Certificates.Issue(context.Background(), fx.Operator, b.ID, certificate.IssueRequest{Quantity: certificate.Quantity(strconv.Itoa(quantity)),
		QuantityUnit: "箱", ContactName: "石站长", ContactPhone: "0743-7221234", Basis: []certificate.Basis{certificate.SelfTest},
		Commitments: []certificate.Commitment{certificate.NoBannedInputs, certificate.ResiduesWithinLimits, certificate.Truthful}}); err != nil {
		t.Fatalf("certificate of the batch: %v", err)
	}
	return b
}

// issuedCode lists a product and a batch of it and issues one code: an issued, unsold code.
func issuedCode(t testing.TB, a *app.App, productName string) (stationFx, string) {
	t.Helper()
	fx := newStation(t, a, "")
	p := fx.product(t, a, productName)
	b := fx.batch(t, a, p.ID, 10)
	codes, err := a.Trace.IssueCodes(context.Background(), fx.Operator, b.ID, 1)
	if err != nil {
		t.Fatalf("issue codes: %v", err)
	}
	return fx, codes[0]
}

// get sends a GET through the router.
func get(t testing.TB, h http.Handler, target string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// scanCount reads a code's scan count straight from PostgreSQL.
func scanCount(t testing.TB, a *app.App, code string) int64 {
	t.Helper()
	var n int64
	if err := a.DB.Raw(`SELECT scan_count FROM trace_codes WHERE code = ?`, code).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// soldFacts is what PostgreSQL says about a sold code, read independently of the trace package.
type soldFacts struct {
	UnitName     string
	UnitPriceFen int64
	ProductName  string
	Households   []household.Household // unmasked, from the register
}

func factsOf(t testing.TB, a *app.App, code string) soldFacts {
	t.Helper()
	var f soldFacts
	var productID uuid.UUID
	row := a.DB.Raw(`SELECT u.name, l.unit_price_fen, p.name, p.id FROM trace_codes c
		JOIN order_lines l ON l.id = c.order_line_id JOIN orders o ON o.id = l.order_id
		JOIN assisting_units u ON u.id = o.unit_id JOIN products p ON p.id = l.product_id
		WHERE c.code = ?`, code).Row()
	if err := row.Scan(&f.UnitName, &f.UnitPriceFen, &f.ProductName, &productID); err != nil {
		t.Fatalf("facts of %s: %v", code, err)
	}
	var ids []uuid.UUID
	if err := a.DB.Raw(`SELECT household_id FROM product_suppliers WHERE product_id = ?`, productID).
		Scan(&ids).Error; err != nil {
		t.Fatal(err)
	}
	admin := auth.Principal{Role: auth.RoleAdmin}
	for _, id := range ids {
		h, err := a.Households.Get(context.Background(), admin, id)
		if err != nil {
			t.Fatalf("household %s: %v", id, err)
		}
		f.Households = append(f.Households, h)
	}
	if len(f.Households) == 0 {
		t.Fatal("the sold product has no supplier households")
	}
	return f
}
