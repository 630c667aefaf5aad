package procurement_test

import (
	"strings"
	"testing"

	"github.com/fupinmarket/fupin/internal/fixture"
)

// A statement is what the unit bought and got back in its period, as of its end: names as on the
// day of payment (renames later change nothing), a refund or a cancellation in the period after
// the purchase's, and the months adding up to the year. JSON and CSV say the same.
func TestStatementStaysAsOfItsPeriod(t *testing.T) {
	w := newWorld(t)
	codes := w.Issue(t, w.Product, 3)
	var o, c fixture.FullOrder
	w.Buyer1.Do("POST", "/api/v1/orders", map[string]any{"items": []map[string]any{{"product_id": w.Product, "quantity": 3}}},
		"Idempotency-Key", "asof-1").Want(201).JSON(&o)
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/payment", nil, "Idempotency-Key", "asof-1").Want(201)
	w.OpA.Do("POST", "/api/v1/orders/"+o.ID+"/shipments", map[string]any{"lines": []map[string]any{
		{"line_id": o.Lines[0].ID, "codes": codes}}}).Want(200)
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/receipt", nil).Want(200)
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/refunds", map[string]any{"lines": []map[string]any{
		{"line_id": o.Lines[0].ID, "quantity": 1}}}, "Idempotency-Key", "asof-refund").Want(201)
	w.Buyer1.Do("POST", "/api/v1/orders", map[string]any{"items": []map[string]any{{"product_id": w.Product, "quantity": 2}}},
		"Idempotency-Key", "asof-2").Want(201).JSON(&c)
	w.Buyer1.Do("POST", "/api/v1/orders/"+c.ID+"/payment", nil, "Idempotency-Key", "asof-2").Want(201)
	w.Buyer1.Do("POST", "/api/v1/orders/"+c.ID+"/cancel", nil).Want(200)
	var unit struct {
		UnitID string `json:"unit_id"`
	}
	w.Buyer1.Do("GET", "/api/v1/orders/"+o.ID, nil).Want(200).JSON(&unit)
	// Both paid in January 2026 (China time); the refund made in February, the cancellation in March.
	for _, q := range []string{
		`UPDATE orders SET paid_at = '2026-01-15T02:00:00Z' WHERE id = '` + o.ID + `'`,
		`UPDATE orders SET paid_at = '2026-01-20T02:00:00Z', cancelled_at = '2026-03-05T02:00:00Z' WHERE id = '` + c.ID + `'`,
		`UPDATE refunds SET created_at = '2026-02-10T02:00:00Z' WHERE order_id = '` + o.ID + `'`,
	} {
		if err := w.a.DB.Exec(q).Error; err != nil {
			t.Fatal(err)
		}
	}
	var unitName string
	w.a.DB.Raw("SELECT name FROM assisting_units WHERE id = ?", unit.UnitID).Scan(&unitName)
	// Renamed after the fact: product, station and unit.
	w.OpA.Do("PATCH", "/api/v1/products/"+w.Product, map[string]any{"name": "改名后"}).Want(200)
	for _, q := range []string{`UPDATE stations SET name = '改名站' WHERE id = ?`, `UPDATE assisting_units SET name = '改名单位' WHERE id = ?`} {
		id := w.StationA
		if strings.Contains(q, "assisting_units") {
			id = unit.UnitID
		}
		if err := w.a.DB.Exec(q, id).Error; err != nil {
			t.Fatal(err)
		}
	}

	type line struct {
		OrderID          string `json:"order_id"`
		CancelledAt      string `json:"cancelled_at"`
		ProductName      string `json:"product_name"`
		StationName      string `json:"station_name"`
		Quantity         int
		AmountFen        int64 `json:"amount_fen"`
		RefundedQuantity int   `json:"refunded_quantity"`
		RefundedFen      int64 `json:"refunded_fen"`
	}
	type statement struct {
		UnitName    string `json:"unit_name"`
		Orders      int
		AmountFen   int64 `json:"amount_fen"`
		RefundedFen int64 `json:"refunded_fen"`
		NetFen      int64 `json:"net_fen"`
		Lines       []line
	}
	get := func(period string) statement {
		var s statement
		w.Buyer1.Do("GET", "/api/v1/units/"+unit.UnitID+"/statement?period="+period, nil).Want(200).JSON(&s)
		return s
	}
	jan, feb, mar, year := get("2026-01"), get("2026-02"), get("2026-03"), get("2026")
	if jan.UnitName != unitName || jan.Orders != 2 || jan.AmountFen != 50000 || jan.RefundedFen != 0 || jan.NetFen != 50000 || len(jan.Lines) != 2 {
		t.Fatalf("January = %+v", jan)
	}
	for _, l := range jan.Lines {
		if l.ProductName != "十八洞猕猴桃" || l.StationName != "十八洞村电商服务点" || l.RefundedQuantity != 0 || l.CancelledAt != "" {
			t.Errorf("January line %+v: want the names of January and nothing returned yet", l)
		}
	}
	want := line{OrderID: o.ID, ProductName: "十八洞猕猴桃", StationName: "十八洞村电商服务点", RefundedQuantity: 1, RefundedFen: 10000}
	if feb.Orders != 0 || feb.AmountFen != 0 || feb.RefundedFen != 10000 || feb.NetFen != -10000 || len(feb.Lines) != 1 || feb.Lines[0] != want {
		t.Errorf("February = %+v, want only the refund %+v", feb, want)
	}
	if mar.RefundedFen != 20000 || mar.NetFen != -20000 || len(mar.Lines) != 1 || mar.Lines[0].OrderID != c.ID ||
		mar.Lines[0].RefundedQuantity != 2 || mar.Lines[0].CancelledAt == "" {
		t.Errorf("March = %+v, want the cancellation of order %s", mar, c.ID)
	}
	// The year: the order paid and cancelled in it bought nothing; the months add up to it.
	if year.UnitName != "改名单位" || year.Orders != 1 || year.AmountFen != 30000 || year.RefundedFen != 10000 ||
		year.NetFen != jan.NetFen+feb.NetFen+mar.NetFen {
		t.Errorf("2026 = %+v", year)
	}
	csv := w.Buyer1.Do("GET", "/api/v1/units/"+unit.UnitID+"/statement?period=2026-02&format=csv", nil).Want(200).Body.String()
	if !strings.Contains(csv, ",十八洞猕猴桃,十八洞村电商服务点,0,100.00,0.00,1,100.00\r\n") || !strings.Contains(csv, "合计,,,,,,,,0.00,,100.00\r\n") ||
		!strings.Contains(csv, "帮扶单位,"+unitName+"\r\n") {
		t.Errorf("February's CSV does not say what its JSON says:\n%s", csv)
	}
}
