package app

import (
	"bytes"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/fupinmarket/fupin/internal/fixture"
)

// counts snapshots the tables a bad request could half-write.
func counts(t *testing.T, w world) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, table := range []string{"households", "products", "product_suppliers", "orders", "order_lines", "batches",
		"trace_codes", "journal_entries", "postings", "assisting_units", "stations"} {
		var n int64
		if err := w.a.DB.Table(table).Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		out[table] = n
	}
	var stock int64
	w.a.DB.Raw("SELECT coalesce(sum(stock), 0) FROM products").Scan(&stock)
	out["stock"] = stock
	return out
}

// Each bad input gets a 4xx problem+json naming the field, and leaves the database unchanged.
func TestBadInputs(t *testing.T) {
	w := newWorld(t)
	household := func(mod func(m map[string]any)) map[string]any {
		m := map[string]any{"archive_no": "BAD" + fixture.RandDigits(8), "head_name": "施成富", "id_number": fixture.IDNumber(),
			"village_code": "433124110226", "members": 3, "status": "poor"}
		mod(m)
		return m
	}
	item := func(product string, q any) map[string]any {
		return map[string]any{"items": []map[string]any{{"product_id": product, "quantity": q}}}
	}
	product := func(mod func(m map[string]any)) map[string]any {
		m := map[string]any{"name": "苗家腊肉", "category": "腊肉", "unit": "袋", "price_fen": 12800, "stock": 5,
			"origin_code": "433124110226", "suppliers": []map[string]any{
				{"household_id": w.Households[0], "share_bp": 5000}, {"household_id": w.Households[1], "share_bp": 4999}}}
		mod(m)
		return m
	}
	var existing struct {
		ArchiveNo string `json:"archive_no"`
	}
	w.Admin.Do("GET", "/api/v1/households/"+w.Households[0], nil).Want(200).JSON(&existing)

	cases := []struct {
		name   string
		call   func() fixture.Resp
		status int
		field  string
	}{
		{"ID number with a bad check character", func() fixture.Resp {
			return w.OpA.Do("POST", "/api/v1/households", household(func(m map[string]any) { m["id_number"] = "110101199003071234" }))
		}, 422, "id_number"},
		{"ID number born on 30 February", func() fixture.Resp {
			return w.OpA.Do("POST", "/api/v1/households", household(func(m map[string]any) { m["id_number"] = "110101199002301236" }))
		}, 422, "id_number"},
		{"head's name only an ideographic space", func() fixture.Resp {
			return w.OpA.Do("POST", "/api/v1/households", household(func(m map[string]any) { m["head_name"] = "　" }))
		}, 422, "head_name"},
		{"duplicate archive number", func() fixture.Resp {
			return w.OpA.Do("POST", "/api/v1/households", household(func(m map[string]any) { m["archive_no"] = existing.ArchiveNo }))
		}, 409, "archive_no"},
		{"village outside the station", func() fixture.Resp {
			return w.OpA.Do("POST", "/api/v1/households", household(func(m map[string]any) { m["village_code"] = "433124110225" }))
		}, 422, "village_code"},
		{"members as a string", func() fixture.Resp {
			return w.OpA.Do("POST", "/api/v1/households", household(func(m map[string]any) { m["members"] = "four" }))
		}, 422, "members"},
		{"unknown field", func() fixture.Resp {
			return w.OpA.Do("POST", "/api/v1/households", household(func(m map[string]any) { m["idnumber"] = "x" }))
		}, 422, "idnumber"},
		{"shares summing to 9999", func() fixture.Resp { return w.OpA.Do("POST", "/api/v1/products", product(func(map[string]any) {})) }, 422, "suppliers"},
		{"product name only an ideographic space", func() fixture.Resp {
			return w.OpA.Do("POST", "/api/v1/products", product(func(m map[string]any) { m["name"] = "　" }))
		}, 422, "name"},
		{"price as a decimal yuan", func() fixture.Resp {
			return w.OpA.Do("POST", "/api/v1/products", product(func(m map[string]any) { m["price_fen"] = 128.5 }))
		}, 422, "price_fen"},
		{"quantity 0", func() fixture.Resp {
			return w.Buyer1.Do("POST", "/api/v1/orders", item(w.Product, 0), "Idempotency-Key", "bad-q0")
		}, 422, "items[0].quantity"},
		{"quantity -1", func() fixture.Resp {
			return w.Buyer1.Do("POST", "/api/v1/orders", item(w.Product, -1), "Idempotency-Key", "bad-q1")
		}, 422, "items[0].quantity"},
		{"unknown product", func() fixture.Resp {
			return w.Buyer1.Do("POST", "/api/v1/orders", item("01937a5e-0000-7000-8000-000000000000", 1), "Idempotency-Key", "bad-p")
		}, 422, "items[0].product_id"},
		{"quantity above stock", func() fixture.Resp {
			return w.Buyer1.Do("POST", "/api/v1/orders", item(w.Product, 11), "Idempotency-Key", "bad-s")
		}, 409, "items[0].quantity"},
		{"no idempotency key", func() fixture.Resp { return w.Buyer1.Do("POST", "/api/v1/orders", item(w.Product, 1)) }, 422, "Idempotency-Key"},
		{"malformed code", func() fixture.Resp { return w.Admin.Do("GET", "/api/v1/trace/NOT-A-CODE", nil) }, 422, "code"},
		{"code with one wrong character", func() fixture.Resp {
			c := []byte(w.Issue(t, w.Product, 1)[0])
			c[3] = map[bool]byte{true: 'A', false: 'B'}[c[3] != 'A']
			return w.Admin.Do("GET", "/api/v1/trace/"+string(c), nil)
		}, 422, "code"},
		{"body over the size limit", func() fixture.Resp {
			return w.OpA.Do("POST", "/api/v1/households", `{"head_name":"`+strings.Repeat("长", 40000)+`"}`)
		}, 413, ""},
		{"a gzipped body", func() fixture.Resp {
			return w.OpA.Do("POST", "/api/v1/households", "\x1f\x8b\x08\x00", "Content-Encoding", "gzip")
		}, 415, "Content-Encoding"},
		{"an escaped backslash before u0000 is text, not NUL", func() fixture.Resp {
			return w.OpA.Do("POST", "/api/v1/households", `{"head_name":"C:\\u0000","archive_no":7}`)
		}, 422, "archive_no"},
		{"malformed JSON", func() fixture.Resp { return w.OpA.Do("POST", "/api/v1/households", `{"archive_no":`) }, 422, "body"},
		{"bad uuid in the path", func() fixture.Resp { return w.Admin.Do("GET", "/api/v1/households/42", nil) }, 422, "id"},
		{"NUL in a body string", func() fixture.Resp {
			return w.OpA.Do("POST", "/api/v1/households", household(func(m map[string]any) { m["head_name"] = "施\u0000成富" }))
		}, 422, "head_name"},
		{"NUL in a nested body string", func() fixture.Resp {
			return w.Buyer1.Do("POST", "/api/v1/orders", `{"items":[{"product_id":"`+w.Product+`","quantity":1,"note":"a\u0000"}]}`, "Idempotency-Key", "nul-1")
		}, 422, "items[0].note"},
		{"a GBK body", func() fixture.Resp {
			return w.OpA.Do("POST", "/api/v1/households", "{\"archive_no\":\"HY-9\",\"head_name\":\"\xca\xa9\xb3\xc9\xb8\xbb\"}")
		}, 422, "head_name"},
		{"half a surrogate pair in a nested string", func() fixture.Resp {
			return w.Buyer1.Do("POST", "/api/v1/orders", `{"items":[{"product_id":"`+w.Product+`","quantity":1,"note":"kiwi \ud83e"}]}`, "Idempotency-Key", "sur-1")
		}, 422, "items[0].note"},
		{"NUL in a query parameter", func() fixture.Resp { return w.Buyer1.Do("GET", "/api/v1/products?q=a%00b", nil) }, 422, "q"},
		{"login without a password", func() fixture.Resp {
			return fixture.Client{T: t, H: w.a.Router}.Do("POST", "/api/v1/auth/login", map[string]string{"username": "admin"})
		}, 422, "password"},
		{"a 10,000-character spec", func() fixture.Resp {
			return w.OpA.Do("POST", "/api/v1/products", product(func(m map[string]any) { m["spec"] = strings.Repeat("箱", 10000) }))
		}, 422, "spec"},
		{"a name of invisible marks", func() fixture.Resp {
			return w.OpA.Do("POST", "/api/v1/households", household(func(m map[string]any) { m["head_name"] = "\u3000\u200b\u200e" }))
		}, 422, "head_name"},
		{"a name of combining marks only", func() fixture.Resp {
			return w.OpA.Do("POST", "/api/v1/households", household(func(m map[string]any) { m["head_name"] = "\u0301\u0301\u0301" }))
		}, 422, "head_name"},
		{"a product name with a bidi override", func() fixture.Resp {
			return w.OpA.Do("POST", "/api/v1/products", product(func(m map[string]any) { m["name"] = "猕猴桃\u202eevil" }))
		}, 422, "name"},
		{"a product id that is a number", func() fixture.Resp {
			return w.Buyer1.Do("POST", "/api/v1/orders", `{"items":[{"product_id":123,"quantity":1}]}`, "Idempotency-Key", "bad-n")
		}, 422, "items[0].product_id"},
		{"a quantity too large for any integer field, on the second line", func() fixture.Resp {
			return w.Buyer1.Do("POST", "/api/v1/orders", `{"items":[{"product_id":"`+w.Product+`","quantity":1},{"product_id":"`+w.Product+`","quantity":99999999999999999999}]}`, "Idempotency-Key", "bad-big")
		}, 422, "items[1].quantity"},
		{"a malformed product id", func() fixture.Resp {
			return w.Buyer1.Do("POST", "/api/v1/orders", `{"items":[{"product_id":"not-a-uuid","quantity":1}]}`, "Idempotency-Key", "bad-u")
		}, 422, "items[0].product_id"},
		{"a product id in braces", func() fixture.Resp {
			return w.Buyer1.Do("POST", "/api/v1/orders", `{"items":[{"product_id":"{`+w.Product+`}","quantity":1}]}`, "Idempotency-Key", "bad-brace")
		}, 422, "items[0].product_id"},
		{"the all-zero product id", func() fixture.Resp {
			return w.Buyer1.Do("POST", "/api/v1/orders", `{"items":[{"product_id":"00000000-0000-0000-0000-000000000000","quantity":1}]}`, "Idempotency-Key", "bad-0")
		}, 422, "items[0].product_id"},
		{"an unknown field inside a line", func() fixture.Resp {
			return w.Buyer1.Do("POST", "/api/v1/orders", `{"items":[{"product_id":"`+w.Product+`","quantity":1,"colour":"red"}]}`, "Idempotency-Key", "bad-f")
		}, 422, "items[0].colour"},
		{"a batch produced tomorrow in China", func() fixture.Resp {
			tomorrow := time.Now().In(time.FixedZone("CST", 8*3600)).AddDate(0, 0, 1).Format(time.DateOnly)
			return w.OpA.Do("POST", "/api/v1/products/"+w.Product+"/batches", map[string]any{"batch_no": "T1", "produced_on": tomorrow, "quantity": 5})
		}, 422, "produced_on"},
	}
	// The 413 says what the limit is (the tests' BODY_LIMIT_BYTES is 64 KiB).
	if r := w.OpA.Do("POST", "/api/v1/households", `{"head_name":"`+strings.Repeat("长", 40000)+`"}`); !strings.Contains(r.Body.String(), "larger than the limit of 64 KiB") ||
		!strings.Contains(r.Body.String(), `"limit_bytes":65536`) {
		t.Errorf("413 without its limit: %d %.300s", r.Code, r.Body)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := counts(t, w)
			r := c.call()
			r.T = t
			r.Problem(c.status, c.field)
			after := counts(t, w)
			for k, v := range before {
				if k == "trace_codes" || k == "batches" { // the wrong-character case issues its own code first
					continue
				}
				if after[k] != v {
					t.Errorf("%s changed from %d to %d", k, v, after[k])
				}
			}
		})
	}
}

