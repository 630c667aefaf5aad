package procurement_test

import (
	"strings"
	"testing"

	"github.com/fupinmarket/fupin/internal/fixture"
	"github.com/fupinmarket/fupin/internal/platform/dbtest"
)

// Placing, paying, shipping and receiving an order of one line, over HTTP, run no more statements
// than they did before the order repository (issue 12; counted at commit 180f312, the request's
// session check included where it is made), so that the hot paths do not slow down. Place is one
// statement and no transaction since issue 15 (placeStmt; it was two between BEGIN and COMMIT,
// which this count does not see: docs/performance.md, "Place + pay regression"), and an event's
// writes to the order, its lines and shipments one statement (persist): ship 9; a receipt's
// writes go with its sale entry (postReceipt): receive 6. Since 2026-12-06 the repository reads
// an order's lines and shipments in one statement (orderParts): ship 8, receive 5. Counted at the
// connection pool, so the statements that skip gorm (the sale facts, the entry: database.Query)
// count too.
func TestStatementsPerOrder(t *testing.T) {
	w := newWorld(t)
	codes := w.Issue(t, w.Product, 2)
	n := dbtest.CountStatements(t, w.a.DB)
	count := func(name string, max int, f func()) {
		t.Helper()
		n.Reset()
		f()
		t.Logf("%s: %d statements", name, len(n.SQL()))
		if got := len(n.SQL()); got > max {
			t.Errorf("%s ran %d statements, at most %d before:\n%s", name, got, max, strings.Join(n.SQL(), "\n"))
		}
	}
	var o fixture.Order
	count("place", 2, func() {
		w.Buyer1.Do("POST", "/api/v1/orders", map[string]any{"items": []map[string]any{{"product_id": w.Product, "quantity": 2}}},
			"Idempotency-Key", "count-1").Want(201).JSON(&o)
	})
	count("pay", 2, func() {
		w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/payment", nil, "Idempotency-Key", "count-pay").Want(201)
	})
	count("ship", 8, func() {
		w.OpA.Do("POST", "/api/v1/orders/"+o.ID+"/shipments", map[string]any{"lines": []map[string]any{
			{"line_id": o.Lines[0].ID, "codes": codes}}}).Want(200)
	})
	count("receive", 5, func() { w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/receipt", nil).Want(200) })
}
