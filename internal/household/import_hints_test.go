package household

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// A roster's own mistakes are named as such: an Excel error value (a VLOOKUP that found nothing)
// is not taken for a name, an ID number Excel stored as a number says so, and an unknown 户类型
// lists the roster's names, not the API's. XLSX and CSV say the same.
func TestImportNamesExcelsOwnMistakes(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	header := []any{"户编号", "户主姓名", "身份证号", "联系电话", "家庭人口", "所在村", "户类型"}
	rows := [][]any{
		{archive(), "#N/A", idNumber("19650312"), "", 4, shibadong, "贫困户"},
		{archive(), "龙先生", 4.33124197501011e+17, "", 3, shibadong, "脱贫户"},
		{archive(), "石女士", idNumber("19760606"), "", 3, shibadong, "低保户"},
		{archive(), "麻先生", idNumber("19770707"), "", 3, shibadong, " #ref! "},
	}
	want := []RowError{
		{Row: 2, Column: "户主姓名", Reason: "is the Excel error #N/A: the formula that fills it found nothing; fix it or type the value"},
		{Row: 3, Column: "身份证号", Reason: "was stored by Excel as a number (4.33124197501011E+17), which loses its last digits: format the column as text and type the numbers again"},
		{Row: 4, Column: "户类型", Reason: "must be one of 贫困户, 脱贫户, 脱贫不稳定户, 边缘易致贫户, 突发严重困难户"},
		{Row: 5, Column: "户类型", Reason: "is the Excel error #REF!: the formula that fills it found nothing; fix it or type the value"},
	}
	x := excelize.NewFile()
	x.SetSheetRow("Sheet1", "A1", &header)
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		x.SetSheetRow("Sheet1", cell, &r)
	}
	var buf bytes.Buffer
	if err := x.Write(&buf); err != nil {
		t.Fatal(err)
	}
	var csv strings.Builder
	csv.WriteString("户编号,户主姓名,身份证号,联系电话,家庭人口,所在村,户类型\r\n")
	for _, r := range rows {
		cells := make([]string, len(r))
		for j, v := range r {
			cells[j] = fmt.Sprint(v)
			if _, ok := v.(float64); ok {
				cells[j] = "4.33124197501011E+17" // as Excel writes the number to CSV
			}
		}
		csv.WriteString(strings.Join(cells, ",") + "\r\n")
	}
	for name, file := range map[string]string{"xlsx": buf.String(), "csv": csv.String()} {
		if name == "xlsx" {
			want[1].Reason = strings.Replace(want[1].Reason, "4.33124197501011E+17", "433124197501011000", 1)
		} else {
			want[1].Reason = strings.Replace(want[1].Reason, "433124197501011000", "4.33124197501011E+17", 1)
		}
		rep, err := f.svc.Import(ctx, f.admin, strings.NewReader(file), ImportOptions{})
		if err == nil || rep.Applied {
			t.Errorf("%s: %+v %v; want refused", name, rep, err)
		}
		if len(rep.Errors) != len(want) {
			t.Errorf("%s: errors %+v; want %+v", name, rep.Errors, want)
			continue
		}
		for i := range want {
			if rep.Errors[i] != want[i] {
				t.Errorf("%s: error %d %+v; want %+v", name, i, rep.Errors[i], want[i])
			}
		}
	}
}

// A bad row's unknown village is reported with its other errors, so that one round of fixes
// fixes it too (a reviewer saw it only on the next try); a good village adds nothing, and a
// malformed one is blamed once.
func TestImportReportsBadRowsVillagesToo(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	csv := "户编号,户主姓名,身份证号,联系电话,家庭人口,所在村,户类型\r\n" +
		archive() + ",龙先生,12345,,3,433124999999,低保户\r\n" + // bad ID, bad 户类型, no such village
		archive() + ",石女士,12345,,3," + shibadong + ",贫困户\r\n" + // bad ID, good village
		archive() + ",麻先生,12345,,3,4331,贫困户\r\n" // bad ID, malformed village
	rep, err := f.svc.Import(ctx, f.admin, strings.NewReader(csv), ImportOptions{})
	if err == nil || rep.Applied {
		t.Fatalf("%+v %v; want refused", rep, err)
	}
	var got []string
	for _, e := range rep.Errors {
		got = append(got, fmt.Sprintf("%d %s", e.Row, e.Column))
	}
	want := "2 身份证号,2 户类型,2 所在村,3 身份证号,4 身份证号,4 所在村"
	if strings.Join(got, ",") != want {
		t.Errorf("errors %s; want %s (%+v)", strings.Join(got, ","), want, rep.Errors)
	}
}