// A lower-case x check character is valid and stored as upper-case X (shown masked).
func TestIDNumberLowerX(t *testing.T) {
	w := newWorld(t)
	var h struct {
		IDNumber string `json:"id_number"`
		HeadName string `json:"head_name"`
	}
	w.OpA.Do("POST", "/api/v1/households", map[string]any{"archive_no": "X" + fixture.RandDigits(8), "head_name": "　石小芳\u200b",
		"id_number": "11010119900307803x", "village_code": "433124110226", "members": 2, "status": "monitored_marginal"}).
		Want(201).JSON(&h)
	if h.IDNumber != "110101********803X" || h.HeadName != "石*芳" {
		t.Fatalf("stored as %q / %q", h.IDNumber, h.HeadName)
	}
	var raw []byte
	w.a.DB.Raw("SELECT id_number_enc FROM households WHERE archive_no LIKE 'X%' LIMIT 1").Scan(&raw)
	if strings.Contains(string(raw), "110101") {
		t.Fatal("ID number stored in clear")
	}
	// The same person cannot be registered twice, even under another archive number.
	w.OpA.Do("POST", "/api/v1/households", map[string]any{"archive_no": "Y" + fixture.RandDigits(8), "head_name": "石小芳",
		"id_number": "11010119900307803X", "village_code": "433124110226", "members": 2, "status": "poor"}).Problem(409, "id_number")
}

