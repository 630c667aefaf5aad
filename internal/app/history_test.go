package app

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fupinmarket/fupin/internal/fixture"
	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/civil"
	"github.com/fupinmarket/fupin/internal/trace"
	"github.com/google/uuid"
)

// What a sale is attributed to is fixed when the order is placed: the station moves the whole
// share of its product to another household between the order and the receipt, and the order
// still credits the households of the shares at order time (3334/3333/3333 of ¥100.00), while a
// new order credits the new supplier. The frozen shares and origin cannot be changed afterwards.
func TestSharesFrozenAtOrder(t *testing.T) {
	w := newWorld(t)
	codes := w.Issue(t, w.Product, 2)
	var o fixture.Order
	w.Buyer1.Do("POST", "/api/v1/orders", map[string]any{"items": []map[string]any{{"product_id": w.Product, "quantity": 1}}},
		"Idempotency-Key", "frozen-1").Want(201).JSON(&o)
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/payment", nil, "Idempotency-Key", "frozen-pay-1").Want(201)

	newcomer := w.RegisterHousehold(t, w.OpA, "433124110226")
	var p struct {
		Suppliers []struct {
			HouseholdID string `json:"household_id"`
			ShareBP     int    `json:"share_bp"`
		}
	}
	w.OpA.Do("PATCH", "/api/v1/products/"+w.Product, map[string]any{"suppliers": []map[string]any{
		{"household_id": newcomer, "share_bp": 10000}}}).Want(200).JSON(&p)
	if len(p.Suppliers) != 1 || p.Suppliers[0].HouseholdID != newcomer || p.Suppliers[0].ShareBP != 10000 {
		t.Fatalf("suppliers after PATCH = %+v", p.Suppliers)
	}
	// Bad input: shares not summing to 10000, another station's household, an unknown one.
	w.OpA.Do("PATCH", "/api/v1/products/"+w.Product, map[string]any{"suppliers": []map[string]any{
		{"household_id": newcomer, "share_bp": 9000}}}).Problem(422, "suppliers")
	w.OpA.Do("PATCH", "/api/v1/products/"+w.Product, map[string]any{"suppliers": []map[string]any{
		{"household_id": w.HouseholdB, "share_bp": 10000}}}).Problem(422, "suppliers[0].household_id")
	w.OpA.Do("PATCH", "/api/v1/products/"+w.Product, map[string]any{"suppliers": []map[string]any{}}).Problem(422, "suppliers")

	w.OpA.Do("POST", "/api/v1/orders/"+o.ID+"/shipments", map[string]any{"lines": []map[string]any{
		{"line_id": o.Lines[0].ID, "codes": codes[:1]}}}).Want(200)
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/receipt", nil).Want(200)
	for i, want := range []int64{3334, 3333, 3333} {
		if got := w.Income(t, w.Households[i]); got != want {
			t.Errorf("household %d credited %d fen for the order placed before the change, want %d", i, got, want)
		}
	}
	if got := w.Income(t, newcomer); got != 0 {
		t.Errorf("the supplier named after the order was credited %d fen for it", got)
	}
	// The scan page of the sold item splits it by the shares of its order too.
	var view struct {
		Households []struct {
			ShareBP int   `json:"share_bp"`
			ItemFen int64 `json:"item_income_fen"`
		}
	}
	anon := fixture.Client{T: t, H: w.a.Router}
	anon.Do("GET", "/api/v1/trace/"+codes[0], nil).Want(200).JSON(&view)
	if len(view.Households) != 3 || view.Households[0].ItemFen != 3334 {
		t.Errorf("scan of the item sold before the change shows %+v, want the 3 households of the order", view.Households)
	}

	// An order placed after the change credits the new supplier.
	var o2 fixture.Order
	w.Buyer1.Do("POST", "/api/v1/orders", map[string]any{"items": []map[string]any{{"product_id": w.Product, "quantity": 1}}},
		"Idempotency-Key", "frozen-2").Want(201).JSON(&o2)
	w.Buyer1.Do("POST", "/api/v1/orders/"+o2.ID+"/payment", nil, "Idempotency-Key", "frozen-pay-2").Want(201)
	w.OpA.Do("POST", "/api/v1/orders/"+o2.ID+"/shipments", map[string]any{"lines": []map[string]any{
		{"line_id": o2.Lines[0].ID, "codes": codes[1:2]}}}).Want(200)
	w.Buyer1.Do("POST", "/api/v1/orders/"+o2.ID+"/receipt", nil).Want(200)
	if got := w.Income(t, newcomer); got != 10000 {
		t.Errorf("new supplier credited %d fen for the order after the change, want 10000", got)
	}
	fixture.VerifyLedger(t, w.a.DB)

	// The frozen columns and shares refuse any change.
	for _, q := range []string{
		`UPDATE order_lines SET origin_code = '433124110225' WHERE id = ?`,
		`UPDATE order_lines SET unit_price_fen = 1, amount_fen = 1 WHERE id = ?`,
		`UPDATE order_line_suppliers SET share_bp = 10000 WHERE order_line_id = ?`,
		`DELETE FROM order_line_suppliers WHERE order_line_id = ?`,
	} {
		if err := w.a.DB.Exec(q, o.Lines[0].ID).Error; apperr.PgCode(err) != "23001" {
			t.Errorf("%s: %v, want restrict_violation", q, err)
		}
	}
}

