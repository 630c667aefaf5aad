package household

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// A cell typed on two lines (Alt+Enter in Excel, which CSV writes as a quoted line break) is a
// bad cell of its own row, named with its column and a reason that says what is wrong; with
// skip_bad_rows the other rows are imported. The file is not refused as an unclosed quote
// (TestImportRefusesWholeFile keeps that case), and XLSX says the same as CSV.
func TestImportLineBreakInCell(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	const reason = "holds a line break: names and addresses are one line"
	header := "户编号,户主姓名,身份证号,联系电话,家庭人口,所在村,户类型"
	rowOf := func(a, name string) string {
		return a + "," + name + "," + idNumber("19650312") + ",,4," + shibadong + ",贫困户"
	}
	good, broken := archive(), archive()
	csvFile := header + "\r\n" + rowOf(broken, "\"张\n三\"") + "\r\n" + rowOf(good, "龙先生") + "\r\n"

	x := excelize.NewFile()
	x.SetSheetRow("Sheet1", "A1", &[]any{"户编号", "户主姓名", "身份证号", "联系电话", "家庭人口", "所在村", "户类型"})
	x.SetSheetRow("Sheet1", "A2", &[]any{archive(), "张\n三", idNumber("19750505"), "", 3, shibadong, "脱贫户"})
	x.SetSheetRow("Sheet1", "A3", &[]any{archive(), "李四", idNumber("19760606"), "", 3, shibadong, "脱贫户"})
	var buf bytes.Buffer
	if err := x.Write(&buf); err != nil {
		t.Fatal(err)
	}

	for name, file := range map[string]string{"csv": csvFile, "xlsx": buf.String()} {
		rep, err := f.svc.Import(ctx, f.admin, strings.NewReader(file), ImportOptions{})
		if err == nil || rep.Applied || len(rep.Errors) != 1 ||
			rep.Errors[0] != (RowError{Row: 2, Column: "户主姓名", Reason: reason}) {
			t.Errorf("%s: %+v %v; want one error on row 2, 户主姓名: %q", name, rep, err, reason)
		}
		rep, err = f.svc.Import(ctx, f.admin, strings.NewReader(file), ImportOptions{SkipBadRows: true})
		if err != nil || !rep.Applied || rep.Inserted != 1 || rep.Skipped != 1 {
			t.Errorf("%s, skipping bad rows: %+v %v; want 1 inserted, 1 skipped", name, rep, err)
		}
	}
	if n := f.count(t, `SELECT count(*) FROM households WHERE archive_no IN (?, ?)`, good, broken); n != 1 {
		t.Errorf("%d of the CSV's households written, want the good one", n)
	}
}
