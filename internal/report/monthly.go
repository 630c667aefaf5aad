package report

import (
	"context"
	"sort"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/auth"
)

// The monthly report (月报) of a county, township or village, due by the 10th of the next month.
// All figures come from the ledger's postings of entries that happened in the month (China time), and
// what was true then, so that a closed month's report regenerated later gives the same figures
// whatever changed since (docs/ledger.md, "History"):
//
//   - sales: what assisting units were charged for products whose origin (frozen with the order
//     line when the order was placed) is in the area (their
//     receivable debits of sale entries, less refunds, line by line), by product and by unit;
//   - income added: business, wage and property income credited to the area's households (net of refunds),
//     each entry counted for the village its household belonged to when the entry happened
//     (household_village_at, kept with the ledger's monthly roll-ups), not the one it belongs to now;
//     a refund (or reversal) of a sold line counts for the village of the line's sale, which it
//     takes back from (00700), in the month it happened;
//   - households benefited (带贫户数): the area's households whose income rose in the month, each
//     once (one that moved villages in the month counts in each village, once in their parents);
//   - per-capita income added: income added ÷ the members of the households benefited (sizes at
//     the month's end), rounded to the fen.

// Summary holds the month's figures for an area.
type Summary struct {
	SalesFen            int64 `json:"sales_fen"`
	Orders              int   `json:"orders"`
	HouseholdsBenefited int   `json:"households_benefited"`
	Members             int   `json:"members"`
	IncomeFen           int64 `json:"income_fen"`
	BusinessFen         int64 `json:"business_fen"`
	WageFen             int64 `json:"wage_fen"`
	PropertyFen         int64 `json:"property_fen"`
	PerCapitaAddedFen   int64 `json:"per_capita_added_fen"`
}

// Area is one township or village of the report with its figures.
type Area struct {
	Code  string `json:"code"`
	Name  string `json:"name"`
	Level int    `json:"level"` // 4 township, 5 village
	Summary
}

// ProductSales is a product's sales in the month.
type ProductSales struct {
	ProductID  uuid.UUID `json:"product_id"`
	Name       string    `json:"name"`
	OriginCode string    `json:"origin_code"`
	Quantity   int64     `json:"quantity"`
	SalesFen   int64     `json:"sales_fen"`
}

// UnitSales is an assisting unit's purchases in the month from the area, and how many of the
// area's households they benefited.
type UnitSales struct {
	UnitID              uuid.UUID `json:"unit_id"`
	Name                string    `json:"name"`
	CreditCode          string    `json:"credit_code"`
	Orders              int       `json:"orders"`
	SalesFen            int64     `json:"sales_fen"`
	HouseholdsBenefited int       `json:"households_benefited"`
}

// Monthly is the monthly report of an area.
type Monthly struct {
	RegionCode  string         `json:"region_code"`
	RegionName  string         `json:"region_name"`
	Level       int            `json:"level"`
	Month       string         `json:"month"`
	From        time.Time      `json:"from"`
	To          time.Time      `json:"to"`
	GeneratedAt time.Time      `json:"generated_at"`
	Totals      Summary        `json:"totals"`
	Townships   []Area         `json:"townships"`
	Villages    []Area         `json:"villages"`
	TopProducts []ProductSales `json:"top_products"`
	Products    []ProductSales `json:"products"`
	Units       []UnitSales    `json:"units"`
}

// TopProductsShown caps Monthly.TopProducts (the HTML page's list); Monthly.Products has every
// product sold or refunded in the month, in the same order, for the CSV and XLSX.
const TopProductsShown = 10

