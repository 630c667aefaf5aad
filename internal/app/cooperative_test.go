package app

import (
	"context"
	"strings"
	"testing"

	"github.com/fupinmarket/fupin/internal/ledger"
)

// A station lists a product supplied by a household and a cooperative; the sale passes the
// cooperative's share through to its members, and the scan page names the members. (Which
// suppliers a station may name is tested in internal/catalog, TestCooperativeSupplier.)
func TestCooperativeSupplierOverHTTP(t *testing.T) {
	w := newWorld(t)
	var coop struct{ ID string }
	w.opA.do("POST", "/api/v1/cooperatives", map[string]any{"name": "十八洞村猕猴桃专业合作社", "village_code": "433124110226",
		"members": []map[string]any{{"household_id": w.households[0], "share_bp": 5000}, {"household_id": w.households[1], "share_bp": 5000}}}).
		want(201).json(&coop)

	supplier := func(coopID string) []map[string]any {
		return []map[string]any{{"household_id": w.households[2], "share_bp": 4000}, {"cooperative_id": coopID, "share_bp": 6000}}
	}
	product := func(c client, sup []map[string]any) resp {
		return c.do("POST", "/api/v1/products", map[string]any{"name": "合作社猕猴桃", "category": "水果", "unit": "箱",
			"price_fen": 10001, "stock": 5, "origin_code": "433124110226", "suppliers": sup})
	}
	var p struct{ ID string }
	product(w.opA, supplier(coop.ID)).want(201).json(&p)

	codes := w.issue(t, p.ID, 1)
	var o order
	w.buyer1.do("POST", "/api/v1/orders", map[string]any{"items": []map[string]any{{"product_id": p.ID, "quantity": 1}}},
		"Idempotency-Key", "coop-1").want(201).json(&o)
	w.buyer1.do("POST", "/api/v1/orders/"+o.ID+"/payment", nil, "Idempotency-Key", "coop-1").want(201)
	w.opA.do("POST", "/api/v1/orders/"+o.ID+"/shipments", map[string]any{"lines": []map[string]any{{"line_id": o.Lines[0].ID, "codes": codes}}}).want(200)
	w.buyer1.do("POST", "/api/v1/orders/"+o.ID+"/receipt", nil).want(200)

	// ¥100.01: household 40% = 4000.4 → 4000, cooperative 60% = 6000.6 → 6001; members 3000.5 each → 3001 / 3000.
	var total int64
	got := map[string]int64{}
	for _, h := range w.households[:3] {
		var s statement
		w.admin.do("GET", "/api/v1/households/"+h+"/ledger", nil).want(200).json(&s)
		got[h] = s.IncomeFen
		total += s.IncomeFen
	}
	if total != 10001 || got[w.households[2]] != 4000 || got[w.households[0]]+got[w.households[1]] != 6001 {
		t.Fatalf("incomes %v, total %d", got, total)
	}
	var view struct {
		Households []struct {
			ShareBP int32 `json:"share_bp"`
			ItemFen int64 `json:"item_income_fen"`
		}
	}
	client{t: t, h: w.a.Router}.do("GET", "/api/v1/trace/"+codes[0], nil).want(200).json(&view)
	var sum int64
	for _, h := range view.Households {
		sum += h.ItemFen
	}
	if len(view.Households) != 3 || sum != 10001 {
		t.Fatalf("scan view households %+v", view.Households)
	}
	if n, err := ledger.Verify(context.Background(), w.a.DB, new(strings.Builder)); err != nil || n != 0 {
		t.Fatalf("verify: %d, %v", n, err)
	}
}
