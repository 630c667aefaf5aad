package app

import "testing"

// TestContractStationSeesOrderingUnitName: a station operator reads the name of the unit that
// ordered from it (GET /orders and GET /orders/{id}, held to the document like every answer here),
// and another station neither lists that order nor reads it, so learns no unit's name through it.
func TestContractStationSeesOrderingUnitName(t *testing.T) {
	w := newWorld(t)
	type order struct {
		ID       string
		UnitID   string `json:"unit_id"`
		UnitName string `json:"unit_name"`
	}
	var placed order
	w.Buyer1.Do("POST", "/api/v1/orders", map[string]any{"items": []map[string]any{{"product_id": w.Product, "quantity": 1}}},
		"Idempotency-Key", "unit-name-1").Want(201).JSON(&placed)
	var unit struct{ Name string }
	w.Admin.Do("GET", "/api/v1/units/"+placed.UnitID, nil).Want(200).JSON(&unit)
	if unit.Name == "" {
		t.Fatal("the unit has no name to compare with")
	}

	var one order
	w.OpA.Do("GET", "/api/v1/orders/"+placed.ID, nil).Want(200).JSON(&one)
	if one.UnitName != unit.Name {
		t.Errorf("station A reads the order's unit_name %q, want %q", one.UnitName, unit.Name)
	}
	var list struct{ Orders []order }
	w.OpA.Do("GET", "/api/v1/orders", nil).Want(200).JSON(&list)
	found := false
	for _, o := range list.Orders {
		if o.ID == placed.ID {
			found = true
			if o.UnitName != unit.Name {
				t.Errorf("station A's list names the unit %q, want %q", o.UnitName, unit.Name)
			}
		}
	}
	if !found {
		t.Errorf("station A's list lacks the order %s that holds its line", placed.ID)
	}
	w.Buyer1.Do("GET", "/api/v1/orders/"+placed.ID, nil).Want(200).JSON(&one)
	if one.UnitName != unit.Name {
		t.Errorf("the buyer reads its order's unit_name %q, want %q", one.UnitName, unit.Name)
	}

	// Station B has no line in it: the order is not its business, nor the unit's name.
	w.OpB.Do("GET", "/api/v1/orders/"+placed.ID, nil).Want(404)
	list.Orders = nil
	w.OpB.Do("GET", "/api/v1/orders", nil).Want(200).JSON(&list)
	for _, o := range list.Orders {
		if o.ID == placed.ID || o.UnitName == unit.Name {
			t.Errorf("station B lists %+v, an order without its lines", o)
		}
	}
}