// MonthlyReport builds the report of region (a 6-digit county, 9-digit township or 12-digit
// village code) for month, within p's scope (a station operator: its villages and its products).
// Errors: Invalid naming region_code (unknown or not a county, township or village) or month.
func (s *Service) MonthlyReport(ctx context.Context, p auth.Principal, region string, month Month) (Monthly, error) {
	if len(region) != 6 && len(region) != 9 && len(region) != 12 || !digits(region) {
		return Monthly{}, apperr.Invalid(apperr.Field("region_code", "must be a 6-digit county, 9-digit township or 12-digit village code"))
	}
	out := Monthly{RegionCode: region, Month: month.String(), From: month.Start().UTC(), To: month.Next().Start().UTC(),
		GeneratedAt: s.now().UTC(), Townships: []Area{}, Villages: []Area{}, TopProducts: []ProductSales{}, Products: []ProductSales{}, Units: []UnitSales{}}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var reg []struct {
			Name      string
			Level     int
			ValidFrom *time.Time
		}
		if err := tx.Raw(`SELECT region_name_at(code, ?) AS name, level, valid_from FROM regions WHERE code = ?`, lastDay(month), region).Scan(&reg).Error; err != nil {
			return apperr.DB(err, "region")
		}
		if len(reg) == 0 || reg[0].Level < 3 {
			return apperr.Invalid(apperr.Field("region_code", "names no county, township or village"))
		}
		// A village a merge created has no figures before its first day: its report of an earlier
		// month would be all zeros that read as "nothing was sold" (its households' income of that
		// month stays with the villages merged into it, History never moves).
		if from := reg[0].ValidFrom; from != nil && from.Format(time.DateOnly) > lastDay(month) {
			day := from.Format(time.DateOnly)
			return apperr.Invalid(apperr.Field("region_code", "%s exists from %s (a merge created it), after %s: ask for a month from %s on, or for the villages merged into it",
				region, day, month, day[:7]))
		}
		out.RegionName, out.Level = reg[0].Name, reg[0].Level
		if err := s.monthlyIncome(tx, p, region, month, &out); err != nil {
			return err
		}
		return s.monthlySales(tx, p, region, month, &out)
	}, readOnly)
	return out, err
}

// monthlyIncomeSQL sums the month's income of the area's households, each household's income in
// the village it was in when the entry happened, from the ledger's monthly roll-ups (00311: kept
// as entries are posted, re-derived by verify --full; the postings themselves were read four
// times per report), with the households benefited, their members and what they gained: one row
// per village, per township (its 9 digits) and for the whole area (the empty code). A household counts
// once in each: one that moved in the month (a village merge) counts in both villages, but once in
// a township or county that holds both (带贫户数 counts distinct households, GLOSSARY; the parents
// summed their villages' counts, 20 where 17 had benefited), and its members once in the
// per-capita figure. Arguments: month (its first day), region prefix, month end (date), then the
// scope's.
const monthlyIncomeSQL = `
WITH inc AS (
    SELECT r.household_id, r.village_code,
           coalesce(-sum(r.amount_fen) FILTER (WHERE r.account_kind = 'household_income'), 0) AS business,
           coalesce(-sum(r.amount_fen) FILTER (WHERE r.account_kind = 'household_wage_income'), 0) AS wage,
           coalesce(-sum(r.amount_fen) FILTER (WHERE r.account_kind = 'household_property_income'), 0) AS property
    FROM ledger_month_rollups r
    WHERE r.month = CAST(? AS date) AND r.village_code LIKE ?
      AND r.account_kind IN ('household_income', 'household_wage_income', 'household_property_income')
    GROUP BY 1, 2
), hv AS (
    SELECT h.id, h.village_code, inc.business, inc.wage, inc.property, ` + membersExpr + ` AS members
    FROM inc
    JOIN households reg ON reg.id = inc.household_id
    CROSS JOIN LATERAL (SELECT reg.id, reg.members, inc.village_code) h -- h: the household as it was then
    WHERE %s
), per AS ( -- each household once per area it had income in
    SELECT a.area, hv.id, sum(hv.business) AS business, sum(hv.wage) AS wage, sum(hv.property) AS property,
           max(hv.members) AS members
    FROM hv CROSS JOIN LATERAL (VALUES (hv.village_code), (left(hv.village_code, 9)), ('')) a(area)
    GROUP BY 1, 2
)
SELECT area, coalesce(sum(business), 0) AS business, coalesce(sum(wage), 0) AS wage, coalesce(sum(property), 0) AS property,
       count(*) FILTER (WHERE business + wage + property > 0) AS benefited,
       coalesce(sum(members) FILTER (WHERE business + wage + property > 0), 0) AS members,
       coalesce(sum(business + wage + property) FILTER (WHERE business + wage + property > 0), 0) AS gained
FROM per
GROUP BY area`

