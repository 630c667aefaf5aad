package app

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/fixture"
	"github.com/fupinmarket/fupin/internal/ledger"
	"github.com/fupinmarket/fupin/internal/platform/civil"
	"github.com/fupinmarket/fupin/internal/platform/money"
)

// Batch supply records (issue 14, docs/supply.md), through the API.

// batch records a batch of product with quantity items and returns its id.
func (w world) batch(t *testing.T, product string, quantity int) string {
	t.Helper()
	var b struct{ ID string }
	w.OpA.Do("POST", "/api/v1/products/"+product+"/batches", map[string]any{"batch_no": "D" + fixture.RandDigits(6),
		"produced_on": civil.Today(time.Now()).String(), "quantity": quantity}).Want(201).JSON(&b)
	return b.ID
}

// delivery is the body of a household's delivery of n items today, with its certificate.
func delivery(household string, n int) map[string]any {
	today := civil.Today(time.Now()).String()
	return map[string]any{"household_id": household, "quantity": n, "delivered_on": today,
		"certificate": map[string]any{"number": "HG-" + fixture.RandDigits(6), "issued_on": today}}
}

// deliver records a delivery and returns its id.
func (w world) deliver(t *testing.T, batch string, body map[string]any) string {
	t.Helper()
	var d struct{ ID string }
	w.OpA.Do("POST", "/api/v1/batches/"+batch+"/deliveries", body, "Idempotency-Key", "d-"+fixture.RandDigits(10)).Want(201).JSON(&d)
	return d.ID
}

func (w world) codesOf(t *testing.T, batch string, n int) []string {
	t.Helper()
	fixture.Certify(w.OpA, batch)
	var out struct{ Codes []struct{ Code string } }
	w.OpA.Do("POST", "/api/v1/batches/"+batch+"/codes", map[string]any{"count": n}).Want(201).JSON(&out)
	codes := make([]string, len(out.Codes))
	for i, c := range out.Codes {
		codes[i] = c.Code
	}
	return codes
}

