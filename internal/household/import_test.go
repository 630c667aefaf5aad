package household

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
)

// fullWidth writes ASCII digits and letters as their full-width forms, as some spreadsheets do.
func fullWidth(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '!' && r <= '~' {
			return r + 0xFEE0
		}
		return r
	}, s)
}

func (f *fixture) count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := f.db.Raw(sql, args...).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func TestImportCSV(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	good1, good2 := archive(), archive()
	id1, id2 := idNumber("19650312"), idNumber("19881107")
	badCheck := idNumber("19700101")
	badCheck = badCheck[:17] + string("0123456789X"[(strings.IndexByte("0123456789X", badCheck[17])+1)%11])
	feb30 := "433124" + "19800230" + "123"
	feb30 += string(IDCheckChar(feb30))
	rows := []string{
		"\ufeff户编号,户主姓名,身份证号,联系电话,家庭人口,所在村,户类型",
		good1 + ",\u3000龙\u200b先生\u3000," + fullWidth(id1) + ",138 1234 5678,４," + shibadong + ",贫困户",
		good1 + ",重复," + idNumber("19700101") + ",,3," + shibadong + ",脱贫户",
		archive() + ",石大姐," + badCheck + ",,3," + shibadong + ",脱贫户",
		archive() + ",\u200b\u3000," + idNumber("19700101") + ",,3," + shibadong + ",脱贫户",
		archive() + ",施先生," + feb30 + ",,3," + shibadong + ",脱贫户",
		good2 + ",麻大姐," + id2 + ",,3人,十八洞村,边缘易致贫户",
	}
	file := strings.Join(rows, "\r\n") + "\r\n"

	rep, err := f.svc.Import(ctx, f.station, strings.NewReader(file), ImportOptions{})
	e, ok := apperr.As(err)
	if !ok || e.Kind != apperr.KindInvalid || rep.Applied || rep.ErrorsTotal != 4 || rep.Rows != 6 {
		t.Fatalf("all-or-nothing: %+v %v", rep, err)
	}
	want := map[int]string{3: "户编号", 4: "身份证号", 5: "户主姓名", 6: "身份证号"}
	for _, re := range rep.Errors {
		if want[re.Row] != re.Column {
			t.Errorf("error %+v; want column %q on row %d", re, want[re.Row], re.Row)
		}
	}
	if !strings.Contains(rep.Errors[0].Reason, "row 2") || !strings.Contains(rep.Errors[3].Reason, "birth date") {
		t.Errorf("reasons %+v", rep.Errors)
	}
	if len(e.Fields) != 4 || e.Fields[0].Field != "rows[3].户编号" {
		t.Errorf("problem fields %+v", e.Fields)
	}
	if n := f.count(t, `SELECT count(*) FROM households WHERE archive_no IN (?, ?)`, good1, good2); n != 0 {
		t.Fatalf("all-or-nothing wrote %d households", n)
	}

	rep, err = f.svc.Import(ctx, f.station, strings.NewReader(file), ImportOptions{SkipBadRows: true})
	if err != nil || !rep.Applied || rep.Inserted != 2 || rep.Skipped != 4 || rep.ErrorsTotal != 4 {
		t.Fatalf("skip mode: %+v %v", rep, err)
	}
	var got []Household
	for _, a := range []string{good1, good2} {
		var r row
		if err := f.db.Where("archive_no = ?", a).Take(&r).Error; err != nil {
			t.Fatal(err)
		}
		h, err := f.svc.open(r)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, h)
	}
	if got[0].HeadName != "龙先生" || got[0].IDNumber != id1 || got[0].Phone != "13812345678" || got[0].Members != 4 || got[0].Status != StatusPoor {
		t.Errorf("row 2 stored as %+v", got[0])
	}
	if got[1].VillageCode != shibadong || got[1].Members != 3 || got[1].Status != StatusMonitoredMarginal {
		t.Errorf("row 7 stored as %+v", got[1])
	}
	for _, h := range got {
		audit, err := f.svc.Audit(ctx, f.station, h.ID)
		if err != nil || len(audit) != 1 || audit[0].Action != "import" || audit[0].ActorRole != "station" ||
			*audit[0].ActorID != f.station.UserID || audit[0].ID != h.ID || audit[0].Changes["members"].To != float64(h.Members) ||
			audit[0].Changes["members"].From != nil || audit[0].Changes["head_name"].To == h.HeadName {
			t.Errorf("audit of %s: %+v %v", h.ArchiveNo, audit, err)
		}
	}
	if f.count(t, `SELECT count(*) FROM household_history WHERE household_id = ?`, got[0].ID) != 1 {
		t.Errorf("history of %s", got[0].ArchiveNo)
	}

	// The same file again: nothing changes, no audit entry.
	rep, err = f.svc.Import(ctx, f.station, strings.NewReader(file), ImportOptions{SkipBadRows: true})
	if err != nil || rep.Inserted != 0 || rep.Updated != 0 || rep.Unchanged != 2 {
		t.Errorf("re-import: %+v %v", rep, err)
	}
	if audit, err := f.svc.Audit(ctx, f.admin, got[0].ID); err != nil || len(audit) != 1 {
		t.Errorf("re-import left %d audit entries, want 1 (%v)", len(audit), err)
	}

	// A changed household size: one update, audited and dated.
	changed := rows[0] + "\n" + good2 + ",麻大姐," + id2 + ",,5,十八洞村,边缘易致贫户\n"
	rep, err = f.svc.Import(ctx, f.admin, strings.NewReader(changed), ImportOptions{})
	if err != nil || rep.Updated != 1 || rep.Inserted != 0 {
		t.Errorf("update import: %+v %v", rep, err)
	}
	// The registration by the first import still shows the values of then (3 members).
	audit, _ := f.svc.Audit(ctx, f.admin, got[1].ID)
	if len(audit) != 2 || audit[1].Changes["members"].To != float64(5) || len(audit[1].Changes) != 1 ||
		audit[0].Action != "import" || audit[0].Changes["members"].To != float64(3) || len(audit[0].Changes) != 7 {
		t.Errorf("audit after update %+v", audit)
	}

	// Refused whole files and rows outside the station's scope.
	for name, tc := range map[string]struct {
		file   string
		column string
	}{
		"missing column":     {"户编号,户主姓名,身份证号\nA1,龙,x\n", "家庭人口"},
		"village not served": {rows[0] + "\n" + archive() + ",吴先生," + idNumber("19700101") + ",,2," + zhuxi + ",贫困户\n", "所在村"},
		"id registered":      {rows[0] + "\n" + archive() + ",吴先生," + id1 + ",,2," + shibadong + ",贫困户\n", "身份证号"},
		"unknown status":     {rows[0] + "\n" + archive() + ",吴先生," + idNumber("19700101") + ",,2," + shibadong + ",富裕户\n", "户类型"},
	} {
		rep, err := f.svc.Import(ctx, f.station, strings.NewReader(tc.file), ImportOptions{})
		if !apperr.Is(err, apperr.KindInvalid) || len(rep.Errors) == 0 || rep.Errors[0].Column != tc.column {
			t.Errorf("%s: %+v %v", name, rep, err)
		}
	}
	if _, err := f.svc.Import(ctx, f.admin, strings.NewReader(""), ImportOptions{}); !apperr.Is(err, apperr.KindInvalid) {
		t.Errorf("empty file: %v", err)
	}
	// A code of no current village (unknown, or merged away) says where such households go, as
	// registering one does.
	gone := rows[0] + "\n" + archive() + ",吴先生," + idNumber("19700101") + ",,2,433124110299,贫困户\n"
	rep, err = f.svc.Import(ctx, f.admin, strings.NewReader(gone), ImportOptions{})
	if !apperr.Is(err, apperr.KindInvalid) || len(rep.Errors) != 1 || rep.Errors[0].Column != "所在村" ||
		rep.Errors[0].Reason != "433124110299 names no current village; import regions or check the code (a merged village's households go to its successor)" {
		t.Errorf("village of no region: %+v %v", rep, err)
	}
}

