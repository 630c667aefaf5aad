package app

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fupinmarket/fupin/internal/fixture"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/civil"
	"github.com/fupinmarket/fupin/internal/trace"
)

// An item keeps the name it was sold under: after PATCH /products/{id} {"name"} on the day of the
// sale, the scan page and its JSON, a reprinted label, the unit's statement and the household's
// income statement name a sold item as sold (the order line's name, fixed at placement); an
// unsold item of the same batch takes the new name. The order line refuses another name.
func TestProductNameAsSold(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	codes := w.Issue(t, w.Product, 3)
	var o fixture.Order
	w.Buyer1.Do("POST", "/api/v1/orders", map[string]any{"items": []map[string]any{{"product_id": w.Product, "quantity": 2}}},
		"Idempotency-Key", "name-as-sold-"+fixture.RandDigits(6)).Want(201).JSON(&o)
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/payment", nil, "Idempotency-Key", "name-as-sold-pay-"+fixture.RandDigits(6)).Want(201)
	w.OpA.Do("POST", "/api/v1/orders/"+o.ID+"/shipments", map[string]any{"lines": []map[string]any{
		{"line_id": o.Lines[0].ID, "codes": codes[:2]}}}).Want(200)
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/receipt", nil).Want(200)
	const before, after = "十八洞猕猴桃", "十八洞红心猕猴桃"
	w.OpA.Do("PATCH", "/api/v1/products/"+w.Product, map[string]any{"name": after}).Want(200)
	if _, err := w.a.Trace.RefreshEpoch(ctx); err != nil {
		t.Fatal(err)
	}

	anon := fixture.Client{T: t, H: w.a.Router}
	for code, want := range map[string]string{codes[0]: before, codes[2]: after} {
		var v struct{ Product struct{ Name string } }
		anon.Do("GET", "/api/v1/trace/"+code, nil).Want(200).JSON(&v)
		page := anon.Do("GET", "/t/"+code, nil).Want(200).Body.String()
		other := after
		if want == after {
			other = before
		}
		if v.Product.Name != want || !strings.Contains(page, want) || strings.Contains(page, other) {
			t.Errorf("scan of %s: product %q, page names %q: %v, %q: %v; want %q", code, v.Product.Name,
				want, strings.Contains(page, want), other, strings.Contains(page, other), want)
		}
	}

	var batchID string
	if err := w.a.DB.Raw(`SELECT batch_id::text FROM trace_codes WHERE code = ?`, codes[0]).Scan(&batchID).Error; err != nil {
		t.Fatal(err)
	}
	batch := uuid.MustParse(batchID)
	labels := map[string]string{}
	err := w.a.Trace.LabelItems(ctx, auth.Principal{Role: auth.RoleAdmin}, batch, nil, func(next func() (trace.LabelItem, bool, error)) error {
		for {
			it, ok, err := next()
			if err != nil || !ok {
				return err
			}
			labels[it.Code] = it.ProductName
		}
	})
	if err != nil || labels[codes[0]] != before || labels[codes[1]] != before || labels[codes[2]] != after {
		t.Errorf("labels %v (%v); want %s for the sold, %s for the unsold", labels, err, before, after)
	}

	var unit struct {
		UnitID string `json:"unit_id"`
	}
	w.Buyer1.Do("GET", "/api/v1/orders/"+o.ID, nil).Want(200).JSON(&unit)
	var st struct {
		Lines []struct {
			OrderID     string `json:"order_id"`
			ProductName string `json:"product_name"`
		}
	}
	period := time.Now().In(civil.China).Format("2006-01")
	w.Buyer1.Do("GET", "/api/v1/units/"+unit.UnitID+"/statement?period="+period, nil).Want(200).JSON(&st)
	if len(st.Lines) != 1 || st.Lines[0].ProductName != before {
		t.Errorf("unit's statement of %s: %+v; want one line named %s", period, st.Lines, before)
	}
	var ledger fixture.Statement
	w.Admin.Do("GET", "/api/v1/households/"+w.Households[0]+"/ledger", nil).Want(200).JSON(&ledger)
	if len(ledger.Lines) != 1 || ledger.Lines[0]["product_name"] != before {
		t.Errorf("household's income statement: %v; want one line named %s", ledger.Lines, before)
	}

	if err := w.a.DB.Exec(`UPDATE order_lines SET product_name = 'x' WHERE id = ?`, o.Lines[0].ID).Error; err == nil ||
		!strings.Contains(err.Error(), "fixed when the order is placed") {
		t.Errorf("renaming an order line: %v, want refused", err)
	}
}
