package procurement_test

import (
	"strings"
	"testing"
	"time"
)

// A pairing names a village current on its first day: a village merged away is refused with a
// 422 naming village_code and its successor (which the pairing means). The same village or
// household paired twice over overlapping dates is a 409 naming the field, whether the second is
// identical or only overlaps; a pairing after the first one ends is fine.
func TestPairingRefusesMergedVillagesAndOverlaps(t *testing.T) {
	w := newWorld(t)
	var unit struct {
		UnitID string `json:"unit_id"`
	}
	w.Buyer1.Do("POST", "/api/v1/orders", map[string]any{"items": []map[string]any{{"product_id": w.Product, "quantity": 1}}},
		"Idempotency-Key", "pr-1").Want(201).JSON(&unit)
	u := "/api/v1/units/" + unit.UnitID + "/pairings"

	// A village of its own went into 十八洞村 (433124110226) today (as region.Merge leaves it; the
	// package's tests share the database, so the world's villages stay as they are).
	today := time.Now().In(time.FixedZone("CST", 8*3600)).Format("2006-01-02")
	if err := w.a.DB.Exec(`INSERT INTO regions (code, name, level, parent_code, valid_to, successor_code)
		VALUES ('433124110981', '并村测试', 5, '433124110', ?, '433124110226') ON CONFLICT (code) DO NOTHING`, today).Error; err != nil {
		t.Fatal(err)
	}
	r := w.Admin.Do("POST", u, map[string]any{"village_code": "433124110981", "starts_on": today})
	r.Problem(422, "village_code")
	if !strings.Contains(r.Body.String(), "merged into 433124110226") {
		t.Errorf("a merged-away village: %s, want its successor named", r.Body)
	}
	// Before the merge it was a village: a pairing from then is history, recorded.
	w.Admin.Do("POST", u, map[string]any{"village_code": "433124110981", "starts_on": "2025-01-01", "ends_on": "2025-12-31"}).Want(201)

	w.Admin.Do("POST", u, map[string]any{"village_code": "433124110226", "starts_on": "2026-01-01"}).Want(201)
	w.Admin.Do("POST", u, map[string]any{"village_code": "433124110226", "starts_on": "2026-01-01"}).Problem(409, "village_code")
	w.Admin.Do("POST", u, map[string]any{"village_code": "433124110226", "starts_on": "2025-06-01", "ends_on": "2026-01-01"}).Problem(409, "village_code")
	w.Admin.Do("POST", u, map[string]any{"village_code": "433124110226", "starts_on": "2025-06-01", "ends_on": "2025-12-31"}).Want(201)
	w.Admin.Do("POST", u, map[string]any{"household_id": w.HouseholdB, "starts_on": "2099-01-01", "ends_on": "2099-12-31"}).Want(201)
	w.Admin.Do("POST", u, map[string]any{"household_id": w.HouseholdB, "starts_on": "2099-12-31"}).Problem(409, "household_id")
	w.Admin.Do("POST", u, map[string]any{"household_id": w.HouseholdB, "starts_on": "2100-01-01"}).Want(201)

	var pl struct{ Pairings []map[string]any }
	w.Admin.Do("GET", u, nil).Want(200).JSON(&pl)
	if len(pl.Pairings) != 5 {
		t.Errorf("%d pairings, want the 5 accepted: %+v", len(pl.Pairings), pl)
	}
}
