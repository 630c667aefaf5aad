package reserve

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/civil"
	"github.com/fupinmarket/fupin/internal/platform/money"
)

// Purchases are counted as procurement's unit progress counts them: lines of orders paid in the
// period (China Standard Time), not cancelled, net of refunds (quantity − refunded quantity at
// the line's unit price), by the month of payment. A filing counts the purchases of every unit it
// covers (the filer and the units sharing its canteen). Only approved filings are measured.

// MonthAmount is what the units of a filing bought in one month (YYYY-MM, China time).
type MonthAmount struct {
	Month     string      `json:"month"`
	BoughtFen money.Money `json:"bought_fen"`
}

// UnitCompletion is one approved filing measured: ReservedFen against what its units bought in
// the year so far (BoughtFen, CompletionBP = bought / reserved in bp) and on schedule: by the end
// of month ThroughMonth, ExpectedFen = reserved × ThroughMonth / 12 (floored to the fen) against
// BoughtThroughFen; Behind when less was bought, GapFen what is missing.
type UnitCompletion struct {
	FilingID         uuid.UUID     `json:"filing_id"`
	UnitID           uuid.UUID     `json:"unit_id"`
	UnitName         string        `json:"unit_name"`
	SupervisorUnitID *uuid.UUID    `json:"supervisor_unit_id"`
	SupervisorName   string        `json:"supervisor_name"`
	Canteen          Canteen       `json:"canteen"`
	CoveredUnitIDs   []uuid.UUID   `json:"covered_unit_ids"`
	ReservedFen      money.Money   `json:"reserved_fen"`
	BoughtFen        money.Money   `json:"bought_fen"`
	CompletionBP     int64         `json:"completion_bp"`
	BoughtThroughFen money.Money   `json:"bought_through_fen"`
	ExpectedFen      money.Money   `json:"expected_fen"`
	Behind           bool          `json:"behind"`
	GapFen           money.Money   `json:"gap_fen"`
	Months           []MonthAmount `json:"months"`
}

// SupervisorCompletion sums the filings a supervising department reviewed.
type SupervisorCompletion struct {
	UnitID           uuid.UUID   `json:"unit_id"`
	UnitName         string      `json:"unit_name"`
	Filings          int         `json:"filings"`
	UnitsBehind      int         `json:"units_behind"`
	ReservedFen      money.Money `json:"reserved_fen"`
	BoughtFen        money.Money `json:"bought_fen"`
	CompletionBP     int64       `json:"completion_bp"`
	BoughtThroughFen money.Money `json:"bought_through_fen"`
	ExpectedFen      money.Money `json:"expected_fen"`
}

// Completion is a year's reserved shares measured, per unit (filing) and per supervising department.
type Completion struct {
	Year         int                    `json:"year"`
	ThroughMonth int                    `json:"through_month"`
	Units        []UnitCompletion       `json:"units"`
	Supervisors  []SupervisorCompletion `json:"supervisors"`
}

// throughMonth resolves the month the schedule is judged at: given (1..12, or 0 for none yet),
// or by default the last month ended in China: 12 for past years, 0 for future ones.
func (s *Service) throughMonth(year, given int) (int, error) {
	if given >= 0 {
		if given > 12 {
			return 0, apperr.Invalid(apperr.Field("through_month", "must be from 0 to 12"))
		}
		return given, nil
	}
	now := s.now().In(civil.China)
	switch {
	case year < now.Year():
		return 12, nil
	case year > now.Year():
		return 0, nil
	}
	return int(now.Month()) - 1, nil
}

// Completion measures the year's approved filings the caller may read: the county office all; a
// buyer those of its unit, covering its unit, or reviewed by its unit. through is the month the
// schedule is judged at (-1: the default of throughMonth). Errors: Invalid (year, through_month).
func (s *Service) Completion(ctx context.Context, p auth.Principal, year, through int) (Completion, error) {
	if err := s.checkYear(year); err != nil {
		return Completion{}, err
	}
	m, err := s.throughMonth(year, through)
	if err != nil {
		return Completion{}, err
	}
	out := Completion{Year: year, ThroughMonth: m, Units: []UnitCompletion{}, Supervisors: []SupervisorCompletion{}}
	if p.Role != auth.RoleAdmin && p.Role != auth.RoleBuyer {
		return out, nil
	}
	db := s.db.WithContext(ctx)
	q := db.Table("reserve_filings f").
		Joins("JOIN assisting_units_view u ON u.id = f.unit_id").
		Joins("LEFT JOIN assisting_units_view s ON s.id = f.supervisor_id").
		Select(`f.id AS filing_id, f.unit_id, u.name AS unit_name, f.supervisor_id AS supervisor_unit_id,
			coalesce(s.name, '') AS supervisor_name, f.canteen, f.reserved_fen`).
		Where("f.year = ? AND f.status = 'approved'", year)
	if !p.IsAdmin() {
		q = q.Where(`f.unit_id = ? OR f.supervisor_id = ? OR f.id IN (SELECT filing_id FROM reserve_filing_units WHERE unit_id = ? AND year = ?)`,
			p.UnitID, p.UnitID, p.UnitID, year)
	}
	var rows []struct {
		FilingID         uuid.UUID
		UnitID           uuid.UUID
		UnitName         string
		SupervisorUnitID *uuid.UUID
		SupervisorName   string
		Canteen          Canteen
		ReservedFen      money.Money
	}
	if err := q.Order("u.name, f.id").Scan(&rows).Error; err != nil {
		return Completion{}, apperr.DB(err, "filing")
	}
	for _, r := range rows {
		out.Units = append(out.Units, UnitCompletion{FilingID: r.FilingID, UnitID: r.UnitID, UnitName: r.UnitName,
			SupervisorUnitID: r.SupervisorUnitID, SupervisorName: r.SupervisorName, Canteen: r.Canteen, ReservedFen: r.ReservedFen})
	}
	if err := s.measure(db, year, m, out.Units); err != nil {
		return Completion{}, err
	}
	out.Supervisors = bySupervisor(out.Units)
	return out, nil
}

