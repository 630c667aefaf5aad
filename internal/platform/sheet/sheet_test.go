package sheet

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/fupinmarket/fupin/internal/platform/sheet/sheettest"
)

const creditCode = "914331240000238643"

// sample has what goes wrong in spreadsheets: an all-digit credit code, a 12-digit region code,
// a month, a leading-zero code, user text that looks like formulas, money with thousands.
func sample() Table {
	at := time.Date(2026, 3, 31, 16, 30, 5, 0, time.UTC) // 2026-04-01 00:30:05 in China
	return Table{
		Name:   "对账单",
		Above:  [][]Cell{{Text("采购对账单")}, {Text("统一社会信用代码"), Text(creditCode)}},
		Header: []string{"名称", "代码", "区划", "月份", "编号", "数量", "金额(元)", "时间"},
		Rows: [][]Cell{
			{Text(`=HYPERLINK("http://x","点")`), Text(creditCode), Text("433124110226"), Text("2026-03"), Text("0012"), Int(7), Money(123456789), Time(at)},
			{Text("-1+2"), Text("@SUM(A1)"), Text("+86 123"), Text("TRUE"), Text("\tx"), Int(-3), Money(-5), Empty},
			{Text("猕猴桃"), Text("-" + strings.Repeat("长", 249)), Text(`引"号`), Text(""), Text("1E5"), Int(0), Money(86415), Empty},
		},
	}
}

func TestYuan(t *testing.T) {
	for fen, want := range map[int64]string{0: "0.00", 5: "0.05", -5: "-0.05", 86415: "864.15", -123456789: "-1234567.89",
		-9223372036854775808: "-92233720368547758.08"} {
		if got := Yuan(fen); got != want {
			t.Errorf("Yuan(%d) = %q, want %q", fen, got, want)
		}
	}
	for fen, want := range map[int64]string{0: "0.00", 99999: "999.99", 100000: "1,000.00", -123456789: "-1,234,567.89", 10000000000: "100,000,000.00"} {
		if got := Grouped(fen); got != want {
			t.Errorf("Grouped(%d) = %q, want %q", fen, got, want)
		}
	}
	for n, want := range map[int64]string{0: "0", 999: "999", -1000: "-1,000", 1234567: "1,234,567"} {
		if got := GroupedInt(n); got != want {
			t.Errorf("GroupedInt(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestCSV(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteCSV(&buf, sample()); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(buf.Bytes(), []byte("\ufeff")) || !bytes.Contains(buf.Bytes(), []byte("\r\n")) {
		t.Error("no byte order mark or no CRLF")
	}
	r := csv.NewReader(bytes.NewReader(buf.Bytes()[3:]))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"采购对账单"},
		{"统一社会信用代码", `="914331240000238643"`},
		{"名称", "代码", "区划", "月份", "编号", "数量", "金额(元)", "时间"},
		{`="=HYPERLINK(""http://x"",""点"")"`, `="914331240000238643"`, `="433124110226"`, `="2026-03"`, `="0012"`, "7", "1234567.89", "2026-04-01 00:30:05"},
		{`="-1+2"`, `="@SUM(A1)"`, `="+86 123"`, `="TRUE"`, "=\"\tx\"", "-3", "-0.05", ""},
	}
	for i, w := range want {
		if strings.Join(recs[i], "|") != strings.Join(w, "|") {
			t.Errorf("row %d: %q, want %q", i, recs[i], w)
		}
	}
	long := recs[5][1] // 250 characters: three literals of at most 100
	if long != `="-`+strings.Repeat("长", 99)+`"&"`+strings.Repeat("长", 100)+`"&"`+strings.Repeat("长", 50)+`"` {
		t.Errorf("long text %q", long)
	}
}

func TestXLSX(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteXLSX(&buf, sample(), Table{Name: "二", Header: []string{"x"}}); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.GetSheetList(); strings.Join(got, ",") != "对账单,二" {
		t.Errorf("sheets %v", got)
	}
	s := "对账单"
	for ref, want := range map[string]string{"B2": creditCode, "A4": `=HYPERLINK("http://x","点")`, "B4": creditCode, "C4": "433124110226",
		"D4": "2026-03", "E4": "0012", "H4": "2026-04-01 00:30:05", "A5": "-1+2", "C6": `引"号`} {
		typ, _ := f.GetCellType(s, ref)
		formula, _ := f.GetCellFormula(s, ref)
		v, _ := f.GetCellValue(s, ref, excelize.Options{RawCellValue: true})
		if v != want || typ == excelize.CellTypeNumber || formula != "" {
			t.Errorf("%s: %q (type %v, formula %q), want text %q", ref, v, typ, formula, want)
		}
	}
	for ref, want := range map[string]string{"G4": "1234567.89", "G5": "-0.05", "G6": "864.15"} {
		raw, _ := f.GetCellValue(s, ref, excelize.Options{RawCellValue: true})
		shown, _ := f.GetCellValue(s, ref)
		formula, _ := f.GetCellFormula(s, ref)
		typ, _ := f.GetCellType(s, ref)
		if raw != want || formula != "" || typ == excelize.CellTypeSharedString || typ == excelize.CellTypeInlineString {
			t.Errorf("%s: raw %q shown %q formula %q type %v, want the number %s", ref, raw, shown, formula, typ, want)
		}
		style, _ := f.GetCellStyle(s, ref)
		st, _ := f.GetStyle(style)
		if st == nil || st.NumFmt != 4 {
			t.Errorf("%s: style %+v, want #,##0.00 (4)", ref, st)
		}
	}
	if shown, _ := f.GetCellValue(s, "G4"); shown != "1,234,567.89" {
		t.Errorf("G4 shown %q", shown)
	}
	wa, _ := f.GetColWidth(s, "A")
	wb, _ := f.GetColWidth(s, "B")
	wf, _ := f.GetColWidth(s, "F")
	if wb != maxWidth || wa < 28 || wf != minWidth {
		t.Errorf("widths A %v B %v F %v", wa, wb, wf)
	}
}

