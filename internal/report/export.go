package report

import (
	"bytes"
	"embed"
	"encoding/csv"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/xuri/excelize/v2"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/httpx"
)

// Media types of the monthly report's formats.
const (
	mediaCSV  = "text/csv; charset=utf-8"
	mediaXLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	mediaHTML = "text/html; charset=utf-8"
)

func (h *Handler) registerMonthly(api gin.IRoutes, staff gin.HandlerFunc) {
	api.GET("/api/v1/reports/monthly", staff, h.monthly)
}

// monthly answers GET /api/v1/reports/monthly?region_code=&month=YYYY-MM&format=json|csv|xlsx|html
// (&table=areas|products|units for CSV). The month defaults to the previous one (the report is
// due by the 10th of the next month).
func (h *Handler) monthly(c *gin.Context) {
	var f apperr.Fields
	month := MonthOf(MonthOf(h.svc.now()).Start().AddDate(0, -1, 0))
	if v := c.Query("month"); v != "" {
		m, ok := ParseMonth(v)
		if !ok {
			f.Add("month", "must be a month YYYY-MM from 2010")
		}
		month = m
	}
	format := c.DefaultQuery("format", "json")
	if format != "json" && format != "csv" && format != "xlsx" && format != "html" {
		f.Add("format", "must be json, csv, xlsx or html")
	}
	table := c.DefaultQuery("table", "areas")
	if table != "areas" && table != "products" && table != "units" {
		f.Add("table", "must be areas, products or units")
	}
	region := c.Query("region_code")
	if region == "" {
		f.Add("region_code", "is required: a county (6 digits), township (9) or village (12) code")
	}
	if err := f.Err(); err != nil {
		httpx.Fail(c, err)
		return
	}
	rep, err := h.svc.MonthlyReport(c.Request.Context(), auth.MustFrom(c), region, month)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	name := fmt.Sprintf("yuebao-%s-%s", rep.RegionCode, rep.Month)
	var buf bytes.Buffer
	switch format {
	case "json":
		c.JSON(http.StatusOK, rep)
		return
	case "csv":
		err = WriteCSV(&buf, rep, table)
		c.Header("Content-Disposition", `attachment; filename="`+name+"-"+table+`.csv"`)
		format = mediaCSV
	case "xlsx":
		err = WriteXLSX(&buf, rep)
		c.Header("Content-Disposition", `attachment; filename="`+name+`.xlsx"`)
		format = mediaXLSX
	case "html":
		err = WriteHTML(&buf, rep)
		format = mediaHTML
	}
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	c.Data(http.StatusOK, format, buf.Bytes())
}

// yuan formats fen as a plain decimal ("1234.50", "-0.05"), exactly, for spreadsheets.
func yuan(fen int64) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	return fmt.Sprintf("%s%d.%02d", sign, fen/100, fen%100)
}

var plainNumber = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)

