package app

import (
	"strings"
	"testing"
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
	body := map[string]any{"items": []map[string]any{{"product_id": w.product, "quantity": 1}}}
	for _, c := range []struct {
		who          client
		method, path string
		body         any
	}{
		{w.buyer1, "POST", "/api/v1/orders/", body},
		{w.buyer1, "GET", "/api/v1/orders/", nil},
		{w.admin, "GET", "/api/v1/stations/", nil},
		{w.admin, "GET", "/API/v1/stations", nil},
		{w.admin, "GET", "/api//v1/stations", nil},
		{w.admin, "GET", "/healthz/", nil},
	} {
		r := c.who.do(c.method, c.path, c.body, "Idempotency-Key", "near-miss")
		r.problem(404, "")
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
