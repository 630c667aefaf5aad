package procurement_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/fupinmarket/fupin/internal/fixture"
	"github.com/fupinmarket/fupin/internal/platform/sheet/sheettest"
)

// An order paid at 00:30 on 1 March China time (16:30 UTC on 28 February) counts in March's
// statement, with the server and the database in UTC; one paid at 23:59:59 on 28 February China
// time counts in February. The exports: CSV with BOM, inert formulas, numeric amounts; XLSX with
// text ids and numeric amounts; Chinese download names with an ASCII fallback.
func TestStatementTimeZone(t *testing.T) {
	prev := time.Local
	time.Local = time.UTC
	t.Cleanup(func() { time.Local = prev })
	w := newWorld(t)
	var zone string
	w.a.DB.Raw("SHOW TimeZone").Scan(&zone)
	if zone != "UTC" && zone != "Etc/UTC" {
		w.a.DB.Exec("SET TIME ZONE 'UTC'") // the session default of this database
	}
	var unit struct {
		UnitID string `json:"unit_id"`
	}
	evil := w.ListProduct(t, 10000, 10, []int{10000})
	w.OpA.Do("PATCH", "/api/v1/products/"+evil, map[string]any{"name": "=HYPERLINK(\"http://x\")猕猴桃"}).Want(200)
	// Statements name products as on the day of payment, and the orders below are dated back into
	// 2026: so is the name.
	if err := w.a.DB.Exec(`UPDATE product_names SET valid_from = '2026-01-01' WHERE product_id = ? AND valid_from > '-infinity'`, evil).Error; err != nil {
		t.Fatal(err)
	}

	pay := func(key, product string, qty int, paidAt string) string {
		var o fixture.FullOrder
		w.Buyer1.Do("POST", "/api/v1/orders", map[string]any{"items": []map[string]any{{"product_id": product, "quantity": qty}}},
			"Idempotency-Key", key).Want(201).JSON(&o)
		w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/payment", nil, "Idempotency-Key", key).Want(201)
		w.a.DB.Exec("UPDATE orders SET paid_at = ?::timestamptz WHERE id = ?", paidAt, o.ID)
		w.Buyer1.Do("GET", "/api/v1/orders/"+o.ID, nil).Want(200).JSON(&unit)
		return o.ID
	}
	march := pay("tz-march", evil, 2, "2026-02-28T16:30:00Z")
	// An all-digit credit code, which a spreadsheet would turn into 9.14331240000239E+17.
	if err := w.a.DB.Exec("UPDATE assisting_units SET credit_code = '914331240000238643' WHERE id = ?", unit.UnitID).Error; err != nil {
		t.Fatal(err)
	}
	var unitName string
	w.a.DB.Raw("SELECT name FROM assisting_units WHERE id = ?", unit.UnitID).Scan(&unitName)
	feb := pay("tz-feb", w.Product, 1, "2026-02-28T15:59:59Z")

	type st struct {
		Orders    int
		AmountFen int64 `json:"amount_fen"`
		Lines     []struct {
			OrderID string `json:"order_id"`
		}
	}
	var m, f, y st
	w.Buyer1.Do("GET", "/api/v1/units/"+unit.UnitID+"/statement?period=2026-03", nil).Want(200).JSON(&m)
	w.Buyer1.Do("GET", "/api/v1/units/"+unit.UnitID+"/statement?period=2026-02", nil).Want(200).JSON(&f)
	w.Admin.Do("GET", "/api/v1/units/"+unit.UnitID+"/statement?period=2026", nil).Want(200).JSON(&y)
	if m.Orders != 1 || m.Lines[0].OrderID != march || m.AmountFen != 20000 {
		t.Fatalf("March statement = %+v, want only order %s", m, march)
	}
	if f.Orders != 1 || f.Lines[0].OrderID != feb {
		t.Fatalf("February statement = %+v, want only order %s", f, feb)
	}
	if y.Orders != 2 || y.AmountFen != 30000 {
		t.Fatalf("2026 statement = %+v", y)
	}
	w.Buyer2.Do("GET", "/api/v1/units/"+unit.UnitID+"/statement?period=2026-03", nil).Problem(404, "")
	w.OpA.Do("GET", "/api/v1/units/"+unit.UnitID+"/statement?period=2026-03", nil).Problem(403, "")
	// Each refusal says what is wrong: the form, the month or the range.
	for period, reason := range map[string]string{
		"2026-13": "has month 13: months are 01 to 12",
		"1999":    "must be in the years 2000 to 2100",
		"9999-12": "must be in the years 2000 to 2100",
		"2026-3":  "must be a month YYYY-MM or a year YYYY",
	} {
		r := w.Buyer1.Do("GET", "/api/v1/units/"+unit.UnitID+"/statement?period="+period, nil)
		r.Problem(422, "period")
		if !strings.Contains(r.Body.String(), reason) {
			t.Errorf("period=%s: %s, want %q", period, r.Body, reason)
		}
	}
	w.Buyer1.Do("GET", "/api/v1/units/"+unit.UnitID+"/statement?period=2026-03&format=pdf", nil).Problem(422, "format")

	r := w.Buyer1.Do("GET", "/api/v1/units/"+unit.UnitID+"/statement?period=2026-03&format=csv", nil).Want(200)
	body := r.Body.String()
	cd := r.Header().Get("Content-Disposition")
	// Above the table: whose statement and for when, and when it was made (China time).
	head := "\ufeff采购对账单\r\n帮扶单位," + unitName + "\r\n统一社会信用代码,\"=\"\"914331240000238643\"\"\"\r\n" +
		"对账期间,\"=\"\"2026-03\"\"\",\"=\"\"2026-03-01 至 2026-03-31（北京时间）\"\"\"\r\n生成时间（北京时间）,"
	if !strings.HasPrefix(body, head) || !strings.Contains(body, "\r\n\r\n付款时间,") {
		t.Fatalf("CSV does not start with a BOM, whose and when, and the header:\n%s", body)
	}
	generated := body[len(head) : strings.Index(body[len(head):], "\r\n")+len(head)]
	if g, err := time.ParseInLocation("2006-01-02 15:04:05", generated, time.FixedZone("CST", 8*3600)); err != nil || time.Since(g).Abs() > time.Minute {
		t.Fatalf("generated at %q (%v), want now in China time", generated, err)
	}
	// Opened in a spreadsheet, the credit code is exact text and the amounts are numbers.
	cells := sheettest.Calc(t, r.Body.Bytes(), "csv")
	if cells[2][1] != (sheettest.Value{Text: "914331240000238643"}) || cells[6][0].Text != "付款时间" ||
		cells[7][8] != (sheettest.Value{Text: "200", Number: true}) {
		t.Fatalf("opened in Calc: %+v", cells)
	}
	// The name is the string literal of ="…" (quotes doubled, then doubled again by CSV).
	if !strings.Contains(body, `,"=""=HYPERLINK(""""http://x"""")猕猴桃""",`) || strings.Contains(body, ",=HYPERLINK") {
		t.Fatalf("formula not made inert:\n%s", body)
	}
	if !strings.Contains(body, ",2,100.00,200.00,0,0.00\r\n") || !strings.Contains(body, "合计,,,,,,,,200.00,,0.00\r\n") {
		t.Fatalf("amounts are not plain numbers:\n%s", body)
	}
	if !strings.Contains(cd, `filename="statement-`) || !strings.Contains(cd, `-2026-03.csv"`) ||
		!strings.Contains(cd, "filename*=UTF-8''") || !strings.Contains(cd, "%20%E9%87%87%E8%B4%AD%E5%AF%B9%E8%B4%A6%E5%8D%95%202026-03.csv") {
		t.Fatalf("Content-Disposition %q", cd)
	}

	r = w.Buyer1.Do("GET", "/api/v1/units/"+unit.UnitID+"/statement?period=2026&format=xlsx", nil).Want(200)
	x, err := excelize.OpenReader(bytes.NewReader(r.Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	rows, err := x.GetRows("对账单")
	if err != nil || len(rows) != 10 {
		t.Fatalf("xlsx rows %v, %v", rows, err)
	}
	if rows[1][1] != unitName || rows[2][1] != "914331240000238643" || rows[3][1] != "2026" || rows[4][0] != "生成时间（北京时间）" {
		t.Fatalf("xlsx rows above the table %v", rows[:6])
	}
	if rows[7][0] != "2026-02-28 23:59:59" || rows[8][0] != "2026-03-01 00:30:00" || rows[7][1] != feb {
		t.Fatalf("xlsx rows %v", rows[7:9])
	}
	for cell, want := range map[string]excelize.CellType{"B3": excelize.CellTypeInlineString, "B8": excelize.CellTypeInlineString, "I8": excelize.CellTypeUnset, "I10": excelize.CellTypeUnset} {
		got, err := x.GetCellType("对账单", cell)
		if err != nil || got != want {
			t.Errorf("cell %s type %v, want %v (%v)", cell, got, want, err)
		}
	}
	if v, _ := x.GetCellValue("对账单", "I10", excelize.Options{RawCellValue: true}); v != "300" {
		t.Fatalf("total cell raw value %q, want the number 300", v)
	}

	// The page to print says the same above its table.
	r = w.Buyer1.Do("GET", "/api/v1/units/"+unit.UnitID+"/statement?period=2026-03&format=html", nil).Want(200)
	page := r.Body.String()
	if ct := r.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Fatalf("content type %q", ct)
	}
	for _, want := range []string{"<dd>" + unitName + "</dd>", "<dd>914331240000238643</dd>", "2026-03（2026-03-01 至 2026-03-31（北京时间））",
		"生成时间</dt><dd>" + generated[:10], "2026-03-01 00:30:00", "=HYPERLINK(&#34;http://x&#34;)猕猴桃", ">200.00<"} {
		if !strings.Contains(page, want) {
			t.Errorf("page has no %q:\n%s", want, page)
		}
	}
	if strings.Index(page, "914331240000238643") > strings.Index(page, "<table") {
		t.Error("the credit code is not above the table")
	}
}
