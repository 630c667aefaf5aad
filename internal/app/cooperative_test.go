package app

import (
	"context"
	"strings"
	"testing"

	"github.com/fupinmarket/fupin/internal/fixture"
	"github.com/fupinmarket/fupin/internal/ledger"
)

// A station lists a product supplied by a household and a cooperative; the sale passes the
// cooperative's share through to its members, and the scan page names the members. (Which
// suppliers a station may name is tested in internal/catalog, TestCooperativeSupplier.)
func TestCooperativeSupplierOverHTTP(t *testing.T) {
	w := newWorld(t)
	var coop struct{ ID string }
	w.OpA.Do("POST", "/api/v1/cooperatives", map[string]any{"name": "十八洞村猕猴桃专业合作社", "village_code": "433124110226",
		"members": []map[string]any{{"household_id": w.Households[0], "share_bp": 5000}, {"household_id": w.Households[1], "share_bp": 5000}}}).
		Want(201).JSON(&coop)

	supplier := func(coopID string) []map[string]any {
		return []map[string]any{{"household_id": w.Households[2], "share_bp": 4000}, {"cooperative_id": coopID, "share_bp": 6000}}
	}
	product := func(c fixture.Client, sup []map[string]any) fixture.Resp {
		return c.Do("POST", "/api/v1/products", map[string]any{"name": "合作社猕猴桃", "category": "水果", "unit": "箱",
			"price_fen": 10001, "stock": 5, "origin_code": "433124110226", "suppliers": sup})
	}
	var p struct{ ID string }
	product(w.OpA, supplier(coop.ID)).Want(201).JSON(&p)

	codes := w.Issue(t, p.ID, 1)
	var o fixture.Order
	w.Buyer1.Do("POST", "/api/v1/orders", map[string]any{"items": []map[string]any{{"product_id": p.ID, "quantity": 1}}},
		"Idempotency-Key", "coop-1").Want(201).JSON(&o)
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/payment", nil, "Idempotency-Key", "coop-1").Want(201)
	w.OpA.Do("POST", "/api/v1/orders/"+o.ID+"/shipments", map[string]any{"lines": []map[string]any{{"line_id": o.Lines[0].ID, "codes": codes}}}).Want(200)
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/receipt", nil).Want(200)

	// ¥100.01: household 40% = 4000.4 → 4000, cooperative 60% = 6000.6 → 6001; members 3000.5 each → 3001 / 3000.
	var total int64
	got := map[string]int64{}
	for _, h := range w.Households[:3] {
		var s fixture.Statement
		w.Admin.Do("GET", "/api/v1/households/"+h+"/ledger", nil).Want(200).JSON(&s)
		got[h] = s.IncomeFen
		total += s.IncomeFen
	}
	if total != 10001 || got[w.Households[2]] != 4000 || got[w.Households[0]]+got[w.Households[1]] != 6001 {
		t.Fatalf("incomes %v, total %d", got, total)
	}
	var view struct {
		Households []struct {
			ShareBP int32 `json:"share_bp"`
			ItemFen int64 `json:"item_income_fen"`
		}
	}
	fixture.Client{T: t, H: w.a.Router}.Do("GET", "/api/v1/trace/"+codes[0], nil).Want(200).JSON(&view)
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