// A batch's deliveries bound its codes, and every bad delivery is refused with the field named.
func TestDeliveriesBoundCodes(t *testing.T) {
	w := newWorld(t)
	b := w.batch(t, w.Product, 100)
	path := "/api/v1/batches/" + b + "/deliveries"
	post := func(c fixture.Client, body map[string]any) fixture.Resp {
		return c.Do("POST", path, body, "Idempotency-Key", "k-"+fixture.RandDigits(10))
	}
	future := civil.Today(time.Now()).AddDate(0, 0, 1).Format(time.DateOnly)
	bad := func(mut func(map[string]any)) map[string]any {
		d := delivery(w.Households[0], 4)
		mut(d)
		return d
	}
	post(w.OpA, delivery(w.HouseholdB, 4)).Problem(422, "household_id") // a household of station B's village
	post(w.OpA, bad(func(d map[string]any) { d["quantity"] = 0 })).Problem(422, "quantity")
	post(w.OpA, bad(func(d map[string]any) { d["quantity"] = -3 })).Problem(422, "quantity")
	post(w.OpA, bad(func(d map[string]any) { d["delivered_on"] = future })).Problem(422, "delivered_on")
	post(w.OpA, bad(func(d map[string]any) { delete(d, "certificate") })).Problem(422, "certificate")
	post(w.OpA, bad(func(d map[string]any) { d["purchase_price_fen"] = 300 })).Problem(422, "purchase_price_fen") // consignment
	post(w.OpA, bad(func(d map[string]any) { d["quantity"] = 101 })).Problem(409, "quantity")                     // beyond the batch
	post(w.OpB, delivery(w.Households[0], 4)).Problem(404, "")                                                    // another station's batch
	w.OpA.Do("POST", path, delivery(w.Households[0], 4)).Problem(422, "Idempotency-Key")
	var n int64
	w.a.DB.Raw(`SELECT count(*) FROM batch_deliveries WHERE batch_id = ?`, b).Scan(&n)
	if n != 0 {
		t.Fatalf("refused deliveries left %d rows", n)
	}

	first := delivery(w.Households[0], 4)
	var d1, again struct {
		ID       string
		HeadName string `json:"head_name"`
	}
	w.OpA.Do("POST", path, first, "Idempotency-Key", "first").Want(201).JSON(&d1)
	w.OpA.Do("POST", path, first, "Idempotency-Key", "first").Want(200).JSON(&again)
	if again.ID != d1.ID || !strings.Contains(d1.HeadName, "*") {
		t.Fatalf("replay %s of %s, head %q (want masked)", again.ID, d1.ID, d1.HeadName)
	}
	w.deliver(t, b, delivery(w.Households[1], 6))

	// 10 delivered: 11 codes are refused, 10 are issued.
	w.OpA.Do("POST", "/api/v1/batches/"+b+"/codes", map[string]any{"count": 11}).Problem(409, "count")
	w.codesOf(t, b, 10)
	w.OpA.Do("POST", "/api/v1/batches/"+b+"/codes", map[string]any{"count": 1}).Problem(409, "count")

	// A reversal that would leave fewer items than codes is refused; once more is delivered it passes.
	rev := "/api/v1/batches/" + b + "/deliveries/" + d1.ID + "/reversal"
	w.OpA.Do("POST", rev, map[string]any{"reason": "weighed twice"}).Problem(409, "")
	w.deliver(t, b, delivery(w.Households[2], 4))
	w.OpA.Do("POST", rev, map[string]any{"reason": ""}).Problem(422, "reason")
	w.OpA.Do("POST", rev, map[string]any{"reason": "weighed twice"}).Want(201)
	w.OpA.Do("POST", rev, map[string]any{"reason": "weighed twice"}).Problem(409, "")
	if err := w.a.DB.Exec(`DELETE FROM batch_deliveries WHERE batch_id = ?`, b).Error; err == nil {
		t.Fatal("a delivery was deleted: the table must be append-only")
	}

	var s struct {
		Delivered  int
		Households []struct {
			HouseholdID string `json:"household_id"`
			Quantity    int
			ShareBP     int `json:"share_bp"`
		}
		Deliveries []struct{ Quantity int }
	}
	w.OpA.Do("GET", path, nil).Want(200).JSON(&s)
	if s.Delivered != 10 || len(s.Deliveries) != 4 || len(s.Households) != 2 || s.Households[0].ShareBP != 6000 || s.Households[1].ShareBP != 4000 {
		t.Fatalf("supply = %+v", s)
	}
	w.OpB.Do("GET", path, nil).Problem(404, "")

	// Codes issued before any delivery (by the product's supplier shares): the batch's first
	// delivery must cover them, or its few items would carry the income of every code (a reviewer's
	// household credited ¥640 for 1 item delivered); none of the refused is written.
	early := w.batch(t, w.Product, 10)
	w.codesOf(t, early, 8)
	earlyPath := "/api/v1/batches/" + early + "/deliveries"
	w.OpA.Do("POST", earlyPath, delivery(w.Households[0], 1), "Idempotency-Key", "early-1").Problem(409, "quantity")
	w.OpA.Do("POST", earlyPath, delivery(w.Households[0], 7), "Idempotency-Key", "early-7").Problem(409, "quantity")
	w.a.DB.Raw(`SELECT count(*) FROM batch_deliveries WHERE batch_id = ?`, early).Scan(&n)
	if n != 0 {
		t.Fatalf("refused deliveries into a batch with codes left %d rows", n)
	}
	w.deliver(t, early, delivery(w.Households[0], 8))
	w.deliver(t, early, delivery(w.Households[1], 1)) // beyond the codes: as any delivery
}

