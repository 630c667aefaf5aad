package app

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fupinmarket/fupin/internal/fixture"
	"github.com/fupinmarket/fupin/internal/platform/civil"
)

// No request may hold a pooled connection (a transaction, an open cursor) and wait for another:
// with the pool at N, N such requests at once each wait for a connection another holds, and the
// process hangs for ever (found twice: the roster import and a product PATCH). On a pool of ONE
// connection a single such request hangs, so this walks every operation of api/openapi.yaml with
// a request it answers with success, on an application of its own (the package's shared pool is
// left alone), each request under a stall guard that fails the test naming it.
func TestNoRequestNeedsASecondConnection(t *testing.T) {
	a := appOnPool(t, 1) // closed at the end, which also fails a request still waiting for the connection
	g := &stallGuard{t: t, h: a.Router, limit: 30 * time.Second, answered: map[string]bool{}}
	w := world{fixture.NewWorld(t, g, a.Users), a}
	contractTour(t, w)
	contractTourActions(t, w)
	contractTour2026(t, w)
	poolTourRest(t, w)
	if missing := g.unanswered(t); len(missing) > 0 {
		t.Errorf("the walk answered these operations of api/openapi.yaml with no success, so a second connection "+
			"they might ask for goes unseen; add a request to poolTourRest:\n  %s", strings.Join(missing, "\n  "))
	}
}

// stallGuard serves h, failing t with the request's name (and the stacks of the goroutines waiting
// for a pooled connection) when an answer takes longer than limit; it notes the documented
// operations answered with a 2xx.
type stallGuard struct {
	t     *testing.T
	h     http.Handler
	limit time.Duration

	mu       sync.Mutex
	answered map[string]bool // "GET /api/v1/orders/{id}"
}

func (g *stallGuard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	rec := httptest.NewRecorder()
	done := make(chan struct{})
	go func() {
		defer close(done)
		g.h.ServeHTTP(rec, r.WithContext(ctx))
	}()
	select {
	case <-done:
	case <-time.After(g.limit):
		waiting := waitingForConn()
		cancel() // a wait that heeds the request's context ends; Close (Cleanup) ends the others
		g.t.Fatalf("%s %s still waits after %s with a pool of one connection: it asks for a second one while "+
			"holding the first. Waiting for a connection:\n%s", r.Method, r.URL.RequestURI(), g.limit, waiting)
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
	if rec.Code >= 200 && rec.Code < 300 {
		if router, err := contractRouter(); err == nil {
			if route, _, err := router.FindRoute(r); err == nil {
				g.mu.Lock()
				g.answered[route.Method+" "+route.Path] = true
				g.mu.Unlock()
			}
		}
	}
}

// unanswered lists the documented operations the guard saw no success of.
func (g *stallGuard) unanswered(t *testing.T) []string {
	if _, err := contractRouter(); err != nil {
		t.Fatal(err)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	var missing []string
	for path, item := range contract.doc.Paths.Map() {
		for method := range item.Operations() {
			if op := method + " " + path; !g.answered[op] {
				missing = append(missing, op)
			}
		}
	}
	slices.Sort(missing)
	return missing
}

// waitingForConn is the stacks of the goroutines waiting for a pooled connection: where the second
// connection was asked for.
func waitingForConn() string {
	buf := make([]byte, 1<<22)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "database/sql.(*DB).conn(") {
			if i := strings.Index(g, "\ngithub.com/gin-gonic/"); i > 0 {
				g = g[:i] // the middleware below the handler says nothing
			}
			out = append(out, g)
		}
	}
	if len(out) == 0 {
		return "(none: the wait is elsewhere)"
	}
	return strings.Join(out, "\n\n")
}

