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

// Income is income of one period: business (经营性, sales net of refunds), wage (工资性) and
// property (财产性: dividends of cooperatives and village collectives) in fen, their total, the
// household size at the end of the period and the per-capita total.
type Income struct {
	Period       string `json:"period"` // "2024-05", "2024" or "2023-06..2024-05"
	BusinessFen  int64  `json:"business_fen"`
	WageFen      int64  `json:"wage_fen"`
	PropertyFen  int64  `json:"property_fen"`
	TotalFen     int64  `json:"total_fen"`
	Members      int    `json:"members"`
	PerCapitaFen int64  `json:"per_capita_fen"`
}

// HouseholdIncome is a household's income in a year: each month, the year, the rolling 12 months
// ending with the year's last month (or the current month for the current year), and the line
// that applies to the year in its province, with whether the year's per-capita income is below it.
type HouseholdIncome struct {
	HouseholdID uuid.UUID `json:"household_id"`
	ArchiveNo   string    `json:"archive_no"`
	VillageCode string    `json:"village_code"`
	Status      string    `json:"status"`
	Months      []Income  `json:"months"`
	Year        Income    `json:"year"`
	Rolling12   Income    `json:"rolling_12_months"`
	Line        *Line     `json:"line"`
	BelowLine   bool      `json:"below_line"`
	GapFen      int64     `json:"gap_fen"` // per person: line − per-capita income when below, else 0
}

type monthSum struct {
	Month    string
	Business int64
	Wage     int64
	Property int64
}

const incomeByMonthSQL = `
SELECT to_char(e.occurred_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM') AS month,
       coalesce(-sum(p.amount_fen) FILTER (WHERE a.kind = 'household_income'), 0) AS business,
       coalesce(-sum(p.amount_fen) FILTER (WHERE a.kind = 'household_wage_income'), 0) AS wage,
       coalesce(-sum(p.amount_fen) FILTER (WHERE a.kind = 'household_property_income'), 0) AS property
FROM ledger_accounts a
JOIN postings p ON p.account_id = a.id
JOIN journal_entries e ON e.id = p.entry_id
WHERE a.owner_id = ? AND a.kind IN ('household_income', 'household_wage_income', 'household_property_income')
  AND e.occurred_at >= ? AND e.occurred_at < ?
GROUP BY 1 ORDER BY 1`

// membersExpr is the size of household h in force on the CST day before the date parameter
// (its history's row valid then; before its first row, the first row; without history, the
// register's figure).
const membersExpr = `coalesce((SELECT hh.members FROM household_history hh
                 WHERE hh.household_id = h.id AND hh.valid_from < ?::date ORDER BY hh.valid_from DESC LIMIT 1),
                (SELECT hh.members FROM household_history hh WHERE hh.household_id = h.id ORDER BY hh.valid_from LIMIT 1),
                h.members)`

const membersAtSQL = "SELECT " + membersExpr

