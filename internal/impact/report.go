package impact

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/civil"
)

// AnnualReport is a unit's impact in a calendar year (China time), the sum of the current receipts
// of its orders completed in that year: what the yearly assistance assessment (定点帮扶考核) asks a
// paired unit to show. Money is fen; OrderTotalFen − RefundedFen = CommissionFen +
// StationSalesFen + HouseholdIncomeFen, as on each receipt. HouseholdCount counts distinct households whose net income
// from the unit's orders of the year is positive; a village's count does the same within it.
type AnnualReport struct {
	UnitID             uuid.UUID       `json:"unit_id"`
	UnitName           string          `json:"unit_name"` // on the year's last day, or today while the year runs
	Year               int             `json:"year"`
	ReceiptCount       int             `json:"receipt_count"`
	OrderTotalFen      int64           `json:"order_total_fen"`
	RefundedFen        int64           `json:"refunded_fen"`
	CommissionFen      int64           `json:"commission_fen"`
	StationSalesFen    int64           `json:"station_sales_fen"`
	HouseholdIncomeFen int64           `json:"household_income_fen"`
	HouseholdCount     int             `json:"household_count"`
	Villages           []ReportVillage `json:"villages"`
	Receipts           []ReportReceipt `json:"receipts"`
	GeneratedAt        time.Time       `json:"generated_at"`
}

// ReportVillage is one village's part of the year: named as on the day of the latest sale of
// the year that paid one of its households.
type ReportVillage struct {
	Code           string `json:"code"`
	Name           string `json:"name"`
	IncomeFen      int64  `json:"income_fen"`
	HouseholdCount int    `json:"household_count"`
}

// ReportReceipt is one receipt the report sums, with the digest and page that check it.
type ReportReceipt struct {
	OrderID            uuid.UUID `json:"order_id"`
	ReceiptID          uuid.UUID `json:"receipt_id"`
	Version            int       `json:"version"`
	CompletedAt        time.Time `json:"completed_at"`
	HouseholdIncomeFen int64     `json:"household_income_fen"`
	Digest             string    `json:"digest"`
	PublicURL          string    `json:"public_url"`
}

// Annual builds unit unitID's report for year, issuing any receipt still missing or behind the
// ledger first (so the sum is of current receipts). publicURL gives each receipt's public page.
// Errors: Invalid naming "year" (outside 2000..2100), NotFound (no such unit, or not the
// caller's), Unavailable.
func (s *Service) Annual(ctx context.Context, p auth.Principal, unitID uuid.UUID, year int, publicURL func(Issued) string) (AnnualReport, error) {
	if year < 2000 || year > 2100 {
		return AnnualReport{}, apperr.Invalid(apperr.Field("year", "must be a year from 2000 to 2100, is %d", year))
	}
	if !p.IsAdmin() && (p.Role != auth.RoleBuyer || p.UnitID != unitID) {
		return AnnualReport{}, apperr.NotFound("unit")
	}
	now := s.now()
	from := time.Date(year, 1, 1, 0, 0, 0, 0, civil.China)
	to := from.AddDate(1, 0, 0)
	nameDay := now
	if !now.Before(to) {
		nameDay = to.Add(-time.Second)
	}
	name, err := s.st.unitName(ctx, unitID, nameDay)
	if apperr.Is(err, apperr.KindNotFound) || (err == nil && name == "") {
		return AnnualReport{}, apperr.NotFound("unit")
	}
	if err != nil {
		return AnnualReport{}, err
	}
	rep := AnnualReport{UnitID: unitID, UnitName: name, Year: year, Villages: []ReportVillage{}, Receipts: []ReportReceipt{},
		GeneratedAt: now.UTC()}
	orders, err := s.st.completedOrders(ctx, unitID, from, to)
	if err != nil {
		return AnnualReport{}, err
	}
	for _, o := range orders {
		i, err := s.issue(ctx, o)
		if err != nil {
			return AnnualReport{}, err
		}
		r, err := i.Receipt()
		if err != nil {
			return AnnualReport{}, err
		}
		rep.ReceiptCount++
		rep.OrderTotalFen += r.OrderTotalFen
		rep.RefundedFen += r.RefundedFen
		rep.CommissionFen += r.CommissionFen
		rep.StationSalesFen += r.StationSalesFen
		rep.HouseholdIncomeFen += r.HouseholdIncomeFen
		rep.Receipts = append(rep.Receipts, ReportReceipt{OrderID: i.OrderID, ReceiptID: i.ID, Version: i.Version,
			CompletedAt: i.CompletedAt, HouseholdIncomeFen: r.HouseholdIncomeFen, Digest: i.Digest, PublicURL: publicURL(i)})
	}
	rows, err := s.st.yearHouseholds(ctx, unitID, from, to)
	if err != nil {
		return AnnualReport{}, err
	}
	rep.Villages, rep.HouseholdCount = villagesOfYear(rows)
	return rep, nil
}

// villagesOfYear sums the household lines of the year's receipts by village (named as in the
// latest of them) and counts households with positive net income, per village and in all.
func villagesOfYear(rows []yearRow) ([]ReportVillage, int) {
	type key struct {
		village string
		hh      uuid.UUID
	}
	net := map[key]int64{}
	perHousehold := map[uuid.UUID]int64{}
	villages := map[string]*ReportVillage{}
	for _, r := range rows { // oldest receipt first: the last name seen is the latest
		v := villages[r.VillageCode]
		if v == nil {
			v = &ReportVillage{Code: r.VillageCode}
			villages[r.VillageCode] = v
		}
		v.Name = r.VillageName
		v.IncomeFen += r.IncomeFen
		net[key{r.VillageCode, r.HouseholdID}] += r.IncomeFen
		perHousehold[r.HouseholdID] += r.IncomeFen
	}
	for k, fen := range net {
		if fen > 0 {
			villages[k.village].HouseholdCount++
		}
	}
	total := 0
	for _, fen := range perHousehold {
		if fen > 0 {
			total++
		}
	}
	out := make([]ReportVillage, 0, len(villages))
	for _, v := range villages {
		out = append(out, *v)
	}
	slices.SortFunc(out, func(a, b ReportVillage) int {
		return cmp.Or(cmp.Compare(b.IncomeFen, a.IncomeFen), strings.Compare(a.Code, b.Code))
	})
	return out, total
}

// Year is the calendar year (China time) of t.
func Year(t time.Time) int { return t.In(civil.China).Year() }
