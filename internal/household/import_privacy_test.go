package household

import (
	"context"
	"strings"
	"testing"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/auth"
)

// A station importing a roster learns of a household outside its villages no more than
// POST /households tells it: the same refusal, without the household's archive number. The
// county office is told the archive number, to fix the roster with.
func TestImportRefusesOthersHouseholdsLikeRegistration(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	other := f.register(t, f.admin, zhuxi) // a household of a village the station does not serve
	roster := func(archiveNo, idNumber string) string {
		return "户编号,户主姓名,身份证号,家庭人口,所在村,户类型\r\n" + archiveNo + ",龙先生," + idNumber + ",3," + shibadong + ",脱贫户\r\n"
	}
	reason := func(p auth.Principal, file string) RowError {
		t.Helper()
		rep, err := f.svc.Import(ctx, p, strings.NewReader(file), ImportOptions{})
		if !apperr.Is(err, apperr.KindInvalid) || len(rep.Errors) != 1 {
			t.Fatalf("import: %+v %v", rep, err)
		}
		return rep.Errors[0]
	}
	registered := func(archiveNo, idNumber string) string {
		t.Helper()
		_, err := f.svc.Register(ctx, f.station, NewHousehold{ArchiveNo: archiveNo, HeadName: "龙先生", IDNumber: idNumber,
			VillageCode: shibadong, Members: 3, Status: StatusLifted})
		e, ok := apperr.As(err)
		if !ok || e.Kind != apperr.KindConflict || len(e.Fields) != 1 {
			t.Fatalf("registration: %v", err)
		}
		return e.Fields[0].Reason
	}

	// Its ID number under a new archive number.
	got := reason(f.station, roster(archive(), other.IDNumber))
	if want := registered(archive(), other.IDNumber); got.Column != "身份证号" || !strings.HasSuffix(got.Reason, want) ||
		strings.Contains(got.Reason, other.ArchiveNo) {
		t.Errorf("station told %+v; POST /households tells %q", got, want)
	}
	// Its archive number.
	got = reason(f.station, roster(other.ArchiveNo, idNumber("19900101")))
	if want := registered(other.ArchiveNo, idNumber("19900101")); got.Column != "户编号" || !strings.HasSuffix(got.Reason, want) {
		t.Errorf("station told %+v; POST /households tells %q", got, want)
	}
	// The county office sees the archive number.
	if got := reason(f.admin, roster(archive(), other.IDNumber)); !strings.Contains(got.Reason, other.ArchiveNo) {
		t.Errorf("county office told %+v, want the archive number %s", got, other.ArchiveNo)
	}
	// A household of the station's own village: the station may be told its archive number.
	own := f.register(t, f.station, shibadong)
	if got := reason(f.station, roster(archive(), own.IDNumber)); !strings.Contains(got.Reason, own.ArchiveNo) {
		t.Errorf("station told %+v about its own household", got)
	}
}
