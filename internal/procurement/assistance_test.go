package procurement_test

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/fupinmarket/fupin/internal/fixture"
)

// A unit's contacts are sealed and masked; pairings name a village or a household over dates;
// progress counts paid purchases of the year against the target, the part from paired villages
// and households, and the distinct households benefited.
func TestUnitAssistance(t *testing.T) {
	w := newWorld(t)
	var o fixture.FullOrder
	var unit struct {
		UnitID string `json:"unit_id"`
	}
	w.Buyer1.Do("POST", "/api/v1/orders", map[string]any{"items": []map[string]any{{"product_id": w.Product, "quantity": 2}}},
		"Idempotency-Key", "as-1").Want(201).JSON(&unit)
	w.Buyer1.Do("POST", "/api/v1/orders", map[string]any{"items": []map[string]any{{"product_id": w.Product, "quantity": 2}}},
		"Idempotency-Key", "as-1").Want(200).JSON(&o)
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/payment", nil, "Idempotency-Key", "as-1").Want(201)
	pb := w.productB(t, 2550, 5)
	w.Buyer1.Do("POST", "/api/v1/orders", map[string]any{"items": []map[string]any{{"product_id": pb, "quantity": 1}}},
		"Idempotency-Key", "as-2").Want(201).JSON(&o)
	w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/payment", nil, "Idempotency-Key", "as-2").Want(201)
	w.Buyer1.Do("POST", "/api/v1/orders", map[string]any{"items": []map[string]any{{"product_id": pb, "quantity": 1}}},
		"Idempotency-Key", "as-unpaid").Want(201) // unpaid: not a purchase
	u := "/api/v1/units/" + unit.UnitID

	// Contacts: sealed at rest, masked in responses, scoped to the unit.
	var c struct{ Name, Phone, Title string }
	w.Buyer1.Do("POST", u+"/contacts", map[string]any{"name": "龙金花", "phone": "13974301234", "title": "工会主席"}).Want(201).JSON(&c)
	if c.Name != "龙*花" || c.Phone != "139****1234" {
		t.Fatalf("contact not masked: %+v", c)
	}
	var raw [][]byte
	w.a.DB.Raw("SELECT phone_enc FROM unit_contacts").Scan(&raw)
	if len(raw) != 1 || bytes.Contains(raw[0], []byte("13974301234")) {
		t.Fatal("phone stored in clear")
	}
	w.Buyer2.Do("POST", u+"/contacts", map[string]any{"name": "张三", "phone": "13974301234"}).Problem(404, "")
	w.Buyer1.Do("POST", u+"/contacts", map[string]any{"name": "张三", "phone": "12345"}).Problem(422, "phone")
	var cl struct{ Contacts []struct{ Name string } }
	w.Admin.Do("GET", u+"/contacts", nil).Want(200).JSON(&cl)
	if len(cl.Contacts) != 1 || cl.Contacts[0].Name != "龙*花" {
		t.Fatalf("contacts %+v", cl)
	}

	// Pairings: station A's village from 2026 on; station B's household only from 2099.
	w.Admin.Do("POST", u+"/pairings", map[string]any{"village_code": "433124110226", "starts_on": "2026-01-01"}).Want(201)
	w.Admin.Do("POST", u+"/pairings", map[string]any{"household_id": w.HouseholdB, "starts_on": "2099-01-01", "ends_on": "2099-12-31"}).Want(201)
	w.Admin.Do("POST", u+"/pairings", map[string]any{"village_code": "433124110226", "household_id": w.HouseholdB, "starts_on": "2026-01-01"}).Problem(422, "village_code")
	w.Admin.Do("POST", u+"/pairings", map[string]any{"village_code": "433124110226", "starts_on": "2026-05-01", "ends_on": "2026-04-30"}).Problem(422, "ends_on")
	w.Admin.Do("POST", u+"/pairings", map[string]any{"village_code": "433124999999", "starts_on": "2026-05-01"}).Problem(422, "village_code")
	w.Buyer1.Do("POST", u+"/pairings", map[string]any{"village_code": "433124110226", "starts_on": "2026-01-01"}).Problem(403, "")
	var pl struct{ Pairings []map[string]any }
	w.Buyer1.Do("GET", u+"/pairings", nil).Want(200).JSON(&pl)
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
	w.Admin.Do("PUT", fmt.Sprintf("%s/targets/%d", u, year), map[string]any{"amount_fen": 100000}).Want(200).JSON(&pr)
	want := progress{TargetFen: 100000, BoughtFen: 22550, RemainingFen: 77450, TargetReachedBP: 2255, PairedFen: 20000,
		PairedShareBP: 8869, HouseholdsBenefited: 4}
	if pr != want {
		t.Fatalf("progress %+v, want %+v", pr, want)
	}
	w.Buyer1.Do("GET", u+"/progress", nil).Want(200).JSON(&pr)
	if pr != want {
		t.Fatalf("progress (default year) %+v, want %+v", pr, want)
	}
	w.Buyer1.Do("PUT", fmt.Sprintf("%s/targets/%d", u, year), map[string]any{"amount_fen": 1}).Problem(403, "")
	w.Admin.Do("PUT", fmt.Sprintf("%s/targets/%d", u, year), map[string]any{"amount_fen": 0}).Problem(422, "amount_fen")
	w.Admin.Do("PUT", fmt.Sprintf("%s/targets/%d", u, year), map[string]any{"amount_fen": int64(10_000_000_000_001)}).Problem(422, "amount_fen")
	w.Admin.Do("PUT", u+"/targets/1999", map[string]any{"amount_fen": 5}).Problem(422, "year")
	w.Buyer2.Do("GET", u+"/progress", nil).Problem(404, "")
	w.Buyer1.Do("GET", u+"/progress?year=2025", nil).Want(200).JSON(&pr)
	if pr.BoughtFen != 0 || pr.TargetFen != 0 || pr.HouseholdsBenefited != 0 {
		t.Fatalf("2025 progress %+v", pr)
	}
}
