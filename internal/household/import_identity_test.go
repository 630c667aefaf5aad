package household

import (
	"context"
	"strings"
	"testing"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
)

// A roster row naming another person under a registered archive number is refused on the column
// that differs (as PATCH cannot change head or ID number either), all or nothing, or skipped with
// skip_bad_rows; an empty phone cell keeps the phone on record.
func TestImportKeepsWhoAHouseholdIs(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	id := idNumber("19580101")
	h, err := f.svc.Register(ctx, f.admin, NewHousehold{ArchiveNo: archive(), HeadName: "施长富", IDNumber: id,
		Phone: "13974301234", VillageCode: shibadong, Members: 4, Status: StatusPoor})
	if err != nil {
		t.Fatal(err)
	}
	const header = "户编号,户主姓名,身份证号,联系电话,家庭人口,所在村,户类型\n"
	row := func(head, idNo string) string {
		return h.ArchiveNo + "," + head + "," + idNo + ",,2," + shibadong + ",脱贫户\n"
	}
	for name, tc := range map[string]struct{ row, column, reason string }{
		"another head and ID": {row("王五", idNumber("19800101")), "户主姓名", headNotRegistered},
		"another head":        {row("王五", id), "户主姓名", headNotRegistered},
		"another ID":          {row("施长富", idNumber("19800102")), "身份证号", idNumberNotRegistered},
	} {
		rep, err := f.svc.Import(ctx, f.admin, strings.NewReader(header+tc.row), ImportOptions{})
		e, ok := apperr.As(err)
		if !ok || e.Kind != apperr.KindInvalid || rep.Applied || rep.Updated != 0 || len(rep.Errors) != 1 ||
			rep.Errors[0] != (RowError{Row: 2, Column: tc.column, Reason: tc.reason}) {
			t.Errorf("%s: %+v %v; want the file refused on %s", name, rep, err, tc.column)
		}
		rep, err = f.svc.Import(ctx, f.admin, strings.NewReader(header+tc.row), ImportOptions{SkipBadRows: true})
		if err != nil || rep.Skipped != 1 || rep.Updated != 0 {
			t.Errorf("%s with skip_bad_rows: %+v %v; want the row skipped", name, rep, err)
		}
	}
	got, err := f.svc.Get(ctx, f.admin, h.ID)
	if err != nil || got.HeadName != "施长富" || got.IDNumber != id || got.Phone != "13974301234" || got.Members != 4 {
		t.Fatalf("after refused rows the household is %+v (%v)", got, err)
	}

	// The same person with an empty phone cell: the size and status change, the phone stays.
	rep, err := f.svc.Import(ctx, f.admin, strings.NewReader(header+row("施长富", id)), ImportOptions{})
	if err != nil || rep.Updated != 1 {
		t.Fatalf("%+v %v", rep, err)
	}
	if got, err = f.svc.Get(ctx, f.admin, h.ID); err != nil || got.Phone != "13974301234" || got.Members != 2 || got.Status != StatusLifted {
		t.Errorf("after an update with an empty phone cell: %+v (%v)", got, err)
	}
}