// TestCalcOpensExactly opens both formats in LibreOffice: the credit code and region code stay
// exact text, money cells are numbers, user formulas are never run.
func TestCalcOpensExactly(t *testing.T) {
	if testing.Short() {
		t.Skip("starts LibreOffice")
	}
	var c, x bytes.Buffer
	if err := WriteCSV(&c, sample()); err != nil {
		t.Fatal(err)
	}
	if err := WriteXLSX(&x, sample()); err != nil {
		t.Fatal(err)
	}
	for ext, data := range map[string][]byte{"csv": c.Bytes(), "xlsx": x.Bytes()} {
		rows := sheettest.Calc(t, data, ext)
		if len(rows) < 6 {
			t.Fatalf("%s: %v", ext, rows)
		}
		check := func(r, col int, text string, number bool) {
			t.Helper()
			if got := rows[r][col]; got.Text != text || got.Number != number {
				t.Errorf("%s row %d col %d: %+v, want %q number=%v", ext, r+1, col+1, got, text, number)
			}
		}
		check(1, 1, creditCode, false)
		check(3, 0, `=HYPERLINK("http://x","点")`, false)
		check(3, 1, creditCode, false)
		check(3, 2, "433124110226", false)
		check(3, 3, "2026-03", false)
		check(3, 4, "0012", false)
		check(3, 5, "7", true)
		check(3, 6, "1234567.89", true)
		check(3, 7, "2026-04-01 00:30:05", ext == "csv") // a date-time value in CSV, text in XLSX
		check(4, 0, "-1+2", false)
		check(4, 1, "@SUM(A1)", false)
		check(4, 3, "TRUE", false)
		check(4, 6, "-0.05", true)
		check(5, 1, "-"+strings.Repeat("长", 249), false)
		check(5, 2, `引"号`, false)
		check(5, 4, "1E5", false)
		check(5, 6, "864.15", true)
	}
}

// Numbers beyond the 15 digits a spreadsheet keeps are written as text, every fen kept; those
// within stay numbers. LibreOffice reads both as written.
func TestXLSXKeepsEveryFen(t *testing.T) {
	table := Table{Name: "大额", Header: []string{"金额(元)", "数量"}, Rows: [][]Cell{
		{Money(999_999_999_999_999), Int(999_999_999_999_999)},
		{Money(1_000_000_000_520_633), Int(1_000_000_000_000_001)},
		{Money(-1_000_000_000_520_633), Int(-9_223_372_036_854_775_808)},
	}}
	var x bytes.Buffer
	if err := WriteXLSX(&x, table); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(x.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for ref, want := range map[string]struct {
		v      string
		number bool
	}{"A2": {"9999999999999.99", true}, "B2": {"999999999999999", true},
		"A3": {"10000000005206.33", false}, "B3": {"1000000000000001", false},
		"A4": {"-10000000005206.33", false}, "B4": {"-9223372036854775808", false}} {
		v, _ := f.GetCellValue("大额", ref, excelize.Options{RawCellValue: true})
		typ, _ := f.GetCellType("大额", ref)
		isNumber := typ != excelize.CellTypeSharedString && typ != excelize.CellTypeInlineString
		if v != want.v || isNumber != want.number {
			t.Errorf("%s: %q (type %v); want %q, number %v", ref, v, typ, want.v, want.number)
		}
	}
	if testing.Short() {
		return
	}
	rows := sheettest.Calc(t, x.Bytes(), "xlsx")
	if len(rows) < 4 || rows[2][0].Text != "10000000005206.33" || rows[1][0].Text != "9999999999999.99" || !rows[1][0].Number {
		t.Errorf("LibreOffice reads %+v", rows)
	}
}

// A workbook of several sheets regenerates byte for byte (a reviewer's six downloads of one
// closed month's report gave two MD5s: excelize wrote the sheets' parts in map order), and its
// parts carry no time of writing.
func TestXLSXSameBytesEveryTime(t *testing.T) {
	tables := []Table{sample(), {Name: "二", Header: []string{"x"}, Rows: [][]Cell{{Int(1)}}},
		{Name: "三", Header: []string{"y"}, Rows: [][]Cell{{Money(5)}}}, {Name: "四", Header: []string{"z"}}}
	var first []byte
	for i := range 20 {
		var x bytes.Buffer
		if err := WriteXLSX(&x, tables...); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = x.Bytes()
			continue
		}
		if !bytes.Equal(x.Bytes(), first) {
			t.Fatalf("regeneration %d differs from the first (%d vs %d bytes)", i, x.Len(), len(first))
		}
	}
	r, err := zip.NewReader(bytes.NewReader(first), int64(len(first)))
	if err != nil {
		t.Fatal(err)
	}
	if r.File[0].Name != "[Content_Types].xml" {
		t.Errorf("first part %s", r.File[0].Name)
	}
	for _, p := range r.File {
		if !p.Modified.Equal(time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("%s modified %v", p.Name, p.Modified)
		}
	}
	f, err := excelize.OpenReader(bytes.NewReader(first))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := strings.Join(f.GetSheetList(), ","); got != "对账单,二,三,四" {
		t.Errorf("sheets %s", got)
	}
	if v, _ := f.GetCellValue("三", "A2", excelize.Options{RawCellValue: true}); v != "0.05" {
		t.Errorf("三!A2 %q", v)
	}
}