// Village merges through the API: only the county office merges; bad input names its field; a
// merge keeps the merged village's code and name for history, moves its current households (with
// their move history and audit) and refuses a second merge of the same village and new
// households in it.
func TestVillageMerge(t *testing.T) {
	w := newWorld(t)
	v1, v2, v3 := "433124110951", "433124110952", "433124110953"
	for i, v := range []string{v1, v2} {
		if err := w.a.DB.Exec(`INSERT INTO regions (code, name, level, parent_code) VALUES (?, ?, 5, '433124110')`, v, fmt.Sprintf("旧村%d", i+1)).Error; err != nil {
			t.Fatal(err)
		}
	}
	var st struct{ ID string }
	w.Admin.Do("POST", "/api/v1/stations", map[string]any{"name": "旧村服务点", "level": "village",
		"region_code": v1, "village_codes": []string{v1, v2}}).Want(201).JSON(&st)
	op := fixture.Login(t, w.a.Router, w.a.Users, auth.RoleStation, &st.ID, nil)
	h := w.RegisterHousehold(t, op, v1)

	const path = "/api/v1/regions/merges"
	op.Do("POST", path, map[string]any{"villages": []string{v1}, "successor_code": v2}).Problem(403, "")
	w.Buyer1.Do("POST", path, map[string]any{"villages": []string{v1}, "successor_code": v2}).Problem(403, "")
	for _, c := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"villages": []string{}, "successor_code": v2}, "villages"},
		{map[string]any{"villages": []string{"43312411095"}, "successor_code": v2}, "villages[0]"},
		{map[string]any{"villages": []string{v1, v1}, "successor_code": v2}, "villages[1]"},
		{map[string]any{"villages": []string{v2}, "successor_code": v2}, "villages[0]"},
		{map[string]any{"villages": []string{"433125110951"}, "successor_code": v2}, "villages[0]"},
		{map[string]any{"villages": []string{"433124110959"}, "successor_code": v2}, "villages[0]"},
		{map[string]any{"villages": []string{"433124110"}, "successor_code": v2}, "villages[0]"},
		{map[string]any{"villages": []string{v1}, "successor_code": "433124110"}, "successor_code"},
		{map[string]any{"villages": []string{v1}, "successor_code": v3}, "successor_name"},
		{map[string]any{"villages": []string{v1}, "successor_code": "433124999001", "successor_name": "无镇村"}, "successor_code"},
		{map[string]any{"villages": []string{v1}, "successor_code": "433124110000"[:9] + "226", "successor_name": "  "}, "successor_name"},
	} {
		w.Admin.Do("POST", path, c.body).Problem(422, c.field)
	}
	var regionCount int64
	w.a.DB.Raw(`SELECT count(*) FROM regions WHERE code IN (?, ?) AND valid_to IS NULL`, v1, v2).Scan(&regionCount)
	if regionCount != 2 {
		t.Fatalf("refused merges changed regions: %d of 2 current", regionCount)
	}

	var m struct {
		Successor struct {
			Code, Name string
			ValidFrom  string `json:"valid_from"`
		}
		Created         bool
		MergedCodes     []string `json:"merged_codes"`
		EffectiveOn     string   `json:"effective_on"`
		HouseholdsMoved int      `json:"households_moved"`
	}
	w.Admin.Do("POST", path, map[string]any{"villages": []string{v1, v2}, "successor_code": v3, "successor_name": "新合村"}).Want(201).JSON(&m)
	today := time.Now().In(time.FixedZone("CST", 8*3600)).Format(time.DateOnly)
	if !m.Created || m.Successor.Code != v3 || m.Successor.Name != "新合村" || m.HouseholdsMoved != 1 || m.EffectiveOn != today || m.Successor.ValidFrom != today {
		t.Fatalf("merge = %+v", m)
	}
	var old struct {
		Region struct {
			Name          string
			ValidTo       string `json:"valid_to"`
			SuccessorCode string `json:"successor_code"`
		}
	}
	anon := fixture.Client{T: t, H: w.a.Router}
	anon.Do("GET", "/api/v1/regions/"+v1, nil).Want(200).JSON(&old)
	if old.Region.Name != "旧村1" || old.Region.ValidTo != today || old.Region.SuccessorCode != v3 {
		t.Fatalf("merged village = %+v", old.Region)
	}
	var hh struct {
		VillageCode string `json:"village_code"`
	}
	op.Do("GET", "/api/v1/households/"+h, nil).Want(200).JSON(&hh)
	if hh.VillageCode != v3 {
		t.Fatalf("household village %s after the merge, want %s", hh.VillageCode, v3)
	}
	var moves []string
	w.a.DB.Raw(`SELECT village_code FROM household_villages WHERE household_id = ? ORDER BY valid_from`, h).Scan(&moves)
	if len(moves) != 2 || moves[0] != v1 || moves[1] != v3 {
		t.Fatalf("village history %v, want [%s %s]", moves, v1, v3)
	}
	var audited int64
	w.a.DB.Raw(`SELECT count(*) FROM household_audit WHERE household_id = ? AND changes->'village_code'->>'to' = ?`, h, v3).Scan(&audited)
	if audited != 1 {
		t.Fatalf("%d audit entries of the move, want 1", audited)
	}
	w.Admin.Do("POST", path, map[string]any{"villages": []string{v1}, "successor_code": "433124110226"}).Problem(409, "villages[0]")
	refused := op.Do("POST", "/api/v1/households", map[string]any{"archive_no": "T" + fixture.RandDigits(10), "head_name": "龙金花",
		"id_number": fixture.IDNumber(), "village_code": v1, "members": 2, "status": "lifted"})
	refused.Problem(422, "village_code")
	if !strings.Contains(refused.Body.String(), v1+" was merged into "+v3) { // as stations and products say it
		t.Errorf("a merged village's household: %s; want its successor named", refused.Body)
	}

	// An existing successor keeps its code; a new name is a new version, the old one kept.
	w.Admin.Do("POST", path, map[string]any{"villages": []string{v3}, "successor_code": v2}).Problem(422, "successor_code") // merged away
	w.Admin.Do("POST", path, map[string]any{"villages": []string{v3}, "successor_code": "433124110226"}).Problem(409, "villages")
	v4, v5 := "433124110954", "433124110955"
	if err := w.a.DB.Exec(`INSERT INTO regions (code, name, level, parent_code) VALUES (?, '旧村4', 5, '433124110'), (?, '旧村5', 5, '433124110')`, v4, v5).Error; err != nil {
		t.Fatal(err)
	}
	w.Admin.Do("POST", path, map[string]any{"villages": []string{v4}, "successor_code": v5, "successor_name": "合并新村"}).Want(201).JSON(&m)
	if m.Created || m.Successor.Name != "合并新村" {
		t.Fatalf("merge into an existing village = %+v", m)
	}
	var names []string
	w.a.DB.Raw(`SELECT region_name_at(?, d) FROM unnest(ARRAY[date '2020-01-01', CAST(? AS date)]) d`, v5, today).Scan(&names)
	if len(names) != 2 || names[0] != "旧村5" || names[1] != "合并新村" {
		t.Fatalf("names of %s then and now: %v", v5, names)
	}
}

