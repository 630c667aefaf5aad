package procurement_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/app"
	"github.com/fupinmarket/fupin/internal/fixture"
	"github.com/fupinmarket/fupin/internal/ledger"
	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/money"
	"github.com/fupinmarket/fupin/internal/procurement"
)

// productB lists a product of station B supplied by its one household.
func (w world) productB(t *testing.T, priceFen, stock int) string {
	t.Helper()
	var p struct{ ID string }
	w.OpB.Do("POST", "/api/v1/products", map[string]any{"name": "马鞍村腊肉", "category": "肉类", "unit": "斤",
		"price_fen": priceFen, "stock": stock, "origin_code": "433124110225",
		"suppliers": []map[string]any{{"household_id": w.HouseholdB, "share_bp": 10000}}}).Want(201).JSON(&p)
	return p.ID
}

// One order over two stations: each station's shipment ships and is received on its own, the
// sale entry of each posted at its receipt; then partial refunds that sum exactly to the sale,
// household by household, and a refund beyond the quantity is refused.
func TestShipmentsAndRefunds(t *testing.T) {
	w := newWorld(t)
	pa := w.ListProduct(t, 10001, 10, []int{3334, 3333, 3333}) // ¥100.01: the fen do not divide evenly
	pb := w.productB(t, 2550, 10)
	codesA, codesB := w.Issue(t, pa, 3), []string(nil)
	{ // station B issues its own codes
		var b struct{ ID string }
		w.OpB.Do("POST", "/api/v1/products/"+pb+"/batches", map[string]any{"batch_no": "B" + fixture.RandDigits(6),
			"produced_on": "2026-11-20", "quantity": 2}).Want(201).JSON(&b)
		var out struct{ Codes []struct{ Code string } }
		w.OpB.Do("POST", "/api/v1/batches/"+b.ID+"/codes", map[string]any{"count": 2}).Want(201).JSON(&out)
		for _, c := range out.Codes {
			codesB = append(codesB, c.Code)
		}
	}
	var o fixture.FullOrder
	w.Buyer1.Do("POST", "/api/v1/orders", map[string]any{"items": []map[string]any{
		{"product_id": pa, "quantity": 3}, {"product_id": pb, "quantity": 2}}}, "Idempotency-Key", "ship-1").Want(201).JSON(&o)
	if len(o.Shipments) != 2 || o.TotalFen != 3*10001+2*2550 {
		t.Fatalf("order = %+v", o)
	}
	lineA, lineB := o.Lines[0], o.Lines[1]
	if lineA.ProductID != pa {
		lineA, lineB = lineB, lineA
	}
	shipA := map[string]any{"lines": []map[string]any{{"line_id": lineA.ID, "codes": codesA}}}
	shipB := map[string]any{"lines": []map[string]any{{"line_id": lineB.ID, "codes": codesB}}}
	refundA1 := map[string]any{"lines": []map[string]any{{"line_id": lineA.ID, "quantity": 1}}}

	// Placed: nothing but payment or cancellation.
	w.OpA.Do("POST", "/api/v1/orders/"+o.ID+"/shipments", shipA).State("placed")
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/receipt", nil).State("placed")
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/shipments/"+w.StationA+"/receipt", nil).State("placed")
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/refunds", refundA1, "Idempotency-Key", "r0").State("placed")

	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/payment", nil, "Idempotency-Key", "pay").Want(201)
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/receipt", nil).State("paid")
	r := w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/shipments/"+w.StationA+"/receipt", nil)
	r.State("paid")
	if !strings.Contains(r.Body.String(), `"shipment_status":"pending"`) {
		t.Fatalf("no shipment_status: %s", r.Body.String())
	}
	// Refunds come after receipt.
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/refunds", refundA1, "Idempotency-Key", "r0").Problem(409, "")

	// Every bad field of every line in one problem: a line of another order, malformed and repeated
	// codes, a line listed twice with no codes; nothing ships.
	badShip := w.OpA.Do("POST", "/api/v1/orders/"+o.ID+"/shipments", map[string]any{"lines": []map[string]any{
		{"line_id": uuid.New(), "codes": codesA[:1]}, {"line_id": lineA.ID, "codes": []string{"AAAA", "AAAA", codesA[2]}},
		{"line_id": lineA.ID, "codes": []string{}}}})
	if got, want := badShip.Fields(422), "lines[0].line_id lines[1].codes[0] lines[1].codes[1] lines[2].line_id lines[2].codes"; got != want {
		t.Fatalf("shipment with three bad lines names %q, want %q", got, want)
	}
	w.OpA.Do("POST", "/api/v1/orders/"+o.ID+"/shipments", shipA).Want(200).JSON(&o)
	if o.Status != "paid" || len(o.Shipments) != 1 || o.Shipments[0].Status != "shipped" {
		t.Fatalf("after station A shipped: %+v (a station sees its own shipment)", o)
	}
	// A shipment on its way: too late to cancel; receipt, then refunds.
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/cancel", nil).State("paid")
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/shipments/"+w.StationA+"/receipt", nil).Want(200).JSON(&o)
	if o.Status != "paid" || shipmentStatus(o, w.StationA) != "received" || shipmentStatus(o, w.StationB) != "pending" {
		t.Fatalf("after receipt of A: %+v", o)
	}
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/shipments/"+w.StationA+"/receipt", nil).State("paid")
	fixture.VerifyLedger(t, w.a.DB) // a paid order with one shipment received has that shipment's sale entry only
	sold := make([]int64, 3)
	var soldSum int64
	for i, h := range w.Households {
		sold[i] = w.Income(t, h)
		soldSum += sold[i]
	}
	if soldSum != 3*10001 {
		t.Fatalf("station A's households earned %d fen, want %d", soldSum, 3*10001)
	}
	if got := w.Income(t, w.HouseholdB); got != 0 {
		t.Fatalf("station B's household earned %d before its shipment was received", got)
	}

	w.OpB.Do("POST", "/api/v1/orders/"+o.ID+"/shipments", shipB).Want(200)
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/receipt", nil).Want(200).JSON(&o)
	if o.Status != "completed" || shipmentStatus(o, w.StationB) != "received" {
		t.Fatalf("after receipt of all: %+v", o)
	}
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/receipt", nil).State("completed")
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/payment", nil, "Idempotency-Key", "pay-again").State("completed")
	w.Admin.Do("POST", "/api/v1/orders/"+o.ID+"/cancel", nil).State("completed")
	w.OpA.Do("POST", "/api/v1/orders/"+o.ID+"/shipments", shipA).State("completed")
	if got := w.Income(t, w.HouseholdB); got != 2*2550 {
		t.Fatalf("station B's household earned %d, want %d", got, 2*2550)
	}
	fixture.VerifyLedger(t, w.a.DB)

	// Refund line A one item at a time: each 10001 fen, split over what the households still hold.
	var ref struct {
		ID         string
		AmountFen  int64   `json:"amount_fen"`
		ReturnRef  *string `json:"return_ref"`
		ReturnedAt *string `json:"returned_at"`
	}
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/refunds", refundA1, "Idempotency-Key", "r1").Want(201).JSON(&ref)
	if ref.AmountFen != 10001 || ref.ReturnRef == nil || *ref.ReturnRef != "SIM-RETURN-"+ref.ID || ref.ReturnedAt == nil {
		t.Fatalf("refund of one item: %+v (want 10001 fen paid back under SIM-RETURN-<refund id>)", ref)
	}
	rp := w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/refunds", refundA1, "Idempotency-Key", "r1").Want(200)
	if rp.Header().Get("Idempotency-Replayed") != "true" {
		t.Fatal("refund replay not marked")
	}
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/refunds", map[string]any{"lines": []map[string]any{{"line_id": lineA.ID, "quantity": 2}}},
		"Idempotency-Key", "r1").Problem(409, "Idempotency-Key")
	// Another reason is another request too.
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/refunds", map[string]any{"lines": refundA1["lines"], "reason": "另一个原因"},
		"Idempotency-Key", "r1").Problem(409, "Idempotency-Key")
	w.Buyer2.Do("POST", "/api/v1/orders/"+o.ID+"/refunds", refundA1, "Idempotency-Key", "r-other").Problem(404, "")
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/refunds", map[string]any{"lines": []map[string]any{{"line_id": lineA.ID, "quantity": 3}}},
		"Idempotency-Key", "r-too-many").Problem(409, "lines[0].quantity")
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/refunds", map[string]any{"lines": []map[string]any{{"line_id": lineA.ID, "quantity": 0}}},
		"Idempotency-Key", "r-zero").Problem(422, "lines[0].quantity")
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/refunds", map[string]any{"lines": []map[string]any{}},
		"Idempotency-Key", "r-empty").Problem(422, "lines")
	// Every bad field of every line in one problem: the request's own and the lines not of this order.
	badLines := w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/refunds", map[string]any{"lines": []map[string]any{
		{"line_id": uuid.New(), "quantity": 1}, {"line_id": lineA.ID, "quantity": 0}, {"line_id": uuid.Nil, "quantity": -1}, {"line_id": uuid.New(), "quantity": 1}}},
		"Idempotency-Key", "r-bad-lines")
	if got, want := badLines.Fields(422), "lines[1].quantity lines[2].line_id lines[2].quantity lines[0].line_id lines[3].line_id"; got != want {
		t.Fatalf("refund with four bad lines names %q, want %q", got, want)
	}
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/refunds", refundA1, "Idempotency-Key", "r2").Want(201)
	fixture.VerifyLedger(t, w.a.DB)
	var afterTwo int64
	for _, h := range w.Households {
		afterTwo += w.Income(t, h)
	}
	if afterTwo != 10001 {
		t.Fatalf("after refunding 2 of 3 the households hold %d fen, want 10001", afterTwo)
	}
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/refunds", refundA1, "Idempotency-Key", "r3").Want(201)
	for i, h := range w.Households {
		if got := w.Income(t, h); got != 0 {
			t.Errorf("household %d holds %d fen after the whole line was refunded (sold %d)", i, got, sold[i])
		}
	}
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/refunds", refundA1, "Idempotency-Key", "r4").Problem(409, "lines[0].quantity")

	// The rest of the order in one refund; then nothing is left.
	w.Admin.Do("POST", "/api/v1/orders/"+o.ID+"/refunds", map[string]any{"reason": "质量问题"}, "Idempotency-Key", "all").Want(201).JSON(&ref)
	if ref.AmountFen != 2*2550 {
		t.Fatalf("whole-order refund %d fen, want %d", ref.AmountFen, 2*2550)
	}
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/refunds", map[string]any{}, "Idempotency-Key", "all-again").Problem(409, "")
	if got := w.Income(t, w.HouseholdB); got != 0 {
		t.Fatalf("station B's household holds %d after the refund", got)
	}
	w.Buyer1.Do("GET", "/api/v1/orders/"+o.ID, nil).Want(200).JSON(&o)
	for _, l := range o.Lines {
		if l.RefundedQuantity != l.Quantity {
			t.Fatalf("line %+v not wholly refunded", l)
		}
	}
	var list struct {
		Refunds []struct {
			AmountFen int64 `json:"amount_fen"`
		}
	}
	for _, c := range []struct {
		who   fixture.Client
		n     int
		total int64
	}{{w.Admin, 4, o.TotalFen}, {w.Buyer1, 4, o.TotalFen}, {w.OpA, 3, 3 * 10001}, {w.OpB, 1, 2 * 2550}} {
		list.Refunds = nil
		c.who.Do("GET", "/api/v1/orders/"+o.ID+"/refunds", nil).Want(200).JSON(&list)
		var refunded int64
		for _, r := range list.Refunds {
			refunded += r.AmountFen
		}
		if len(list.Refunds) != c.n || refunded != c.total {
			t.Fatalf("%d refunds of %d fen, want %d of %d (a station sees its own lines)", len(list.Refunds), refunded, c.n, c.total)
		}
	}
	// Everything was refunded and paid back: the unit owes nothing and is owed nothing, and the
	// bank holds nothing of the order.
	var net []struct {
		Kind string
		Fen  int64
	}
	w.a.DB.Raw(`SELECT a.kind, sum(p.amount_fen) AS fen FROM journal_entries e JOIN postings p ON p.entry_id = e.id
		JOIN ledger_accounts a ON a.id = p.account_id WHERE e.order_id = ? AND a.kind IN ('bank', 'unit_receivable')
		GROUP BY a.kind ORDER BY a.kind`, o.ID).Scan(&net)
	if len(net) != 2 || net[0].Fen != 0 || net[1].Fen != 0 {
		t.Fatalf("after refunding the whole order the bank and the unit's receivable net to %+v, want 0 and 0", net)
	}
	fixture.VerifyLedger(t, w.a.DB)
}

