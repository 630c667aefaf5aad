package report

import (
	"embed"
	"html/template"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/fupinmarket/fupin/internal/platform/civil"
	"github.com/fupinmarket/fupin/internal/platform/sheet"
)

var levelNames = map[int]string{3: "县", 4: "乡镇", 5: "村"}

// reflectInt reads the int or int64 counts of the report for the page.
func reflectInt(n any) int64 {
	switch v := n.(type) {
	case int:
		return int64(v)
	case int64:
		return v
	}
	return 0
}

// tables are the report's three tables, in the order of the workbook's sheets.
func tables(rep Monthly) map[string]sheet.Table {
	m := sheet.Text(rep.Month)
	areas := sheet.Table{Name: "地区",
		Header: []string{"月份", "区划代码", "名称", "层级", "销售额(元)", "订单数", "带贫户数", "增收(元)", "经营性收入(元)", "工资性收入(元)", "财产性收入(元)",
			"人均增收(元)"}}
	row := func(code, name string, level int, s Summary) {
		areas.Rows = append(areas.Rows, []sheet.Cell{m, sheet.Text(code), sheet.Text(name), sheet.Text(levelNames[level]),
			sheet.Money(s.SalesFen), sheet.Int(int64(s.Orders)), sheet.Int(int64(s.HouseholdsBenefited)), sheet.Money(s.IncomeFen), sheet.Money(s.BusinessFen),
			sheet.Money(s.WageFen), sheet.Money(s.PropertyFen), sheet.Money(s.PerCapitaAddedFen)})
	}
	row(rep.RegionCode, rep.RegionName, rep.Level, rep.Totals)
	for _, a := range rep.Townships {
		row(a.Code, a.Name, a.Level, a.Summary)
	}
	for _, a := range rep.Villages {
		row(a.Code, a.Name, a.Level, a.Summary)
	}
	products := sheet.Table{Name: "产品", Header: []string{"月份", "产品", "产地代码", "数量", "销售额(元)"}}
	for _, p := range rep.Products {
		products.Rows = append(products.Rows, []sheet.Cell{m, sheet.Text(p.Name), sheet.Text(p.OriginCode), sheet.Int(p.Quantity), sheet.Money(p.SalesFen)})
	}
	units := sheet.Table{Name: "帮扶单位", Header: []string{"月份", "帮扶单位", "统一社会信用代码", "订单数", "采购额(元)", "带贫户数"}}
	for _, u := range rep.Units {
		units.Rows = append(units.Rows, []sheet.Cell{m, sheet.Text(u.Name), sheet.Text(u.CreditCode), sheet.Int(int64(u.Orders)),
			sheet.Money(u.SalesFen), sheet.Int(int64(u.HouseholdsBenefited))})
	}
	return map[string]sheet.Table{"areas": areas, "products": products, "units": units}
}

// WriteCSV writes one table of the report through internal/platform/sheet (UTF-8 with a byte
// order mark; codes, names and the month as exact text; money as plain numbers of yuan). table:
// areas (the area itself, then its townships and villages, each once), products (every product
// sold or refunded in the month) or units (by assisting unit).
func WriteCSV(w io.Writer, rep Monthly, table string) error {
	t, ok := tables(rep)[table]
	if !ok {
		t = tables(rep)["areas"]
	}
	return sheet.WriteCSV(w, t)
}

// WriteXLSX writes the report as a workbook of three sheets (地区, 产品, 帮扶单位) through
// internal/platform/sheet: codes as text cells, money as numbers in #,##0.00.
func WriteXLSX(w io.Writer, rep Monthly) error {
	ts := tables(rep)
	return sheet.WriteXLSX(w, ts["areas"], ts["products"], ts["units"])
}

//go:embed templates/monthly.html
var templates embed.FS

var monthlyTemplate = template.Must(template.New("monthly.html").Funcs(template.FuncMap{
	"yuan": func(fen int64) string { return "¥" + sheet.Grouped(fen) },
	"cst":  func(t time.Time) string { return t.In(civil.China).Format("2006-01-02 15:04") },
	"num":  func(n any) string { return sheet.GroupedInt(reflectInt(n)) },
}).ParseFS(templates, "templates/monthly.html"))

// Bar is one bar of the chart: a village's income, with its geometry in SVG user units.
type Bar struct {
	Name      string
	IncomeFen int64
	Y, Width  int
}

// chart lays out the income of the villages that had any as horizontal bars, largest first,
// widths in proportion to the largest (integer arithmetic; a village with income gets at least one
// unit so it is visible). Villages without income stay in the table, not the chart.
func chart(all []Area) ([]Bar, int) {
	const maxWidth, rowHeight = 480, 26
	var vs []Area
	for _, v := range all {
		if v.IncomeFen != 0 {
			vs = append(vs, v)
		}
	}
	sort.SliceStable(vs, func(i, j int) bool { return vs[i].IncomeFen > vs[j].IncomeFen })
	var top int64
	for _, v := range vs {
		top = max(top, v.IncomeFen)
	}
	bars := make([]Bar, len(vs))
	for i, v := range vs {
		w := 0
		if top > 0 && v.IncomeFen > 0 {
			w = max(1, int(v.IncomeFen*maxWidth/top))
		}
		bars[i] = Bar{Name: v.Name, IncomeFen: v.IncomeFen, Y: i * rowHeight, Width: w}
	}
	return bars, len(vs)*rowHeight + 10
}

// WriteHTML renders the report as one page: the figures, tables, and a server-rendered SVG bar
// chart of income added per village (no script, no external request).
func WriteHTML(w io.Writer, rep Monthly) error {
	bars, height := chart(rep.Villages)
	return monthlyTemplate.Execute(w, map[string]any{"R": rep, "Bars": bars, "Height": height,
		"Level": levelNames[rep.Level], "Title": strings.TrimSpace(rep.RegionName + " " + rep.Month + " 消费帮扶月报")})
}