// The scan page's cached view is dropped when what it shows changes (a household's village by a
// merge; its head's name never changes: a roster import naming another is refused), and an item
// sold before a village merge keeps
// showing the village and origin of when it was sold, while an unsold item of the same product
// shows the new ones. A change the page does not show (household size) keeps the cache.
func TestScanPageHistory(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	v1, v3 := "433124110961", "433124110963"
	if err := w.a.DB.Exec(`INSERT INTO regions (code, name, level, parent_code) VALUES (?, '旧村甲', 5, '433124110')`, v1).Error; err != nil {
		t.Fatal(err)
	}
	var st struct{ ID string }
	w.Admin.Do("POST", "/api/v1/stations", map[string]any{"name": "旧村甲服务点", "level": "village",
		"region_code": v1, "village_codes": []string{v1}}).Want(201).JSON(&st)
	op := fixture.Login(t, w.a.Router, w.a.Users, auth.RoleStation, &st.ID, nil)
	archiveNo, idn := "T"+fixture.RandDigits(10), fixture.IDNumber()
	var h struct{ ID string }
	op.Do("POST", "/api/v1/households", map[string]any{"archive_no": archiveNo, "head_name": "龙金花", "id_number": idn,
		"village_code": v1, "members": 4, "status": "lifted"}).Want(201).JSON(&h)
	var p struct{ ID string }
	op.Do("POST", "/api/v1/products", map[string]any{"name": "旧村蜂蜜", "category": "蜂蜜", "unit": "瓶", "price_fen": 5000,
		"stock": 10, "origin_code": v1, "suppliers": []map[string]any{{"household_id": h.ID, "share_bp": 10000}}}).Want(201).JSON(&p)
	var b struct{ ID string }
	op.Do("POST", "/api/v1/products/"+p.ID+"/batches", map[string]any{"batch_no": "H" + fixture.RandDigits(6),
		"produced_on": "2026-11-20", "quantity": 2}).Want(201).JSON(&b)
	var issued struct{ Codes []struct{ Code string } }
	op.Do("POST", "/api/v1/batches/"+b.ID+"/codes", map[string]any{"count": 2}).Want(201).JSON(&issued)
	sold, unsold := issued.Codes[0].Code, issued.Codes[1].Code
	var o fixture.Order
	w.Buyer1.Do("POST", "/api/v1/orders", map[string]any{"items": []map[string]any{{"product_id": p.ID, "quantity": 1}}},
		"Idempotency-Key", "scan-history").Want(201).JSON(&o)
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/payment", nil, "Idempotency-Key", "scan-history-pay").Want(201)
	op.Do("POST", "/api/v1/orders/"+o.ID+"/shipments", map[string]any{"lines": []map[string]any{
		{"line_id": o.Lines[0].ID, "codes": []string{sold}}}}).Want(200)
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/receipt", nil).Want(200)

	type view struct {
		Origin     struct{ Code string }
		Households []struct {
			HeadName    string `json:"head_name"`
			VillageName string `json:"village_name"`
		}
	}
	anon := fixture.Client{T: t, H: w.a.Router}
	scan := func(code string) view {
		t.Helper()
		var v view
		anon.Do("GET", "/api/v1/trace/"+code, nil).Want(200).JSON(&v)
		if len(v.Households) != 1 {
			t.Fatalf("scan of %s shows %d households", code, len(v.Households))
		}
		return v
	}
	// refresh is what the service's background loop does every SCAN_FLUSH_INTERVAL.
	refresh := func() int64 {
		t.Helper()
		e, err := w.a.Trace.RefreshEpoch(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	for _, c := range []string{sold, unsold} {
		if v := scan(c); v.Households[0].VillageName != "旧村甲" || v.Origin.Code != v1 || v.Households[0].HeadName != "龙*花" {
			t.Fatalf("scan of %s before the merge: %+v", c, v)
		}
	}

	epoch := refresh()
	members := 5
	op.Do("PATCH", "/api/v1/households/"+h.ID, map[string]any{"members": members}).Want(200)
	if e := refresh(); e != epoch {
		t.Errorf("a size change, which no scan page shows, dropped the cached views (epoch %d → %d)", epoch, e)
	}

	w.Admin.Do("POST", "/api/v1/regions/merges", map[string]any{"villages": []string{v1}, "successor_code": v3,
		"successor_name": "新合村乙"}).Want(201)
	if e := refresh(); e == epoch {
		t.Fatal("the merge left the cached views in place")
	}
	if v := scan(sold); v.Households[0].VillageName != "旧村甲" || v.Origin.Code != v1 {
		t.Errorf("item sold before the merge now shows village %q, origin %s; want 旧村甲, %s", v.Households[0].VillageName, v.Origin.Code, v1)
	}
	// An unsold item: its household where it lives now, its origin the batch's, made before the
	// merge (the product's origin moved to the successor; the batch's did not).
	if v := scan(unsold); v.Households[0].VillageName != "新合村乙" || v.Origin.Code != v1 {
		t.Errorf("unsold item after the merge shows village %q, origin %s; want 新合村乙, %s", v.Households[0].VillageName, v.Origin.Code, v1)
	}
	// A reprinted label says what the page of its code says: the sold item's village of the sale,
	// the unsold one's the batch's.
	labels := map[string]string{}
	batchID := uuid.MustParse(b.ID)
	err := w.a.Trace.LabelItems(ctx, auth.Principal{Role: auth.RoleAdmin}, batchID, nil, func(next func() (trace.LabelItem, bool, error)) error {
		for {
			it, ok, err := next()
			if err != nil || !ok {
				return err
			}
			labels[it.Code] = it.Origin
		}
	})
	if err != nil || !strings.HasSuffix(labels[sold], "旧村甲") || !strings.HasSuffix(labels[unsold], "旧村甲") {
		t.Errorf("labels after the merge: %v %v; want 产地 旧村甲 on both (as their pages)", labels, err)
	}

	// A roster row naming another head under the household's archive number is refused (a head
	// and ID number never change, as with PATCH): the pages keep the masked name of the sale.
	roster := "户编号,户主姓名,身份证号,联系电话,家庭人口,所在村,户类型\n" + archiveNo + ",石秀英," + idn + ",,5," + v3 + ",脱贫户\n"
	upload(op, "/api/v1/households/import", "roster.csv", roster).Problem(422, "rows[2].户主姓名")
	refresh()
	for _, c := range []string{sold, unsold} {
		if v := scan(c); v.Households[0].HeadName != "龙*花" {
			t.Errorf("scan of %s after the refused import shows head %q, want 龙*花", c, v.Households[0].HeadName)
		}
	}
}

// A refund counts for the village its household belonged to when the line was sold: after the
// sale's village is merged into another, the refund nets against the merged village's income in
// the monthly report, and the successor shows none of it (it showed -¥1.00 of income with no
// household benefited). verify --full derives the same roll-ups. Villages of its own: the
// package's tests share a database, and the world's 十八洞村 must stay current for them.
func TestRefundCountsForTheVillageOfTheSale(t *testing.T) {
	w := newWorld(t)
	sold, successor := "433124110981", "433124110982"
	if err := w.a.DB.Exec(`INSERT INTO regions (code, name, level, parent_code) VALUES (?, '售出村', 5, '433124110')`, sold).Error; err != nil {
		t.Fatal(err)
	}
	var st struct{ ID string }
	w.Admin.Do("POST", "/api/v1/stations", map[string]any{"name": "售出村服务点", "level": "village",
		"region_code": sold, "village_codes": []string{sold}}).Want(201).JSON(&st)
	v := w.World
	v.OpA = fixture.Login(t, w.a.Router, w.a.Users, auth.RoleStation, &st.ID, nil)
	v.Households = []string{v.RegisterHousehold(t, v.OpA, sold), v.RegisterHousehold(t, v.OpA, sold)}
	v.Product = v.ListProduct(t, 10000, 10, []int{5000, 5000})
	o, _ := v.ReceivedOrder(t) // 2 × ¥100.00, to the two households of 售出村
	w.Admin.Do("POST", "/api/v1/regions/merges", map[string]any{"villages": []string{sold},
		"successor_code": successor, "successor_name": "合并后村"}).Want(201)
	v.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/refunds", map[string]any{"lines": []map[string]any{{"line_id": o.Lines[0].ID, "quantity": 1}}},
		"Idempotency-Key", "merge-refund").Want(201)

	month := time.Now().In(time.FixedZone("CST", 8*3600)).Format("2006-01")
	var m struct {
		Villages []struct {
			Code      string
			IncomeFen int64 `json:"income_fen"`
		}
	}
	w.Admin.Do("GET", "/api/v1/reports/monthly?region_code=433124110&month="+month, nil).Want(200).JSON(&m)
	income := map[string]int64{}
	for _, a := range m.Villages {
		income[a.Code] = a.IncomeFen
	}
	var net int64
	w.a.DB.Raw(`SELECT -sum(p.amount_fen) FROM postings p JOIN journal_entries e ON e.id = p.entry_id
		JOIN ledger_accounts a ON a.id = p.account_id WHERE e.order_id = ? AND a.kind = 'household_income'`, o.ID).Scan(&net)
	if net <= 0 || income[sold] != net || income[successor] != 0 {
		t.Errorf("income %d in %s and %d in %s; want the sale net of its refund (%d) in the first and none in the second",
			income[sold], sold, income[successor], successor, net)
	}
	var r struct {
		Mismatches int
		Lines      []string
	}
	w.Admin.Do("GET", "/api/v1/ledger/verify?full=true", nil).Want(200).JSON(&r)
	if r.Mismatches != 0 {
		t.Errorf("verify --full: %v", r.Lines)
	}
}

// A merged village is refused where a station, a product, a household or a cooperative names it,
// in one wording: 422 naming the field, the village it went into and the day.
func TestMergedVillageRefusedForStationsAndProducts(t *testing.T) {
	w := newWorld(t)
	gone, succ := "433124110991", "433124110992"
	if err := w.a.DB.Exec(`INSERT INTO regions (code, name, level, parent_code) VALUES (?, '并前村', 5, '433124110')`, gone).Error; err != nil {
		t.Fatal(err)
	}
	var st struct{ ID string }
	w.Admin.Do("POST", "/api/v1/stations", map[string]any{"name": "并前服务点", "level": "village",
		"region_code": gone, "village_codes": []string{gone}}).Want(201).JSON(&st)
	op := fixture.Login(t, w.a.Router, w.a.Users, auth.RoleStation, &st.ID, nil)
	h := w.RegisterHousehold(t, op, gone)
	w.Admin.Do("POST", "/api/v1/regions/merges", map[string]any{"villages": []string{gone}, "successor_code": succ,
		"successor_name": "并后村"}).Want(201)

	today := civil.Today(time.Now()).String()
	want := fmt.Sprintf("%s was merged into %s on %s: use %s", gone, succ, today, succ)
	for field, body := range map[string]map[string]any{
		"region_code":   {"name": "并后服务点甲", "level": "village", "region_code": gone, "village_codes": []string{succ}},
		"village_codes": {"name": "并后服务点乙", "level": "village", "region_code": succ, "village_codes": []string{succ, gone}},
	} {
		r := w.Admin.Do("POST", "/api/v1/stations", body)
		if r.Problem(422, field); !strings.Contains(r.Body.String(), want) {
			t.Errorf("station naming %s in %s: %s, want %q", gone, field, r.Body, want)
		}
	}
	product := map[string]any{"name": "并前村腊肉", "category": "腊肉", "unit": "斤", "price_fen": 5000, "stock": 10,
		"origin_code": gone, "suppliers": []map[string]any{{"household_id": h, "share_bp": 10000}}}
	r := op.Do("POST", "/api/v1/products", product)
	if r.Problem(422, "origin_code"); !strings.Contains(r.Body.String(), want) {
		t.Errorf("product from %s: %s, want %q", gone, r.Body, want)
	}
	product["origin_code"] = succ
	op.Do("POST", "/api/v1/products", product).Want(201)
	// A household and a cooperative in the merged village: the same words, from the same place
	// (region.Store.NotMerged), the field theirs.
	for path, body := range map[string]map[string]any{
		"/api/v1/households": {"archive_no": "T" + fixture.RandDigits(10), "head_name": "龙金花", "id_number": fixture.IDNumber(),
			"village_code": gone, "members": 2, "status": "lifted"},
		"/api/v1/cooperatives": {"name": "并前村合作社", "village_code": gone,
			"members": []map[string]any{{"household_id": h, "share_bp": 10000}}},
	} {
		r := w.Admin.Do("POST", path, body)
		if r.Problem(422, "village_code"); !strings.Contains(r.Body.String(), `"reason":"`+want+`"`) {
			t.Errorf("%s in %s: %s, want the reason %q", path, gone, r.Body, want)
		}
	}
}