func shipmentStatus(o fixture.FullOrder, station string) string {
	for _, s := range o.Shipments {
		if s.StationID == station {
			return s.Status
		}
	}
	return ""
}

// A cancelled order accepts no transition; cancelling releases the stock.
func TestCancelledTransitions(t *testing.T) {
	w := newWorld(t)
	var o fixture.FullOrder
	w.Buyer1.Do("POST", "/api/v1/orders", map[string]any{"items": []map[string]any{{"product_id": w.Product, "quantity": 4}}},
		"Idempotency-Key", "c-1").Want(201).JSON(&o)
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/cancel", nil).Want(200).JSON(&o)
	if o.Status != "cancelled" || o.Shipments[0].Status != "cancelled" {
		t.Fatalf("cancelled order = %+v", o)
	}
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/cancel", nil).State("cancelled")
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/payment", nil, "Idempotency-Key", "p").State("cancelled")
	w.OpA.Do("POST", "/api/v1/orders/"+o.ID+"/shipments", map[string]any{"lines": []map[string]any{{"line_id": o.Lines[0].ID, "codes": []string{"x"}}}}).State("cancelled")
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/receipt", nil).State("cancelled")
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/refunds", map[string]any{}, "Idempotency-Key", "r").State("cancelled")
	var stock int
	w.a.DB.Raw("SELECT stock FROM products WHERE id = ?", w.Product).Scan(&stock)
	if stock != 10 {
		t.Fatalf("stock %d after cancel, want 10", stock)
	}
}

