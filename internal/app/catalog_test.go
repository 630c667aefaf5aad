package app

import (
	"net/url"
	"strings"
	"testing"
)

func (w world) namedProduct(t *testing.T, name, category string, priceFen, stock int) string {
	t.Helper()
	var p struct{ ID string }
	w.OpA.Do("POST", "/api/v1/products", map[string]any{"name": name, "category": category, "unit": "箱",
		"price_fen": priceFen, "stock": stock, "origin_code": "433124110226",
		"suppliers": []map[string]any{{"household_id": w.Households[0], "share_bp": 10000}}}).Want(201).JSON(&p)
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
		query += "&station_id=" + w.StationA
	}
	w.Buyer1.Do("GET", "/api/v1/catalog/products?"+query, nil).Want(200).JSON(&p)
	return p
}

func names(p catalogPage) string {
	var out []string
	for _, x := range p.Products {
		out = append(out, x.Name)
	}
	return strings.Join(out, ",")
}

// The catalogue's search and certification routes are wired: an admin certifies a product, buyers
// find it certified and read its certificates, and a bad parameter is a problem naming it. What
// search and certification decide is tested in internal/catalog (TestCatalogSearch).
func TestCatalogSearchOverHTTP(t *testing.T) {
	w := newWorld(t)
	kiwi := w.namedProduct(t, "红心猕猴桃", "水果", 6800, 10)
	w.Admin.Do("POST", "/api/v1/products/"+kiwi+"/certifications", map[string]any{"certificate_no": "HY-2026-001",
		"issuing_office": "花垣县乡村振兴局", "valid_from": "2026-01-01", "valid_until": "2099-12-31"}).Want(201)
	w.OpA.Do("POST", "/api/v1/products/"+kiwi+"/certifications", map[string]any{}).Problem(403, "")
	var certs struct {
		Certifications []struct {
			CertificateNo string `json:"certificate_no"`
		}
	}
	w.Buyer1.Do("GET", "/api/v1/products/"+kiwi+"/certifications", nil).Want(200).JSON(&certs)
	if len(certs.Certifications) != 1 || certs.Certifications[0].CertificateNo != "HY-2026-001" {
		t.Fatalf("certifications %+v", certs)
	}
	p := w.search(t, "q="+url.QueryEscape("红心"))
	if len(p.Products) != 1 || !p.Products[0].Certified || p.Products[0].Certificate.CertificateNo != "HY-2026-001" {
		t.Fatalf("certificate not shown: %+v", p)
	}
	if got := names(w.search(t, "q="+url.QueryEscape("猕猴")+"&certified=false")); got != "十八洞猕猴桃" {
		t.Errorf("uncertified kiwis: got [%s]", got)
	}
	w.Buyer1.Do("GET", "/api/v1/catalog/products?region=433", nil).Problem(422, "region")
}