func TestImportXLSX(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	x := excelize.NewFile()
	sw, err := x.NewStreamWriter("Sheet1")
	if err != nil {
		t.Fatal(err)
	}
	header := []any{"户编号", "户主姓名", "身份证号", "联系电话", "家庭人口", "所在村", "户类型"}
	sw.SetRow("A1", header)
	var archives []string
	for i := range 3 {
		a := archive()
		archives = append(archives, a)
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		sw.SetRow(cell, []any{a, "杨大哥", idNumber("19750505"), "", 2 + i, shibadong, "脱贫不稳定户"})
	}
	if err := sw.Flush(); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := x.Write(&buf); err != nil {
		t.Fatal(err)
	}
	rep, err := f.svc.Import(ctx, f.admin, bytes.NewReader(buf.Bytes()), ImportOptions{})
	if err != nil || rep.Inserted != 3 || rep.Rows != 3 {
		t.Fatalf("xlsx: %+v %v", rep, err)
	}
	if n := f.count(t, `SELECT count(*) FROM households WHERE archive_no IN ? AND status = 'monitored_unstable'`, archives); n != 3 {
		t.Errorf("%d households stored, want 3", n)
	}
	if n := f.count(t, `SELECT count(*) FROM household_imports i JOIN households h ON h.import_id = i.id
		WHERE h.archive_no IN ? AND i.actor_role = 'admin' AND i.inserted = 3 AND i.rows_read = 3`, archives); n != 3 {
		t.Errorf("%d households naming the import, want 3", n)
	}
}

