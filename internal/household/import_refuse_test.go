package household

import (
	"context"
	"encoding/binary"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
)

// A roster in a format offices save by mistake is refused as one file error saying what it is and
// what to save it as, not as six "the header has no … column" errors; so are a repeated column
// and a header without households.
func TestImportRefusesWholeFile(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	header := "户编号,户主姓名,身份证号,联系电话,家庭人口,所在村,户类型"
	row := archive() + ",龙先生," + idNumber("19650312") + ",,4," + shibadong + ",贫困户"
	utf16Of := func(s string, bom []byte, order binary.AppendByteOrder) string {
		b := bom
		for _, u := range utf16.Encode([]rune(s)) {
			b = order.AppendUint16(b, u)
		}
		return string(b)
	}
	xlsx, _ := rosterXLSX(t, 0)
	for name, tc := range map[string]struct{ file, reason string }{
		// 户编号 in GBK, then the rest of the header and a row as GBK saves ASCII.
		"gbk":          {"\xbb\xa7\xb1\xe0\xba\xc5,head_name,id_number,members,village,status\r\nA1,x,y,1,z,poor\r\n", "is not UTF-8 text (GBK?): save it as CSV UTF-8 or XLSX"},
		"utf-16le":     {utf16Of(header+"\r\n"+row+"\r\n", []byte{0xff, 0xfe}, binary.LittleEndian), "is UTF-16 text: save it as CSV UTF-8 or XLSX"},
		"utf-16be":     {utf16Of(header+"\r\n"+row+"\r\n", []byte{0xfe, 0xff}, binary.BigEndian), "is UTF-16 text: save it as CSV UTF-8 or XLSX"},
		"xls":          {"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + strings.Repeat("\x00", 504), "is a legacy .xls workbook: save it as XLSX or CSV UTF-8"},
		"header only":  {"\ufeff" + header + "\r\n", "is empty: it needs a header row and at least one household"},
		"header+blank": {header + "\n,,,,,,\n\n", "is empty: it needs a header row and at least one household"},
		"xlsx header":  {string(xlsx), "is empty: it needs a header row and at least one household"},
		"empty":        {"", "is empty: it needs a header row and at least one household"},
		// A quote never closed: the rows after it would be read into one cell and vanish when bad rows are skipped.
		"open quote": {header + "\n" + row + "\n" + archive() + ",\"龙二,x,,3," + shibadong + ",脱贫户\n" + row + "\n",
			"row 3, column 2 holds a line break: a quote (\") opened there is not closed, and the rows after it were read into that cell; close or remove the quote"},
	} {
		for _, skip := range []bool{false, true} {
			rep, err := f.svc.Import(ctx, f.admin, strings.NewReader(tc.file), ImportOptions{SkipBadRows: skip})
			e, ok := apperr.As(err)
			if !ok || e.Kind != apperr.KindInvalid || len(e.Fields) != 1 || e.Fields[0].Field != "file" || e.Fields[0].Reason != tc.reason {
				t.Errorf("%s (skip %v): %+v; want one 422 on file: %q", name, skip, err, tc.reason)
			}
			if rep.Applied || rep.Inserted != 0 {
				t.Errorf("%s: %+v", name, rep)
			}
		}
	}

	// A column twice (under its name or an alias) is a header error naming it; nothing is written.
	for name, tc := range map[string]struct{ header, column, reason string }{
		"same name": {header + ",户编号", "户编号", "户编号 appears twice in the header (columns A and H)"},
		"alias":     {"身份证号码," + header, "身份证号", "身份证号 appears twice in the header (columns A and D)"},
	} {
		file := tc.header + "\n" + row + ",X\n"
		rep, err := f.svc.Import(ctx, f.admin, strings.NewReader(file), ImportOptions{SkipBadRows: true})
		if !apperr.Is(err, apperr.KindInvalid) || rep.Applied || len(rep.Errors) != 1 ||
			rep.Errors[0] != (RowError{Row: 1, Column: tc.column, Reason: tc.reason}) {
			t.Errorf("%s: %+v %v", name, rep, err)
		}
	}
	if n := f.count(t, `SELECT count(*) FROM households WHERE archive_no = ?`, strings.Split(row, ",")[0]); n != 0 {
		t.Errorf("a refused file wrote %d households", n)
	}
}
