package app

import (
	"net/url"
	"strings"
	"testing"

	"gorm.io/gorm"
)

func (w world) namedProduct(t *testing.T, name, category string, priceFen, stock int) string {
	t.Helper()
	var p struct{ ID string }
	w.opA.do("POST", "/api/v1/products", map[string]any{"name": name, "category": category, "unit": "箱",
		"price_fen": priceFen, "stock": stock, "origin_code": "433124110226",
		"suppliers": []map[string]any{{"household_id": w.households[0], "share_bp": 10000}}}).want(201).json(&p)
	return p.ID
}

type catalogPage struct {
	Products []struct {
		ID          string
		Name        string
		PriceFen    int64 `json:"price_fen"`
		Certified   bool
		Certificate *struct {
			CertificateNo string `json:"certificate_no"`
		}
	}
	NextCursor string `json:"next_cursor"`
}

func (w world) search(t *testing.T, query string) catalogPage {
	t.Helper()
	var p catalogPage
	if !strings.Contains(query, "station_id=") { // the package's database holds other tests' products too
		query += "&station_id=" + w.stationA
	}
	w.buyer1.do("GET", "/api/v1/catalog/products?"+query, nil).want(200).json(&p)
	return p
}

func names(p catalogPage) string {
	var out []string
	for _, x := range p.Products {
		out = append(out, x.Name)
	}
	return strings.Join(out, ",")
}

