package app

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/ledger"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/trace"
)

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
	a                  *App
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
	op.do("POST", "/api/v1/households", map[string]any{"archive_no": "T" + randDigits(10), "head_name": "龙" + randDigits(0) + "金花",
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
// (internal/certificate), unless the batch has one.
func certify(op client, batch string) {
	var has struct{ Certificates []struct{ Serial string } }
	if op.do("GET", "/api/v1/batches/"+batch+"/certificates", nil).want(200).json(&has); len(has.Certificates) > 0 {
		return
	}
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

// The whole flow over HTTP, and the money: the order total equals the sum of the ledger credits,
// and each household's credit is its share by largest remainder (¥100.00 → 33.34, 33.33, 33.33).
func TestEndToEnd(t *testing.T) {
	w := newWorld(t)
	codes := w.issue(t, w.product, 5)

	var o order
	body := map[string]any{"items": []map[string]any{{"product_id": w.product, "quantity": 1}}}
	w.buyer1.do("POST", "/api/v1/orders", body, "Idempotency-Key", "e2e-1").want(201).json(&o)
	if o.Status != "placed" || o.TotalFen != 10000 || len(o.Lines) != 1 {
		t.Fatalf("placed order = %+v", o)
	}
	replay := w.buyer1.do("POST", "/api/v1/orders", body, "Idempotency-Key", "e2e-1").want(200)
	var again order
	replay.json(&again)
	if again.ID != o.ID || replay.Header().Get("Idempotency-Replayed") != "true" {
		t.Fatalf("replay gave %s (header %q), want %s", again.ID, replay.Header().Get("Idempotency-Replayed"), o.ID)
	}
	w.buyer1.do("POST", "/api/v1/orders", map[string]any{"items": []map[string]any{{"product_id": w.product, "quantity": 2}}},
		"Idempotency-Key", "e2e-1").problem(409, "Idempotency-Key")

	// Out of order transitions are refused with the current state.
	w.buyer1.do("POST", "/api/v1/orders/"+o.ID+"/receipt", nil).problem(409, "")
	w.opA.do("POST", "/api/v1/orders/"+o.ID+"/shipments", map[string]any{"lines": []map[string]any{{"line_id": o.Lines[0].ID, "codes": codes[:1]}}}).problem(409, "")

	w.buyer1.do("POST", "/api/v1/orders/"+o.ID+"/payment", nil, "Idempotency-Key", "pay-1").want(201)
	w.buyer1.do("POST", "/api/v1/orders/"+o.ID+"/payment", nil, "Idempotency-Key", "pay-1").want(200)
	w.buyer1.do("POST", "/api/v1/orders/"+o.ID+"/payment", nil, "Idempotency-Key", "pay-2").problem(409, "")

	// Station B does not ship station A's lines; station A ships with a code.
	w.opB.do("POST", "/api/v1/orders/"+o.ID+"/shipments", map[string]any{"lines": []map[string]any{{"line_id": o.Lines[0].ID, "codes": codes[:1]}}}).problem(404, "")
	w.opA.do("POST", "/api/v1/orders/"+o.ID+"/shipments", map[string]any{"lines": []map[string]any{{"line_id": o.Lines[0].ID, "codes": codes[:2]}}}).problem(422, "lines[0].codes")
	w.opA.do("POST", "/api/v1/orders/"+o.ID+"/shipments", map[string]any{"lines": []map[string]any{{"line_id": o.Lines[0].ID, "codes": codes[:1]}}}).want(200).json(&o)
	if o.Status != "shipped" {
		t.Fatalf("after shipment status %q", o.Status)
	}
	w.buyer2.do("POST", "/api/v1/orders/"+o.ID+"/receipt", nil).problem(404, "")
	w.buyer1.do("POST", "/api/v1/orders/"+o.ID+"/receipt", nil).want(200).json(&o)
	if o.Status != "completed" {
		t.Fatalf("after receipt status %q", o.Status)
	}

	var total int64
	for i, want := range []int64{3334, 3333, 3333} {
		var s statement
		w.admin.do("GET", "/api/v1/households/"+w.households[i]+"/ledger", nil).want(200).json(&s)
		if s.IncomeFen != want || len(s.Lines) != 1 {
			t.Errorf("household %d income %d fen in %d lines, want %d in 1", i, s.IncomeFen, len(s.Lines), want)
		}
		total += s.IncomeFen
	}
	if total != o.TotalFen {
		t.Fatalf("ledger credits %d fen, order total %d fen", total, o.TotalFen)
	}
	if n, err := ledger.Verify(context.Background(), w.a.DB, new(strings.Builder)); err != nil || n != 0 {
		t.Fatalf("verify: %d mismatches, %v", n, err)
	}

	// The scan shows the sold item and who bought it; the page is public.
	var view struct {
		Verdict, Status string
		Sale            struct {
			UnitName string `json:"unit_name"`
		}
		Scans struct{ Count int }
	}
	anon := client{t: t, h: w.a.Router}
	anon.do("GET", "/api/v1/trace/"+codes[0], nil).want(200).json(&view)
	if view.Verdict != "genuine" || view.Status != "sold" || !strings.HasPrefix(view.Sale.UnitName, "示例单位") || view.Scans.Count != 1 {
		t.Fatalf("trace view = %+v", view)
	}
	page := anon.do("GET", "/t/"+codes[0], nil).want(200)
	if !strings.Contains(page.Body.String(), "十八洞猕猴桃") || !strings.Contains(page.Body.String(), "十八洞村") {
		t.Fatal("scan page lacks the product or its village")
	}
	anon.do("GET", "/t/"+codes[1], nil).want(200) // issued, unsold: still genuine
}

// A station sees and changes only its own villages' households and its own products; a buyer
// sees only its unit's orders. Out of scope answers 404, never the data.
func TestScopes(t *testing.T) {
	w := newWorld(t)
	w.opB.do("GET", "/api/v1/households/"+w.households[0], nil).problem(404, "")
	w.opB.do("PATCH", "/api/v1/households/"+w.households[0], map[string]any{"members": 9}).problem(404, "")
	w.opB.do("GET", "/api/v1/households/"+w.households[0]+"/ledger", nil).problem(404, "")
	w.opB.do("GET", "/api/v1/products/"+w.product, nil).problem(404, "")
	w.opB.do("PATCH", "/api/v1/products/"+w.product, map[string]any{"stock": 0}).problem(404, "")
	w.opA.do("GET", "/api/v1/households/"+w.householdB, nil).problem(404, "")
	var list struct{ Households []struct{ ID string } }
	w.opB.do("GET", "/api/v1/households", nil).want(200).json(&list)
	for _, h := range list.Households {
		for _, a := range w.households {
			if h.ID == a {
				t.Fatalf("station B listed station A's household %s", a)
			}
		}
	}
	// Station B may not list a product supplied by station A's households.
	w.opB.do("POST", "/api/v1/products", map[string]any{"name": "冒名产品", "category": "水果", "unit": "箱", "price_fen": 100,
		"stock": 1, "origin_code": "433124110225", "suppliers": []map[string]any{{"household_id": w.households[0], "share_bp": 10000}}}).
		problem(422, "suppliers[0].household_id")

	var o order
	w.buyer1.do("POST", "/api/v1/orders", map[string]any{"items": []map[string]any{{"product_id": w.product, "quantity": 1}}},
		"Idempotency-Key", "scope-1").want(201).json(&o)
	w.buyer2.do("GET", "/api/v1/orders/"+o.ID, nil).problem(404, "")
	w.buyer2.do("POST", "/api/v1/orders/"+o.ID+"/payment", nil, "Idempotency-Key", "x").problem(404, "")
	var orders struct{ Orders []struct{ ID string } }
	w.buyer2.do("GET", "/api/v1/orders", nil).want(200).json(&orders)
	if len(orders.Orders) != 0 {
		t.Fatalf("buyer 2 sees %d orders of another unit", len(orders.Orders))
	}
	w.opB.do("GET", "/api/v1/orders/"+o.ID, nil).problem(404, "")
	w.opA.do("GET", "/api/v1/orders/"+o.ID, nil).want(200)

	// Roles: a buyer cannot register households, a station cannot place orders, the public neither.
	w.buyer1.do("GET", "/api/v1/households", nil).problem(403, "")
	w.opA.do("POST", "/api/v1/orders", map[string]any{"items": []any{}}, "Idempotency-Key", "x").problem(403, "")
	client{t: t, h: w.a.Router}.do("GET", "/api/v1/households", nil).problem(401, "")
	client{t: t, h: w.a.Router, token: "not-a-token"}.do("GET", "/api/v1/households", nil).problem(401, "")
}

// Two buyers race for the last units: one order succeeds, the other gets 409, stock ends at 0.
// Then 20 buyers race for 10 units one each: exactly 10 succeed.
func TestLastUnitsRace(t *testing.T) {
	w := newWorld(t)
	race := func(stock, buyers, qty int) (ok, conflict int) {
		p := w.listProduct(t, 500, stock, []int{10000})
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i := 0; i < buyers; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				b := w.buyer1
				if i%2 == 1 {
					b = w.buyer2
				}
				r := b.do("POST", "/api/v1/orders", map[string]any{"items": []map[string]any{{"product_id": p, "quantity": qty}}},
					"Idempotency-Key", fmt.Sprintf("race-%s-%d", p, i))
				mu.Lock()
				defer mu.Unlock()
				switch r.Code {
				case http.StatusCreated:
					ok++
				case http.StatusConflict:
					conflict++
				default:
					t.Errorf("unexpected %d: %s", r.Code, r.Body.String())
				}
			}(i)
		}
		wg.Wait()
		var stockLeft int
		w.a.DB.Raw("SELECT stock FROM products WHERE id = ?", p).Scan(&stockLeft)
		if stockLeft != stock-ok*qty || stockLeft < 0 {
			t.Errorf("stock left %d after %d orders of %d from %d", stockLeft, ok, qty, stock)
		}
		return ok, conflict
	}
	if ok, c := race(5, 2, 5); ok != 1 || c != 1 {
		t.Fatalf("two orders for the last 5: %d succeeded, %d conflicts", ok, c)
	}
	if ok, c := race(10, 20, 1); ok != 10 || c != 10 {
		t.Fatalf("20 orders for the last 10: %d succeeded, %d conflicts", ok, c)
	}
}

// When PostgreSQL is unreachable a scan answers 503, never "not a genuine code".
func TestScanDuringOutage(t *testing.T) {
	a := testApp(t)
	// Nothing listens on port 1: every query fails to connect, as with a lost database.
	dead, err := gorm.Open(postgres.Open("postgres://postgres@127.0.0.1:1/fupin?sslmode=disable&connect_timeout=1"),
		&gorm.Config{DisableAutomaticPing: true})
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(a.Config, dead, a.Cache, a.Log)
	if err != nil {
		t.Fatal(err)
	}
	anon := client{t: t, h: b.Router}
	code := trace.NewCode()
	anon.do("GET", "/api/v1/trace/"+code, nil).problem(503, "")
	r := anon.do("GET", "/t/"+code, nil)
	if r.Code != 503 || strings.Contains(r.Body.String(), "查无此码") {
		t.Fatalf("page during outage: %d %s", r.Code, r.Body.String())
	}
	anon.do("DELETE", "/healthz", nil).problem(405, "")
}