// measure fills each filing's covered units, monthly purchases and schedule.
func (s *Service) measure(db *gorm.DB, year, through int, units []UnitCompletion) error {
	if len(units) == 0 {
		return nil
	}
	ids := make([]uuid.UUID, len(units))
	at := map[uuid.UUID]*UnitCompletion{}
	for i := range units {
		u := &units[i]
		ids[i], at[u.FilingID] = u.FilingID, u
		u.CoveredUnitIDs = []uuid.UUID{}
		u.Months = make([]MonthAmount, 12)
		for k := range u.Months {
			u.Months[k].Month = fmt.Sprintf("%04d-%02d", year, k+1)
		}
	}
	var covered []struct{ FilingID, UnitID uuid.UUID }
	if err := db.Raw(`SELECT filing_id, unit_id FROM reserve_filing_units WHERE filing_id IN ? AND role = 'covered' ORDER BY unit_id`, ids).
		Scan(&covered).Error; err != nil {
		return apperr.DB(err, "filing")
	}
	for _, c := range covered {
		at[c.FilingID].CoveredUnitIDs = append(at[c.FilingID].CoveredUnitIDs, c.UnitID)
	}
	from := time.Date(year, 1, 1, 0, 0, 0, 0, civil.China)
	var bought []struct {
		FilingID  uuid.UUID
		Month     int
		BoughtFen money.Money
	}
	err := db.Raw(`
		SELECT fu.filing_id, extract(month FROM o.paid_at AT TIME ZONE 'Asia/Shanghai')::int AS month,
		       sum((l.quantity - l.refunded_quantity)::bigint * l.unit_price_fen)::bigint AS bought_fen
		FROM reserve_filing_units fu
		JOIN orders_view o ON o.unit_id = fu.unit_id
		JOIN order_lines_view l ON l.order_id = o.id
		WHERE fu.filing_id IN @ids AND o.paid_at >= @from AND o.paid_at < @to AND o.status <> 'cancelled'
		GROUP BY 1, 2`, map[string]any{"ids": ids, "from": from, "to": from.AddDate(1, 0, 0)}).Scan(&bought).Error
	if err != nil {
		return apperr.DB(err, "purchases")
	}
	for _, b := range bought {
		u := at[b.FilingID]
		u.Months[b.Month-1].BoughtFen = b.BoughtFen
		u.BoughtFen += b.BoughtFen
		if b.Month <= through {
			u.BoughtThroughFen += b.BoughtFen
		}
	}
	for i := range units {
		u := &units[i]
		u.ExpectedFen = money.Money(int64(u.ReservedFen) * int64(through) / 12)
		u.CompletionBP = ratioBP(u.BoughtFen, u.ReservedFen)
		u.Behind = u.BoughtThroughFen < u.ExpectedFen
		u.GapFen = max(u.ExpectedFen-u.BoughtThroughFen, 0)
	}
	return nil
}

// ratioBP is part / whole in basis points (0 for a zero whole).
func ratioBP(part, whole money.Money) int64 {
	if whole <= 0 {
		return 0
	}
	return int64(part) * 10000 / int64(whole)
}

// bySupervisor sums the filings of each supervising department, by its name.
func bySupervisor(units []UnitCompletion) []SupervisorCompletion {
	idx := map[uuid.UUID]int{}
	out := []SupervisorCompletion{}
	for _, u := range units {
		if u.SupervisorUnitID == nil {
			continue
		}
		i, ok := idx[*u.SupervisorUnitID]
		if !ok {
			i = len(out)
			idx[*u.SupervisorUnitID] = i
			out = append(out, SupervisorCompletion{UnitID: *u.SupervisorUnitID, UnitName: u.SupervisorName})
		}
		s := &out[i]
		s.Filings++
		s.ReservedFen += u.ReservedFen
		s.BoughtFen += u.BoughtFen
		s.BoughtThroughFen += u.BoughtThroughFen
		s.ExpectedFen += u.ExpectedFen
		if u.Behind {
			s.UnitsBehind++
		}
	}
	for i := range out {
		out[i].CompletionBP = ratioBP(out[i].BoughtFen, out[i].ReservedFen)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].UnitName < out[j].UnitName })
	return out
}