// HouseholdIncomeOf returns a household's income in year against the line of kind (poverty or
// monitoring). Errors: NotFound when the household does not exist or is outside p's villages;
// Invalid for a year outside 2010..2100 or an unknown kind.
func (s *Service) HouseholdIncomeOf(ctx context.Context, p auth.Principal, id uuid.UUID, year int, kind string) (HouseholdIncome, error) {
	var f apperr.Fields
	if year < 2010 || year > 2100 {
		f.Add("year", "must be 2010 to 2100")
	}
	if kind != LinePoverty && kind != LineMonitoring {
		f.Add("line", "must be poverty or monitoring")
	}
	if err := f.Err(); err != nil {
		return HouseholdIncome{}, err
	}
	now := s.now()
	first := Month{year, time.January}
	last := Month{year, time.December}
	if cur := MonthOf(now); cur.Year == year {
		last = cur
	}
	end := last.Next()
	rollFrom := MonthOf(end.Start().AddDate(-1, 0, 0))
	var out HouseholdIncome
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		scope, args := scopeSQL(p)
		var hdr []struct {
			ID          uuid.UUID
			ArchiveNo   string
			VillageCode string
			Status      string
		}
		if err := tx.Raw(`SELECT id, archive_no, village_code, status FROM households h WHERE id = ? AND `+scope,
			append([]any{id}, args...)...).Scan(&hdr).Error; err != nil {
			return apperr.DB(err, "household")
		}
		if len(hdr) == 0 {
			return apperr.NotFound("household")
		}
		out = HouseholdIncome{HouseholdID: id, ArchiveNo: hdr[0].ArchiveNo, VillageCode: hdr[0].VillageCode, Status: hdr[0].Status}
		from := first.Start()
		if rollFrom.Start().Before(from) {
			from = rollFrom.Start()
		}
		var sums []monthSum
		if err := tx.Raw(incomeByMonthSQL, id, from, end.Start()).Scan(&sums).Error; err != nil {
			return apperr.DB(err, "income")
		}
		byMonth := map[string]monthSum{}
		for _, m := range sums {
			byMonth[m.Month] = m
		}
		members := func(before time.Time) (int, error) {
			var n int
			err := tx.Raw(membersAtSQL+` FROM households h WHERE h.id = ?`, before.Format(time.DateOnly), id).Scan(&n).Error
			return n, err
		}
		out.Year.Period = itoa(year)
		out.Rolling12.Period = rollFrom.String() + ".." + last.String()
		for m := first; m != end; m = m.Next() {
			ms := byMonth[m.String()]
			n, err := members(m.Next().Start())
			if err != nil {
				return apperr.DB(err, "household history")
			}
			in := Income{Period: m.String(), BusinessFen: ms.Business, WageFen: ms.Wage, PropertyFen: ms.Property,
				TotalFen: ms.Business + ms.Wage + ms.Property, Members: n}
			in.PerCapitaFen = perCapita(in.TotalFen, n)
			out.Months = append(out.Months, in)
			out.Year.BusinessFen += ms.Business
			out.Year.WageFen += ms.Wage
			out.Year.PropertyFen += ms.Property
		}
		for m := rollFrom; m != end; m = m.Next() {
			out.Rolling12.BusinessFen += byMonth[m.String()].Business
			out.Rolling12.WageFen += byMonth[m.String()].Wage
			out.Rolling12.PropertyFen += byMonth[m.String()].Property
		}
		n, err := members(end.Start())
		if err != nil {
			return apperr.DB(err, "household history")
		}
		for _, in := range []*Income{&out.Year, &out.Rolling12} {
			in.TotalFen = in.BusinessFen + in.WageFen + in.PropertyFen
			in.Members = n
			in.PerCapitaFen = perCapita(in.TotalFen, n)
		}
		lines, err := linesOn(tx) // the transaction's connection: s.Lines would ask the pool for a second
		if err != nil {
			return err
		}
		if l, ok := lineFor(lines, year, out.VillageCode[:2], kind); ok {
			out.Line = &l
			if out.Year.PerCapitaFen < int64(l.AmountFen) {
				out.BelowLine, out.GapFen = true, int64(l.AmountFen)-out.Year.PerCapitaFen
			}
		}
		return nil
	})
	return out, err
}

func itoa(n int) string { return time.Date(n, 1, 1, 0, 0, 0, 0, time.UTC).Format("2006") }

// BelowLineQuery selects households and the period to count: Year (a calendar year), or, when
// RollingTo is set, the 12 months ending with RollingTo; VillagePrefix narrows to a county,
// township or village code prefix; Kind is the line (poverty or monitoring); Limit caps the list.
type BelowLineQuery struct {
	Year          int
	RollingTo     *Month
	VillagePrefix string
	Kind          string
	Limit         int
}

// BelowHousehold is a household whose per-capita attributed income in the period is below the
// line of its province: by how much per person (GapFen) and in total (GapFen × members).
type BelowHousehold struct {
	HouseholdID  uuid.UUID `json:"household_id"`
	ArchiveNo    string    `json:"archive_no"`
	Status       string    `json:"status"`
	Members      int       `json:"members"`
	IncomeFen    int64     `json:"income_fen"`
	PerCapitaFen int64     `json:"per_capita_fen"`
	LineFen      int64     `json:"line_fen"`
	GapFen       int64     `json:"gap_fen"`
}

// VillageBelow groups the households below the line in one village, poorest per capita first.
type VillageBelow struct {
	VillageCode string           `json:"village_code"`
	VillageName string           `json:"village_name"`
	Households  []BelowHousehold `json:"households"`
}

// BelowLineReport is the cadres' list: the period, the line kind, how many households were
// counted and how many are below, by village (at most Limit households in all, worst first within
// each village; Truncated when there were more).
type BelowLineReport struct {
	Period    string         `json:"period"`
	Kind      string         `json:"line"`
	Counted   int            `json:"counted"`
	Below     int            `json:"below"`
	Truncated bool           `json:"truncated"`
	NoLine    int            `json:"no_line"` // households of provinces without a line for the period
	Villages  []VillageBelow `json:"villages"`
}

