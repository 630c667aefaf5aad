package bench

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/fupinmarket/fupin/internal/catalog"
)

// catalogSize products (all listed, in stock and certified) make 1,000 pages of 20.
const catalogSize = 20_200

var catalogOnce sync.Once

// bigCatalogue adds catalogSize products with one supplier and a valid certificate each, in SQL
// (generate_series): what is measured is the search, not the listing.
func bigCatalogue(b *testing.B, f *fixture) {
	catalogOnce.Do(func() {
		var station, household string
		f.a.DB.Raw("SELECT id::text FROM stations LIMIT 1").Scan(&station)
		f.a.DB.Raw("SELECT id::text FROM households LIMIT 1").Scan(&household)
		err := f.a.DB.Exec(`
			WITH p AS (
			    INSERT INTO products (id, station_id, name, category, unit, price_fen, stock, origin_code)
			    SELECT gen_random_uuid(), ?::uuid, '基准猕猴桃' || g, '水果', '箱', 1000 + (g * 7919) % 50000, 100, '433124110226'
			    FROM generate_series(1, ?) AS g
			    RETURNING id
			), s AS (
			    INSERT INTO product_suppliers (product_id, household_id, share_bp) SELECT id, ?::uuid, 10000 FROM p
			)
			INSERT INTO product_certifications (id, product_id, certificate_no, issuing_office, valid_from, valid_until, created_at)
			SELECT gen_random_uuid(), id, 'BENCH-' || id, '花垣县乡村振兴局', '2020-01-01', '2099-12-31', now() FROM p`,
			station, catalogSize, household).Error
		if err != nil {
			b.Fatal(err)
		}
		f.a.DB.Exec("ANALYZE products; ANALYZE product_certifications")
	})
}

// BenchmarkCatalogSearch: one page of 20 of the default buyer search (listed, in stock,
// certified today) sorted by price, at page 1 and at page 1,000 (keyset cursor): the two should
// cost about the same.
func BenchmarkCatalogSearch(b *testing.B) {
	f := setup(b)
	bigCatalogue(b, f)
	ctx := context.Background()
	// The cursor after the 19,980th product in price order, as a client would hold it on page 1,000.
	var last struct {
		ID       string
		PriceFen int64
	}
	f.a.DB.Raw(`SELECT id::text, price_fen FROM products WHERE listed AND stock > 0 ORDER BY price_fen, id OFFSET 19979 LIMIT 1`).Scan(&last)
	page1000 := base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf(`{"s":"price_asc","p":%d,"i":%q}`, last.PriceFen, last.ID)))
	for _, c := range []struct{ name, cursor string }{{"catalog_search_page1", ""}, {"catalog_search_page1000", page1000}} {
		b.Run(c.name, func(b *testing.B) {
			d := make([]time.Duration, 0, b.N)
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				page, err := f.a.Catalog.Search(ctx, catalog.SearchRequest{Sort: catalog.SortPriceAsc, Cursor: c.cursor})
				if err != nil || len(page.Products) != 20 {
					b.Fatalf("%v, %d products", err, len(page.Products))
				}
				d = append(d, time.Since(t0))
			}
			slices.Sort(d)
			ms := float64(d[len(d)/2].Microseconds()) / 1000
			b.ReportMetric(ms, "p50-ms")
			record(c.name+"_p50", ms, "ms", "catalog_search_page1_p50")
		})
	}
}