// A paid order cancelled before any shipment ships: the stock comes back, the provider returns
// the money, the payment entry is reversed (the unit owes nothing, the bank holds nothing of it),
// and the order no longer counts in the unit's progress or statement.
func TestCancelPaidOrder(t *testing.T) {
	w := newWorld(t)
	var o fixture.FullOrder
	w.Buyer1.Do("POST", "/api/v1/orders", map[string]any{"items": []map[string]any{{"product_id": w.Product, "quantity": 4}}},
		"Idempotency-Key", "cp-1").Want(201).JSON(&o)
	w.Buyer1.Do("GET", "/api/v1/orders/"+o.ID+"/payment", nil).Problem(404, "") // not paid yet
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/payment", nil, "Idempotency-Key", "cp-pay").Want(201)
	// Another unit's buyer and a station cannot cancel it.
	w.Buyer2.Do("POST", "/api/v1/orders/"+o.ID+"/cancel", nil).Problem(404, "")
	w.OpA.Do("POST", "/api/v1/orders/"+o.ID+"/cancel", nil).Problem(403, "")

	var before struct {
		AmountFen  int64   `json:"amount_fen"`
		ReturnedAt *string `json:"returned_at"`
	}
	w.Buyer1.Do("GET", "/api/v1/orders/"+o.ID+"/payment", nil).Want(200).JSON(&before)
	if before.AmountFen != 40000 || before.ReturnedAt != nil {
		t.Fatalf("the payment before cancelling: %+v", before)
	}
	w.Buyer2.Do("GET", "/api/v1/orders/"+o.ID+"/payment", nil).Problem(404, "")
	w.OpA.Do("GET", "/api/v1/orders/"+o.ID+"/payment", nil).Problem(403, "")

	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/cancel", nil).Want(200).JSON(&o)
	if o.Status != "cancelled" || o.Shipments[0].Status != "cancelled" {
		t.Fatalf("cancelled paid order = %+v", o)
	}
	var after struct {
		ReturnedAt *string `json:"returned_at"`
		ReturnRef  *string `json:"return_ref"`
	}
	w.Admin.Do("GET", "/api/v1/orders/"+o.ID+"/payment", nil).Want(200).JSON(&after)
	if after.ReturnedAt == nil || after.ReturnRef == nil || *after.ReturnRef != "SIM-RETURN-"+o.ID {
		t.Fatalf("the payment as the county office reads it after the cancel: %+v", after)
	}
	var pay struct {
		AmountFen  int64
		ReturnRef  *string
		ReturnedAt *time.Time
	}
	w.a.DB.Raw("SELECT amount_fen, return_ref, returned_at FROM payments WHERE order_id = ?", o.ID).Scan(&pay)
	if pay.AmountFen != 40000 || pay.ReturnRef == nil || *pay.ReturnRef != "SIM-RETURN-"+o.ID || pay.ReturnedAt == nil {
		t.Fatalf("payment after cancel = %+v", pay)
	}
	var net []struct {
		Kind string
		Fen  int64
	}
	w.a.DB.Raw(`SELECT a.kind, sum(p.amount_fen) AS fen FROM journal_entries e JOIN postings p ON p.entry_id = e.id
		JOIN ledger_accounts a ON a.id = p.account_id WHERE e.order_id = ? GROUP BY a.kind ORDER BY a.kind`, o.ID).Scan(&net)
	if len(net) != 2 || net[0].Kind != "bank" || net[0].Fen != 0 || net[1].Kind != "unit_receivable" || net[1].Fen != 0 {
		t.Fatalf("the order's postings net to %+v, want bank 0 and unit_receivable 0", net)
	}
	fixture.VerifyLedger(t, w.a.DB)
	var stock int
	w.a.DB.Raw("SELECT stock FROM products WHERE id = ?", w.Product).Scan(&stock)
	if stock != 10 {
		t.Fatalf("stock %d after cancel, want 10", stock)
	}
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/cancel", nil).State("cancelled")
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/payment", nil, "Idempotency-Key", "cp-pay-2").State("cancelled")
	var st struct {
		Orders    int
		AmountFen int64 `json:"amount_fen"`
	}
	var unitID string
	w.a.DB.Raw("SELECT unit_id::text FROM orders WHERE id = ?", o.ID).Scan(&unitID)
	china := time.FixedZone("CST", 8*3600)
	w.Buyer1.Do("GET", "/api/v1/units/"+unitID+"/statement?period="+time.Now().In(china).Format("2006-01"), nil).Want(200).JSON(&st)
	if st.Orders != 0 || st.AmountFen != 0 {
		t.Fatalf("statement counts the cancelled order: %+v", st)
	}
}