// Items sold from a batch with deliveries are attributed by them, as fixed when their codes were
// bound at shipment: a delivery recorded after the shipment changes nothing, the sale entry
// credits exactly what the scan page says, and verify agrees.
func TestDeliveriesAttributeSales(t *testing.T) {
	w := newWorld(t)
	b := w.batch(t, w.Product, 100)
	w.deliver(t, b, delivery(w.Households[0], 1))
	w.deliver(t, b, delivery(w.Households[1], 3))
	anon := fixture.Client{T: t, H: w.a.Router}
	codes := w.codesOf(t, b, 4)
	var unsold struct {
		Households []struct {
			HeadName string `json:"head_name"`
			ShareBP  int    `json:"share_bp"`
		}
	}
	anon.Do("GET", "/api/v1/trace/"+codes[3], nil).Want(200).JSON(&unsold)
	if len(unsold.Households) != 2 || unsold.Households[0].ShareBP != 7500 || unsold.Households[1].ShareBP != 2500 {
		t.Fatalf("unsold item's households = %+v, want the batch's deliverers 7500/2500", unsold.Households)
	}

	var o fixture.FullOrder
	w.Buyer1.Do("POST", "/api/v1/orders", map[string]any{"items": []map[string]any{{"product_id": w.Product, "quantity": 2}}},
		"Idempotency-Key", "deliv-1").Want(201).JSON(&o)
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/payment", nil, "Idempotency-Key", "deliv-pay").Want(201)
	w.OpA.Do("POST", "/api/v1/orders/"+o.ID+"/shipments", map[string]any{"lines": []map[string]any{{"line_id": o.Lines[0].ID, "codes": codes[:2]}}}).Want(200)
	// Delivered after the shipment: the shipped items' attribution was fixed already.
	w.deliver(t, b, delivery(w.Households[2], 50))
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/receipt", nil).Want(200)

	if got := []int64{w.Income(t, w.Households[0]), w.Income(t, w.Households[1]), w.Income(t, w.Households[2])}; got[0] != 5000 || got[1] != 15000 || got[2] != 0 {
		t.Fatalf("incomes %v, want 5000 15000 0 (¥200.00 by deliveries 1:3, not the product's shares)", got)
	}
	var sold struct {
		Households []struct {
			ShareBP int   `json:"share_bp"`
			ItemFen int64 `json:"item_income_fen"`
		}
	}
	anon.Do("GET", "/api/v1/trace/"+codes[0], nil).Want(200).JSON(&sold)
	if len(sold.Households) != 2 || sold.Households[0].ItemFen != 7500 || sold.Households[1].ItemFen != 2500 {
		t.Fatalf("sold item's households = %+v, want 7500 and 2500 fen of ¥100.00", sold.Households)
	}
	page := anon.Do("GET", "/t/"+codes[0], nil).Want(200).Body.String()
	var sup struct {
		Households []struct {
			HeadName string `json:"head_name"`
		}
	}
	w.OpA.Do("GET", "/api/v1/batches/"+b+"/deliveries", nil).Want(200).JSON(&sup)
	for _, h := range sup.Households[1:] { // the two who delivered before the shipment (the third delivered most since)
		if !strings.Contains(page, h.HeadName) {
			t.Fatalf("scan page does not name %s, who delivered into the batch", h.HeadName)
		}
	}
	// The unsold item's cached view names the third household too: the delivery made it stale.
	anon.Do("GET", "/api/v1/trace/"+codes[3], nil).Want(200).JSON(&unsold)
	if len(unsold.Households) != 3 {
		t.Fatalf("unsold item's households after a third delivery = %+v", unsold.Households)
	}
	fixture.VerifyLedger(t, w.a.DB)
}

