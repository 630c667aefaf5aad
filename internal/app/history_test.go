package app

import (
	"testing"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
)

// What a sale is attributed to is fixed when the order is placed: the station moves the whole
// share of its product to another household between the order and the receipt, and the order
// still credits the households of the shares at order time (3334/3333/3333 of ¥100.00), while a
// new order credits the new supplier. The frozen shares and origin cannot be changed afterwards.
func TestSharesFrozenAtOrder(t *testing.T) {
	w := newWorld(t)
	codes := w.issue(t, w.product, 2)
	var o order
	w.buyer1.do("POST", "/api/v1/orders", map[string]any{"items": []map[string]any{{"product_id": w.product, "quantity": 1}}},
		"Idempotency-Key", "frozen-1").want(201).json(&o)
	w.buyer1.do("POST", "/api/v1/orders/"+o.ID+"/payment", nil, "Idempotency-Key", "frozen-pay-1").want(201)

	newcomer := w.registerHousehold(t, w.opA, "433124110226")
	var p struct {
		Suppliers []struct {
			HouseholdID string `json:"household_id"`
			ShareBP     int    `json:"share_bp"`
		}
	}
	w.opA.do("PATCH", "/api/v1/products/"+w.product, map[string]any{"suppliers": []map[string]any{
		{"household_id": newcomer, "share_bp": 10000}}}).want(200).json(&p)
	if len(p.Suppliers) != 1 || p.Suppliers[0].HouseholdID != newcomer || p.Suppliers[0].ShareBP != 10000 {
		t.Fatalf("suppliers after PATCH = %+v", p.Suppliers)
	}
	// Bad input: shares not summing to 10000, another station's household, an unknown one.
	w.opA.do("PATCH", "/api/v1/products/"+w.product, map[string]any{"suppliers": []map[string]any{
		{"household_id": newcomer, "share_bp": 9000}}}).problem(422, "suppliers")
	w.opA.do("PATCH", "/api/v1/products/"+w.product, map[string]any{"suppliers": []map[string]any{
		{"household_id": w.householdB, "share_bp": 10000}}}).problem(422, "suppliers[0].household_id")
	w.opA.do("PATCH", "/api/v1/products/"+w.product, map[string]any{"suppliers": []map[string]any{}}).problem(422, "suppliers")

	w.opA.do("POST", "/api/v1/orders/"+o.ID+"/shipments", map[string]any{"lines": []map[string]any{
		{"line_id": o.Lines[0].ID, "codes": codes[:1]}}}).want(200)
	w.buyer1.do("POST", "/api/v1/orders/"+o.ID+"/receipt", nil).want(200)
	for i, want := range []int64{3334, 3333, 3333} {
		if got := income(t, w, w.households[i]); got != want {
			t.Errorf("household %d credited %d fen for the order placed before the change, want %d", i, got, want)
		}
	}
	if got := income(t, w, newcomer); got != 0 {
		t.Errorf("the supplier named after the order was credited %d fen for it", got)
	}
	// The scan page of the sold item splits it by the shares of its order too.
	var view struct {
		Households []struct {
			ShareBP int   `json:"share_bp"`
			ItemFen int64 `json:"item_income_fen"`
		}
	}
	anon := client{t: t, h: w.a.Router}
	anon.do("GET", "/api/v1/trace/"+codes[0], nil).want(200).json(&view)
	if len(view.Households) != 3 || view.Households[0].ItemFen != 3334 {
		t.Errorf("scan of the item sold before the change shows %+v, want the 3 households of the order", view.Households)
	}

	// An order placed after the change credits the new supplier.
	var o2 order
	w.buyer1.do("POST", "/api/v1/orders", map[string]any{"items": []map[string]any{{"product_id": w.product, "quantity": 1}}},
		"Idempotency-Key", "frozen-2").want(201).json(&o2)
	w.buyer1.do("POST", "/api/v1/orders/"+o2.ID+"/payment", nil, "Idempotency-Key", "frozen-pay-2").want(201)
	w.opA.do("POST", "/api/v1/orders/"+o2.ID+"/shipments", map[string]any{"lines": []map[string]any{
		{"line_id": o2.Lines[0].ID, "codes": codes[1:2]}}}).want(200)
	w.buyer1.do("POST", "/api/v1/orders/"+o2.ID+"/receipt", nil).want(200)
	if got := income(t, w, newcomer); got != 10000 {
		t.Errorf("new supplier credited %d fen for the order after the change, want 10000", got)
	}
	verifyLedger(t, w.a)

	// The frozen columns and shares refuse any change.
	for _, q := range []string{
		`UPDATE order_lines SET origin_code = '433124110225' WHERE id = ?`,
		`UPDATE order_lines SET unit_price_fen = 1, amount_fen = 1 WHERE id = ?`,
		`UPDATE order_line_suppliers SET share_bp = 10000 WHERE order_line_id = ?`,
		`DELETE FROM order_line_suppliers WHERE order_line_id = ?`,
	} {
		if err := w.a.DB.Exec(q, o.Lines[0].ID).Error; apperr.PgCode(err) != "23001" {
			t.Errorf("%s: %v, want restrict_violation", q, err)
		}
	}
}