// The expiry pass cancels placed orders older than the timeout and releases their stock; it
// leaves young and paid orders alone and is idempotent (what a restart would run again).
func TestExpireUnpaid(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	place := func(key string, qty int) fixture.FullOrder {
		var o fixture.FullOrder
		w.Buyer1.Do("POST", "/api/v1/orders", map[string]any{"items": []map[string]any{{"product_id": w.Product, "quantity": qty}}},
			"Idempotency-Key", key).Want(201).JSON(&o)
		return o
	}
	old, young, paid := place("old", 3), place("young", 2), place("paid", 1)
	w.Buyer1.Do("POST", "/api/v1/orders/"+paid.ID+"/payment", nil, "Idempotency-Key", "p").Want(201)
	w.a.DB.Exec("UPDATE orders SET placed_at = placed_at - interval '2 hours' WHERE id IN ?", []string{old.ID, paid.ID})
	n, err := w.a.Orders.ExpireUnpaid(ctx, time.Hour)
	if err != nil || n != 1 {
		t.Fatalf("expired %d, %v; want 1", n, err)
	}
	if n, err := w.a.Orders.ExpireUnpaid(ctx, time.Hour); err != nil || n != 0 {
		t.Fatalf("second pass expired %d, %v; want 0", n, err)
	}
	for id, want := range map[string]string{old.ID: "cancelled", young.ID: "placed", paid.ID: "paid"} {
		var o fixture.FullOrder
		w.Buyer1.Do("GET", "/api/v1/orders/"+id, nil).Want(200).JSON(&o)
		if o.Status != want {
			t.Errorf("order %s is %s, want %s", id, o.Status, want)
		}
	}
	var stock int
	w.a.DB.Raw("SELECT stock FROM products WHERE id = ?", w.Product).Scan(&stock)
	if stock != 10-2-1 {
		t.Fatalf("stock %d, want %d", stock, 10-2-1)
	}
	// The job as serve runs it: one pass at start, then stops with its context.
	cctx, cancel := context.WithCancel(ctx)
	w.a.DB.Exec("UPDATE orders SET placed_at = placed_at - interval '2 hours' WHERE id = ?", young.ID)
	done := make(chan struct{})
	go func() { w.a.Orders.RunExpiry(cctx, time.Hour, time.Hour, w.a.Log); close(done) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var status string
		w.a.DB.Raw("SELECT status FROM orders WHERE id = ?", young.ID).Scan(&status)
		if status == "cancelled" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("RunExpiry did not cancel the expired order")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	<-done
}

// Payment callbacks: verified by HMAC; a duplicate changes nothing; unknown, cancelled, wrongly
// signed or wrong-amount callbacks are refused and recorded.
func TestPaymentCallback(t *testing.T) {
	w := newWorld(t)
	secret := []byte(w.a.Config.PaymentSecret)
	anon := fixture.Client{T: t, H: w.a.Router}
	call := func(body string, sig string) fixture.Resp {
		return anon.Do("POST", "/api/v1/payments/callback", body, procurement.SignatureHeader, sig)
	}
	signed := func(body string) fixture.Resp { return call(body, procurement.Sign(secret, []byte(body))) }
	var o fixture.FullOrder
	w.Buyer1.Do("POST", "/api/v1/orders", map[string]any{"items": []map[string]any{{"product_id": w.Product, "quantity": 2}}},
		"Idempotency-Key", "cb-1").Want(201).JSON(&o)
	ref := "WX-" + fixture.RandDigits(10) // references are unique for good: a rerun on this database needs its own
	body := fmt.Sprintf(`{"order_id":%q,"provider_ref":%q,"amount_fen":20000,"status":"succeeded"}`, o.ID, ref)

	call(body, "sha256=00").Problem(422, procurement.SignatureHeader)
	call(body, procurement.Sign([]byte("another-secret-another-secret-xx"), []byte(body))).Problem(422, procurement.SignatureHeader)
	call(body, "").Problem(422, procurement.SignatureHeader)
	signed(fmt.Sprintf(`{"order_id":%q,"provider_ref":%q,"amount_fen":19999,"status":"succeeded"}`, o.ID, ref)).Problem(409, "amount_fen")
	unknown := uuid.Must(uuid.NewV7()).String()
	signed(fmt.Sprintf(`{"order_id":%q,"provider_ref":"WX-9","amount_fen":1,"status":"succeeded"}`, unknown)).Problem(404, "")
	signed(`{"provider_ref":"WX-9","amount_fen":1,"status":"succeeded"}`).Problem(422, "order_id")
	signed(fmt.Sprintf(`{"order_id":%q,"provider_ref":%q,"amount_fen":"20000","status":"succeeded"}`, o.ID, ref)).Problem(422, "amount_fen")
	signed(`[1]`).Problem(422, "body")
	signed(fmt.Sprintf(`{"order_id":%q,"provider_ref":"WX-\u0000","amount_fen":20000,"status":"succeeded"}`, o.ID)).Problem(422, "provider_ref")

	var out struct{ Outcome string }
	signed(body).Want(200).JSON(&out)
	if out.Outcome != "paid" {
		t.Fatalf("outcome %q", out.Outcome)
	}
	// The same reference for another order is refused on provider_ref (it was a 500), and that
	// order stays unpaid.
	var o2 fixture.FullOrder
	w.Buyer1.Do("POST", "/api/v1/orders", map[string]any{"items": []map[string]any{{"product_id": w.Product, "quantity": 2}}},
		"Idempotency-Key", "cb-other-ref").Want(201).JSON(&o2)
	signed(fmt.Sprintf(`{"order_id":%q,"provider_ref":%q,"amount_fen":20000,"status":"succeeded"}`, o2.ID, ref)).Problem(409, "provider_ref")
	w.Buyer1.Do("GET", "/api/v1/orders/"+o2.ID, nil).Want(200).JSON(&o2)
	if o2.Status != "placed" {
		t.Errorf("order paid by another's reference: %s", o2.Status)
	}
	var entries, payments int64
	count := func() {
		w.a.DB.Raw("SELECT count(*) FROM journal_entries WHERE order_id = ?", o.ID).Scan(&entries)
		w.a.DB.Raw("SELECT count(*) FROM payments WHERE order_id = ?", o.ID).Scan(&payments)
	}
	count()
	if entries != 1 || payments != 1 {
		t.Fatalf("after payment: %d entries, %d payments", entries, payments)
	}
	for i := 0; i < 3; i++ {
		signed(body).Want(200).JSON(&out)
		if out.Outcome != "duplicate" {
			t.Fatalf("duplicate outcome %q", out.Outcome)
		}
	}
	count()
	if entries != 1 || payments != 1 {
		t.Fatalf("after duplicates: %d entries, %d payments", entries, payments)
	}
	signed(fmt.Sprintf(`{"order_id":%q,"provider_ref":"WX-0002-%s","amount_fen":20000,"status":"succeeded"}`, o.ID, ref)).State("paid")

	var c fixture.FullOrder
	w.Buyer1.Do("POST", "/api/v1/orders", map[string]any{"items": []map[string]any{{"product_id": w.Product, "quantity": 1}}},
		"Idempotency-Key", "cb-2").Want(201).JSON(&c)
	w.Buyer1.Do("POST", "/api/v1/orders/"+c.ID+"/cancel", nil).Want(200)
	late := fmt.Sprintf(`{"order_id":%q,"provider_ref":"WX-0003-%s","amount_fen":10000,"status":"succeeded"}`, c.ID, ref)
	signed(late).State("cancelled")
	// Refused, but the unit's money was taken: it is recorded and returned at once.
	var pay struct {
		AmountFen int64
		ReturnRef *string
	}
	w.a.DB.Raw("SELECT amount_fen, return_ref FROM payments WHERE order_id = ? AND provider_ref = ?", c.ID, "WX-0003-"+ref).Scan(&pay)
	if pay.AmountFen != 10000 || pay.ReturnRef == nil || *pay.ReturnRef != "SIM-RETURN-"+c.ID {
		t.Fatalf("the late callback's money: %+v; want 10000 fen recorded and returned", pay)
	}
	signed(late).Want(200).JSON(&out) // the provider's retry: nothing more moves
	if out.Outcome != "duplicate" {
		t.Fatalf("repeat of the late callback: outcome %q", out.Outcome)
	}
	signed(fmt.Sprintf(`{"order_id":%q,"provider_ref":"WX-0004-%s","status":"failed"}`, c.ID, ref)).Want(200).JSON(&out)
	if out.Outcome != "ignored" {
		t.Fatalf("failed callback outcome %q", out.Outcome)
	}
	var refused int64
	w.a.DB.Raw("SELECT count(*) FROM payment_callbacks WHERE order_id IN (?, ?, ?)", o.ID, c.ID, unknown).Scan(&refused)
	if refused != 4 { // wrong amount, unknown order, other reference, cancelled order
		t.Fatalf("%d refused callbacks recorded, want 4", refused)
	}
	fixture.VerifyLedger(t, w.a.DB)
}

// 50 buyers race for the last 10 units: exactly 10 orders succeed, the other 40 get a 409
// "insufficient stock", and the stock ends at 0.
func TestFiftyRaceForLastTen(t *testing.T) {
	w := newWorld(t)
	p := w.ListProduct(t, 500, 10, []int{10000})
	var ok, conflict atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			b := []fixture.Client{w.Buyer1, w.Buyer2}[i%2]
			r := b.Do("POST", "/api/v1/orders", map[string]any{"items": []map[string]any{{"product_id": p, "quantity": 1}}},
				"Idempotency-Key", fmt.Sprintf("fifty-%d", i))
			switch {
			case r.Code == http.StatusCreated:
				ok.Add(1)
			case r.Code == http.StatusConflict && strings.Contains(r.Body.String(), "insufficient stock"):
				conflict.Add(1)
			default:
				t.Errorf("unexpected %d: %s", r.Code, r.Body.String())
			}
		}(i)
	}
	wg.Wait()
	var stock int
	w.a.DB.Raw("SELECT stock FROM products WHERE id = ?", p).Scan(&stock)
	if ok.Load() != 10 || conflict.Load() != 40 || stock != 0 {
		t.Fatalf("%d sold, %d refused, stock %d; want 10, 40, 0", ok.Load(), conflict.Load(), stock)
	}
}