// Buyers' search: Chinese substrings of two or more characters, filters, the certified default
// (an expired certificate drops out), keyset pages that cover everything exactly once.
func TestCatalogSearch(t *testing.T) {
	w := newWorld(t)
	certify := func(id, no, from, until string) {
		w.admin.do("POST", "/api/v1/products/"+id+"/certifications", map[string]any{"certificate_no": no,
			"issuing_office": "花垣县乡村振兴局", "valid_from": from, "valid_until": until}).want(201)
	}
	kiwi := w.namedProduct(t, "红心猕猴桃", "水果", 6800, 10)
	kiwiOld := w.namedProduct(t, "黄金猕猴桃", "水果", 5800, 10)
	kiwiNone := w.namedProduct(t, "野生猕猴桃干", "干货", 3900, 10)
	bacon := w.namedProduct(t, "苗家腊肉", "肉类", 8800, 10)
	tea := w.namedProduct(t, "黄金茶", "茶叶", 12000, 10)
	empty := w.namedProduct(t, "猕猴桃果酱", "加工品", 2500, 0)
	hidden := w.namedProduct(t, "猕猴桃酒", "加工品", 9900, 10)
	w.opA.do("PATCH", "/api/v1/products/"+hidden, map[string]any{"listed": false}).want(200)
	certify(kiwi, "HY-2026-001", "2026-01-01", "2099-12-31")
	certify(kiwiOld, "HY-2020-007", "2020-01-01", "2020-12-31") // expired
	certify(bacon, "HY-2026-002", "2026-01-01", "2099-12-31")
	certify(tea, "HY-2026-003", "2026-01-01", "2099-12-31")
	certify(empty, "HY-2026-004", "2026-01-01", "2099-12-31")
	certify(hidden, "HY-2026-005", "2026-01-01", "2099-12-31")
	w.admin.do("POST", "/api/v1/products/"+tea+"/certifications", map[string]any{"certificate_no": "HY-2026-003",
		"issuing_office": "x", "valid_from": "2026-01-01", "valid_until": "2026-12-31"}).problem(409, "certificate_no")
	w.admin.do("POST", "/api/v1/products/"+tea+"/certifications", map[string]any{"certificate_no": "HY-9",
		"issuing_office": "x", "valid_from": "2026-02-01", "valid_until": "2026-01-31"}).problem(422, "valid_until")
	w.opA.do("POST", "/api/v1/products/"+tea+"/certifications", map[string]any{}).problem(403, "")

	for q, want := range map[string]string{
		"q=" + url.QueryEscape("猕猴"):                      "红心猕猴桃",
		"q=" + url.QueryEscape("猕猴") + "&certified=any":   "野生猕猴桃干,黄金猕猴桃,红心猕猴桃,十八洞猕猴桃",
		"q=" + url.QueryEscape("猕猴") + "&certified=false": "野生猕猴桃干,黄金猕猴桃,十八洞猕猴桃",
		"q=" + url.QueryEscape("猕猴桃") + "&in_stock=any":   "猕猴桃果酱,红心猕猴桃",
		"q=" + url.QueryEscape("腊肉"):                      "苗家腊肉",
		"q=" + url.QueryEscape("茶"):                       "黄金茶",
		"q=" + url.QueryEscape("黄金") + "&certified=any":   "黄金茶,黄金猕猴桃",
		"category=" + url.QueryEscape("肉类"):               "苗家腊肉",
		"region=43&sort=price_asc":                        "红心猕猴桃,苗家腊肉,黄金茶",
		"region=433124110226&sort=price_desc":             "黄金茶,苗家腊肉,红心猕猴桃",
		"region=433124110225":                             "",
		"min_price=6800&max_price=8800&sort=price_asc":    "红心猕猴桃,苗家腊肉",
		"station_id=" + w.stationB:                        "",
	} {
		if got := names(w.search(t, q)); got != want {
			t.Errorf("%s: got [%s], want [%s]", q, got, want)
		}
	}
	p := w.search(t, "q="+url.QueryEscape("红心"))
	if len(p.Products) != 1 || !p.Products[0].Certified || p.Products[0].Certificate.CertificateNo != "HY-2026-001" {
		t.Fatalf("certificate not shown: %+v", p)
	}
	for _, bad := range []string{"region=433", "certified=maybe", "sort=name", "min_price=-1", "max_price=8&min_price=9",
		"limit=0", "cursor=xyz", "station_id=nope", "in_stock=no", "q=" + strings.Repeat("桃", 31)} {
		w.buyer1.do("GET", "/api/v1/catalog/products?"+bad, nil).problem(422, strings.SplitN(bad, "=", 2)[0])
	}

	// Keyset pages of 2 by price over everything listed: each product once, in order.
	var seen []int64
	ids := map[string]bool{}
	query := "certified=any&in_stock=any&sort=price_asc&limit=2"
	for page := 0; ; page++ {
		p := w.search(t, query)
		for _, x := range p.Products {
			if ids[x.ID] {
				t.Fatalf("%s seen twice", x.Name)
			}
			ids[x.ID] = true
			seen = append(seen, x.PriceFen)
		}
		if p.NextCursor == "" {
			break
		}
		query = "certified=any&in_stock=any&sort=price_asc&limit=2&station_id=" + w.stationA + "&cursor=" + p.NextCursor
		if page > 10 {
			t.Fatal("paging does not end")
		}
	}
	if len(seen) != 7 { // 6 of ours (not the unlisted one) and the world's product
		t.Fatalf("paged over %d products, want 7: %v", len(seen), seen)
	}
	for i := 1; i < len(seen); i++ {
		if seen[i] < seen[i-1] {
			t.Fatalf("prices out of order: %v", seen)
		}
	}
	first := w.search(t, "certified=any&sort=price_asc&limit=2")
	w.buyer1.do("GET", "/api/v1/catalog/products?sort=newest&cursor="+first.NextCursor, nil).problem(422, "cursor")

	// The indexes can serve the searches (the planner would pick them on a big catalogue).
	for pattern, index := range map[string]string{"%猕猴桃%": "products_name_trgm", "%腊肉%": "products_name_bigrams"} {
		var plan []string
		err := w.a.DB.Transaction(func(tx *gorm.DB) error {
			tx.Exec("SET LOCAL enable_seqscan = off")
			q := "EXPLAIN SELECT id FROM products WHERE name ILIKE ?"
			args := []any{pattern}
			if index == "products_name_bigrams" {
				q += " AND name_bigrams(name) @> ARRAY[?]"
				args = append(args, "腊肉")
			}
			return tx.Raw(q, args...).Scan(&plan).Error
		})
		if err != nil || !strings.Contains(strings.Join(plan, "\n"), index) {
			t.Errorf("plan for %s does not use %s: %v %v", pattern, index, plan, err)
		}
	}
	_ = kiwiNone
}
