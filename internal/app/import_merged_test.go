package app

import (
	"strings"
	"testing"

	"github.com/fupinmarket/fupin/internal/fixture"
	"github.com/fupinmarket/fupin/internal/platform/auth"
)

// A roster row naming a village merged away is refused in the words a registration through the
// API gets (its successor and the day), for the county office and a station alike; a reviewer
// found the import saying "names no current village" and "is not a village your station serves".
func TestImportNamesMergedVillageAsTheAPI(t *testing.T) {
	w := newWorld(t)
	v1, v2 := "433124110761", "433124110762" // codes no other test of the package (one database) inserts
	if err := w.a.DB.Exec(`INSERT INTO regions (code, name, level, parent_code) VALUES (?, '并村1', 5, '433124110'), (?, '并村2', 5, '433124110')`, v1, v2).Error; err != nil {
		t.Fatal(err)
	}
	var st struct{ ID string }
	w.Admin.Do("POST", "/api/v1/stations", map[string]any{"name": "并村服务点", "level": "village",
		"region_code": v1, "village_codes": []string{v1, v2}}).Want(201).JSON(&st)
	op := fixture.Login(t, w.a.Router, w.a.Users, auth.RoleStation, &st.ID, nil)
	w.Admin.Do("POST", "/api/v1/regions/merges", map[string]any{"villages": []string{v1}, "successor_code": v2}).Want(201)

	api := reasonOf(t, op.Do("POST", "/api/v1/households", map[string]any{"archive_no": "T" + fixture.RandDigits(10), "head_name": "龙金花",
		"id_number": fixture.IDNumber(), "village_code": v1, "members": 2, "status": "lifted"}), "village_code")
	if !strings.Contains(api, v1+" was merged into "+v2) {
		t.Fatalf("the API's reason %q does not name the successor", api)
	}
	roster := "户编号,户主姓名,身份证号,联系电话,家庭人口,所在村,户类型\n" +
		"M" + fixture.RandDigits(8) + ",龙金花," + fixture.IDNumber() + ",,3," + v1 + ",脱贫户\n"
	for name, c := range map[string]fixture.Client{"station": op, "county office": w.Admin, "another station": w.OpB} {
		if got := reasonOf(t, upload(c, "/api/v1/households/import", "roster.csv", roster), "rows[2].所在村"); got != api {
			t.Errorf("%s's import says %q, the API %q", name, got, api)
		}
	}
	// A current village another station serves, and a code of no village, as the API says them.
	other := "户编号,户主姓名,身份证号,联系电话,家庭人口,所在村,户类型\n" +
		"M" + fixture.RandDigits(8) + ",龙金花," + fixture.IDNumber() + ",,3," + v2 + ",脱贫户\n" +
		"M" + fixture.RandDigits(8) + ",龙金花," + fixture.IDNumber() + ",,3,433124110769,脱贫户\n"
	r := upload(w.OpA, "/api/v1/households/import", "roster.csv", other)
	if got := reasonOf(t, r, "rows[2].所在村"); got != v2+" is not a village your station serves" {
		t.Errorf("another station's village: %q", got)
	}
	if got := reasonOf(t, r, "rows[3].所在村"); !strings.HasPrefix(got, "433124110769 names no current village") {
		t.Errorf("no village: %q", got)
	}
}