// Two bulk orders with the same products in opposite order, [A×10, B×5] and [B×5, A×10], 200
// rounds by 20 workers: never a deadlock or a 500, and the final stock is the initial less what
// was sold (stock for fewer than all rounds, so "insufficient stock" is exercised too).
func TestOppositeOrdersNoDeadlock(t *testing.T) {
	w := newWorld(t)
	const rounds, workers, initA, initB = 200, 20, 3000, 1500
	a := w.ListProduct(t, 300, initA, []int{10000})
	b := w.ListProduct(t, 200, initB, []int{10000})
	bodies := []map[string]any{
		{"items": []map[string]any{{"product_id": a, "quantity": 10}, {"product_id": b, "quantity": 5}}},
		{"items": []map[string]any{{"product_id": b, "quantity": 5}, {"product_id": a, "quantity": 10}}},
	}
	jobs := make(chan int)
	var sold, refused atomic.Int32
	var wg sync.WaitGroup
	for k := 0; k < workers; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				buyer := []fixture.Client{w.Buyer1, w.Buyer2}[j%2]
				r := buyer.Do("POST", "/api/v1/orders", bodies[j%2], "Idempotency-Key", fmt.Sprintf("opp-%d", j))
				switch {
				case r.Code == http.StatusCreated:
					sold.Add(1)
				case r.Code == http.StatusConflict && strings.Contains(r.Body.String(), "insufficient stock"):
					refused.Add(1)
				default:
					t.Errorf("order %d: %d %s", j, r.Code, r.Body.String())
				}
			}
		}()
	}
	for j := 0; j < 2*rounds; j++ {
		jobs <- j
	}
	close(jobs)
	wg.Wait()
	var stockA, stockB int
	w.a.DB.Raw("SELECT stock FROM products WHERE id = ?", a).Scan(&stockA)
	w.a.DB.Raw("SELECT stock FROM products WHERE id = ?", b).Scan(&stockB)
	n := int(sold.Load())
	if n+int(refused.Load()) != 2*rounds || stockA != initA-10*n || stockB != initB-5*n || n != 300 {
		t.Fatalf("%d sold, %d refused; stock A %d (want %d), B %d (want %d)", n, refused.Load(), stockA, initA-10*n, stockB, initB-5*n)
	}
}

// A 1,000-line order is placed (lines for the same product merged first); 1,001 lines are refused.
func TestThousandLineOrder(t *testing.T) {
	w := newWorld(t)
	a := w.ListProduct(t, 100, 5000, []int{10000})
	b := w.ListProduct(t, 200, 5000, []int{10000})
	items := make([]map[string]any, 1000)
	for i := range items {
		items[i] = map[string]any{"product_id": []string{a, b}[i%2], "quantity": 1 + i%3}
	}
	// The test app's body limit is 64 KiB; the default of 1 MiB holds 1,000 lines easily.
	cfg := w.a.Config
	cfg.BodyLimitBytes = 1 << 20
	big, err := app.New(cfg, w.a.DB, w.a.Cache, w.a.Log)
	if err != nil {
		t.Fatal(err)
	}
	buyer := fixture.Client{T: t, H: big.Router, Token: w.Buyer1.Token}
	var o fixture.FullOrder
	buyer.Do("POST", "/api/v1/orders", map[string]any{"items": items}, "Idempotency-Key", "k1000").Want(201).JSON(&o)
	var qa, qb int
	for i := range items {
		if i%2 == 0 {
			qa += 1 + i%3
		} else {
			qb += 1 + i%3
		}
	}
	if len(o.Lines) != 2 || o.TotalFen != int64(qa*100+qb*200) {
		t.Fatalf("merged order has %d lines, total %d; want 2 lines, %d", len(o.Lines), o.TotalFen, qa*100+qb*200)
	}
	var stock int
	w.a.DB.Raw("SELECT stock FROM products WHERE id = ?", a).Scan(&stock)
	if stock != 5000-qa {
		t.Fatalf("stock of A %d, want %d", stock, 5000-qa)
	}
	buyer.Do("POST", "/api/v1/orders", map[string]any{"items": append(items, items[0])}, "Idempotency-Key", "k1001").Problem(422, "items")
	// A replay of a key whose order took the last stock still answers with that order.
	w.Buyer1.Do("POST", "/api/v1/orders", map[string]any{"items": []map[string]any{{"product_id": a, "quantity": 5000 - qa}}},
		"Idempotency-Key", "last").Want(201)
	r := w.Buyer1.Do("POST", "/api/v1/orders", map[string]any{"items": []map[string]any{{"product_id": a, "quantity": 5000 - qa}}},
		"Idempotency-Key", "last").Want(200)
	if r.Header().Get("Idempotency-Replayed") != "true" {
		t.Fatal("replay after the stock ran out not marked")
	}
}

// downProvider charges like the simulated provider but cannot return money.
type downProvider struct{ procurement.SimulatedProvider }

func (downProvider) Return(context.Context, uuid.UUID, string, money.Money) (string, error) {
	return "", fmt.Errorf("provider unreachable")
}