func (s *Service) monthlyIncome(tx *gorm.DB, p auth.Principal, region string, month Month, out *Monthly) error {
	scope, args := scopeSQL(p)
	var rows []struct {
		Area      string
		Business  int64
		Wage      int64
		Property  int64
		Benefited int
		Members   int
		Gained    int64
	}
	q := sprintf(monthlyIncomeSQL, scope)
	a := append([]any{firstDay(month), region + "%", month.Next().Start().Format(time.DateOnly)}, args...)
	if err := tx.Raw(q, a...).Scan(&rows).Error; err != nil {
		return apperr.DB(err, "monthly report")
	}
	villages := map[string]*Area{}
	townships := map[string]*Area{}
	for _, r := range rows {
		var sum Summary
		sum.BusinessFen, sum.WageFen, sum.PropertyFen, sum.IncomeFen = r.Business, r.Wage, r.Property, r.Business+r.Wage+r.Property
		sum.HouseholdsBenefited, sum.Members = r.Benefited, r.Members
		sum.PerCapitaAddedFen = perCapita(r.Gained, r.Members)
		switch len(r.Area) {
		case 12:
			villages[r.Area] = &Area{Code: r.Area, Level: 5, Summary: sum}
		case 9:
			townships[r.Area] = &Area{Code: r.Area, Level: 4, Summary: sum}
		case 0:
			setIncome(&out.Totals, sum)
		}
	}
	return s.areas(tx, villages, townships, out)
}

// setIncome sets the income figures of dst (its sales and orders are monthlySales').
func setIncome(dst *Summary, v Summary) {
	dst.BusinessFen, dst.WageFen, dst.PropertyFen, dst.IncomeFen = v.BusinessFen, v.WageFen, v.PropertyFen, v.IncomeFen
	dst.HouseholdsBenefited, dst.Members, dst.PerCapitaAddedFen = v.HouseholdsBenefited, v.Members, v.PerCapitaAddedFen
}

// monthlySalesSQL is the month's sales of the area's products, by product and unit, from the
// ledger's monthly roll-ups of the units' receivable postings on order lines of sale and refund
// entries (and reversals of them), products and units by their names on the month's last day
// (00055), so that renames later leave it as it was. Quantities: a sale counts its line's
// quantity, a refund the quantity it took back (its receivable credit is that quantity × the
// line's unit price, line by line), so a month with only refunds shows them (00311 sums them).
const monthlySalesSQL = `
SELECT pr.id AS product_id, product_name_at(pr.id, CAST(? AS date)) AS name, r.origin_code, r.unit_id,
       unit_name_at(u.id, CAST(? AS date)) AS unit_name, u.credit_code,
       sum(r.amount_fen) AS sales, sum(r.quantity) AS quantity
FROM ledger_month_rollups r
JOIN products pr ON pr.id = r.product_id
JOIN assisting_units u ON u.id = r.unit_id
WHERE r.month = CAST(? AS date) AND r.account_kind = 'unit_receivable' AND r.origin_code LIKE ? AND %s
GROUP BY pr.id, r.origin_code, r.unit_id, u.id, u.credit_code`

// unitHouseholdsSQL counts, per unit, the area's households credited on its order lines in the
// month by sale entries (the roll-ups' sale_credit_fen), each in the village it was in then.
const unitHouseholdsSQL = `
SELECT h.unit_id, count(DISTINCT h.household_id) AS households
FROM ledger_month_rollups h
WHERE h.month = CAST(? AS date) AND h.account_kind = 'household_income' AND h.sale_credit_fen > 0
  AND h.unit_id IS NOT NULL AND h.village_code LIKE ? AND %s
GROUP BY h.unit_id`

