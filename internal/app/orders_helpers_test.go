package app

import (
	"context"
	"strings"
	"testing"

	"github.com/fupinmarket/fupin/internal/ledger"
	"github.com/fupinmarket/fupin/internal/platform/auth"
)

// Helpers of the order flow for this package's wiring, end-to-end and contract tests; the order
// behaviour tests are procurement's (internal/procurement/orders_test.go).

type fullOrder struct {
	ID       string
	Status   string
	TotalFen int64 `json:"total_fen"`
	Lines    []struct {
		ID               string
		ProductID        string `json:"product_id"`
		StationID        string `json:"station_id"`
		Quantity         int
		RefundedQuantity int `json:"refunded_quantity"`
	}
	Shipments []struct {
		StationID string `json:"station_id"`
		Status    string
	}
}

// stateOf asserts a 409 problem carrying current_status want.
func stateOf(t *testing.T, r resp, want string) {
	t.Helper()
	r.problem(409, "")
	var p map[string]any
	r.json(&p)
	if p["current_status"] != want {
		t.Fatalf("current_status %v, want %s: %s", p["current_status"], want, r.Body.String())
	}
}

func verifyLedger(t *testing.T, a *App) string {
	t.Helper()
	var out strings.Builder
	if n, err := ledger.Verify(context.Background(), a.DB, &out); err != nil || n != 0 {
		t.Fatalf("verify: %d mismatches, %v\n%s", n, err, out.String())
	}
	return out.String()
}

func income(t *testing.T, w world, household string) int64 {
	t.Helper()
	var s statement
	w.admin.do("GET", "/api/v1/households/"+household+"/ledger", nil).want(200).json(&s)
	return s.IncomeFen
}

// receivedOrder places, pays, ships and receives an order of 2 of w.product (¥100.00 each) by
// buyer1, and returns it with an admin principal for service-level calls.
func (w world) receivedOrder(t *testing.T) (fullOrder, auth.Principal) {
	t.Helper()
	codes := w.issue(t, w.product, 2)
	var o fullOrder
	w.buyer1.do("POST", "/api/v1/orders", map[string]any{"items": []map[string]any{{"product_id": w.product, "quantity": 2}}},
		"Idempotency-Key", "received-1").want(201).json(&o)
	w.buyer1.do("POST", "/api/v1/orders/"+o.ID+"/payment", nil, "Idempotency-Key", "received-pay").want(201)
	w.opA.do("POST", "/api/v1/orders/"+o.ID+"/shipments", map[string]any{"lines": []map[string]any{{"line_id": o.Lines[0].ID, "codes": codes}}}).want(200)
	w.buyer1.do("POST", "/api/v1/orders/"+o.ID+"/receipt", nil).want(200)
	var admin auth.Principal
	w.a.DB.Raw("SELECT id AS user_id FROM users WHERE role = 'admin' LIMIT 1").Scan(&admin)
	admin.Role = auth.RoleAdmin
	return o, admin
}