// A refund whose money the provider cannot pay back at once is still made, its money owed: the
// refund row, the line's refunded quantity and the refund entry are committed, returned_at is
// null and no refund_payment entry exists, and the ledger verifies. Once the provider is back,
// the background pass returns every refund owed and not held exactly once, even run by several
// replicas at once, and a replay of the request shows the money returned.
func TestRefundProviderDown(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	o, down, owed := w.owedRefunds(t, "down-1", "down-2")
	var refunded, paidBack int64
	w.a.DB.Raw("SELECT refunded_quantity FROM order_lines WHERE id = ?", o.Lines[0].ID).Scan(&refunded)
	w.a.DB.Raw("SELECT count(*) FROM journal_entries WHERE kind = 'refund_payment' AND order_id = ?", o.ID).Scan(&paidBack)
	if refunded != 2 || paidBack != 0 {
		t.Fatalf("after refunds with the provider down: refunded quantity %d, %d refund_payment entries; want 2 and 0", refunded, paidBack)
	}
	if out := fixture.VerifyLedger(t, w.a.DB); !strings.Contains(out, "owed back to units, not yet returned by the payment provider: 20000 fen (¥200.00) in 2") {
		t.Fatalf("verify does not show the money owed:\n%s", out)
	}
	metrics := func() string {
		req := httptest.NewRequest("GET", "/metrics", nil)
		req.RemoteAddr = net.JoinHostPort("127.0.0.1", "40000") // Prometheus on the host: no token needed
		rec := httptest.NewRecorder()
		w.a.Router.ServeHTTP(rec, req)
		return fixture.Resp{ResponseRecorder: rec, T: t}.Want(200).Body.String()
	}
	if m := metrics(); !strings.Contains(m, "\nfupin_returns_owed 2\n") || !strings.Contains(m, "\nfupin_returns_owed_fen 20000\n") {
		t.Fatalf("/metrics does not show the 2 returns owed:\n%s", m)
	}
	if n, err := down.ReturnOwed(ctx); n != 0 || !apperr.Is(err, apperr.KindUnavailable) {
		t.Fatalf("a pass with the provider still down: %d returned, %v; want 0 and Unavailable", n, err)
	}

	// The county office holds one back: the pass returns the other, verify shows the held one.
	w.a.DB.Exec("UPDATE refunds SET return_held = ? WHERE id = ?", "settled in cash, ask the unit", owed[1])
	if n, err := w.a.Orders.ReturnOwed(ctx); n != 1 || err != nil {
		t.Fatalf("a pass with one refund held: %d returned, %v; want 1", n, err)
	}
	if out := fixture.VerifyLedger(t, w.a.DB); !strings.Contains(out, "owed back to units, held back by the county office (return_held): 10000 fen (¥100.00) in 1") {
		t.Fatalf("verify does not show the held return:\n%s", out)
	}
	// The county office sees the same in the console: the returns owed (the one not held was
	// returned above, so only the held one is left) and verify's report.
	var list struct {
		HeldCount int `json:"held_count"`
		Returns   []struct {
			Kind, ID string
			Held     *string
			UnitName string `json:"unit_name"`
		}
	}
	w.Admin.Do("GET", "/api/v1/returns/owed", nil).Want(200).JSON(&list)
	if len(list.Returns) != 1 || list.Returns[0].ID != owed[1].String() || list.HeldCount != 1 || list.Returns[0].Kind != "refund" || list.Returns[0].Held == nil || list.Returns[0].UnitName == "" {
		t.Fatalf("returns owed with one held: %+v", list)
	}
	var report struct {
		Mismatches int
		Lines      []string
	}
	w.Admin.Do("GET", "/api/v1/ledger/verify", nil).Want(200).JSON(&report)
	if report.Mismatches != 0 || !strings.Contains(strings.Join(report.Lines, "\n"), "held back by the county office") {
		t.Fatalf("GET /ledger/verify: %+v", report)
	}
	w.OpA.Do("GET", "/api/v1/returns/owed", nil).Want(403)
	w.Buyer1.Do("GET", "/api/v1/ledger/verify", nil).Want(403)
	w.a.DB.Exec("UPDATE refunds SET return_held = NULL WHERE id = ?", owed[1])

	var wg sync.WaitGroup
	var returned atomic.Int64
	for range 4 { // four replicas' passes at once
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := w.a.Orders.ReturnOwed(ctx)
			if err != nil {
				t.Error(err)
			}
			returned.Add(int64(n))
		}()
	}
	wg.Wait()
	w.a.DB.Raw("SELECT count(*) FROM journal_entries WHERE kind = 'refund_payment' AND order_id = ?", o.ID).Scan(&paidBack)
	if paidBack != 2 || returned.Load() != 1 {
		t.Fatalf("after the passes: %d refund_payment entries, %d returns counted; want 2 entries, the last return counted once", paidBack, returned.Load())
	}
	if n, err := w.a.Orders.ReturnOwed(ctx); n != 0 || err != nil {
		t.Fatalf("a pass with nothing owed: %d, %v", n, err)
	}
	if out := fixture.VerifyLedger(t, w.a.DB); strings.Contains(out, "owed") {
		t.Fatalf("verify still shows money owed after the pass:\n%s", out)
	}
	if m := metrics(); !strings.Contains(m, "\nfupin_returns_owed 0\n") || !strings.Contains(m, "\nfupin_returns_owed_oldest_seconds 0\n") {
		t.Fatalf("/metrics after the returns:\n%s", m)
	}

	var ref struct {
		ID        string
		ReturnRef *string `json:"return_ref"`
	}
	w.Admin.Do("POST", "/api/v1/orders/"+o.ID+"/refunds", map[string]any{"lines": []map[string]any{{"line_id": o.Lines[0].ID, "quantity": 1}}},
		"Idempotency-Key", "down-1").Want(200).JSON(&ref)
	if ref.ID != owed[0].String() || ref.ReturnRef == nil || *ref.ReturnRef != "SIM-RETURN-"+ref.ID {
		t.Fatalf("replay of the first refund after its return: %+v", ref)
	}
}

// pickyProvider cannot return the money of the returns named in bad.
type pickyProvider struct {
	procurement.SimulatedProvider
	bad map[uuid.UUID]bool
}

func (p pickyProvider) Return(ctx context.Context, id uuid.UUID, ref string, amount money.Money) (string, error) {
	if p.bad[id] {
		return "", fmt.Errorf("charge too old to return")
	}
	return p.SimulatedProvider.Return(ctx, id, ref, amount)
}

// One return the provider keeps refusing does not hold up the others: the pass goes on past it,
// counts the failure on its row (tried after the others next time), and a row another
// transaction holds is skipped at once rather than waited for.
func TestReturnOwedGoesOnPastFailures(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	_, _, owed := w.owedRefunds(t, "poison", "fine")
	first, second := owed[0], owed[1]
	picky := procurement.NewOrders(w.a.DB, procurement.LedgerOf(w.a.Ledger), w.a.Trace, pickyProvider{bad: map[uuid.UUID]bool{first: true}}, w.a.Log)
	if n, err := picky.ReturnOwed(ctx); n != 1 || err == nil {
		t.Fatalf("pass with the oldest return refused: %d returned, %v; want the other one returned and the failure reported", n, err)
	}
	var row struct {
		ReturnAttempts int
		ReturnError    string
		Returned       bool
	}
	state := func(id uuid.UUID) {
		w.a.DB.Raw("SELECT return_attempts, coalesce(return_error, '') AS return_error, returned_at IS NOT NULL AS returned FROM refunds WHERE id = ?", id).Scan(&row)
	}
	state(first)
	if row.Returned || row.ReturnAttempts != 2 || !strings.Contains(row.ReturnError, "too old") {
		// 2: the immediate attempt with the provider down, then the pass's
		t.Fatalf("the refused refund: %+v; want owed, 2 attempts, the provider's reason", row)
	}
	state(second)
	if !row.Returned {
		t.Fatalf("the refund behind the refused one was not returned: %+v", row)
	}

	tx := w.a.DB.Begin()
	if err := tx.Exec("SELECT 1 FROM refunds WHERE id = ? FOR UPDATE", first).Error; err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if n, err := w.a.Orders.ReturnOwed(ctx); n != 0 || err != nil {
			t.Errorf("pass with the only owed row held elsewhere: %d, %v; want it skipped", n, err)
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Error("the pass waited for a row another transaction holds")
	}
	tx.Rollback()
	<-done
	if n, err := w.a.Orders.ReturnOwed(ctx); n != 1 || err != nil {
		t.Fatalf("pass once the row is free: %d, %v; want 1", n, err)
	}
	fixture.VerifyLedger(t, w.a.DB)
}

