package reserve_test

import (
	"context"
	"testing"

	"github.com/fupinmarket/fupin/internal/demo"
	"github.com/fupinmarket/fupin/internal/platform/dbtest"
)

// TestDemoShowsReservedShares: the demo has an approved filing of a unit under a supervising
// department, with purchases counted against it.
func TestDemoShowsReservedShares(t *testing.T) {
	a := testAppOn(t, dbtest.Fresh(t)) // the demo's units stay out of the other tests' lists
	if _, err := demo.Load(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	var tok struct{ Token string }
	client{t: t, h: a.Router}.do("POST", "/api/v1/auth/login", map[string]string{"username": "buyer-education", "password": demo.Password}).
		want(200).json(&tok)
	dept := client{t: t, h: a.Router, token: tok.Token}
	var c completion
	dept.do("GET", "/api/v1/reserve/completion", nil).want(200).json(&c)
	if len(c.Units) != 1 || c.Units[0].ReservedFen != 80_000_00 || c.Units[0].BoughtFen <= 0 || len(c.Supervisors) != 1 {
		t.Fatalf("the demo's supervising department sees %+v, want one approved filing of ¥80,000.00 with purchases", c)
	}
}
