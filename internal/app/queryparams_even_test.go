package app

import "testing"

// Query parameters are held the same everywhere (a reviewer's finds): a region code in full-width
// digits is refused by the catalogue as by the household list, and a monthly report's table,
// which only a CSV export uses, is refused with another format rather than silently ignored.
func TestQueryParametersEven(t *testing.T) {
	w := newWorld(t)
	w.Admin.Do("GET", "/api/v1/households?village_code=%EF%BC%94%EF%BC%93%EF%BC%93", nil).Problem(422, "village_code")
	w.Buyer1.Do("GET", "/api/v1/catalog/products?region=%EF%BC%94%EF%BC%93", nil).Problem(422, "region")
	w.Buyer1.Do("GET", "/api/v1/catalog/products?region=43", nil).Want(200)

	base := "/api/v1/reports/monthly?region_code=433124"
	w.Admin.Do("GET", base+"&table=units", nil).Problem(422, "table")
	w.Admin.Do("GET", base+"&format=json&table=areas", nil).Problem(422, "table")
	w.Admin.Do("GET", base+"&format=csv&table=units", nil).Want(200)
	w.Admin.Do("GET", base, nil).Want(200)
}