// poolTourRest takes the operations the contract tours leave out through their success, writes
// first (a PATCH with suppliers, a delivery and its reversal, an import, a merge) and then the
// reads over what they wrote.
func poolTourRest(t *testing.T, w world) {
	anon := fixture.Client{T: t, H: w.Admin.H}
	cst := time.Now().In(civil.China)
	today, month, year := cst.Format(time.DateOnly), cst.Format("2006-01"), strconv.Itoa(cst.Year())
	for _, path := range []string{"/healthz", "/openapi.yaml"} {
		anon.Do("GET", path, nil).Want(200)
	}
	req := httptest.NewRequest("GET", "/metrics", nil) // from a private address, as Prometheus scrapes
	req.RemoteAddr = net.JoinHostPort("127.0.0.1", "40000")
	if rec := fixture.Serve(t, w.Admin.H, req, nil); rec.Code != http.StatusOK {
		t.Errorf("GET /metrics: %d", rec.Code)
	}

	// The county office's settings and a merge of two villages of this test's own (codes no other
	// test of the package inserts: one database).
	w.Admin.Do("PUT", "/api/v1/stations/"+w.StationA+"/commission", map[string]any{"commission_bp": 300, "reason": "池测"}).Want(200)
	w.Admin.Do("PUT", "/api/v1/poverty-lines", map[string]any{"year": cst.Year(), "province_code": "43", "kind": "monitoring",
		"amount_fen": 800000, "source": "test"}).Want(200)
	w.Admin.Do("GET", "/api/v1/reserve/minimum-ratios", nil).Want(200)
	w.Admin.Do("GET", "/api/v1/certificate-coverage", nil).Want(200)
	v1, v2 := "433124110841", "433124110842"
	if err := w.a.DB.Exec(`INSERT INTO regions (code, name, level, parent_code) VALUES (?, '池并村一', 5, '433124110'), (?, '池并村二', 5, '433124110')`,
		v1, v2).Error; err != nil {
		t.Fatal(err)
	}
	w.Admin.Do("POST", "/api/v1/regions/merges", map[string]any{"villages": []string{v1}, "successor_code": v2}).Want(201)

	// Households: a roster, a PATCH, paid work, a dividend, a payout, their income.
	roster := "户编号,户主姓名,身份证号,联系电话,家庭人口,所在村,户类型\n" +
		"P" + fixture.RandDigits(8) + ",龙金花," + fixture.IDNumber() + ",,3,433124110226,脱贫户\n"
	upload(w.OpA, "/api/v1/households/import", "roster.csv", roster).Want(200)
	h := w.Households[0]
	w.OpA.Do("PATCH", "/api/v1/households/"+h, map[string]any{"members": 5}).Want(200)
	w.OpA.Do("POST", "/api/v1/work-records", map[string]any{"household_id": h, "task": "picking", "work_date": today,
		"minutes": 480, "pay_fen": 12000}, "Idempotency-Key", "pool-"+fixture.RandDigits(8)).Want(201)
	w.OpA.Do("POST", "/api/v1/dividends", map[string]any{"household_id": h, "payer_kind": "cooperative",
		"payer_name": "十八洞猕猴桃合作社", "paid_on": today, "amount_fen": 100_00}, "Idempotency-Key", "pool-"+fixture.RandDigits(8)).Want(201)
	w.Admin.Do("POST", "/api/v1/households/"+h+"/payouts", map[string]any{"amount_fen": 5000, "reference": "P" + fixture.RandDigits(10),
		"paid_at": time.Now().UTC().Format(time.RFC3339)}).Want(201)
	w.Admin.Do("GET", "/api/v1/reports/household-income?month="+month, nil).Want(200)
	w.Admin.Do("GET", "/api/v1/monitoring/registrations?region_code=433124", nil).Want(200)

	// Products: a PATCH of price and suppliers, a photo, a certification, a batch's deliveries.
	sups := make([]map[string]any, len(w.Households))
	for i, h := range w.Households {
		sups[i] = map[string]any{"household_id": h, "share_bp": []int{5000, 3000, 2000}[i]}
	}
	w.OpA.Do("PATCH", "/api/v1/products/"+w.Product, map[string]any{"price_fen": 10100, "suppliers": sups}).Want(200)
	var png bytes.Buffer
	if err := pngEncode(&png); err != nil {
		t.Fatal(err)
	}
	photoUpload(w.OpA, w.Product, png.Bytes()).Want(200)
	anon.Do("GET", "/api/v1/products/"+w.Product+"/photo", nil).Want(200)
	w.OpA.Do("DELETE", "/api/v1/products/"+w.Product+"/photo", nil).Want(204)
	w.Admin.Do("POST", "/api/v1/products/"+w.Product+"/certifications", map[string]any{"certificate_no": "HY-POOL-" + fixture.RandDigits(4),
		"issuing_office": "花垣县乡村振兴局", "valid_from": "2026-01-01", "valid_until": "2099-12-31"}).Want(201)
	b := w.batch(t, w.Product, 10)
	d := w.deliver(t, b, delivery(h, 4))
	w.OpA.Do("GET", "/api/v1/batches/"+b+"/deliveries", nil).Want(200)
	w.OpA.Do("POST", "/api/v1/batches/"+b+"/deliveries/"+d+"/reversal", map[string]any{"reason": "weighed twice"}).Want(201)

	// A completed order's impact receipt, public and not, and the unit's report.
	var orders struct{ Orders []struct{ ID, Status string } }
	w.Buyer1.Do("GET", "/api/v1/orders", nil).Want(200).JSON(&orders)
	completed := ""
	for _, o := range orders.Orders {
		if o.Status == "completed" {
			completed = o.ID // contractTour's (fixture.ReceivedOrder's key replays that one)
		}
	}
	var r impactReceipt
	w.Buyer1.Do("GET", "/api/v1/orders/"+completed+"/impact-receipt", nil).Want(200).JSON(&r)
	anon.Do("GET", "/api/v1/impact-receipts/"+r.ReceiptID+"?digest="+r.Digest, nil).Want(200)
	anon.Do("GET", "/r/"+r.ReceiptID+"?digest="+r.Digest, nil).Want(200)
	var me struct {
		UnitID string `json:"unit_id"`
	}
	w.Buyer1.Do("GET", "/api/v1/auth/me", nil).Want(200).JSON(&me)
	w.Buyer1.Do("GET", "/api/v1/units/"+me.UnitID+"/impact-report?year="+year, nil).Want(200)

	// Reserved shares: the reads over the filing contractTour2026 made.
	w.Buyer1.Do("GET", "/api/v1/units/"+me.UnitID+"/reserve-filings/"+year, nil).Want(200)
	for _, path := range []string{"/api/v1/reserve/filings?year=" + year, "/api/v1/reserve/completion?year=" + year,
		"/api/v1/reserve/notice?year=" + year} {
		w.Admin.Do("GET", path, nil).Want(200)
	}
}

// pngEncode writes a small PNG to b (a photo to upload).
func pngEncode(b *bytes.Buffer) error {
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 7)
	}
	return png.Encode(b, img)
}
