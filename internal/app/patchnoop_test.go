package app

import (
	"testing"
	"time"
)

// A product PATCH that changes nothing (an empty body, the price it has, the suppliers it has)
// leaves updated_at alone, as a household PATCH does; a real change moves it (a reviewer saw
// PATCH {} bump it).
func TestProductPatchThatChangesNothing(t *testing.T) {
	w := newWorld(t)
	path := "/api/v1/products/" + w.Product
	type product struct {
		PriceFen  int64     `json:"price_fen"`
		UpdatedAt time.Time `json:"updated_at"`
		Suppliers []struct {
			HouseholdID string `json:"household_id"`
			ShareBP     int    `json:"share_bp"`
		} `json:"suppliers"`
	}
	var before product
	w.OpA.Do("GET", path, nil).Want(200).JSON(&before)
	sups := make([]map[string]any, len(before.Suppliers))
	for i, s := range before.Suppliers { // listed in another order than they came
		sups[len(sups)-1-i] = map[string]any{"household_id": s.HouseholdID, "share_bp": s.ShareBP}
	}
	for name, body := range map[string]map[string]any{
		"empty":           {},
		"same price":      {"price_fen": before.PriceFen},
		"same suppliers":  {"suppliers": sups},
		"same everything": {"price_fen": before.PriceFen, "stock": 10, "listed": true, "suppliers": sups},
	} {
		var after product
		w.OpA.Do("PATCH", path, body).Want(200).JSON(&after)
		if !after.UpdatedAt.Equal(before.UpdatedAt) {
			t.Errorf("%s: updated_at moved from %s to %s", name, before.UpdatedAt, after.UpdatedAt)
		}
	}
	var after product
	w.OpA.Do("PATCH", path, map[string]any{"price_fen": before.PriceFen + 1}).Want(200).JSON(&after)
	if !after.UpdatedAt.After(before.UpdatedAt) {
		t.Errorf("a new price left updated_at at %s", after.UpdatedAt)
	}
}
