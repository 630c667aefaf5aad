package procurement_test

import (
	"bytes"
	"fmt"
	"testing"
	"time"
)

// A unit's contacts are sealed and masked; pairings name a village or a household over dates;
// progress counts paid purchases of the year against the target, the part from paired villages
// and households, and the distinct households benefited.
func TestUnitAssistance(t *testing.T) {
	w := newWorld(t)
	var o fullOrder
	var unit struct {
		UnitID string `json:"unit_id"`
	}
	w.buyer1.do("POST", "/api/v1/orders", map[string]any{"items": []map[string]any{{"product_id": w.product, "quantity": 2}}},
		"Idempotency-Key", "as-1").want(201).json(&unit)
	w.buyer1.do("POST", "/api/v1/orders", map[string]any{"items": []map[string]any{{"product_id": w.product, "quantity": 2}}},
		"Idempotency-Key", "as-1").want(200).json(&o)
	w.buyer1.do("POST", "/api/v1/orders/"+o.ID+"/payment", nil, "Idempotency-Key", "as-1").want(201)
	pb := w.productB(t, 2550, 5)
	w.buyer1.do("POST", "/api/v1/orders", map[string]any{"items": []map[string]any{{"product_id": pb, "quantity": 1}}},
		"Idempotency-Key", "as-2").want(201).json(&o)
	w.buyer1.do("POST", "/api/v1/orders/"+o.ID+"/payment", nil, "Idempotency-Key", "as-2").want(201)
	w.buyer1.do("POST", "/api/v1/orders", map[string]any{"items": []map[string]any{{"product_id": pb, "quantity": 1}}},
		"Idempotency-Key", "as-unpaid").want(201) // unpaid: not a purchase
	u := "/api/v1/units/" + unit.UnitID

	// Contacts: sealed at rest, masked in responses, scoped to the unit.
	var c struct{ Name, Phone, Title string }
	w.buyer1.do("POST", u+"/contacts", map[string]any{"name": "龙金花", "phone": "13974301234", "title": "工会主席"}).want(201).json(&c)
	if c.Name != "龙*花" || c.Phone != "139****1234" {
		t.Fatalf("contact not masked: %+v", c)
	}
	var raw [][]byte
	w.a.DB.Raw("SELECT phone_enc FROM unit_contacts").Scan(&raw)
	if len(raw) != 1 || bytes.Contains(raw[0], []byte("13974301234")) {
		t.Fatal("phone stored in clear")
	}
	w.buyer2.do("POST", u+"/contacts", map[string]any{"name": "张三", "phone": "13974301234"}).problem(404, "")
	w.buyer1.do("POST", u+"/contacts", map[string]any{"name": "张三", "phone": "12345"}).problem(422, "phone")
	var cl struct{ Contacts []struct{ Name string } }
	w.admin.do("GET", u+"/contacts", nil).want(200).json(&cl)
	if len(cl.Contacts) != 1 || cl.Contacts[0].Name != "龙*花" {
		t.Fatalf("contacts %+v", cl)
	}

	// Pairings: station A's village from 2026 on; station B's household only from 2099.
	w.admin.do("POST", u+"/pairings", map[string]any{"village_code": "433124110226", "starts_on": "2026-01-01"}).want(201)
	w.admin.do("POST", u+"/pairings", map[string]any{"household_id": w.householdB, "starts_on": "2099-01-01", "ends_on": "2099-12-31"}).want(201)
	w.admin.do("POST", u+"/pairings", map[string]any{"village_code": "433124110226", "household_id": w.householdB, "starts_on": "2026-01-01"}).problem(422, "village_code")
	w.admin.do("POST", u+"/pairings", map[string]any{"village_code": "433124110226", "starts_on": "2026-05-01", "ends_on": "2026-04-30"}).problem(422, "ends_on")
	w.admin.do("POST", u+"/pairings", map[string]any{"village_code": "433124999999", "starts_on": "2026-05-01"}).problem(422, "village_code")
	w.buyer1.do("POST", u+"/pairings", map[string]any{"village_code": "433124110226", "starts_on": "2026-01-01"}).problem(403, "")
	var pl struct{ Pairings []map[string]any }
	w.buyer1.do("GET", u+"/pairings", nil).want(200).json(&pl)
	if len(pl.Pairings) != 2 {
		t.Fatalf("pairings %+v", pl)
	}

	year := time.Now().In(time.FixedZone("CST", 8*3600)).Year()
	type progress struct {
		TargetFen           int64 `json:"target_fen"`
		BoughtFen           int64 `json:"bought_fen"`
		RemainingFen        int64 `json:"remaining_fen"`
		TargetReachedBP     int64 `json:"target_reached_bp"`
		PairedFen           int64 `json:"paired_fen"`
		PairedShareBP       int64 `json:"paired_share_bp"`
		HouseholdsBenefited int   `json:"households_benefited"`
	}
	var pr progress
	w.admin.do("PUT", fmt.Sprintf("%s/targets/%d", u, year), map[string]any{"amount_fen": 100000}).want(200).json(&pr)
	want := progress{TargetFen: 100000, BoughtFen: 22550, RemainingFen: 77450, TargetReachedBP: 2255, PairedFen: 20000,
		PairedShareBP: 8869, HouseholdsBenefited: 4}
	if pr != want {
		t.Fatalf("progress %+v, want %+v", pr, want)
	}
	w.buyer1.do("GET", u+"/progress", nil).want(200).json(&pr)
	if pr != want {
		t.Fatalf("progress (default year) %+v, want %+v", pr, want)
	}
	w.buyer1.do("PUT", fmt.Sprintf("%s/targets/%d", u, year), map[string]any{"amount_fen": 1}).problem(403, "")
	w.admin.do("PUT", fmt.Sprintf("%s/targets/%d", u, year), map[string]any{"amount_fen": 0}).problem(422, "amount_fen")
	w.admin.do("PUT", u+"/targets/1999", map[string]any{"amount_fen": 5}).problem(422, "year")
	w.buyer2.do("GET", u+"/progress", nil).problem(404, "")
	w.buyer1.do("GET", u+"/progress?year=2025", nil).want(200).json(&pr)
	if pr.BoughtFen != 0 || pr.TargetFen != 0 || pr.HouseholdsBenefited != 0 {
		t.Fatalf("2025 progress %+v", pr)
	}
}
