package report

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/xuri/excelize/v2"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/ledger"
	"github.com/fupinmarket/fupin/internal/platform/database"
	"github.com/fupinmarket/fupin/internal/platform/money"
)

func csvRows(t *testing.T, rep Monthly, table string) [][]string {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteCSV(&buf, rep, table); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(buf.Bytes(), []byte("\ufeff")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// Orders are counted per township and village of the products' origin, not only in total.
func TestMonthlyOrdersPerArea(t *testing.T) {
	c := newCounty(t)
	a := c.household(t, c.villages[0], 2)
	kiwi := c.product(t, "猕猴桃", 1000, ledger.Supplier{HouseholdID: a, ShareBP: 10000})
	may := time.Date(2024, 5, 10, 4, 0, 0, 0, time.UTC)
	c.sell(t, kiwi, 1, 1000, may)
	c.sell(t, kiwi, 2, 1000, may)
	rep, err := NewService(c.db).MonthlyReport(context.Background(), c.admin, c.code, Month{2024, time.May})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Totals.Orders != 2 || rep.Villages[0].Orders != 2 || rep.Townships[0].Orders != 2 ||
		rep.Villages[1].Orders != 0 || rep.Townships[1].Orders != 0 {
		t.Fatalf("orders: total %d, townships %+v, villages %+v", rep.Totals.Orders, rep.Townships, rep.Villages)
	}
	recs := csvRows(t, rep, "areas")
	if recs[0][5] != "订单数" || recs[1][5] != "2" || recs[2][5] != "2" || recs[4][5] != "2" || recs[5][5] != "0" {
		t.Errorf("areas CSV %q", recs)
	}
	var page bytes.Buffer
	WriteHTML(&page, rep)
	if !strings.Contains(page.String(), "<td>"+c.villages[0]+"</td><td>¥30.00</td><td>2</td>") {
		t.Errorf("page's village row has no orders:\n%s", page.String())
	}
}

// The CSV and XLSX list every product sold in the month; the page and top_products the top 10.
func TestMonthlyEveryProduct(t *testing.T) {
	c := newCounty(t)
	a := c.household(t, c.villages[0], 2)
	may := time.Date(2024, 5, 10, 4, 0, 0, 0, time.UTC)
	for i := range 12 {
		p := c.product(t, fmt.Sprintf("产品%02d", i), int64(100+i), ledger.Supplier{HouseholdID: a, ShareBP: 10000})
		c.sell(t, p, 1, int64(100+i), may)
	}
	rep, err := NewService(c.db).MonthlyReport(context.Background(), c.admin, c.code, Month{2024, time.May})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.TopProducts) != TopProductsShown || len(rep.Products) != 12 || rep.Products[0].Name != "产品11" || rep.Products[11].Name != "产品00" {
		t.Fatalf("top %d, all %+v", len(rep.TopProducts), rep.Products)
	}
	if recs := csvRows(t, rep, "products"); len(recs) != 13 || recs[12][1] != "产品00" || recs[12][4] != "1.00" {
		t.Errorf("products CSV %q", recs)
	}
	var buf bytes.Buffer
	if err := WriteXLSX(&buf, rep); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if rows, _ := f.GetRows("产品"); len(rows) != 13 {
		t.Errorf("products sheet has %d rows, want 13", len(rows))
	}
	var page bytes.Buffer
	WriteHTML(&page, rep)
	if n := strings.Count(page.String(), "<td>产品"); n != TopProductsShown {
		t.Errorf("page lists %d products, want the top %d", n, TopProductsShown)
	}
}

// A township's or village's report lists the area itself once (its own row), then what is below it.
func TestMonthlyAreaOnce(t *testing.T) {
	c := newCounty(t)
	svc := NewService(c.db)
	township := c.code + "101"
	rep, err := svc.MonthlyReport(context.Background(), c.admin, township, Month{2024, time.May})
	if err != nil {
		t.Fatal(err)
	}
	recs := csvRows(t, rep, "areas")
	seen := map[string]int{}
	for _, r := range recs[1:] {
		seen[r[1]]++
	}
	if len(recs) != 4 || seen[`="`+township+`"`] != 1 || len(rep.Townships) != 0 || len(rep.Villages) != 2 {
		t.Errorf("township report areas %q (townships %+v)", recs, rep.Townships)
	}
	rep, err = svc.MonthlyReport(context.Background(), c.admin, c.villages[0], Month{2024, time.May})
	if err != nil {
		t.Fatal(err)
	}
	if recs := csvRows(t, rep, "areas"); len(recs) != 2 || len(rep.Villages) != 0 {
		t.Errorf("village report areas %q", recs)
	}
}

// A month with only refunds of a product shows their quantities (negative), not 0.
func TestMonthlyRefundOnlyMonth(t *testing.T) {
	c := newCounty(t)
	a := c.household(t, c.villages[0], 2)
	kiwi := c.product(t, "猕猴桃", 1250, ledger.Supplier{HouseholdID: a, ShareBP: 10000})
	order := c.sell(t, kiwi, 5, 1250, time.Date(2024, 5, 10, 4, 0, 0, 0, time.UTC))
	c.refund(t, order, 3, time.Date(2024, 6, 3, 4, 0, 0, 0, time.UTC))
	rep, err := NewService(c.db).MonthlyReport(context.Background(), c.admin, c.code, Month{2024, time.June})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Products) != 1 || rep.Products[0].Quantity != -3 || rep.Products[0].SalesFen != -3750 {
		t.Fatalf("June products %+v", rep.Products)
	}
	if recs := csvRows(t, rep, "products"); len(recs) != 2 || recs[1][3] != "-3" || recs[1][4] != "-37.50" {
		t.Errorf("products CSV %q", recs)
	}
	may, _ := NewService(c.db).MonthlyReport(context.Background(), c.admin, c.code, Month{2024, time.May})
	if may.Products[0].Quantity != 5 {
		t.Errorf("May products %+v", may.Products)
	}
}