// A shipment with one good and one already-sold code blames the sold one, by its index.
func TestShipmentBlamesTheRightCode(t *testing.T) {
	w := newWorld(t)
	codes := w.Issue(t, w.Product, 4)
	ship := func(key string, qty int, codes []string) (fixture.Order, fixture.Resp) {
		var o fixture.Order
		w.Buyer1.Do("POST", "/api/v1/orders", map[string]any{"items": []map[string]any{{"product_id": w.Product, "quantity": qty}}},
			"Idempotency-Key", key).Want(201).JSON(&o)
		w.Buyer1.Do("POST", "/api/v1/orders/"+o.ID+"/payment", nil, "Idempotency-Key", key).Want(201)
		return o, w.OpA.Do("POST", "/api/v1/orders/"+o.ID+"/shipments",
			map[string]any{"lines": []map[string]any{{"line_id": o.Lines[0].ID, "codes": codes}}})
	}
	_, r := ship("blame-1", 1, codes[:1])
	r.Want(200)
	_, r = ship("blame-2", 2, []string{codes[1], codes[0]})
	r.Problem(409, "lines[0].codes[1]")
	var p map[string]any
	r.JSON(&p)
	if p["status"] != float64(409) || p["current_status"] != "sold" {
		t.Fatalf("problem members: %v", p)
	}
}