// A paid order cancelled while the provider cannot return the money is cancelled all the same
// (stock back, shipments cancelled) and its payment owed: the payment entry stands (the bank still
// holds the money) until the background pass returns it and reverses the entry.
func TestCancelProviderDown(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	var o fixture.FullOrder
	w.Buyer1.Do("POST", "/api/v1/orders", map[string]any{"items": []map[string]any{{"product_id": w.Product, "quantity": 3}}},
		"Idempotency-Key", "cd-1").Want(201).JSON(&o)
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/payment", nil, "Idempotency-Key", "cd-pay").Want(201)
	var admin auth.Principal
	w.a.DB.Raw("SELECT id AS user_id FROM users WHERE role = 'admin' LIMIT 1").Scan(&admin)
	admin.Role = auth.RoleAdmin
	down := procurement.NewOrders(w.a.DB, procurement.LedgerOf(w.a.Ledger), w.a.Trace, downProvider{}, w.a.Log)
	got, err := down.Cancel(ctx, admin, fixture.MustUUID(t, o.ID))
	if err != nil || got.Status != procurement.StatusCancelled {
		t.Fatalf("cancel with the provider down: %v, %v", got.Status, err)
	}
	var pay struct {
		ReturnDue  bool
		ReturnedAt *time.Time
	}
	payment := func() {
		w.a.DB.Raw("SELECT return_due_at IS NOT NULL AS return_due, returned_at FROM payments WHERE order_id = ?", o.ID).Scan(&pay)
	}
	bank := func() (fen int64) {
		w.a.DB.Raw(`SELECT coalesce(sum(p.amount_fen), 0) FROM journal_entries e JOIN postings p ON p.entry_id = e.id
			JOIN ledger_accounts a ON a.id = p.account_id WHERE e.order_id = ? AND a.kind = 'bank'`, o.ID).Scan(&fen)
		return fen
	}
	payment()
	var stock int
	w.a.DB.Raw("SELECT stock FROM products WHERE id = ?", w.Product).Scan(&stock)
	if !pay.ReturnDue || pay.ReturnedAt != nil || bank() != 30000 || stock != 10 {
		t.Fatalf("after cancel with the provider down: payment %+v, bank %d, stock %d; want owed, 30000 held, 10", pay, bank(), stock)
	}
	fixture.VerifyLedger(t, w.a.DB)
	if n, err := w.a.Orders.ReturnOwed(ctx); n != 1 || err != nil {
		t.Fatalf("the pass: %d, %v; want 1 returned", n, err)
	}
	payment()
	if pay.ReturnedAt == nil || bank() != 0 {
		t.Fatalf("after the pass: payment %+v, bank %d; want returned and 0", pay, bank())
	}
	fixture.VerifyLedger(t, w.a.DB)
}

// placedByBuyer1 places an order of 2 of w.Product (¥100.00 each) by Buyer1 under key, and
// returns it with buyer1's principal for service-level calls.
func (w world) placedByBuyer1(t *testing.T, key string) (fixture.FullOrder, auth.Principal) {
	t.Helper()
	var o fixture.FullOrder
	w.Buyer1.Do("POST", "/api/v1/orders", map[string]any{"items": []map[string]any{{"product_id": w.Product, "quantity": 2}}},
		"Idempotency-Key", key).Want(201).JSON(&o)
	var buyer auth.Principal
	w.a.DB.Raw("SELECT id AS user_id, unit_id FROM users WHERE id = (SELECT placed_by FROM orders WHERE id = ?)", o.ID).Scan(&buyer)
	buyer.Role = auth.RoleBuyer
	return o, buyer
}

// owedRefunds receives an order (ReceivedOrder) and refunds one item of it under each key while
// the provider cannot return money: each refund is made, ¥100.00 owed. It returns the order, the
// service with the provider down, and the refunds' ids.
func (w world) owedRefunds(t *testing.T, keys ...string) (fixture.FullOrder, *procurement.Orders, []uuid.UUID) {
	t.Helper()
	o, admin := w.ReceivedOrder(t)
	down := procurement.NewOrders(w.a.DB, procurement.LedgerOf(w.a.Ledger), w.a.Trace, downProvider{}, w.a.Log)
	one := procurement.RefundRequest{Lines: []procurement.RefundItem{{LineID: fixture.MustUUID(t, o.Lines[0].ID), Quantity: 1}}}
	var owed []uuid.UUID
	for _, key := range keys {
		r, _, err := down.Refund(context.Background(), admin, fixture.MustUUID(t, o.ID), key, one)
		if err != nil || r.ReturnedAt != nil || r.ReturnRef != nil || r.AmountFen != 10000 {
			t.Fatalf("refund %s with the provider down: %+v, %v; want it made, ¥100.00 owed", key, r, err)
		}
		owed = append(owed, r.ID)
	}
	return o, down, owed
}

// countingProvider records the ids of the returns asked of it.
type countingProvider struct {
	procurement.SimulatedProvider
	mu      sync.Mutex
	returns map[uuid.UUID]int
}

func (p *countingProvider) Return(ctx context.Context, id uuid.UUID, ref string, amount money.Money) (string, error) {
	p.mu.Lock()
	p.returns[id]++
	p.mu.Unlock()
	return p.SimulatedProvider.Return(ctx, id, ref, amount)
}

// failingLedger fails the next PostRefundPayment calls with err, after the provider has returned
// the money: a deadlock (retried inside the service) or a lost connection (the client retries).
type failingLedger struct {
	*ledger.Service
	fails int
	err   error
}

func (l *failingLedger) WithTx(tx *gorm.DB) procurement.LedgerTx {
	return failingLedgerTx{l.Service.WithTx(tx), l}
}

type failingLedgerTx struct {
	ledger.Tx
	l *failingLedger
}

func (t failingLedgerTx) PostRefundPayment(ctx context.Context, refundID, orderID, unitID uuid.UUID, amount money.Money, ref string, at time.Time) (uuid.UUID, error) {
	if t.l.fails > 0 {
		t.l.fails--
		return uuid.Nil, t.l.err
	}
	return t.Tx.PostRefundPayment(ctx, refundID, orderID, unitID, amount, ref, at)
}

// cancellingProvider cancels the order as it charges it: the buyer's cancel (or the unpaid-order
// expiry) wins the race between the charge and the paid-status update.
type cancellingProvider struct {
	procurement.SimulatedProvider
	cancel func(orderID uuid.UUID)
}

func (p cancellingProvider) Charge(ctx context.Context, orderID uuid.UUID, amount money.Money) (string, error) {
	p.cancel(orderID)
	return p.SimulatedProvider.Charge(ctx, orderID, amount)
}