// BelowLine lists the households in p's scope still below the line after counting their
// attributed income. Errors: Invalid naming fields.
func (s *Service) BelowLine(ctx context.Context, p auth.Principal, q BelowLineQuery) (BelowLineReport, error) {
	if err := q.check(); err != nil {
		return BelowLineReport{}, err
	}
	if q.Limit <= 0 || q.Limit > 5000 {
		q.Limit = 1000
	}
	from, to, period := q.period()
	if q.RollingTo != nil {
		q.Year = q.RollingTo.Year
	}
	rep := BelowLineReport{Kind: q.Kind, Villages: []VillageBelow{}, Period: period}
	lines, err := s.Lines(ctx)
	if err != nil {
		return rep, err
	}
	scope, args := scopeSQL(p)
	var rows []struct {
		ID          uuid.UUID
		ArchiveNo   string
		Status      string
		VillageCode string
		VillageName string
		Members     int
		Income      int64
	}
	sqlArgs := append([]any{from.Start(), to.Start(), to.Start().Format(time.DateOnly), q.VillagePrefix + "%"}, args...)
	err = s.db.WithContext(ctx).Raw(`
		WITH inc AS (
		    SELECT a.owner_id, -sum(p.amount_fen) AS income
		    FROM journal_entries e
		    JOIN postings p ON p.entry_id = e.id
		    JOIN ledger_accounts a ON a.id = p.account_id
		        AND a.kind IN ('household_income', 'household_wage_income', 'household_property_income')
		    WHERE e.occurred_at >= ? AND e.occurred_at < ?
		    GROUP BY a.owner_id
		)
		SELECT h.id, h.archive_no, h.status, h.village_code, coalesce(r.name, '') AS village_name,
		       (`+membersExpr+`) AS members, coalesce(inc.income, 0) AS income
		FROM households h
		LEFT JOIN inc ON inc.owner_id = h.id
		LEFT JOIN regions r ON r.code = h.village_code
		WHERE h.village_code LIKE ? AND `+scope, sqlArgs...).Scan(&rows).Error
	if err != nil {
		return rep, apperr.DB(err, "income")
	}
	byVillage := map[string]*VillageBelow{}
	var below []BelowHousehold
	var villageOf []string
	for _, r := range rows {
		rep.Counted++
		l, ok := lineFor(lines, q.Year, r.VillageCode[:2], q.Kind)
		if !ok {
			rep.NoLine++
			continue
		}
		pc := perCapita(r.Income, r.Members)
		if pc >= int64(l.AmountFen) {
			continue
		}
		below = append(below, BelowHousehold{HouseholdID: r.ID, ArchiveNo: r.ArchiveNo, Status: r.Status, Members: r.Members,
			IncomeFen: r.Income, PerCapitaFen: pc, LineFen: int64(l.AmountFen), GapFen: int64(l.AmountFen) - pc})
		villageOf = append(villageOf, r.VillageCode)
		if byVillage[r.VillageCode] == nil {
			byVillage[r.VillageCode] = &VillageBelow{VillageCode: r.VillageCode, VillageName: r.VillageName}
		}
	}
	rep.Below = len(below)
	rep.Villages, rep.Truncated = byVillageThenIncome(below, villageOf, byVillage, q.Limit)
	return rep, nil
}

// check validates the query. Errors: Invalid naming year, line or village_code.
func (q BelowLineQuery) check() error {
	var f apperr.Fields
	if q.RollingTo == nil && (q.Year < 2010 || q.Year > 2100) {
		f.Add("year", "must be 2010 to 2100 (or give rolling_to=YYYY-MM)")
	}
	if q.Kind != LinePoverty && q.Kind != LineMonitoring {
		f.Add("line", "must be poverty or monitoring")
	}
	if len(q.VillagePrefix) > 12 || !digits(q.VillagePrefix) {
		f.Add("village_code", "must be a region code or a prefix of one (digits)")
	}
	return f.Err()
}

// period is the months counted, [from, to), and their label: the calendar year, or the twelve
// months to RollingTo ("2025-12..2026-11").
func (q BelowLineQuery) period() (from, to Month, label string) {
	if q.RollingTo == nil {
		return Month{q.Year, time.January}, Month{q.Year + 1, time.January}, itoa(q.Year)
	}
	to = q.RollingTo.Next()
	from = MonthOf(to.Start().AddDate(-1, 0, 0))
	return from, to, from.String() + ".." + q.RollingTo.String()
}

// byVillageThenIncome puts the first limit households below the line (villageOf[i] is below[i]'s
// village) into their villages, ordered by village code, then per-capita income, then archive
// number; truncated says some were left out.
func byVillageThenIncome(below []BelowHousehold, villageOf []string, byVillage map[string]*VillageBelow, limit int) (out []VillageBelow, truncated bool) {
	idx := make([]int, len(below))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool {
		if villageOf[idx[a]] != villageOf[idx[b]] {
			return villageOf[idx[a]] < villageOf[idx[b]]
		}
		if below[idx[a]].PerCapitaFen != below[idx[b]].PerCapitaFen {
			return below[idx[a]].PerCapitaFen < below[idx[b]].PerCapitaFen
		}
		return below[idx[a]].ArchiveNo < below[idx[b]].ArchiveNo
	})
	for n, i := range idx {
		if n == limit {
			truncated = true
			break
		}
		v := byVillage[villageOf[i]]
		v.Households = append(v.Households, below[i])
	}
	codes := make([]string, 0, len(byVillage))
	for c, v := range byVillage {
		if len(v.Households) > 0 {
			codes = append(codes, c)
		}
	}
	sort.Strings(codes)
	out = []VillageBelow{}
	for _, c := range codes {
		out = append(out, *byVillage[c])
	}
	return out, truncated
}

func digits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
