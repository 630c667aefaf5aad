package procurement_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm/logger"

	"github.com/fupinmarket/fupin/internal/fixture"
)

// countingLogger counts the SQL statements gorm sends (BEGIN and COMMIT are not among them).
type countingLogger struct {
	logger.Interface
	n *atomic.Int64
}

func (l countingLogger) Trace(context.Context, time.Time, func() (string, int64), error) { l.n.Add(1) }

// Placing, paying, shipping and receiving an order of one line, over HTTP, run no more statements
// than they did before the order repository (issue 12; counted at commit 180f312, the request's
// session check included where it is made), so that the hot paths do not slow down. Place is one
// statement and no transaction since issue 15 (placeStmt; it was two between BEGIN and COMMIT,
// which this count does not see: docs/performance.md, "Place + pay regression"), and an event's
// writes to the order, its lines and shipments one statement (persist): ship 9; a receipt's
// writes go with its sale entry (postReceipt): receive 6.
func TestStatementsPerOrder(t *testing.T) {
	w := newWorld(t)
	codes := w.Issue(t, w.Product, 2)
	var n atomic.Int64
	w.a.DB.Logger = countingLogger{w.a.DB.Logger, &n}
	count := func(name string, max int64, f func()) {
		t.Helper()
		n.Store(0)
		f()
		t.Logf("%s: %d statements", name, n.Load())
		if got := n.Load(); got > max {
			t.Errorf("%s ran %d statements, at most %d before", name, got, max)
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
	count("ship", 9, func() {
		w.OpA.Do("POST", "/api/v1/orders/"+o.ID+"/shipments", map[string]any{"lines": []map[string]any{
			{"line_id": o.Lines[0].ID, "codes": codes}}}).Want(200)
	})
	count("receive", 6, func() { w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/receipt", nil).Want(200) })
}
