package app

import (
	"strings"
	"testing"
	"time"

	"github.com/fupinmarket/fupin/internal/fixture"
)

// scanned is what these tests read of a scan's JSON view.
type scanned struct {
	Verdict string
	Sale    *struct {
		ReceivedAt   *time.Time `json:"received_at"`
		LineQuantity int        `json:"line_quantity"`
		LineRefunded int        `json:"line_refunded_quantity"`
	}
	Households []struct {
		HeadName string `json:"head_name"`
		ItemFen  int64  `json:"item_income_fen"`
		ItemYuan string `json:"item_income"`
	}
	Events []struct {
		BizStep    string    `json:"biz_step"`
		OccurredAt time.Time `json:"occurred_at"`
	}
}

// A line refunded item by item: while part of it is refunded no code of it is known to be
// returned (refunds count items), so each stays genuine with the line's count; once every item is
// refunded each of its codes says so, claims no income, and no cached view keeps the old text.
func TestScanOfRefundedItems(t *testing.T) {
	w := newWorld(t)
	codes := w.Issue(t, w.Product, 3)
	var o fixture.Order
	w.Buyer1.Do("POST", "/api/v1/orders", map[string]any{"items": []map[string]any{{"product_id": w.Product, "quantity": 3}}},
		"Idempotency-Key", "refund-scan").Want(201).JSON(&o)
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/payment", nil, "Idempotency-Key", "refund-scan-pay").Want(201)
	w.OpA.Do("POST", "/api/v1/orders/"+o.ID+"/shipments", map[string]any{"lines": []map[string]any{
		{"line_id": o.Lines[0].ID, "codes": codes}}}).Want(200)
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/receipt", nil).Want(200)
	anon := fixture.Client{T: t, H: w.a.Router}
	scan := func(code string) (v scanned, page string) {
		anon.Do("GET", "/api/v1/trace/"+code, nil).Want(200).JSON(&v)
		page = anon.Do("GET", "/t/"+code, nil).Want(200).Body.String()
		return v, page
	}
	v, page := scan(codes[0]) // cached now
	if v.Verdict != "genuine" || v.Households[0].ItemFen != 3334 || !strings.Contains(page, "本件增收") {
		t.Fatalf("before any refund: %+v", v)
	}

	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/refunds", map[string]any{"lines": []map[string]any{
		{"line_id": o.Lines[0].ID, "quantity": 2}}}, "Idempotency-Key", "refund-scan-1").Want(201)
	v, page = scan(codes[0])
	if v.Verdict != "genuine" || v.Sale.LineQuantity != 3 || v.Sale.LineRefunded != 2 || v.Households[0].ItemFen != 3334 {
		t.Errorf("after 2 of 3 refunded: %+v %+v", v, *v.Sale)
	}
	if !strings.Contains(page, "本次采购3件中已退货退款2件") {
		t.Errorf("the page of a partly refunded line does not say so:\n%s", page)
	}

	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/refunds", map[string]any{"lines": []map[string]any{
		{"line_id": o.Lines[0].ID, "quantity": 1}}}, "Idempotency-Key", "refund-scan-2").Want(201)
	for _, c := range codes {
		v, page = scan(c)
		if v.Verdict != "refunded" || v.Sale == nil || v.Sale.LineRefunded != 3 {
			t.Errorf("%s after the whole line was refunded: verdict %q, sale %+v", c, v.Verdict, v.Sale)
		}
		for _, h := range v.Households {
			if h.ItemFen != 0 || h.ItemYuan != "" {
				t.Errorf("%s: a refunded item still claims income %+v", c, h)
			}
		}
		if strings.Contains(page, "本商品已由帮扶单位采购") || strings.Contains(page, "本件增收") || !strings.Contains(page, `data-verdict="refunded"`) {
			t.Errorf("%s: the page of a refunded item still claims the sale:\n%s", c, page)
		}
	}
}

// An order of two stations' products received one shipment at a time: each item's sale shows its
// own shipment's receipt, not the order's completion (which waits for both).
func TestScanReceivedAtIsTheShipments(t *testing.T) {
	w := newWorld(t)
	codesA := w.Issue(t, w.Product, 1)
	var pb, b struct{ ID string }
	w.OpB.Do("POST", "/api/v1/products", map[string]any{"name": "马鞍村腊肉", "category": "其他", "unit": "袋", "spec": "500g/袋",
		"price_fen": 5000, "stock": 5, "origin_code": "433124110225",
		"suppliers": []map[string]any{{"household_id": w.HouseholdB, "share_bp": 10000}}}).Want(201).JSON(&pb)
	w.OpB.Do("POST", "/api/v1/products/"+pb.ID+"/batches", map[string]any{"batch_no": "B" + fixture.RandDigits(6),
		"produced_on": "2026-11-20", "quantity": 1}).Want(201).JSON(&b)
	fixture.Certify(w.OpB, b.ID)
	var issued struct{ Codes []struct{ Code string } }
	w.OpB.Do("POST", "/api/v1/batches/"+b.ID+"/codes", map[string]any{"count": 1}).Want(201).JSON(&issued)
	codeB := issued.Codes[0].Code

	var o fixture.FullOrder
	w.Buyer1.Do("POST", "/api/v1/orders", map[string]any{"items": []map[string]any{
		{"product_id": w.Product, "quantity": 1}, {"product_id": pb.ID, "quantity": 1}}},
		"Idempotency-Key", "two-stations").Want(201).JSON(&o)
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/payment", nil, "Idempotency-Key", "two-stations-pay").Want(201)
	lineOf := map[string]string{}
	for _, l := range o.Lines {
		lineOf[l.StationID] = l.ID
	}
	w.OpA.Do("POST", "/api/v1/orders/"+o.ID+"/shipments", map[string]any{"lines": []map[string]any{
		{"line_id": lineOf[w.StationA], "codes": codesA}}}).Want(200)
	w.OpB.Do("POST", "/api/v1/orders/"+o.ID+"/shipments", map[string]any{"lines": []map[string]any{
		{"line_id": lineOf[w.StationB], "codes": []string{codeB}}}}).Want(200)
	anon := fixture.Client{T: t, H: w.a.Router}
	var v scanned
	anon.Do("GET", "/api/v1/trace/"+codesA[0], nil).Want(200).JSON(&v) // cached before the receipt
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/shipments/"+w.StationA+"/receipt", nil).Want(200)

	v = scanned{}
	anon.Do("GET", "/api/v1/trace/"+codesA[0], nil).Want(200).JSON(&v)
	var receiving *time.Time
	for _, e := range v.Events {
		if e.BizStep == "receiving" {
			receiving = &e.OccurredAt
		}
	}
	if receiving == nil || v.Sale == nil || v.Sale.ReceivedAt == nil || !v.Sale.ReceivedAt.Equal(*receiving) {
		t.Errorf("station A's item, its shipment received, the other pending: sale %+v, receiving event at %v", v.Sale, receiving)
	}
	v = scanned{}
	anon.Do("GET", "/api/v1/trace/"+codeB, nil).Want(200).JSON(&v)
	if v.Sale == nil || v.Sale.ReceivedAt != nil {
		t.Errorf("station B's item, its shipment not received, shows a receipt: %+v", v.Sale)
	}
}
