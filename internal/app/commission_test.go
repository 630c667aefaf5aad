package app

import (
	"testing"

	"github.com/google/uuid"

	"github.com/fupinmarket/fupin/internal/fixture"
)

// The county office sets a station's commission through the API; others may not; bodies that do
// not decode are problems naming the field; and an order pays the rate in force when it was
// placed, whatever the rate is when it is received. What setting the commission decides (bounds,
// the log of changes) is tested in internal/station (TestSetCommission).
func TestStationCommissionOverHTTP(t *testing.T) {
	w := newWorld(t)
	path := "/api/v1/stations/" + w.StationA + "/commission"

	w.OpA.Do("PUT", path, map[string]any{"commission_bp": 100}).Problem(403, "")
	for _, bad := range []map[string]any{{"commission_bp": 5001}, {"commission_bp": "300"}, {"commission_bp": 2.5}} {
		w.Admin.Do("PUT", path, bad).Problem(422, "commission_bp")
	}
	w.Admin.Do("PUT", path, map[string]any{"commission_bp": 100, "rate": 1}).Problem(422, "rate")
	w.Admin.Do("PUT", "/api/v1/stations/"+uuid.NewString()+"/commission", map[string]any{"commission_bp": 100}).Problem(404, "")

	codes := w.Issue(t, w.Product, 2)
	place := func(key string) fixture.Order {
		var o fixture.Order
		w.Buyer1.Do("POST", "/api/v1/orders", map[string]any{"items": []map[string]any{{"product_id": w.Product, "quantity": 1}}},
			"Idempotency-Key", key).Want(201).JSON(&o)
		return o
	}
	before := place("commission-before") // placed at 0 %

	var c struct {
		StationID    string `json:"station_id"`
		CommissionBP int    `json:"commission_bp"`
		Changes      []struct {
			PreviousBP   int     `json:"previous_bp"`
			CommissionBP int     `json:"commission_bp"`
			ChangedBy    *string `json:"changed_by"`
			Reason       string
		}
	}
	w.Admin.Do("PUT", path, map[string]any{"commission_bp": 1000, "reason": "县乡村振兴局 2026 年第 3 号"}).Want(200).JSON(&c)
	if c.StationID != w.StationA || c.CommissionBP != 1000 || len(c.Changes) != 1 || c.Changes[0].PreviousBP != 0 ||
		c.Changes[0].CommissionBP != 1000 || c.Changes[0].ChangedBy == nil || c.Changes[0].Reason != "县乡村振兴局 2026 年第 3 号" {
		t.Fatalf("after the change: %+v", c)
	}
	after := place("commission-after") // placed at 10 %

	for i, o := range []fixture.Order{before, after} {
		w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/payment", nil, "Idempotency-Key", "pay-"+o.ID).Want(201)
		w.OpA.Do("POST", "/api/v1/orders/"+o.ID+"/shipments", map[string]any{"lines": []map[string]any{{"line_id": o.Lines[0].ID, "codes": codes[i : i+1]}}}).Want(200)
	}
	// Received after a second change: neither order pays it.
	w.Admin.Do("PUT", path, map[string]any{"commission_bp": 2500}).Want(200).JSON(&c)
	commission := func(o fixture.Order) int64 {
		w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/receipt", nil).Want(200)
		var fen int64
		if err := w.a.DB.Raw(`SELECT coalesce(-sum(p.amount_fen), 0) FROM postings p JOIN journal_entries e ON e.id = p.entry_id
			JOIN ledger_accounts a ON a.id = p.account_id WHERE e.order_id = ? AND e.kind = 'sale' AND a.kind = 'station_commission'`, o.ID).
			Scan(&fen).Error; err != nil {
			t.Fatal(err)
		}
		return fen
	}
	if got := commission(before); got != 0 {
		t.Errorf("order placed at 0 %% paid commission %d fen", got)
	}
	if got := commission(after); got != 1000 { // 10 % of ¥100.00
		t.Errorf("order placed at 10 %% paid commission %d fen, want 1000", got)
	}
}
