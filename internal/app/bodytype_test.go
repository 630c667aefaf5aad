package app

import (
	"encoding/json"
	"maps"
	"net/url"
	"slices"
	"testing"

	"github.com/fupinmarket/fupin/internal/fixture"
)

// A JSON operation given a text/plain or form-encoded body answers 415 naming Content-Type, and
// creates nothing (it created the household before); the roster import takes only multipart.
func TestBodyOfAnotherTypeIsRefused(t *testing.T) {
	w := newWorld(t)
	count := func() (n int64) {
		w.a.DB.Raw("SELECT count(*) FROM households").Scan(&n)
		return n
	}
	before := count()
	household, _ := json.Marshal(map[string]any{"archive_no": "T" + fixture.RandDigits(10), "head_name": "龙金花",
		"id_number": fixture.IDNumber(), "phone": "1397430" + fixture.RandDigits(4), "village_code": "433124110226", "members": 4, "status": "lifted"})
	form := url.Values{"archive_no": {"T" + fixture.RandDigits(10)}, "head_name": {"龙金花"}, "id_number": {fixture.IDNumber()},
		"village_code": {"433124110226"}, "members": {"4"}, "status": {"lifted"}}.Encode()
	for _, c := range []struct{ ctype, body string }{
		{"text/plain", string(household)},
		{"text/plain;charset=UTF-8", string(household)},
		{"application/x-www-form-urlencoded", form},
		{"multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"archive_no\"\r\n\r\nT1\r\n--x--\r\n"},
	} {
		w.OpA.Do("POST", "/api/v1/households", c.body, "Content-Type", c.ctype).Problem(415, "Content-Type")
	}
	if n := count(); n != before {
		t.Fatalf("%d households created from bodies that are not JSON", n-before)
	}
	// The same JSON as application/json is taken.
	w.OpA.Do("POST", "/api/v1/households", household).Want(201)

	// The roster import takes multipart only; a refused type is answered before authentication.
	w.OpA.Do("POST", "/api/v1/households/import", "户编号\n", "Content-Type", "text/csv").Problem(415, "Content-Type")
	fixture.Client{T: t, H: w.a.Router}.Do("POST", "/api/v1/orders", "items=1", "Content-Type", "application/x-www-form-urlencoded").Problem(415, "Content-Type")
}

// TestOpenAPIBodyTypes: every operation with a request body documents 413 and 415, and takes
// exactly the type the server lets through: multipart/form-data on multipartRoutes, JSON elsewhere.
func TestOpenAPIBodyTypes(t *testing.T) {
	doc := openAPILoad(t)
	upload := map[string]bool{}
	for _, r := range multipartRoutes {
		upload[ginParam.ReplaceAllString(r, "{$1}")] = true
	}
	bodies := 0
	for _, o := range openAPIOps(t, doc) {
		rb, ok := o.op["requestBody"]
		if !ok {
			continue
		}
		bodies++
		content, _ := openAPIDeref(t, doc, rb)["content"].(map[string]any)
		want := "application/json"
		if upload[o.path] {
			want = "multipart/form-data"
		}
		if _, ok := content[want]; !ok || len(content) != 1 {
			t.Errorf("%s: request body types %v; the server takes only %s", o, slices.Sorted(maps.Keys(content)), want)
		}
		responses, _ := o.op["responses"].(map[string]any)
		for _, code := range []string{"413", "415"} {
			if _, ok := responses[code]; !ok {
				t.Errorf("%s takes a body but does not document %s", o, code)
			}
		}
	}
	if bodies == 0 {
		t.Fatal("no operation takes a request body")
	}
}