// The page shows times in China time and amounts and counts with thousands separators.
func TestMonthlyPageChinaTimeAndSeparators(t *testing.T) {
	c := newCounty(t)
	a := c.household(t, c.villages[0], 1)
	gold := c.product(t, "黄金茶", 123456789, ledger.Supplier{HouseholdID: a, ShareBP: 10000})
	c.sell(t, gold, 1200, 123456789, time.Date(2024, 5, 10, 4, 0, 0, 0, time.UTC))
	svc := NewService(c.db)
	svc.now = func() time.Time { return time.Date(2024, 6, 1, 17, 5, 0, 0, time.UTC) } // 2 June 01:05 in China
	rep, err := svc.MonthlyReport(context.Background(), c.admin, c.code, Month{2024, time.May})
	if err != nil {
		t.Fatal(err)
	}
	var page bytes.Buffer
	if err := WriteHTML(&page, rep); err != nil {
		t.Fatal(err)
	}
	// 1,200 × ¥1,234,567.89 = ¥1,481,481,468.00
	for _, want := range []string{"生成于 2024-06-02 01:05（北京时间）", "¥1,481,481,468.00", "<td>1,200</td>"} {
		if !strings.Contains(page.String(), want) {
			t.Errorf("page has no %q", want)
		}
	}
	if strings.Contains(page.String(), "UTC") {
		t.Error("page shows UTC")
	}
}

