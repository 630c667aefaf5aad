package app

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/fupinmarket/fupin/internal/fixture"
)

// Every operation of the JSON API refuses a query parameter it does not take with a documented
// 422 naming it, before anything else (as a body of the wrong type is a 415 before the 401); the
// parameters it documents pass.
func TestUnknownQueryParameters(t *testing.T) {
	a := testApp(t)
	doc := openAPILoad(t)
	if known, err := queryParams([]byte("paths: [")); err == nil {
		t.Fatalf("queryParams of a broken document: %v, want an error", known)
	}
	for _, o := range openAPIOps(t, doc) {
		if !strings.HasPrefix(o.path, "/api/v1/") {
			continue
		}
		path := o.path
		for strings.Contains(path, "{") {
			i, j := strings.IndexByte(path, '{'), strings.IndexByte(path, '}')
			path = path[:i] + "0190f3b2-7c1e-7d2a-9f00-1a2b3c4d5e6f" + path[j+1:]
		}
		req := httptest.NewRequest(o.method, path+"?zz_unknown=1&limit_=2", nil)
		w := serveChecked(t, a.Router, req, nil) // also: 422 must be documented for o
		var p struct {
			Errors []struct{ Field, Reason string }
		}
		_ = json.Unmarshal(w.Body.Bytes(), &p)
		if w.Code != 422 || len(p.Errors) != 2 || p.Errors[0].Field != "limit_" || p.Errors[1].Field != "zz_unknown" {
			t.Errorf("%s with unknown query parameters: %d %s; want a 422 naming limit_ and zz_unknown", o, w.Code, w.Body)
		}
	}

	w := newWorld(t)
	r := w.Buyer1.Do("GET", "/api/v1/orders?status=bogus&limit=5", nil)
	r.Problem(422, "status")
	if !strings.Contains(r.Body.String(), "takes: before, limit") {
		t.Errorf("the problem does not list what the operation takes: %s", r.Body)
	}
	w.Buyer1.Do("GET", "/api/v1/orders?limit=5", nil).Want(200)
	w.Admin.Do("GET", "/api/v1/households?status=poor&limit=5", nil).Want(200)
	// A parameter given twice: only the first value would be read and checked.
	r = w.Admin.Do("GET", "/api/v1/households?status=poor&status=bogus", nil)
	r.Problem(422, "status")
	if !strings.Contains(r.Body.String(), "is given 2 times") {
		t.Errorf("a repeated parameter: %s", r.Body)
	}
	w.Buyer1.Do("GET", "/api/v1/orders?limit=1&limit=abc", nil).Problem(422, "limit")
	w.Admin.Do("GET", "/api/v1/stations?county", nil).Problem(422, "county")
	w.Admin.Do("POST", "/api/v1/stations?dry_run=1", map[string]any{}).Problem(422, "dry_run")
	// Pairs net/url drops without a word: a bad %-escape, a semicolon.
	w.Buyer1.Do("GET", "/api/v1/catalog/products?q=%E8%9C%9C%2", nil).Problem(422, "q")
	w.Admin.Do("GET", "/api/v1/households?limit=%zz", nil).Problem(422, "limit")
	w.Admin.Do("GET", "/api/v1/households?status=poor;limit=5", nil).Problem(422, "status")
	w.Admin.Do("GET", "/api/v1/households?li%zzmit=5", nil).Problem(422, "li%zzmit")
	w.Buyer1.Do("GET", "/api/v1/catalog/products?q=%E8%9C%9C", nil).Want(200)
	// Pages outside the JSON API take any: links shared in chat apps gain parameters of their own.
	if r := w.Admin.Do("GET", "/t/NOSUCHCODE00?from=singlemessage&isappinstalled=0", nil); r.Code != 404 ||
		!strings.Contains(r.Body.String(), "查无此码") {
		t.Errorf("scan page with a chat app's parameters: %d %.200s", r.Code, r.Body)
	}
}