// safeCell defuses formula injection (CSV injection): a cell that a spreadsheet would read as a
// formula (starting with = + - @, a tab or a carriage return) is prefixed with a single quote,
// unless it is a plain number such as -12.50. Names of products and units come from users.
func safeCell(s string) string {
	if s == "" || plainNumber.MatchString(s) {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

var levelNames = map[int]string{3: "县", 4: "乡镇", 5: "村"}

// WriteCSV writes one table of the report as UTF-8 CSV with a byte order mark (so that Excel
// reads the Chinese), every cell defused against formula injection. table: areas (the area itself,
// then its townships and villages), products (top products) or units (by assisting unit).
func WriteCSV(w io.Writer, rep Monthly, table string) error {
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	write := func(cells ...string) {
		for i := range cells {
			cells[i] = safeCell(cells[i])
		}
		cw.Write(cells)
	}
	switch table {
	case "products":
		write("月份", "产品", "产地代码", "数量", "销售额(元)")
		for _, p := range rep.TopProducts {
			write(rep.Month, p.Name, p.OriginCode, strconv.FormatInt(p.Quantity, 10), yuan(p.SalesFen))
		}
	case "units":
		write("月份", "帮扶单位", "统一社会信用代码", "订单数", "采购额(元)", "带贫户数")
		for _, u := range rep.Units {
			write(rep.Month, u.Name, u.CreditCode, strconv.Itoa(u.Orders), yuan(u.SalesFen), strconv.Itoa(u.HouseholdsBenefited))
		}
	default:
		write("月份", "区划代码", "名称", "层级", "销售额(元)", "带贫户数", "增收(元)", "经营性收入(元)", "工资性收入(元)", "人均增收(元)")
		row := func(code, name string, level int, s Summary) {
			write(rep.Month, code, name, levelNames[level], yuan(s.SalesFen), strconv.Itoa(s.HouseholdsBenefited),
				yuan(s.IncomeFen), yuan(s.BusinessFen), yuan(s.WageFen), yuan(s.PerCapitaAddedFen))
		}
		row(rep.RegionCode, rep.RegionName, rep.Level, rep.Totals)
		for _, a := range rep.Townships {
			row(a.Code, a.Name, a.Level, a.Summary)
		}
		for _, a := range rep.Villages {
			row(a.Code, a.Name, a.Level, a.Summary)
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteXLSX writes the report as a workbook of three sheets (地区, 产品, 帮扶单位) through
// excelize's stream writer. Codes (region codes, credit codes) are text cells in a text format, so
// that a spreadsheet never shows 433124110226 as 4.33E+11; money is a formula over the exact
// number of fen (=123450/100) in a yuan format, so no floating-point value is ever computed here,
// and the workbook asks to be recalculated on load.
func WriteXLSX(w io.Writer, rep Monthly) error {
	f := excelize.NewFile()
	defer f.Close()
	textStyle, err := f.NewStyle(&excelize.Style{NumFmt: 49})
	if err != nil {
		return err
	}
	moneyStyle, err := f.NewStyle(&excelize.Style{NumFmt: 4}) // #,##0.00
	if err != nil {
		return err
	}
	headStyle, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	text := func(s string) excelize.Cell { return excelize.Cell{StyleID: textStyle, Value: s} }
	money := func(fen int64) excelize.Cell {
		return excelize.Cell{StyleID: moneyStyle, Formula: fmt.Sprintf("%d/100", fen)}
	}
	sheet := func(name string, header []string, rows func(add func(...any) error) error) error {
		if _, err := f.NewSheet(name); err != nil {
			return err
		}
		sw, err := f.NewStreamWriter(name)
		if err != nil {
			return err
		}
		hs := make([]any, len(header))
		for i, h := range header {
			hs[i] = excelize.Cell{StyleID: headStyle, Value: h}
		}
		n := 1
		add := func(cells ...any) error {
			cell, _ := excelize.CoordinatesToCellName(1, n)
			n++
			return sw.SetRow(cell, cells)
		}
		if err := add(hs...); err != nil {
			return err
		}
		if err := rows(add); err != nil {
			return err
		}
		return sw.Flush()
	}
	err = sheet("地区", []string{"月份", "区划代码", "名称", "层级", "销售额(元)", "带贫户数", "增收(元)", "经营性收入(元)", "工资性收入(元)", "人均增收(元)"},
		func(add func(...any) error) error {
			row := func(code, name string, level int, s Summary) error {
				return add(text(rep.Month), text(code), text(name), text(levelNames[level]), money(s.SalesFen), s.HouseholdsBenefited,
					money(s.IncomeFen), money(s.BusinessFen), money(s.WageFen), money(s.PerCapitaAddedFen))
			}
			if err := row(rep.RegionCode, rep.RegionName, rep.Level, rep.Totals); err != nil {
				return err
			}
			for _, as := range [][]Area{rep.Townships, rep.Villages} {
				for _, a := range as {
					if err := row(a.Code, a.Name, a.Level, a.Summary); err != nil {
						return err
					}
				}
			}
			return nil
		})
	if err == nil {
		err = sheet("产品", []string{"月份", "产品", "产地代码", "数量", "销售额(元)"}, func(add func(...any) error) error {
			for _, p := range rep.TopProducts {
				if err := add(text(rep.Month), text(p.Name), text(p.OriginCode), p.Quantity, money(p.SalesFen)); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err == nil {
		err = sheet("帮扶单位", []string{"月份", "帮扶单位", "统一社会信用代码", "订单数", "采购额(元)", "带贫户数"}, func(add func(...any) error) error {
			for _, u := range rep.Units {
				if err := add(text(rep.Month), text(u.Name), text(u.CreditCode), u.Orders, money(u.SalesFen), u.HouseholdsBenefited); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err != nil {
		return err
	}
	if err := f.DeleteSheet("Sheet1"); err != nil {
		return err
	}
	full := true
	if err := f.SetCalcProps(&excelize.CalcPropsOptions{FullCalcOnLoad: &full}); err != nil {
		return err
	}
	return f.Write(w)
}

//go:embed templates/monthly.html
var templates embed.FS

var monthlyTemplate = template.Must(template.New("monthly.html").Funcs(template.FuncMap{
	"yuan": func(fen int64) string { return "¥" + yuan(fen) },
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
