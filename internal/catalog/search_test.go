package catalog

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/apperr/apperrtest"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/dbtest"
)

// searchRequest is the SearchRequest of a query string, as the HTTP adapter builds it.
func searchRequest(t *testing.T, query string) SearchRequest {
	t.Helper()
	v, err := url.ParseQuery(query)
	if err != nil {
		t.Fatal(err)
	}
	return SearchRequest{Query: v.Get("q"), Category: v.Get("category"), Region: v.Get("region"),
		StationID: v.Get("station_id"), Certified: v.Get("certified"), InStock: v.Get("in_stock"),
		MinPrice: v.Get("min_price"), MaxPrice: v.Get("max_price"), Sort: v.Get("sort"), Cursor: v.Get("cursor"),
		Limit: v.Get("limit")}
}

func names(p SearchPage) string {
	var out []string
	for _, x := range p.Products {
		out = append(out, x.Name)
	}
	return strings.Join(out, ",")
}

// wantErr fails unless err is an apperr of kind naming field ("" for none).
var wantErr = apperrtest.Want

// Buyers' search: Chinese substrings of two or more characters, filters, the certified default
// (an expired certificate drops out), keyset pages that cover everything exactly once.
func TestCatalogSearch(t *testing.T) {
	ctx := context.Background()
	db := dbtest.DB(t)
	svc := NewService(db, nil, tableRegions{db})
	stationA, household := stationWorld(t, db)
	stationB, _ := stationWorld(t, db)
	admin := auth.Principal{UserID: uuid.Must(uuid.NewV7()), Role: auth.RoleAdmin}
	operator := auth.Principal{UserID: uuid.Must(uuid.NewV7()), Role: auth.RoleStation, StationID: stationA}
	product := func(name, category string, priceFen, stock int, listed bool) uuid.UUID {
		return insertProduct(t, db, stationA, household, name, category, priceFen, stock, listed)
	}
	certify := func(id uuid.UUID, no, from, until string) error {
		_, err := svc.Certify(ctx, admin, id, CertificationRequest{CertificateNo: no, IssuingOffice: "花垣县乡村振兴局",
			ValidFrom: from, ValidUntil: until})
		return err
	}
	product("十八洞猕猴桃", "水果", 10000, 10, true) // the station's first product, never certified
	kiwi := product("红心猕猴桃", "水果", 6800, 10, true)
	kiwiOld := product("黄金猕猴桃", "水果", 5800, 10, true)
	product("野生猕猴桃干", "干货", 3900, 10, true)
	bacon := product("苗家腊肉", "肉类", 8800, 10, true)
	tea := product("黄金茶", "茶叶", 12000, 10, true)
	empty := product("猕猴桃果酱", "加工品", 2500, 0, true)
	hidden := product("猕猴桃酒", "加工品", 9900, 10, false)
	for _, c := range []struct {
		id              uuid.UUID
		no, from, until string
	}{
		{kiwi, "HY-2026-001", "2026-01-01", "2099-12-31"},
		{kiwiOld, "HY-2020-007", "2020-01-01", "2020-12-31"}, // expired
		{bacon, "HY-2026-002", "2026-01-01", "2099-12-31"},
		{tea, "HY-2026-003", "2026-01-01", "2099-12-31"},
		{empty, "HY-2026-004", "2026-01-01", "2099-12-31"},
		{hidden, "HY-2026-005", "2026-01-01", "2099-12-31"},
	} {
		if err := certify(c.id, c.no, c.from, c.until); err != nil {
			t.Fatal(err)
		}
	}
	_, err := svc.Certify(ctx, admin, tea, CertificationRequest{CertificateNo: "HY-2026-003", IssuingOffice: "x",
		ValidFrom: "2026-01-01", ValidUntil: "2026-12-31"})
	wantErr(t, err, apperr.KindConflict, "certificate_no")
	_, err = svc.Certify(ctx, admin, tea, CertificationRequest{CertificateNo: "HY-9", IssuingOffice: "x",
		ValidFrom: "2026-02-01", ValidUntil: "2026-01-31"})
	wantErr(t, err, apperr.KindInvalid, "valid_until")
	_, err = svc.Certify(ctx, operator, tea, CertificationRequest{})
	wantErr(t, err, apperr.KindForbidden, "")

	search := func(query string) SearchPage {
		t.Helper()
		if !strings.Contains(query, "station_id=") { // the package's database holds other tests' products too
			query += "&station_id=" + stationA.String()
		}
		p, err := svc.Search(ctx, searchRequest(t, query))
		if err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		return p
	}
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
		"station_id=" + stationB.String():                 "",
	} {
		if got := names(search(q)); got != want {
			t.Errorf("%s: got [%s], want [%s]", q, got, want)
		}
	}
	p := search("q=" + url.QueryEscape("红心"))
	if len(p.Products) != 1 || !p.Products[0].Certified || p.Products[0].Certificate.CertificateNo != "HY-2026-001" {
		t.Fatalf("certificate not shown: %+v", p)
	}
	for _, bad := range []string{"region=433", "certified=maybe", "sort=name", "min_price=-1", "max_price=8&min_price=9",
		"limit=0", "cursor=xyz", "station_id=nope", "in_stock=no", "q=" + strings.Repeat("桃", 31)} {
		_, err := svc.Search(ctx, searchRequest(t, bad))
		wantErr(t, err, apperr.KindInvalid, strings.SplitN(bad, "=", 2)[0])
	}

	// Keyset pages of 2 by price over everything listed: each product once, in order.
	var seen []int64
	ids := map[uuid.UUID]bool{}
	query := "certified=any&in_stock=any&sort=price_asc&limit=2"
	for page := 0; ; page++ {
		p := search(query)
		for _, x := range p.Products {
			if ids[x.ID] {
				t.Fatalf("%s seen twice", x.Name)
			}
			ids[x.ID] = true
			seen = append(seen, int64(x.PriceFen))
		}
		if p.NextCursor == "" {
			break
		}
		query = "certified=any&in_stock=any&sort=price_asc&limit=2&station_id=" + stationA.String() + "&cursor=" + p.NextCursor
		if page > 10 {
			t.Fatal("paging does not end")
		}
	}
	if len(seen) != 7 { // 6 of ours (not the unlisted one) and the station's first product
		t.Fatalf("paged over %d products, want 7: %v", len(seen), seen)
	}
	for i := 1; i < len(seen); i++ {
		if seen[i] < seen[i-1] {
			t.Fatalf("prices out of order: %v", seen)
		}
	}
	first := search("certified=any&sort=price_asc&limit=2")
	_, err = svc.Search(ctx, searchRequest(t, "sort=newest&cursor="+first.NextCursor))
	wantErr(t, err, apperr.KindInvalid, "cursor")

	// The indexes can serve the searches (the planner would pick them on a big catalogue).
	for pattern, index := range map[string]string{"%猕猴桃%": "products_name_trgm", "%腊肉%": "products_name_bigrams"} {
		var plan []string
		err := db.Transaction(func(tx *gorm.DB) error {
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
}
