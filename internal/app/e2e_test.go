package app

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/fixture"
	"github.com/fupinmarket/fupin/internal/ledger"
	"github.com/fupinmarket/fupin/internal/trace"
)

// The whole flow over HTTP, and the money: the order total equals the sum of the ledger credits,
// and each household's credit is its share by largest remainder (¥100.00 → 33.34, 33.33, 33.33).
func TestEndToEnd(t *testing.T) {
	w := newWorld(t)
	codes := w.Issue(t, w.Product, 5)

	var o fixture.Order
	body := map[string]any{"items": []map[string]any{{"product_id": w.Product, "quantity": 1}}}
	w.Buyer1.Do("POST", "/api/v1/orders", body, "Idempotency-Key", "e2e-1").Want(201).JSON(&o)
	if o.Status != "placed" || o.TotalFen != 10000 || len(o.Lines) != 1 {
		t.Fatalf("placed order = %+v", o)
	}
	replay := w.Buyer1.Do("POST", "/api/v1/orders", body, "Idempotency-Key", "e2e-1").Want(200)
	var again fixture.Order
	replay.JSON(&again)
	if again.ID != o.ID || replay.Header().Get("Idempotency-Replayed") != "true" {
		t.Fatalf("replay gave %s (header %q), want %s", again.ID, replay.Header().Get("Idempotency-Replayed"), o.ID)
	}
	w.Buyer1.Do("POST", "/api/v1/orders", map[string]any{"items": []map[string]any{{"product_id": w.Product, "quantity": 2}}},
		"Idempotency-Key", "e2e-1").Problem(409, "Idempotency-Key")

	// Out of order transitions are refused with the current state.
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/receipt", nil).Problem(409, "")
	w.OpA.Do("POST", "/api/v1/orders/"+o.ID+"/shipments", map[string]any{"lines": []map[string]any{{"line_id": o.Lines[0].ID, "codes": codes[:1]}}}).Problem(409, "")

	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/payment", nil, "Idempotency-Key", "pay-1").Want(201)
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/payment", nil, "Idempotency-Key", "pay-1").Want(200)
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/payment", nil, "Idempotency-Key", "pay-2").Problem(409, "")

	// Station B does not ship station A's lines; station A ships with a code.
	w.OpB.Do("POST", "/api/v1/orders/"+o.ID+"/shipments", map[string]any{"lines": []map[string]any{{"line_id": o.Lines[0].ID, "codes": codes[:1]}}}).Problem(404, "")
	w.OpA.Do("POST", "/api/v1/orders/"+o.ID+"/shipments", map[string]any{"lines": []map[string]any{{"line_id": o.Lines[0].ID, "codes": codes[:2]}}}).Problem(422, "lines[0].codes")
	w.OpA.Do("POST", "/api/v1/orders/"+o.ID+"/shipments", map[string]any{"lines": []map[string]any{{"line_id": o.Lines[0].ID, "codes": codes[:1]}}}).Want(200).JSON(&o)
	if o.Status != "shipped" {
		t.Fatalf("after shipment status %q", o.Status)
	}
	w.Buyer2.Do("POST", "/api/v1/orders/"+o.ID+"/receipt", nil).Problem(404, "")
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/receipt", nil).Want(200).JSON(&o)
	if o.Status != "completed" {
		t.Fatalf("after receipt status %q", o.Status)
	}

	var total int64
	for i, want := range []int64{3334, 3333, 3333} {
		var s fixture.Statement
		w.Admin.Do("GET", "/api/v1/households/"+w.Households[i]+"/ledger", nil).Want(200).JSON(&s)
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
	anon := fixture.Client{T: t, H: w.a.Router}
	anon.Do("GET", "/api/v1/trace/"+codes[0], nil).Want(200).JSON(&view)
	if view.Verdict != "genuine" || view.Status != "sold" || !strings.HasPrefix(view.Sale.UnitName, "示例单位") || view.Scans.Count != 1 {
		t.Fatalf("trace view = %+v", view)
	}
	page := anon.Do("GET", "/t/"+codes[0], nil).Want(200)
	if !strings.Contains(page.Body.String(), "十八洞猕猴桃") || !strings.Contains(page.Body.String(), "十八洞村") {
		t.Fatal("scan page lacks the product or its village")
	}
	anon.Do("GET", "/t/"+codes[1], nil).Want(200) // issued, unsold: still genuine
}

// A station sees and changes only its own villages' households and its own products; a buyer
// sees only its unit's orders. Out of scope answers 404, never the data.
func TestScopes(t *testing.T) {
	w := newWorld(t)
	w.OpB.Do("GET", "/api/v1/households/"+w.Households[0], nil).Problem(404, "")
	w.OpB.Do("PATCH", "/api/v1/households/"+w.Households[0], map[string]any{"members": 9}).Problem(404, "")
	w.OpB.Do("GET", "/api/v1/households/"+w.Households[0]+"/ledger", nil).Problem(404, "")
	w.OpB.Do("GET", "/api/v1/products/"+w.Product, nil).Problem(404, "")
	w.OpB.Do("PATCH", "/api/v1/products/"+w.Product, map[string]any{"stock": 0}).Problem(404, "")
	w.OpA.Do("GET", "/api/v1/households/"+w.HouseholdB, nil).Problem(404, "")
	var list struct{ Households []struct{ ID string } }
	w.OpB.Do("GET", "/api/v1/households", nil).Want(200).JSON(&list)
	for _, h := range list.Households {
		for _, a := range w.Households {
			if h.ID == a {
				t.Fatalf("station B listed station A's household %s", a)
			}
		}
	}
	// Station B may not list a product supplied by station A's households.
	w.OpB.Do("POST", "/api/v1/products", map[string]any{"name": "冒名产品", "category": "水果", "unit": "箱", "price_fen": 100,
		"stock": 1, "origin_code": "433124110225", "suppliers": []map[string]any{{"household_id": w.Households[0], "share_bp": 10000}}}).
		Problem(422, "suppliers[0].household_id")

	var o fixture.Order
	w.Buyer1.Do("POST", "/api/v1/orders", map[string]any{"items": []map[string]any{{"product_id": w.Product, "quantity": 1}}},
		"Idempotency-Key", "scope-1").Want(201).JSON(&o)
	w.Buyer2.Do("GET", "/api/v1/orders/"+o.ID, nil).Problem(404, "")
	w.Buyer2.Do("POST", "/api/v1/orders/"+o.ID+"/payment", nil, "Idempotency-Key", "x").Problem(404, "")
	var orders struct{ Orders []struct{ ID string } }
	w.Buyer2.Do("GET", "/api/v1/orders", nil).Want(200).JSON(&orders)
	if len(orders.Orders) != 0 {
		t.Fatalf("buyer 2 sees %d orders of another unit", len(orders.Orders))
	}
	w.OpB.Do("GET", "/api/v1/orders/"+o.ID, nil).Problem(404, "")
	w.OpA.Do("GET", "/api/v1/orders/"+o.ID, nil).Want(200)

	// Roles: a buyer cannot register households, a station cannot place orders, the public neither.
	w.Buyer1.Do("GET", "/api/v1/households", nil).Problem(403, "")
	w.OpA.Do("POST", "/api/v1/orders", map[string]any{"items": []any{}}, "Idempotency-Key", "x").Problem(403, "")
	fixture.Client{T: t, H: w.a.Router}.Do("GET", "/api/v1/households", nil).Problem(401, "")
	fixture.Client{T: t, H: w.a.Router, Token: "not-a-token"}.Do("GET", "/api/v1/households", nil).Problem(401, "")
}

// Two buyers race for the last units: one order succeeds, the other gets 409, stock ends at 0.
// Then 20 buyers race for 10 units one each: exactly 10 succeed.
func TestLastUnitsRace(t *testing.T) {
	w := newWorld(t)
	race := func(stock, buyers, qty int) (ok, conflict int) {
		p := w.ListProduct(t, 500, stock, []int{10000})
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i := 0; i < buyers; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				b := w.Buyer1
				if i%2 == 1 {
					b = w.Buyer2
				}
				r := b.Do("POST", "/api/v1/orders", map[string]any{"items": []map[string]any{{"product_id": p, "quantity": qty}}},
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
	anon := fixture.Client{T: t, H: b.Router}
	code := trace.NewCode()
	anon.Do("GET", "/api/v1/trace/"+code, nil).Problem(503, "")
	r := anon.Do("GET", "/t/"+code, nil)
	if r.Code != 503 || strings.Contains(r.Body.String(), "查无此码") {
		t.Fatalf("page during outage: %d %s", r.Code, r.Body.String())
	}
	anon.Do("DELETE", "/healthz", nil).Problem(405, "")
}
