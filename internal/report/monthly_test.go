package report

import (
	"bytes"
	"context"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/fupinmarket/fupin/internal/ledger"
	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/sheet/sheettest"
)

func TestMonthlyReport(t *testing.T) {
	ctx := context.Background()
	c := newCounty(t)
	svc := NewService(c.db)
	a := c.household(t, c.villages[0], 4)
	b := c.household(t, c.villages[1], 2)
	far := c.household(t, c.villages[2], 1)
	kiwi := c.product(t, "=HYPERLINK(\"http://x\")猕猴桃", 2000, ledger.Supplier{HouseholdID: a, ShareBP: 5000}, ledger.Supplier{HouseholdID: b, ShareBP: 5000})
	honey := c.product(t, "蜂蜜", 5000, ledger.Supplier{HouseholdID: far, ShareBP: 10000})
	may := time.Date(2024, 5, 10, 4, 0, 0, 0, time.UTC)
	c.sell(t, kiwi, 10, 2000, may)                                           // 20,000: a 10,000, b 10,000
	c.sell(t, honey, 3, 5000, may)                                           // 15,000: far
	c.sell(t, kiwi, 1, 2000, time.Date(2024, 5, 31, 16, 30, 0, 0, time.UTC)) // June in China
	c.wage(t, a, "2024-05-20", 6000)

	rep, err := svc.MonthlyReport(ctx, c.admin, c.code, Month{2024, time.May})
	if err != nil {
		t.Fatal(err)
	}
	tot := rep.Totals
	// Income 20,000 + 15,000 + 6,000 wage = 41,000 over 3 households of 7 people: 5,857.14 → 5,857.
	if tot.SalesFen != 35000 || tot.Orders != 2 || tot.HouseholdsBenefited != 3 || tot.IncomeFen != 41000 ||
		tot.WageFen != 6000 || tot.Members != 7 || tot.PerCapitaAddedFen != 5857 {
		t.Errorf("totals %+v", tot)
	}
	if len(rep.Townships) != 2 || len(rep.Villages) != 3 || rep.Villages[0].IncomeFen != 16000 || rep.Villages[0].PerCapitaAddedFen != 4000 ||
		rep.Villages[0].SalesFen != 35000 || rep.Villages[2].SalesFen != 0 || rep.Townships[0].IncomeFen != 26000 ||
		rep.Townships[0].SalesFen != 35000 { // sales count where the products come from (both from 村1)
		t.Errorf("areas %+v %+v", rep.Townships, rep.Villages)
	}
	if len(rep.TopProducts) != 2 || rep.TopProducts[0].ProductID != kiwi || rep.TopProducts[0].Quantity != 10 {
		t.Errorf("products %+v", rep.TopProducts)
	}
	if len(rep.Units) != 1 || rep.Units[0].SalesFen != 35000 || rep.Units[0].HouseholdsBenefited != 3 || rep.Units[0].Orders != 2 {
		t.Errorf("units %+v", rep.Units)
	}
	// A station sees its village and its products only (all products here are its own).
	srep, err := svc.MonthlyReport(ctx, c.operator, c.code, Month{2024, time.May})
	if err != nil || srep.Totals.HouseholdsBenefited != 1 || srep.Totals.IncomeFen != 16000 {
		t.Errorf("station's report %+v %v", srep.Totals, err)
	}
	if _, err := svc.MonthlyReport(ctx, c.admin, "12345", Month{2024, time.May}); !apperr.Is(err, apperr.KindInvalid) {
		t.Errorf("bad region: %v", err)
	}
	if _, err := svc.MonthlyReport(ctx, c.admin, "999999", Month{2024, time.May}); !apperr.Is(err, apperr.KindInvalid) {
		t.Errorf("unknown region: %v", err)
	}

	t.Run("csv", func(t *testing.T) {
		var buf bytes.Buffer
		if err := WriteCSV(&buf, rep, "products"); err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(buf.Bytes(), []byte("\ufeff")) {
			t.Error("no byte order mark")
		}
		recs, err := csv.NewReader(bytes.NewReader(buf.Bytes()[3:])).ReadAll()
		if err != nil || len(recs) != 3 {
			t.Fatalf("%v %v", recs, err)
		}
		if recs[1][1] != `="=HYPERLINK(""http://x"")猕猴桃"` || recs[1][4] != "200.00" || recs[0][1] != "产品" || recs[1][0] != `="2024-05"` {
			t.Errorf("row %q", recs[1])
		}
		buf.Reset()
		WriteCSV(&buf, rep, "areas")
		recs, _ = csv.NewReader(bytes.NewReader(buf.Bytes()[3:])).ReadAll()
		if len(recs) != 7 || recs[1][1] != `="`+c.code+`"` || recs[1][7] != "410.00" || recs[1][11] != "58.57" || recs[1][10] != "0.00" || recs[1][5] != "2" {
			t.Errorf("areas %q", recs)
		}
		// Opened as a clerk does: codes stay exact text, money is numbers.
		for _, table := range []string{"areas", "units"} {
			buf.Reset()
			WriteCSV(&buf, rep, table)
			rows := sheettest.Calc(t, buf.Bytes(), "csv")
			code, amount, want := rows[1][2], rows[1][4], 18 // the unit's credit code
			if table == "areas" {
				code, amount, want = rows[4][1], rows[1][7], 12 // 村1
			}
			if code.Number || len(code.Text) != want || !amount.Number {
				t.Errorf("%s opened in Calc: code %+v, amount %+v", table, code, amount)
			}
		}
	})

	t.Run("xlsx", func(t *testing.T) {
		var buf bytes.Buffer
		if err := WriteXLSX(&buf, rep); err != nil {
			t.Fatal(err)
		}
		f, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if got := f.GetSheetList(); len(got) != 3 || got[0] != "地区" {
			t.Errorf("sheets %v", got)
		}
		typ, _ := f.GetCellType("地区", "B5")
		code, _ := f.GetCellValue("地区", "B5")
		if code != c.villages[0] || typ == excelize.CellTypeNumber {
			t.Errorf("village code cell %q of type %v", code, typ)
		}
		v, _ := f.GetCellValue("地区", "H2", excelize.Options{RawCellValue: true})
		formula, _ := f.GetCellFormula("地区", "H2")
		if v != "410" || formula != "" {
			t.Errorf("income cell %q formula %q, want the number 410", v, formula)
		}
		rows := sheettest.Calc(t, buf.Bytes(), "xlsx")
		if rows[4][1].Text != c.villages[0] || rows[4][1].Number || rows[1][7] != (sheettest.Value{Text: "410", Number: true}) {
			t.Errorf("opened in Calc: %+v", rows)
		}
		credit, _ := f.GetCellValue("帮扶单位", "C2")
		if len(credit) != 18 {
			t.Errorf("credit code %q", credit)
		}
	})

	t.Run("html", func(t *testing.T) {
		var buf bytes.Buffer
		if err := WriteHTML(&buf, rep); err != nil {
			t.Fatal(err)
		}
		page := buf.String()
		for _, want := range []string{"<svg", `width="480"`, "村1", "¥160.00", "消费帮扶月报", "&#34;http://x&#34;"} {
			if !strings.Contains(page, want) {
				t.Errorf("page has no %q", want)
			}
		}
		if strings.Contains(page, "<script") || strings.Contains(page, "src=\"http") {
			t.Error("page loads something")
		}
	})
}