func (s *Service) monthlySales(tx *gorm.DB, p auth.Principal, region string, month Month, out *Monthly) error {
	productScope := "true"
	var pargs []any
	switch p.Role {
	case auth.RoleStation:
		productScope, pargs = "pr.station_id = ?", []any{p.StationID}
	case auth.RoleAdmin:
	default:
		productScope = "false"
	}
	var rows []struct {
		ProductID  uuid.UUID
		Name       string
		OriginCode string
		UnitID     uuid.UUID
		UnitName   string
		CreditCode string
		Sales      int64
		Quantity   int64
	}
	a := append([]any{month.Start(), month.Next().Start(), region + "%"}, pargs...)
	sa := append([]any{lastDay(month), lastDay(month), firstDay(month), region + "%"}, pargs...)
	if err := tx.Raw(sprintf(monthlySalesSQL, productScope), sa...).Scan(&rows).Error; err != nil {
		return apperr.DB(err, "monthly report")
	}
	products := map[uuid.UUID]*ProductSales{}
	units := map[uuid.UUID]*UnitSales{}
	for _, r := range rows {
		ps := products[r.ProductID]
		if ps == nil {
			ps = &ProductSales{ProductID: r.ProductID, Name: r.Name, OriginCode: r.OriginCode}
			products[r.ProductID] = ps
		}
		ps.SalesFen += r.Sales
		ps.Quantity += r.Quantity
		us := units[r.UnitID]
		if us == nil {
			us = &UnitSales{UnitID: r.UnitID, Name: r.UnitName, CreditCode: r.CreditCode}
			units[r.UnitID] = us
		}
		us.SalesFen += r.Sales
		out.Totals.SalesFen += r.Sales
		if v := findArea(out.Villages, r.OriginCode); v != nil {
			v.SalesFen += r.Sales
		}
		if t := findArea(out.Townships, prefix(r.OriginCode, 9)); t != nil {
			t.SalesFen += r.Sales
		}
	}
	if err := countOrders(tx, productScope, a, units, out); err != nil {
		return err
	}
	scope, hargs := scopeSQL(p)
	var uh []struct {
		UnitID     uuid.UUID
		Households int
	}
	if err := tx.Raw(sprintf(unitHouseholdsSQL, scope), append([]any{firstDay(month), region + "%"}, hargs...)...).
		Scan(&uh).Error; err != nil {
		return apperr.DB(err, "monthly report")
	}
	for _, r := range uh {
		if us := units[r.UnitID]; us != nil {
			us.HouseholdsBenefited = r.Households
		}
	}
	sortSales(products, units, out)
	return nil
}

// countOrders counts the orders with at least one line of the area's products sold in the month
// (args: the month's bounds, the region's LIKE prefix, then productScope's), in total, per unit,
// and per village and township of the origin frozen with each line: an order counts once per area
// however many of its lines are the area's.
func countOrders(tx *gorm.DB, productScope string, args []any, units map[uuid.UUID]*UnitSales, out *Monthly) error {
	var orders []struct {
		OrderID    uuid.UUID
		UnitID     uuid.UUID
		OriginCode string
	}
	err := tx.Raw(sprintf(`SELECT DISTINCT o.id AS order_id, o.unit_id, ol.origin_code FROM journal_entries e
		JOIN orders o ON o.id = e.order_id
		JOIN order_lines ol ON ol.order_id = o.id
		JOIN products pr ON pr.id = ol.product_id
		WHERE e.kind = 'sale' AND e.occurred_at >= ? AND e.occurred_at < ? AND ol.origin_code LIKE ? AND %s`, productScope), args...).Scan(&orders).Error
	if err != nil {
		return apperr.DB(err, "monthly report")
	}
	counted := map[string]map[uuid.UUID]bool{} // area code, "" for the whole area, "unit:" + id → orders
	count := func(key string, order uuid.UUID) {
		if counted[key] == nil {
			counted[key] = map[uuid.UUID]bool{}
		}
		counted[key][order] = true
	}
	for _, r := range orders {
		count("", r.OrderID)
		count("unit:"+r.UnitID.String(), r.OrderID)
		if len(r.OriginCode) == 12 {
			count(r.OriginCode, r.OrderID)
		}
		if len(r.OriginCode) >= 9 {
			count(r.OriginCode[:9], r.OrderID)
		}
	}
	out.Totals.Orders = len(counted[""])
	for id, us := range units {
		us.Orders = len(counted["unit:"+id.String()])
	}
	for _, as := range [][]Area{out.Townships, out.Villages} {
		for i := range as {
			as[i].Orders = len(counted[as[i].Code])
		}
	}
	return nil
}