// An import's households get their village history from the statement triggers (00320): a row
// from -infinity for each new household, and a dated row for each one whose village moved; a
// household updated in the same statement without moving gets none.
func TestImportVillageHistory(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	a1, a2 := archive(), archive()
	id1, id2 := idNumber("19600101"), idNumber("19610101")
	file := func(v1 string, members2 int) string {
		return fmt.Sprintf("户编号,户主姓名,身份证号,家庭人口,所在村,户类型\n%s,龙先生,%s,3,%s,脱贫户\n%s,石大姐,%s,%d,%s,脱贫户\n",
			a1, id1, v1, a2, id2, members2, shibadong)
	}
	villages := func(archiveNo string) []string {
		t.Helper()
		var vs []string
		if err := f.db.Raw(`SELECT v.village_code FROM household_villages v JOIN households h ON h.id = v.household_id
			WHERE h.archive_no = ? ORDER BY v.valid_from`, archiveNo).Scan(&vs).Error; err != nil {
			t.Fatal(err)
		}
		return vs
	}
	if rep, err := f.svc.Import(ctx, f.admin, strings.NewReader(file(shibadong, 2)), ImportOptions{}); err != nil || rep.Inserted != 2 {
		t.Fatalf("first import: %+v %v", rep, err)
	}
	if got := villages(a1); len(got) != 1 || got[0] != shibadong {
		t.Fatalf("new household's villages %v", got)
	}
	if rep, err := f.svc.Import(ctx, f.admin, strings.NewReader(file(zhuxi, 4)), ImportOptions{}); err != nil || rep.Updated != 2 {
		t.Fatalf("second import: %+v %v", rep, err)
	}
	if got := villages(a1); len(got) != 2 || got[0] != shibadong || got[1] != zhuxi {
		t.Errorf("moved household's villages %v, want [%s %s]", got, shibadong, zhuxi)
	}
	if got := villages(a2); len(got) != 1 {
		t.Errorf("household updated in place has villages %v, want one", got)
	}
}