// Idempotency-Key must be sent once; a scan path with slashes still gets the HTML page.
func TestHeaderAndPathEdges(t *testing.T) {
	w := newWorld(t)
	body := []byte(`{"items":[{"product_id":"` + w.Product + `","quantity":1}]}`)
	req := httptest.NewRequest("POST", "/api/v1/orders", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+w.Buyer1.Token)
	req.Header.Add("Idempotency-Key", "a")
	req.Header.Add("Idempotency-Key", "b")
	fixture.Resp{ResponseRecorder: serveChecked(t, w.a.Router, req, body), T: t}.Problem(422, "Idempotency-Key")

	// Ids in paths and queries only in their canonical 36-character form (either case): the other
	// spellings uuid.Parse takes are malformed, answered as any malformed id is.
	id := w.Households[0]
	for _, other := range []string{"{" + id + "}", "urn:uuid:" + id, strings.ReplaceAll(id, "-", "")} {
		w.Admin.Do("GET", "/api/v1/households/"+url.PathEscape(other), nil).Problem(422, "id")
		w.Admin.Do("GET", "/api/v1/households/"+url.PathEscape(other)+"/ledger", nil).Problem(422, "id")
		w.Admin.Do("GET", "/api/v1/households?after="+url.QueryEscape(other), nil).Problem(422, "after")
		w.Buyer1.Do("GET", "/api/v1/orders?before="+url.QueryEscape(other), nil).Problem(422, "before")
		if r := w.Admin.Do("GET", "/r/"+url.PathEscape(other), nil); r.Code != 422 {
			t.Errorf("receipt page of %q: %d, want 422", other, r.Code)
		}
	}
	w.Admin.Do("GET", "/api/v1/households/"+strings.ToUpper(id), nil).Want(200)
	w.Admin.Do("GET", "/api/v1/households/"+strings.ToUpper(id)+"/ledger", nil).Want(200)

	r := fixture.Client{T: t, H: w.a.Router}.Do("GET", "/t/..%2F..%2Fetc%2Fpasswd", nil)
	if r.Code != 404 || !strings.HasPrefix(r.Header().Get("Content-Type"), "text/html") || !strings.Contains(r.Body.String(), "查无此码") {
		t.Fatalf("scan path with slashes: %d %s", r.Code, r.Header().Get("Content-Type"))
	}
}