// refund refunds quantity of the order's first line at `at`.
func (c *county) refund(t testing.TB, order uuid.UUID, quantity int, at time.Time) {
	t.Helper()
	err := database.Tx(context.Background(), c.db, func(tx *gorm.DB) error {
		var lines []struct {
			ID           uuid.UUID
			UnitPriceFen money.Money
		}
		if err := tx.Raw(`SELECT id, unit_price_fen FROM order_lines WHERE order_id = ? AND line_no = 1`, order).Scan(&lines).Error; err != nil {
			return err
		}
		line := lines[0].ID
		if err := tx.Exec(`UPDATE order_lines SET refunded_quantity = refunded_quantity + ? WHERE id = ?`, quantity, line).Error; err != nil {
			return err
		}
		_, _, err := c.ledger.PostRefund(context.Background(), tx, order, c.unit, "r-"+randHex(6),
			[]ledger.RefundLine{{OrderLineID: line, Quantity: quantity, UnitPrice: lines[0].UnitPriceFen}}, at)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A closed month's workbook regenerates byte for byte from the database (README): three sheets,
// read again for every download, give the same bytes each time.
func TestMonthlyXLSXSameBytes(t *testing.T) {
	c := newCounty(t)
	a := c.household(t, c.villages[0], 2)
	kiwi := c.product(t, "猕猴桃", 1250, ledger.Supplier{HouseholdID: a, ShareBP: 10000})
	c.sell(t, kiwi, 3, 1250, time.Date(2024, 5, 10, 4, 0, 0, 0, time.UTC))
	svc := NewService(c.db)
	var first []byte
	for i := range 12 {
		rep, err := svc.MonthlyReport(context.Background(), c.admin, c.code, Month{2024, time.May})
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := WriteXLSX(&buf, rep); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = buf.Bytes()
			if len(rep.Products) != 1 || len(rep.Units) != 1 {
				t.Fatalf("products %+v units %+v", rep.Products, rep.Units)
			}
		} else if !bytes.Equal(buf.Bytes(), first) {
			t.Fatalf("download %d differs from the first", i+1)
		}
	}
}

// A household that moved villages in the month (a village merge moves them all) counts as
// benefited in each village its income rose in, but once in their township and county, its
// members once in their per-capita figure (a reviewer's county counted 20 where 17 had benefited).
func TestMonthlyMovedHouseholdCountsOnce(t *testing.T) {
	c := newCounty(t)
	a := c.household(t, c.villages[0], 4)
	b := c.household(t, c.villages[1], 2)
	kiwi := c.product(t, "猕猴桃", 1000, ledger.Supplier{HouseholdID: a, ShareBP: 5000}, ledger.Supplier{HouseholdID: b, ShareBP: 5000})
	// Both sales in one past month (China time): two calls of time.Now() could straddle a month's end.
	may := time.Date(2024, 5, 10, 4, 0, 0, 0, time.UTC)
	c.sell(t, kiwi, 1, 1000, may)
	// The move as the village history records it, dated between the sales (the UPDATE records
	// one more, now, after the month).
	exec(t, c.db, `INSERT INTO household_villages (household_id, valid_from, village_code) VALUES (?, ?, ?)`, a, may.AddDate(0, 0, 5), c.villages[1])
	exec(t, c.db, `UPDATE households SET village_code = ? WHERE id = ?`, c.villages[1], a)
	c.sell(t, kiwi, 1, 1000, may.AddDate(0, 0, 10))
	rep, err := NewService(c.db).MonthlyReport(context.Background(), c.admin, c.code, MonthOf(may))
	if err != nil {
		t.Fatal(err)
	}
	v0, v1, t1 := findArea(rep.Villages, c.villages[0]), findArea(rep.Villages, c.villages[1]), findArea(rep.Townships, c.code+"101")
	if v0 == nil || v1 == nil || t1 == nil {
		t.Fatalf("areas %+v %+v", rep.Villages, rep.Townships)
	}
	if v0.HouseholdsBenefited != 1 || v0.IncomeFen != 500 || v1.HouseholdsBenefited != 2 || v1.IncomeFen != 1500 || v1.Members != 6 {
		t.Errorf("villages: %+v, %+v", v0.Summary, v1.Summary)
	}
	for name, s := range map[string]Summary{"township": t1.Summary, "county": rep.Totals} {
		// ¥20.00 over the 6 members of the 2 households: ¥3.33 each.
		if s.HouseholdsBenefited != 2 || s.Members != 6 || s.IncomeFen != 2000 || s.PerCapitaAddedFen != 333 {
			t.Errorf("%s: %+v; want 2 households, 6 members, ¥20.00, ¥3.33 per capita", name, s)
		}
	}
	if recs := csvRows(t, rep, "areas"); recs[1][6] != "2" {
		t.Errorf("areas CSV county row %q", recs[1])
	}
}
