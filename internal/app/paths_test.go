package app

import (
	"strings"
	"testing"

	"github.com/fupinmarket/fupin/internal/fixture"
)

// A path that differs from a route only by a trailing slash, case or doubled slashes is a 404
// problem, never a 301/307 redirect: a client that follows the redirect re-sends the body (a
// second order), and one that does not is left with an empty answer.
func TestNearMissPathsAreNotRedirected(t *testing.T) {
	w := newWorld(t)
	orders := func() int64 {
		var n int64
		w.a.DB.Raw("SELECT count(*) FROM orders").Scan(&n)
		return n
	}
	before := orders()
	body := map[string]any{"items": []map[string]any{{"product_id": w.Product, "quantity": 1}}}
	for _, c := range []struct {
		who          fixture.Client
		method, path string
		body         any
	}{
		{w.Buyer1, "POST", "/api/v1/orders/", body},
		{w.Buyer1, "GET", "/api/v1/orders/", nil},
		{w.Admin, "GET", "/api/v1/stations/", nil},
		{w.Admin, "GET", "/API/v1/stations", nil},
		{w.Admin, "GET", "/api//v1/stations", nil},
		{w.Admin, "GET", "/healthz/", nil},
	} {
		r := c.who.Do(c.method, c.path, c.body, "Idempotency-Key", "near-miss")
		r.Problem(404, "")
		if loc := r.Header().Get("Location"); loc != "" {
			t.Errorf("%s %s: Location %q; want no redirect", c.method, c.path, loc)
		}
		if strings.HasSuffix(c.path, "/") && !strings.Contains(r.Body.String(), "trailing slash") {
			t.Errorf("%s %s: the problem does not say the trailing slash is the fault: %s", c.method, c.path, r.Body)
		}
	}
	if n := orders(); n != before {
		t.Fatalf("%d orders created through a near-miss path", n-before)
	}
}