// sortSales puts the products and units into out, the best-selling first, and the top products.
func sortSales(products map[uuid.UUID]*ProductSales, units map[uuid.UUID]*UnitSales, out *Monthly) {
	for _, ps := range products {
		out.Products = append(out.Products, *ps)
	}
	sort.Slice(out.Products, func(i, j int) bool {
		a, b := out.Products[i], out.Products[j]
		if a.SalesFen != b.SalesFen {
			return a.SalesFen > b.SalesFen
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.ProductID.String() < b.ProductID.String()
	})
	out.TopProducts = append(out.TopProducts, out.Products[:min(len(out.Products), TopProductsShown)]...)
	for _, us := range units {
		out.Units = append(out.Units, *us)
	}
	sort.Slice(out.Units, func(i, j int) bool {
		if out.Units[i].SalesFen != out.Units[j].SalesFen {
			return out.Units[i].SalesFen > out.Units[j].SalesFen
		}
		return out.Units[i].Name < out.Units[j].Name
	})
}

// areas fills in the names of the villages and townships with figures, plus the area's other
// villages and townships with zeros, so the report lists every one of them: those that existed
// in the month (a village merged away later is listed, one created later is not), each by the
// name it had on the month's last day.
func (s *Service) areas(tx *gorm.DB, villages, townships map[string]*Area, out *Monthly) error {
	var regs []struct {
		Code  string
		Name  string
		Level int
	}
	// The area itself is the report's own row (Totals), not one of its townships or villages.
	month := MonthOf(out.From)
	if err := tx.Raw(`SELECT code, region_name_at(code, @last) AS name, level FROM regions
		WHERE code LIKE @area AND code <> @self AND level IN (4, 5)
		  AND (valid_from IS NULL OR valid_from <= @last) AND (valid_to IS NULL OR valid_to > @first)
		ORDER BY code`,
		map[string]any{"area": out.RegionCode + "%", "self": out.RegionCode, "first": month.Start().Format(time.DateOnly), "last": lastDay(month)}).
		Scan(&regs).Error; err != nil {
		return apperr.DB(err, "region")
	}
	for _, r := range regs {
		m := villages
		if r.Level == 4 {
			m = townships
		}
		a := m[r.Code]
		if a == nil {
			a = &Area{Code: r.Code, Level: r.Level}
		}
		a.Name = r.Name
		if r.Level == 4 {
			out.Townships = append(out.Townships, *a)
		} else {
			out.Villages = append(out.Villages, *a)
		}
	}
	return nil
}

func findArea(as []Area, code string) *Area {
	i := sort.Search(len(as), func(i int) bool { return as[i].Code >= code })
	if i < len(as) && as[i].Code == code {
		return &as[i]
	}
	return nil
}

func prefix(s string, n int) string {
	if len(s) < n {
		return s
	}
	return s[:n]
}

// firstDay is the month's first day (YYYY-MM-DD, China's calendar): the key of its roll-ups.
func firstDay(m Month) string { return m.Start().Format(time.DateOnly) }

// lastDay is the month's last day (YYYY-MM-DD, China's calendar): the day whose names it reports.
func lastDay(m Month) string { return m.Next().Start().AddDate(0, 0, -1).Format(time.DateOnly) }