// A purchase-model product (收购): codes need deliveries, a delivery needs its purchase price and
// pays the household at once, the sale credits the station and shares the declared part of its
// margin back (二次返利); verify re-derives both and finds a purchase entry without its delivery.
func TestPurchaseModel(t *testing.T) {
	w := newWorld(t)
	sup := []map[string]any{{"household_id": w.Households[0], "share_bp": 10000}}
	w.OpA.Do("POST", "/api/v1/products", map[string]any{"name": "腊肉", "category": "腊肉", "unit": "袋", "price_fen": 10000,
		"stock": 10, "origin_code": "433124110226", "suppliers": sup, "rebate_bp": 2000}).Problem(422, "rebate_bp")
	var p struct {
		ID         string
		Settlement string
		RebateBP   int `json:"rebate_bp"`
	}
	w.OpA.Do("POST", "/api/v1/products", map[string]any{"name": "腊肉", "category": "腊肉", "unit": "袋", "price_fen": 10000,
		"stock": 10, "origin_code": "433124110226", "suppliers": sup, "settlement": "purchase", "rebate_bp": 2000}).Want(201).JSON(&p)
	if p.Settlement != "purchase" || p.RebateBP != 2000 {
		t.Fatalf("product = %+v", p)
	}
	// The terms change through PATCH; a rebate needs the purchase model.
	w.OpA.Do("PATCH", "/api/v1/products/"+w.Product, map[string]any{"rebate_bp": 500}).Problem(422, "rebate_bp")
	w.OpA.Do("PATCH", "/api/v1/products/"+w.Product, map[string]any{"settlement": "barter"}).Problem(422, "settlement")
	var patched struct {
		Settlement string
		RebateBP   int `json:"rebate_bp"`
	}
	w.OpA.Do("PATCH", "/api/v1/products/"+w.Product, map[string]any{"settlement": "purchase", "rebate_bp": 500}).Want(200).JSON(&patched)
	if patched.Settlement != "purchase" || patched.RebateBP != 500 {
		t.Fatalf("patched = %+v", patched)
	}
	w.OpA.Do("PATCH", "/api/v1/products/"+w.Product, map[string]any{"settlement": "consignment"}).Want(200).JSON(&patched)
	if patched.Settlement != "consignment" || patched.RebateBP != 0 {
		t.Fatalf("back to consignment = %+v, want no rebate", patched)
	}

	b := w.batch(t, p.ID, 100)
	w.OpA.Do("POST", "/api/v1/batches/"+b+"/codes", map[string]any{"count": 1}).Problem(409, "count") // no deliveries yet
	w.OpA.Do("POST", "/api/v1/batches/"+b+"/deliveries", delivery(w.Households[0], 1), "Idempotency-Key", "np").Problem(422, "purchase_price_fen")

	closed := delivery(w.Households[0], 1)
	closed["purchase_price_fen"] = 6000
	closed["delivered_on"] = civil.FirstOpenDay(civil.Today(time.Now())).AddDate(0, 0, -1).Format(time.DateOnly)
	closed["certificate"] = map[string]any{"photo_ref": "photos/hgz-1.jpg"}
	w.OpA.Do("POST", "/api/v1/batches/"+b+"/deliveries", closed, "Idempotency-Key", "closed").Problem(422, "delivered_on")

	d0 := delivery(w.Households[0], 1)
	d0["purchase_price_fen"] = 6000
	w.deliver(t, b, d0)
	d1 := delivery(w.Households[1], 3)
	d1["purchase_price_fen"] = 5000
	w.deliver(t, b, d1)
	if got := w.Income(t, w.Households[1]); got != 15000 {
		t.Fatalf("household 1 earned %d on delivery, want 15000 (3 × ¥50.00)", got)
	}
	codes := w.codesOf(t, b, 2)

	var o fixture.FullOrder
	w.Buyer1.Do("POST", "/api/v1/orders", map[string]any{"items": []map[string]any{{"product_id": p.ID, "quantity": 2}}},
		"Idempotency-Key", "buy-1").Want(201).JSON(&o)
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/payment", nil, "Idempotency-Key", "buy-pay").Want(201)
	w.OpA.Do("POST", "/api/v1/orders/"+o.ID+"/shipments", map[string]any{"lines": []map[string]any{{"line_id": o.Lines[0].ID, "codes": codes}}}).Want(200)
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/receipt", nil).Want(200)

	// Sale ¥200.00, cost 2 × (6000 + 15000) / 4 = ¥105.00, margin ¥95.00, rebate 20 % = ¥19.00 over
	// the line's shares 2500/7500: 475 and 1425 fen.
	if got := []int64{w.Income(t, w.Households[0]), w.Income(t, w.Households[1])}; got[0] != 6000+475 || got[1] != 15000+1425 {
		t.Fatalf("incomes %v, want %d and %d (purchase + rebate)", got, 6000+475, 15000+1425)
	}
	var stationSales int64
	w.a.DB.Raw(`SELECT -sum(balance_fen) FROM ledger_accounts WHERE kind = 'station_sales' AND owner_id = ?`, w.StationA).Scan(&stationSales)
	if stationSales != 20000-1900 {
		t.Fatalf("station's sales %d, want %d", stationSales, 20000-1900)
	}
	fixture.VerifyLedger(t, w.a.DB)
	receipt := func(version int) impactBody {
		t.Helper()
		var r impactReceipt
		w.Buyer1.Do("GET", "/api/v1/orders/"+o.ID+"/impact-receipt", nil).Want(200).JSON(&r)
		b := r.body(t)
		if r.Version != version || b.Format != "fupin.impact-receipt.v2" || recomputeDigest(t, r.Receipt) != r.Digest {
			t.Fatalf("receipt version %d (want %d), format %q", r.Version, version, b.Format)
		}
		return b
	}
	// The impact receipt: the households' income from this order is the rebate (they were paid
	// for the produce on delivery); the station's sales close the reconciliation.
	r1 := receipt(1)
	if got := r1.incomes(t); !slices.Equal(got, []int64{475, 1425}) || r1.StationSalesFen != 20000-1900 || r1.HouseholdCount != 2 {
		t.Fatalf("purchase-model receipt: incomes %v, station's sales %d, households %d", got, r1.StationSalesFen, r1.HouseholdCount)
	}
	if kinds := []string{r1.LedgerEntries[0].Kind, r1.LedgerEntries[1].Kind}; len(r1.LedgerEntries) != 2 || !slices.Contains(kinds, "rebate") {
		t.Fatalf("ledger entries %+v, want the sale and its rebate", r1.LedgerEntries)
	}

	// A refund of one bag takes its price back from the station's sales (the rebate stands).
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/refunds", map[string]any{"lines": []map[string]any{{"line_id": o.Lines[0].ID, "quantity": 1}}},
		"Idempotency-Key", "buy-refund").Want(201)
	w.a.DB.Raw(`SELECT -sum(balance_fen) FROM ledger_accounts WHERE kind = 'station_sales' AND owner_id = ?`, w.StationA).Scan(&stationSales)
	if stationSales != 10000-1900 {
		t.Fatalf("station's sales after a refund of one bag %d, want %d", stationSales, 10000-1900)
	}
	fixture.VerifyLedger(t, w.a.DB)
	if r2 := receipt(2); r2.RefundedFen != 10000 || r2.StationSalesFen != 10000-1900 || r2.HouseholdIncomeFen != 1900 {
		t.Fatalf("after the refund: refunded %d, station's sales %d, household income %d", r2.RefundedFen, r2.StationSalesFen, r2.HouseholdIncomeFen)
	}
	var impact strings.Builder
	if n, err := w.a.Impact.Verify(context.Background(), &impact); err != nil || n != 0 {
		t.Fatalf("impact verify: %d mismatches, %v\n%s", n, err, impact.String())
	}

	// A purchase delivered in error is reversed with its entry: the household's income goes back.
	wrong := delivery(w.Households[2], 2)
	wrong["purchase_price_fen"] = 4000
	id := w.deliver(t, b, wrong)
	if got := w.Income(t, w.Households[2]); got != 8000 {
		t.Fatalf("household 2 earned %d, want 8000", got)
	}
	w.OpA.Do("POST", "/api/v1/batches/"+b+"/deliveries/"+id+"/reversal", map[string]any{"reason": "another household's sacks"}).Want(201)
	if got := w.Income(t, w.Households[2]); got != 0 {
		t.Fatalf("household 2 kept %d after the reversal", got)
	}
	fixture.VerifyLedger(t, w.a.DB)

	// A purchase entry that no delivery paid for is found; posted and verified in a transaction
	// rolled back after, so the package's shared database stays consistent for later checks.
	var out strings.Builder
	rollback := errors.New("rolled back")
	err := w.a.DB.Transaction(func(tx *gorm.DB) error {
		if _, err := w.a.Ledger.PostPurchase(context.Background(), tx, uuid.Must(uuid.NewV7()), uuid.MustParse(w.StationA),
			uuid.MustParse(w.Households[2]), money.Money(100), time.Now()); err != nil {
			return err
		}
		if n, err := ledger.Verify(context.Background(), tx, &out); err != nil || n == 0 || !strings.Contains(out.String(), "purchase") {
			t.Errorf("verify missed a purchase entry without its delivery: %d, %v\n%s", n, err, out.String())
		}
		return rollback
	})
	if !errors.Is(err, rollback) {
		t.Fatal(err)
	}
}
