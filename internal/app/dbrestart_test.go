package app

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fupinmarket/fupin/internal/fixture"
	"github.com/fupinmarket/fupin/internal/platform/database"
	"github.com/fupinmarket/fupin/internal/platform/dbtest"
)

// appOnOwnPool is w's application on a connection pool of its own, whose backends carry
// application_name name, so that a test can terminate them and no other connection.
func appOnOwnPool(t *testing.T, w world, name string) *App {
	t.Helper()
	url := dbtest.URL(t)
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	db, err := database.Open(context.Background(), url+sep+"application_name="+name, database.Pool{MaxOpen: 8, MaxIdle: 8, MaxLifetime: time.Hour,
		Pooler: database.PoolerOf(w.a.DB)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { database.Close(db) })
	b, err := New(w.a.Config, db, w.a.Cache, w.a.Log)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// As PostgreSQL does on a restart (or an administrator with pg_terminate_backend), the
// application's backends are terminated again and again (57P01) while buyers place and pay
// orders: every answer is a success or a 503 problem with Retry-After, never a 500. A buyer who
// retries a 503 with the same Idempotency-Key gets the one order (or payment) the key names, and
// nothing is half-written: each order has its lines and shipment, stock is taken once per order,
// each paid order has one payment and the ledger verifies.
func TestDatabaseRestartAnswers503(t *testing.T) {
	w := newWorld(t)
	const stock = 100000
	product := w.ListProduct(t, 1234, stock, []int{10000})
	const appName = "fupin-restart-test"
	b := appOnOwnPool(t, w, appName)
	buyers := []fixture.Client{{T: t, H: b.Router, Token: w.Buyer1.Token}, {T: t, H: b.Router, Token: w.Buyer2.Token}}

	// The restart lasts until 30 backends have been terminated and at least 3 s have passed (on a
	// loaded machine fewer backends live in 3 s): buyers start orders while it lasts, and retry
	// them until after it.
	var kills atomic.Int64
	var endedAt atomic.Int64 // UnixNano when the restart ended; 0 while it lasts
	killerDone := make(chan struct{})
	go func() {
		defer close(killerDone)
		start := time.Now()
		for (kills.Load() < 30 || time.Since(start) < 3*time.Second) && time.Since(start) < 2*time.Minute {
			time.Sleep(100 * time.Millisecond)
			var n int64
			w.a.DB.Raw(`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
				WHERE datname = current_database() AND application_name = ?`, appName).Scan(&n)
			kills.Add(n)
		}
		endedAt.Store(time.Now().UnixNano())
	}()
	restarting := func() bool { return endedAt.Load() == 0 }
	retrying := func() bool { return restarting() || time.Since(time.Unix(0, endedAt.Load())) < 30*time.Second }

	var unavailable, internal, other atomic.Int64
	var mu sync.Mutex
	var failures []string
	fail := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if len(failures) < 10 {
			failures = append(failures, fmt.Sprintf(format, args...))
		}
	}
	// send retries a 503 (with Retry-After) with the same request, backing off, until 30 s after
	// the restart has ended; any other status than want or 503 is a failure.
	send := func(c fixture.Client, method, path string, body any, key string, want ...int) (fixture.Resp, bool) {
		pause := 10 * time.Millisecond
		for retrying() {
			r := c.Do(method, path, body, "Idempotency-Key", key)
			switch {
			case r.Code == http.StatusServiceUnavailable:
				unavailable.Add(1)
				if r.Header().Get("Retry-After") == "" || !strings.HasPrefix(r.Header().Get("Content-Type"), "application/problem+json") {
					fail("%s %s: 503 without Retry-After or problem+json: %v", method, path, r.Header())
				}
				time.Sleep(pause) // a client would wait Retry-After (5 s)
				pause = min(2*pause, 500*time.Millisecond)
				continue
			case r.Code == http.StatusInternalServerError:
				internal.Add(1)
				fail("%s %s: 500: %s", method, path, r.Body.String())
				return r, false
			}
			for _, s := range want {
				if r.Code == s {
					return r, true
				}
			}
			other.Add(1)
			fail("%s %s: %d: %s", method, path, r.Code, r.Body.String())
			return r, false
		}
		fail("%s %s: still 503 30 s after the restart ended", method, path)
		return fixture.Resp{}, false
	}

	var placed, paid atomic.Int64
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := buyers[i%2]
			for n := 0; restarting(); n++ {
				key := fmt.Sprintf("restart-%d-%d-%s", i, n, fixture.RandDigits(6))
				r, ok := send(c, "POST", "/api/v1/orders", map[string]any{"items": []map[string]any{{"product_id": product, "quantity": 1}}}, key,
					http.StatusCreated, http.StatusOK)
				if !ok {
					continue
				}
				placed.Add(1)
				var o fixture.Order
				r.JSON(&o)
				if _, ok := send(c, "POST", "/api/v1/orders/"+o.ID+"/payment", nil, "pay-"+key, http.StatusCreated, http.StatusOK); ok {
					paid.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	<-killerDone
	t.Logf("%d orders placed, %d paid, %d backends terminated, %d answers 503 (retried), %d 500, %d other",
		placed.Load(), paid.Load(), kills.Load(), unavailable.Load(), internal.Load(), other.Load())
	for _, f := range failures {
		t.Error(f)
	}
	if kills.Load() < 10 {
		t.Fatalf("only %d backends terminated: the test did not test", kills.Load())
	}

	// Nothing half-written, nothing twice.
	var got struct {
		Orders, Paid, Payments, Lines, Shipments, Quantity, Stock int64
	}
	err := w.a.DB.Raw(`SELECT
		    (SELECT count(*) FROM orders o WHERE EXISTS (SELECT 1 FROM order_lines l WHERE l.order_id = o.id AND l.product_id = ?)) AS orders,
		    (SELECT count(*) FROM orders o WHERE status = 'paid' AND EXISTS (SELECT 1 FROM order_lines l WHERE l.order_id = o.id AND l.product_id = ?)) AS paid,
		    (SELECT count(*) FROM payments p JOIN order_lines l ON l.order_id = p.order_id WHERE l.product_id = ?) AS payments,
		    (SELECT count(*) FROM order_lines WHERE product_id = ?) AS lines,
		    (SELECT count(*) FROM shipments s JOIN order_lines l ON l.order_id = s.order_id WHERE l.product_id = ?) AS shipments,
		    (SELECT coalesce(sum(quantity), 0) FROM order_lines WHERE product_id = ?) AS quantity,
		    (SELECT stock FROM products WHERE id = ?) AS stock`,
		product, product, product, product, product, product, product).Scan(&got).Error
	if err != nil {
		t.Fatal(err)
	}
	if got.Orders != placed.Load() || got.Lines != got.Orders || got.Shipments != got.Orders || got.Quantity != got.Orders ||
		got.Stock != stock-got.Quantity {
		t.Errorf("%d orders answered 201; in the database %+v", placed.Load(), got)
	}
	if got.Paid != paid.Load() || got.Payments != got.Paid {
		t.Errorf("%d payments answered; in the database %+v", paid.Load(), got)
	}
	fixture.VerifyLedger(t, w.a.DB)
}