// Every documented query parameter with a constrained value (an enum, a number, an id, a month, a
// pattern) answers a value outside it with a 422 naming the parameter, on every operation that
// takes it, rather than ignoring it or failing later.
func TestBadQueryValues(t *testing.T) {
	w := newWorld(t)
	doc := openAPILoad(t)
	clients := map[string]fixture.Client{"admin": w.Admin, "station": w.OpA, "buyer": w.Buyer1}
	params, _ := doc["components"].(map[string]any)["parameters"].(map[string]any)
	schemas, _ := doc["components"].(map[string]any)["schemas"].(map[string]any)
	checked := 0
	for _, o := range openAPIOps(t, doc) {
		if o.method != "GET" || !strings.HasPrefix(o.path, "/api/v1/") {
			continue
		}
		c := w.Admin
		if roles := openAPIRoles(o); len(roles) > 0 {
			c = clients[roles[0]]
		}
		list, _ := o.pathItem["parameters"].([]any)
		own, _ := o.op["parameters"].([]any)
		var all []map[string]any
		for _, it := range append(slices.Clone(list), own...) {
			p, _ := it.(map[string]any)
			if ref, ok := p["$ref"].(string); ok {
				p, _ = params[strings.TrimPrefix(ref, "#/components/parameters/")].(map[string]any)
			}
			all = append(all, p)
		}
		// Path parameters and the required query parameters take their examples (ids that name
		// nothing: 404, or a 422 naming the path parameter, may come first).
		path, required := o.path, url.Values{}
		var inPath []string
		for _, p := range all {
			example := "0190f3b2-7c1e-7d2a-9f00-1a2b3c4d5e6f"
			if e, ok := p["example"]; ok {
				example = fmt.Sprint(e)
			}
			switch {
			case p["in"] == "path":
				inPath = append(inPath, p["name"].(string))
				path = strings.Replace(path, "{"+p["name"].(string)+"}", url.PathEscape(example), 1)
			case p["in"] == "query" && p["required"] == true:
				required.Set(p["name"].(string), example)
			}
		}
		for _, p := range all {
			if p["in"] != "query" {
				continue
			}
			name := p["name"].(string)
			s, _ := p["schema"].(map[string]any)
			if ref, ok := s["$ref"].(string); ok {
				s, _ = schemas[strings.TrimPrefix(ref, "#/components/schemas/")].(map[string]any)
			}
			var bad []string
			switch {
			case s["enum"] != nil:
				bad = []string{"bogus"}
			case s["type"] == "integer", s["type"] == "number":
				bad = []string{"x"}
				if s["type"] == "integer" {
					bad = append(bad, "1.5")
				}
				if m, ok := s["minimum"]; ok {
					bad = append(bad, fmt.Sprint(toInt(m)-1))
				}
				if m, ok := s["maximum"]; ok {
					bad = append(bad, fmt.Sprint(toInt(m)+1))
				}
			case s["type"] == "boolean":
				bad = []string{"maybe"}
			case s["format"] == "uuid":
				bad = []string{"not-a-uuid", "urn:uuid:0190f3b2-7c1e-7d2a-9f00-1a2b3c4d5e6f"}
			case s["pattern"] != nil:
				bad = []string{"!bogus"}
			}
			for _, v := range bad {
				q := maps.Clone(required)
				q.Set(name, v)
				r := c.Do("GET", path+"?"+q.Encode(), nil)
				var prob struct{ Errors []struct{ Field string } }
				_ = json.Unmarshal(r.Body.Bytes(), &prob)
				if len(inPath) > 0 && (r.Code == 404 || r.Code == 422 && len(prob.Errors) > 0 && slices.Contains(inPath, prob.Errors[0].Field)) {
					continue // the path's id is answered first
				}
				checked++
				if r.Code != 422 || !slices.ContainsFunc(prob.Errors, func(e struct{ Field string }) bool { return e.Field == name }) {
					t.Errorf("%s?%s=%s: %d %.300s; want a 422 naming %s", o, name, v, r.Code, r.Body, name)
				}
			}
		}
	}
	t.Logf("%d bad values of constrained query parameters refused", checked)
	if checked < 40 {
		t.Fatalf("only %d bad values tried: the walk over api/openapi.yaml's parameters misses most", checked)
	}
}

// toInt is a YAML number as an int.
func toInt(v any) int {
	switch n := v.(type) {
	case uint64:
		return int(n)
	case int64:
		return int(n)
	case float64:
		return int(n)
	case int:
		return n
	}
	return 0
}
