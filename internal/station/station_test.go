package station

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/apperr/apperrtest"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/dbtest"
)

// newService is the station service on the package's database, with the regions of 十八洞村 and
// 马鞍村 up to the province.
func newService(t *testing.T) (*Service, *gorm.DB) {
	t.Helper()
	db := dbtest.DB(t)
	if err := db.Exec(`INSERT INTO regions (code, name, level, parent_code) VALUES
		('43', '湖南省', 1, NULL), ('4331', '湘西土家族苗族自治州', 2, '43'), ('433124', '花垣县', 3, '4331'),
		('433124110', '双龙镇', 4, '433124'), ('433124110226', '十八洞村', 5, '433124110'),
		('433124110225', '马鞍村', 5, '433124110')
		ON CONFLICT (code) DO NOTHING`).Error; err != nil {
		t.Fatal(err)
	}
	return NewService(db, tableRegions{db}, slog.New(slog.NewTextHandler(io.Discard, nil))), db
}

// wantErr fails unless err is an apperr of kind naming field ("" for none).
var wantErr = apperrtest.Want

// A station serves villages of its county that exist; each bad field is named; its villages come
// back sorted and once each.
func TestCreate(t *testing.T) {
	ctx := context.Background()
	svc, _ := newService(t)
	st, err := svc.Create(ctx, NewStation{Name: " 双龙镇电商服务站 ", Level: LevelTownship, RegionCode: "433124110",
		VillageCodes: []string{"433124110226", "433124110225", "433124110226"}})
	if err != nil {
		t.Fatal(err)
	}
	if st.Name != "双龙镇电商服务站" || st.CountyCode != "433124" || strings.Join(st.Villages, ",") != "433124110225,433124110226" {
		t.Errorf("created %+v", st)
	}
	got, err := svc.Get(ctx, st.ID)
	if err != nil || strings.Join(got.Villages, ",") != "433124110225,433124110226" {
		t.Errorf("read back %+v, %v", got, err)
	}
	ok := NewStation{Name: "十八洞村电商服务点", Level: LevelVillage, RegionCode: "433124110226", VillageCodes: []string{"433124110226"}}
	for field, req := range map[string]func(r *NewStation){
		"name":             func(r *NewStation) { r.Name = " " },
		"level":            func(r *NewStation) { r.Level = "city" },
		"region_code":      func(r *NewStation) { r.RegionCode = "4331" },
		"village_codes":    func(r *NewStation) { r.VillageCodes = nil },
		"village_codes[0]": func(r *NewStation) { r.VillageCodes = []string{"433125110226"} },
	} {
		r := ok
		req(&r)
		_, err := svc.Create(ctx, r)
		wantErr(t, err, apperr.KindInvalid, field)
	}
	r := ok
	r.VillageCodes = []string{"433124110299"}
	_, err = svc.Create(ctx, r)
	wantErr(t, err, apperr.KindInvalid, "village_codes")
	_, err = svc.Get(ctx, uuid.New())
	wantErr(t, err, apperr.KindNotFound, "")
}

// Only the county office sets a station's commission; bad values name the field; each change is
// logged with who and why, a change made directly in SQL too; setting the rate it has logs
// nothing; and the log cannot be edited. (That an order pays the rate in force when it was placed
// is tested end to end in internal/app.)
func TestSetCommission(t *testing.T) {
	ctx := context.Background()
	svc, db := newService(t)
	st, err := svc.Create(ctx, NewStation{Name: "十八洞村电商服务点", Level: LevelVillage, RegionCode: "433124110226",
		VillageCodes: []string{"433124110226"}})
	if err != nil {
		t.Fatal(err)
	}
	admin := auth.Principal{UserID: uuid.Must(uuid.NewV7()), Role: auth.RoleAdmin}
	bp := func(n int32) *int32 { return &n }
	for _, p := range []auth.Principal{{UserID: uuid.New(), Role: auth.RoleStation, StationID: st.ID}, {UserID: uuid.New(), Role: auth.RoleBuyer}} {
		_, err := svc.SetCommission(ctx, p, st.ID, SetCommission{CommissionBP: bp(100)})
		wantErr(t, err, apperr.KindForbidden, "")
	}
	for _, bad := range []*int32{bp(-1), bp(5001), nil} {
		_, err := svc.SetCommission(ctx, admin, st.ID, SetCommission{CommissionBP: bad})
		wantErr(t, err, apperr.KindInvalid, "commission_bp")
	}
	_, err = svc.SetCommission(ctx, admin, st.ID, SetCommission{CommissionBP: bp(100), Reason: strings.Repeat("理", 201)})
	wantErr(t, err, apperr.KindInvalid, "reason")
	_, err = svc.SetCommission(ctx, admin, uuid.New(), SetCommission{CommissionBP: bp(100)})
	wantErr(t, err, apperr.KindNotFound, "")

	c, err := svc.SetCommission(ctx, admin, st.ID, SetCommission{CommissionBP: bp(1000), Reason: "县乡村振兴局 2026 年第 3 号"})
	if err != nil {
		t.Fatal(err)
	}
	if c.StationID != st.ID || c.CommissionBP != 1000 || len(c.Changes) != 1 || c.Changes[0].PreviousBP != 0 ||
		c.Changes[0].CommissionBP != 1000 || c.Changes[0].ChangedBy == nil || c.Changes[0].Reason != "县乡村振兴局 2026 年第 3 号" {
		t.Fatalf("after the change: %+v", c)
	}
	if _, err := svc.SetCommission(ctx, admin, st.ID, SetCommission{CommissionBP: bp(2500)}); err != nil {
		t.Fatal(err)
	}
	if err := db.Exec(`UPDATE stations SET commission_bp = 300 WHERE id = ?`, st.ID).Error; err != nil {
		t.Fatal(err)
	}
	c, err = svc.SetCommission(ctx, admin, st.ID, SetCommission{CommissionBP: bp(300)}) // unchanged: not logged again
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Changes) != 3 || c.Changes[0].PreviousBP != 2500 || c.Changes[0].CommissionBP != 300 || c.Changes[0].ChangedBy != nil ||
		c.Changes[0].Reason != "changed directly in SQL" || c.Changes[1].CommissionBP != 2500 || c.Changes[1].ChangedBy == nil {
		t.Errorf("log %+v", c.Changes)
	}
	if got, err := CommissionOf(ctx, db, st.ID); err != nil || got != 300 {
		t.Errorf("CommissionOf = %d, %v; want 300", got, err)
	}
	if err := db.Exec(`DELETE FROM station_commission_changes WHERE station_id = ?`, st.ID).Error; err == nil {
		t.Error("the log of commission changes could be edited")
	}
}
