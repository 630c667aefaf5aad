package procurement_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/fupinmarket/fupin/internal/fixture"
	"github.com/fupinmarket/fupin/internal/platform/money"
	"github.com/fupinmarket/fupin/internal/procurement"
)

// A second succeeded callback under another reference for a paid order is refused (the order is
// paid once), but the unit was charged twice: the charge is recorded once however often the
// provider repeats it, posted as owed back to the unit, returned after the commit (by the
// background pass when the provider cannot return it at once), shown with the order's payment,
// and re-derived by verify. Bad and non-success callbacks record nothing.
func TestDoubleCharge(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	secret := []byte(w.a.Config.PaymentSecret)
	anon := fixture.Client{T: t, H: w.a.Router}
	signed := func(body string) fixture.Resp {
		return anon.Do("POST", "/api/v1/payments/callback", body, procurement.SignatureHeader, procurement.Sign(secret, []byte(body)))
	}
	o, _ := w.placedByBuyer1(t, "dc-1")
	run := fixture.RandDigits(8) // provider references are unique for good: a rerun on this database needs its own
	callback := func(ref string, fen int64, status string) string {
		return fmt.Sprintf(`{"order_id":%q,"provider_ref":%q,"amount_fen":%d,"status":%q}`, o.ID, ref+"-"+run, fen, status)
	}
	signed(callback("WX-A", 20000, "succeeded")).Want(200)
	charges := func() (n int64) {
		w.a.DB.Raw("SELECT count(*) FROM double_charges WHERE order_id = ?", o.ID).Scan(&n)
		return n
	}
	bank := func() (fen int64) {
		w.a.DB.Raw(`SELECT coalesce(sum(p.amount_fen), 0) FROM journal_entries e JOIN postings p ON p.entry_id = e.id
			JOIN ledger_accounts a ON a.id = p.account_id WHERE e.order_id = ? AND a.kind = 'bank'`, o.ID).Scan(&fen)
		return fen
	}

	// Bad ones: a wrong signature, a missing amount, a failed charge under another reference.
	anon.Do("POST", "/api/v1/payments/callback", callback("WX-B", 20000, "succeeded"), procurement.SignatureHeader, "sha256=00").
		Problem(422, procurement.SignatureHeader)
	signed(callback("WX-B", 0, "succeeded")).Problem(422, "amount_fen")
	signed(`{"order_id":"x","provider_ref":"WX-B","amount_fen":20000,"status":"succeeded"}`).Problem(422, "order_id")
	signed(`["not an object"]`).Problem(422, "body")
	signed(callback("WX-B", 20000, "failed")).Want(200)
	if n := charges(); n != 0 {
		t.Fatalf("%d double charges after bad callbacks, want 0", n)
	}

	// The provider cannot return money: the second charge is recorded and owed.
	down := procurement.NewOrders(w.a.DB, procurement.LedgerOf(w.a.Ledger), w.a.Trace, downProvider{}, w.a.Log)
	cb := procurement.Callback{OrderID: fixture.MustUUID(t, o.ID), ProviderRef: "WX-B-" + run, AmountFen: 15000, Status: "succeeded"}
	for i := 0; i < 2; i++ { // the provider repeats its callback: one record
		if _, err := down.PaymentCallback(ctx, cb); err == nil || !strings.Contains(err.Error(), "paid") {
			t.Fatalf("second charge, attempt %d: %v; want refused, the order is paid", i, err)
		}
	}
	if n := charges(); n != 1 || bank() != 35000 {
		t.Fatalf("after the second charge: %d charges, bank %d; want 1 and 35000", n, bank())
	}
	count, total, oldest, err := w.a.Orders.Owed(ctx)
	if err != nil || count != 1 || total != money.Money(15000) || oldest == nil {
		t.Fatalf("owed: %d, %d, %v, %v; want the 15000 fen charge", count, total, oldest, err)
	}
	if out := fixture.VerifyLedger(t, w.a.DB); !strings.Contains(out, "150.00") {
		t.Fatalf("verify does not show the charge owed:\n%s", out)
	}
	var list struct {
		Returns []struct {
			Kind      string `json:"kind"`
			OrderID   string `json:"order_id"`
			AmountFen int64  `json:"amount_fen"`
		}
	}
	w.Admin.Do("GET", "/api/v1/returns/owed", nil).Want(200).JSON(&list)
	shown := false
	for _, r := range list.Returns {
		shown = shown || r.Kind == "double_charge" && r.OrderID == o.ID && r.AmountFen == 15000
	}
	if !shown {
		t.Fatalf("the county office's list does not show the charge: %+v", list.Returns)
	}
	var pay struct {
		DoubleCharges []struct {
			AmountFen   int64   `json:"amount_fen"`
			ProviderRef string  `json:"provider_ref"`
			ReturnedAt  *string `json:"returned_at"`
		} `json:"double_charges"`
	}
	w.Buyer1.Do("GET", "/api/v1/orders/"+o.ID+"/payment", nil).Want(200).JSON(&pay)
	if len(pay.DoubleCharges) != 1 || pay.DoubleCharges[0].AmountFen != 15000 || pay.DoubleCharges[0].ProviderRef != "WX-B-"+run ||
		pay.DoubleCharges[0].ReturnedAt != nil {
		t.Fatalf("payment shows %+v; want WX-B, 15000 fen, owed", pay.DoubleCharges)
	}

	// The background pass returns it and reverses its entry.
	if n, err := w.a.Orders.ReturnOwed(ctx); n != 1 || err != nil {
		t.Fatalf("the pass: %d, %v; want 1 returned", n, err)
	}
	w.Buyer1.Do("GET", "/api/v1/orders/"+o.ID+"/payment", nil).Want(200).JSON(&pay)
	if len(pay.DoubleCharges) != 1 || pay.DoubleCharges[0].ReturnedAt == nil || bank() != 20000 {
		t.Fatalf("after the pass: %+v, bank %d; want returned, 20000", pay.DoubleCharges, bank())
	}

	// Over the API with the provider up: refused, recorded and returned at once; a repeat moves nothing.
	for i := 0; i < 2; i++ {
		signed(callback("WX-C", 20000, "succeeded")).State("paid")
	}
	var c struct {
		N        int64
		Returned int64
	}
	w.a.DB.Raw("SELECT count(*) AS n, count(returned_at) AS returned FROM double_charges WHERE provider_ref = ?", "WX-C-"+run).Scan(&c)
	if c.N != 1 || c.Returned != 1 || bank() != 20000 {
		t.Fatalf("WX-C: %+v, bank %d; want one charge, returned, bank 20000", c, bank())
	}
	var entries int64
	w.a.DB.Raw("SELECT count(*) FROM journal_entries WHERE order_id = ? AND kind IN ('double_charge', 'reversal')", o.ID).Scan(&entries)
	if entries != 4 {
		t.Fatalf("%d double charge entries and reversals, want 4", entries)
	}
	fixture.VerifyLedger(t, w.a.DB)
}