// A payment whose order is cancelled after the charge was taken is refused (409, cancelled), and
// the charge is not lost: it is recorded as a payment owed back (claiming no key, so it never
// replays as the client's payment) and returned, its entry reversed; a retry changes nothing.
func TestPayLosesRaceToCancel(t *testing.T) {
	w := newWorld(t)
	o, buyer := w.placedByBuyer1(t, "race-1")
	var orders *procurement.Orders
	orders = procurement.NewOrders(w.a.DB, procurement.LedgerOf(w.a.Ledger), w.a.Trace, cancellingProvider{cancel: func(id uuid.UUID) {
		if _, err := orders.Cancel(context.Background(), buyer, id); err != nil {
			t.Errorf("cancel during the charge: %v", err)
		}
	}}, w.a.Log)
	_, _, err := orders.Pay(context.Background(), buyer, fixture.MustUUID(t, o.ID), "race-pay")
	if e, ok := apperr.As(err); !ok || e.Kind != apperr.KindConflict || !strings.Contains(e.Msg, "goes back to the unit") {
		t.Fatalf("pay that lost to a cancel: %v; want a Conflict saying the charge goes back", err)
	}
	var pay struct {
		Keys      int
		AmountFen int64
		ReturnRef *string
	}
	w.a.DB.Raw(`SELECT (SELECT count(*) FROM idempotency_keys WHERE scope = 'payment:' || p.order_id) AS keys, amount_fen, return_ref
		FROM payments p WHERE order_id = ?`, o.ID).Scan(&pay)
	if pay.Keys != 0 || pay.AmountFen != 20000 || pay.ReturnRef == nil {
		t.Fatalf("the late charge: %+v; want recorded under no key of the client's and returned", pay)
	}
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/payment", nil, "Idempotency-Key", "race-pay").State("cancelled")
	fixture.VerifyLedger(t, w.a.DB)
}

// goneProvider charges, and then the client goes away (its request's context ends).
type goneProvider struct {
	procurement.SimulatedProvider
	gone context.CancelFunc
}

func (p goneProvider) Charge(ctx context.Context, orderID uuid.UUID, amount money.Money) (string, error) {
	ref, err := p.SimulatedProvider.Charge(ctx, orderID, amount)
	p.gone()
	return ref, err
}

// A client that goes away once the charge is taken does not leave it unrecorded: the payment is
// written all the same and the order is paid.
func TestPayClientGoneAfterCharge(t *testing.T) {
	w := newWorld(t)
	o, buyer := w.placedByBuyer1(t, "gone-1")
	ctx, gone := context.WithCancel(context.Background())
	orders := procurement.NewOrders(w.a.DB, procurement.LedgerOf(w.a.Ledger), w.a.Trace, goneProvider{gone: gone}, w.a.Log)
	if _, _, err := orders.Pay(ctx, buyer, fixture.MustUUID(t, o.ID), "gone-pay"); err != nil {
		t.Fatalf("pay whose client went after the charge: %v", err)
	}
	var status string
	w.a.DB.Raw("SELECT status FROM orders WHERE id = ?", o.ID).Scan(&status)
	if status != "paid" {
		t.Fatalf("order %s after a charge whose client went; want paid", status)
	}
	fixture.VerifyLedger(t, w.a.DB)
}

// A return retried after the provider paid it (by the service after a deadlock, or by the client
// repeating the request after the return's commit was lost) asks for the same return id: the
// money moves once.
func TestRefundRetriedPaysBackOnce(t *testing.T) {
	w := newWorld(t)
	o, admin := w.ReceivedOrder(t)
	provider := &countingProvider{returns: map[uuid.UUID]int{}}
	flaky := &failingLedger{Service: w.a.Ledger, fails: 1, err: &pgconn.PgError{Code: apperr.PgDeadlockDetected}}
	orders := procurement.NewOrders(w.a.DB, flaky, w.a.Trace, provider, w.a.Log)
	one := procurement.RefundRequest{Lines: []procurement.RefundItem{{LineID: fixture.MustUUID(t, o.Lines[0].ID), Quantity: 1}}}
	r, _, err := orders.Refund(context.Background(), admin, fixture.MustUUID(t, o.ID), "retried", one)
	if err != nil || r.ReturnedAt == nil || len(provider.returns) != 1 || provider.returns[r.ID] != 2 {
		t.Fatalf("return retried after a deadlock: %v, returns asked %v; want one return id (the refund's), asked twice", err, provider.returns)
	}

	flaky.fails, flaky.err = 1, errors.New("connection lost")
	r2, _, err := orders.Refund(context.Background(), admin, fixture.MustUUID(t, o.ID), "client-retry", one)
	if err != nil || r2.ReturnedAt != nil || provider.returns[r2.ID] != 1 {
		t.Fatalf("refund whose return's commit was lost: %+v, %v, returns asked %v; want the refund made, its money owed", r2, err, provider.returns)
	}
	r3, replayed, err := orders.Refund(context.Background(), admin, fixture.MustUUID(t, o.ID), "client-retry", one)
	if err != nil || !replayed || r3.ID != r2.ID || r3.ReturnedAt == nil || len(provider.returns) != 2 || provider.returns[r2.ID] != 2 {
		t.Fatalf("the client's retry with the same key: %+v, %v, returns asked %v; want the first return id asked again", r3, err, provider.returns)
	}
	fixture.VerifyLedger(t, w.a.DB)
}

// An order line's station is its product's station (migration 00047): the database refuses a line
// moved to another station.
func TestLineStationIsProductStation(t *testing.T) {
	w := newWorld(t)
	var o fixture.FullOrder
	w.Buyer1.Do("POST", "/api/v1/orders", map[string]any{"items": []map[string]any{{"product_id": w.Product, "quantity": 1}}},
		"Idempotency-Key", "line-station").Want(201).JSON(&o)
	if o.Lines[0].StationID != w.StationA {
		t.Fatalf("line station %s, want station A %s", o.Lines[0].StationID, w.StationA)
	}
	err := w.a.DB.Exec("UPDATE order_lines SET station_id = ? WHERE id = ?", w.StationB, o.Lines[0].ID).Error
	if apperr.PgConstraint(err) != "order_lines_product_station_fkey" {
		t.Fatalf("moving a line to another station: %v, want order_lines_product_station_fkey refused", err)
	}
}

// A station's list of orders shows the total of its own lines, as the order itself does for it:
// the order's total would tell it what the unit bought of other stations. The buyer and the
// county office see the whole order.
func TestStationListShowsItsOwnTotal(t *testing.T) {
	w := newWorld(t)
	pb := w.productB(t, 2550, 10)
	var o fixture.FullOrder
	w.Buyer1.Do("POST", "/api/v1/orders", map[string]any{"items": []map[string]any{
		{"product_id": w.Product, "quantity": 3}, {"product_id": pb, "quantity": 2}}}, "Idempotency-Key", "own-total-"+fixture.RandDigits(6)).
		Want(201).JSON(&o)
	for _, c := range []struct {
		name   string
		client fixture.Client
		want   int64
	}{{"station A", w.OpA, 3 * 10000}, {"station B", w.OpB, 2 * 2550}, {"buyer", w.Buyer1, 3*10000 + 2*2550}, {"admin", w.Admin, 3*10000 + 2*2550}} {
		var list struct{ Orders []fixture.FullOrder }
		c.client.Do("GET", "/api/v1/orders?limit=200", nil).Want(200).JSON(&list)
		var one fixture.FullOrder
		c.client.Do("GET", "/api/v1/orders/"+o.ID, nil).Want(200).JSON(&one)
		found := false
		for _, l := range list.Orders {
			if l.ID == o.ID {
				found = true
				if l.TotalFen != c.want || one.TotalFen != c.want {
					t.Errorf("%s: list total %d, order total %d, want %d", c.name, l.TotalFen, one.TotalFen, c.want)
				}
			}
		}
		if !found {
			t.Errorf("%s does not list the order", c.name)
		}
	}
}
