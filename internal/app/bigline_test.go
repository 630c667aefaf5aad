package app

import (
	"context"
	"testing"
	"time"

	"github.com/fupinmarket/fupin/internal/fixture"
	"github.com/fupinmarket/fupin/internal/platform/cache"
	"github.com/fupinmarket/fupin/internal/platform/dbtest"
)

// A line may hold up to 100,000 items, and every line that can be ordered can be shipped: a
// product listed twice is held to that limit as one line (the reviewer's 3 × 100,000 was placed
// and could never ship), and a line of more codes than PostgreSQL's 65,535 parameters ships in one
// request (its 1.1 MB body over the 1 MiB default; the codes bound as one array).
func TestLargestLineShips(t *testing.T) {
	cfg := fixture.Config(t)
	cfg.IssueSyncMax = 70_000
	rdb, prefix := dbtest.Redis(t)
	a, err := New(cfg, dbtest.DB(t), cache.New(rdb, prefix, 50*time.Millisecond), fixture.Quiet())
	if err != nil {
		t.Fatal(err)
	}
	fixture.LoadRegions(t, a.DB)
	w := fixture.NewWorld(t, a.Router, a.Users)
	const n = 65_600
	product := w.ListProduct(t, 100, 300_000, []int{10000})

	w.Buyer1.Do("POST", "/api/v1/orders", map[string]any{"items": []map[string]any{
		{"product_id": product, "quantity": 100_000}, {"product_id": product, "quantity": 100_000}}},
		"Idempotency-Key", "big-refused").Problem(422, "items[1].quantity")
	var stock struct{ Stock int }
	w.OpA.Do("GET", "/api/v1/products/"+product, nil).Want(200).JSON(&stock)
	if stock.Stock != 300_000 {
		t.Fatalf("a refused order took stock: %d left", stock.Stock)
	}

	codes := w.Issue(t, product, n)
	var o fixture.Order
	w.Buyer1.Do("POST", "/api/v1/orders", map[string]any{"items": []map[string]any{
		{"product_id": product, "quantity": 40_000}, {"product_id": product, "quantity": n - 40_000}}},
		"Idempotency-Key", "big-1").Want(201).JSON(&o)
	if len(o.Lines) != 1 || o.Lines[0].Quantity != n {
		t.Fatalf("order lines %+v, want one line of %d", o.Lines, n)
	}
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/payment", nil, "Idempotency-Key", "big-pay").Want(201)
	w.OpA.Do("POST", "/api/v1/orders/"+o.ID+"/shipments", map[string]any{"lines": []map[string]any{
		{"line_id": o.Lines[0].ID, "codes": codes}}}).Want(200)
	var sold int64
	if err := a.DB.WithContext(context.Background()).Raw(`SELECT count(*) FROM trace_codes WHERE order_line_id = ? AND status = 'sold'`,
		o.Lines[0].ID).Scan(&sold).Error; err != nil {
		t.Fatal(err)
	}
	if sold != n {
		t.Errorf("%d codes sold on the line, want %d", sold, n)
	}
}
