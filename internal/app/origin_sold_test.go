package app

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/fupinmarket/fupin/internal/fixture"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/trace"
)

// An item of a batch made before its village was merged away and sold after the merge keeps its
// batch's origin on its page and label: the order line froze the product's origin then, already
// the successor (a reviewer, 6 December).
func TestItemSoldAfterMergeKeepsItsBatchsOrigin(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	v1, v3 := "433124110881", "433124110883"
	if err := w.a.DB.Exec(`INSERT INTO regions (code, name, level, parent_code) VALUES (?, '旧评旧村', 5, '433124110')`, v1).Error; err != nil {
		t.Fatal(err)
	}
	var st struct{ ID string }
	w.Admin.Do("POST", "/api/v1/stations", map[string]any{"name": "旧评旧村服务点", "level": "village",
		"region_code": v1, "village_codes": []string{v1}}).Want(201).JSON(&st)
	op := fixture.Login(t, w.a.Router, w.a.Users, auth.RoleStation, &st.ID, nil)
	var h struct{ ID string }
	op.Do("POST", "/api/v1/households", map[string]any{"archive_no": "T" + fixture.RandDigits(10), "head_name": "龙金花",
		"id_number": fixture.IDNumber(), "village_code": v1, "members": 4, "status": "lifted"}).Want(201).JSON(&h)
	var p struct{ ID string }
	op.Do("POST", "/api/v1/products", map[string]any{"name": "旧评蜂蜜", "category": "蜂蜜", "unit": "瓶", "price_fen": 5000,
		"stock": 10, "origin_code": v1, "suppliers": []map[string]any{{"household_id": h.ID, "share_bp": 10000}}}).Want(201).JSON(&p)
	var b struct{ ID string }
	op.Do("POST", "/api/v1/products/"+p.ID+"/batches", map[string]any{"batch_no": "R" + fixture.RandDigits(6),
		"produced_on": "2026-11-20", "quantity": 2}).Want(201).JSON(&b)
	var issued struct{ Codes []struct{ Code string } }
	op.Do("POST", "/api/v1/batches/"+b.ID+"/codes", map[string]any{"count": 1}).Want(201).JSON(&issued)
	code := issued.Codes[0].Code

	w.Admin.Do("POST", "/api/v1/regions/merges", map[string]any{"villages": []string{v1}, "successor_code": v3,
		"successor_name": "旧评新村"}).Want(201)

	type view struct{ Origin struct{ Code string } }
	anon := fixture.Client{T: t, H: w.a.Router}
	var before view
	anon.Do("GET", "/api/v1/trace/"+code, nil).Want(200).JSON(&before)
	label := func() string {
		var got string
		err := w.a.Trace.LabelItems(ctx, auth.Principal{Role: auth.RoleAdmin}, uuid.MustParse(b.ID), nil,
			func(next func() (trace.LabelItem, bool, error)) error {
				it, _, err := next()
				got = it.Origin
				return err
			})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	labelBefore := label()

	key := "soldmerge-" + fixture.RandDigits(8)
	var o fixture.Order
	w.Buyer1.Do("POST", "/api/v1/orders", map[string]any{"items": []map[string]any{{"product_id": p.ID, "quantity": 1}}},
		"Idempotency-Key", key).Want(201).JSON(&o)
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/payment", nil, "Idempotency-Key", key+"-pay").Want(201)
	op.Do("POST", "/api/v1/orders/"+o.ID+"/shipments", map[string]any{"lines": []map[string]any{
		{"line_id": o.Lines[0].ID, "codes": []string{code}}}}).Want(200)

	var after view
	anon.Do("GET", "/api/v1/trace/"+code, nil).Want(200).JSON(&after)
	labelAfter := label()
	t.Logf("unsold: origin %s label %q; sold after the merge: origin %s label %q", before.Origin.Code, labelBefore,
		after.Origin.Code, labelAfter)
	if after.Origin.Code != before.Origin.Code || !strings.HasSuffix(labelAfter, "旧评旧村") {
		t.Errorf("the item's origin moved when it was sold: %s (label %q) before, %s (label %q) after", before.Origin.Code,
			labelBefore, after.Origin.Code, labelAfter)
	}
}
