package monitoring

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/civil"
	"github.com/fupinmarket/fupin/internal/platform/money"
	"github.com/fupinmarket/fupin/internal/platform/text"
)

// Reasons a household is on the warning list.
const (
	ReasonIncomeDrop = "income_drop" // income of the last 3 complete months fell by more than DropBP against a year earlier
	ReasonNearLine   = "near_line"   // rolling 12-month per-capita income at or below the monitoring line × (1 + margin)
)

// Warning is a household on the county office's early warning list, with the figures (fen) that
// put it there. ID ("<household id>.<as of month>") names it for RegisterWarning. Periods are
// complete months in China Standard Time ending with AsOf, the last complete month.
type Warning struct {
	ID           string    `json:"id"`
	HouseholdID  uuid.UUID `json:"household_id"`
	ArchiveNo    string    `json:"archive_no"`
	VillageCode  string    `json:"village_code"`
	AsOf         string    `json:"as_of"`
	Reasons      []string  `json:"reasons"`
	RecentPeriod string    `json:"recent_period"` // the last three complete months, "2026-09..2026-11"
	RecentFen    int64     `json:"recent_fen"`
	PriorPeriod  string    `json:"prior_period"` // the same months a year earlier
	PriorFen     int64     `json:"prior_fen"`
	DropBP       int64     `json:"drop_bp"` // (prior − recent) / prior in basis points; 0 without prior income
	Rolling12    string    `json:"rolling_12_period"`
	Rolling12Fen int64     `json:"rolling_12_fen"`
	Members      int       `json:"members"` // household size at the end of AsOf
	PerCapitaFen int64     `json:"per_capita_fen"`
	LineFen      *int64    `json:"line_fen"` // the monitoring line per person per year; null when none applies
	LineSource   string    `json:"line_source"`
	ThresholdFen *int64    `json:"threshold_fen"` // line × (1 + margin): at or below it warns
}

// WarningList is the list as of a month with the thresholds that made it.
type WarningList struct {
	AsOf         string    `json:"as_of"`
	DropBP       int64     `json:"drop_threshold_bp"`
	LineMarginBP int64     `json:"line_margin_bp"`
	Warnings     []Warning `json:"warnings"`
}

// window is the months the warning reads, all complete months in China Standard Time.
type window struct {
	asOf                    time.Time // first instant of the last complete month
	recentFrom, end         time.Time // the last three complete months
	priorFrom, priorTo      time.Time // the same months a year earlier
	rollingFrom             time.Time // the twelve months to end
	recent, prior, rolling  string
	asOfLabel, membersOnDay string
}

func windowAt(now time.Time) window {
	t := now.In(civil.China)
	end := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, civil.China)
	w := window{end: end, asOf: end.AddDate(0, -1, 0), recentFrom: end.AddDate(0, -3, 0),
		priorFrom: end.AddDate(-1, -3, 0), priorTo: end.AddDate(-1, 0, 0), rollingFrom: end.AddDate(-1, 0, 0)}
	month := func(t time.Time) string { return t.Format("2006-01") }
	w.recent = month(w.recentFrom) + ".." + month(w.asOf)
	w.prior = month(w.priorFrom) + ".." + month(w.priorTo.AddDate(0, -1, 0))
	w.rolling = month(w.rollingFrom) + ".." + month(w.asOf)
	w.asOfLabel, w.membersOnDay = month(w.asOf), end.Format(time.DateOnly)
	return w
}

// warningSQL is one set-based query over the county: each household's income through this platform
// (ledger's household_income_view: business, wage and property) in the three windows, its size at
// the end of the last complete month (household_history_view), households without an open
// registration only. Arguments by name.
const warningSQL = `
WITH inc AS (
    SELECT household_id,
           coalesce(sum(income_fen) FILTER (WHERE occurred_at >= @recent_from AND occurred_at < @end), 0) AS recent,
           coalesce(sum(income_fen) FILTER (WHERE occurred_at >= @prior_from AND occurred_at < @prior_to), 0) AS prior,
           coalesce(sum(income_fen) FILTER (WHERE occurred_at >= @rolling_from AND occurred_at < @end), 0) AS rolling
    FROM household_income_view
    WHERE occurred_at >= @prior_from AND occurred_at < @end
      AND household_id IN (SELECT id FROM households_view WHERE village_code LIKE @region) -- this area's only
    GROUP BY household_id
)
SELECT h.id, h.archive_no, h.village_code, inc.recent, inc.prior, inc.rolling,
       coalesce((SELECT hh.members FROM household_history_view hh
                 WHERE hh.household_id = h.id AND hh.valid_from < CAST(@members_on AS date) ORDER BY hh.valid_from DESC LIMIT 1),
                (SELECT hh.members FROM household_history_view hh WHERE hh.household_id = h.id ORDER BY hh.valid_from LIMIT 1),
                0) AS members
FROM inc
JOIN households_view h ON h.id = inc.household_id
WHERE h.village_code LIKE @region AND (CAST(@household AS uuid) IS NULL OR h.id = @household)
  AND NOT EXISTS (SELECT 1 FROM monitoring_registrations r WHERE r.household_id = h.id AND r.exited_on IS NULL)
ORDER BY h.village_code, h.archive_no`

// Warnings lists the households of region (a county, township or village code prefix; "" for all)
// that warn as of the last complete month. Errors: Invalid naming region_code.
func (s *Service) Warnings(ctx context.Context, region string) (WarningList, error) {
	if len(region) > 12 || strings.Trim(region, "0123456789") != "" {
		return WarningList{}, apperr.Invalid(apperr.Field("region_code", "must be a region code or a prefix of one (digits)"))
	}
	return s.warnings(ctx, s.db, region, uuid.Nil)
}

func (s *Service) warnings(ctx context.Context, db *gorm.DB, region string, household uuid.UUID) (WarningList, error) {
	w := windowAt(s.now())
	out := WarningList{AsOf: w.asOfLabel, DropBP: int64(s.set.DropBP), LineMarginBP: int64(s.set.LineMarginBP), Warnings: []Warning{}}
	var rows []struct {
		ID                     uuid.UUID
		ArchiveNo, VillageCode string
		Recent, Prior, Rolling int64
		Members                int
	}
	err := db.WithContext(ctx).Raw(warningSQL, map[string]any{"recent_from": w.recentFrom, "end": w.end,
		"prior_from": w.priorFrom, "prior_to": w.priorTo, "rolling_from": w.rollingFrom, "members_on": w.membersOnDay,
		"region": region + "%", "household": nilIfZero(household)}).Scan(&rows).Error
	if err != nil {
		return out, apperr.DB(err, "warnings")
	}
	type line struct {
		fen    int64
		source string
		ok     bool
	}
	lines := map[string]line{}
	for _, r := range rows {
		wn := Warning{ID: r.ID.String() + "." + w.asOfLabel, HouseholdID: r.ID, ArchiveNo: r.ArchiveNo, VillageCode: r.VillageCode,
			AsOf: w.asOfLabel, Reasons: []string{}, RecentPeriod: w.recent, RecentFen: r.Recent, PriorPeriod: w.prior, PriorFen: r.Prior,
			Rolling12: w.rolling, Rolling12Fen: r.Rolling, Members: r.Members, PerCapitaFen: perCapita(r.Rolling, r.Members)}
		if r.Prior > 0 {
			wn.DropBP = (r.Prior - r.Recent) * 10000 / r.Prior
			if (r.Prior-r.Recent)*10000 > r.Prior*int64(s.set.DropBP) {
				wn.Reasons = append(wn.Reasons, ReasonIncomeDrop)
			}
		}
		province := r.VillageCode[:2]
		l, seen := lines[province]
		if !seen {
			fen, src, ok, err := s.lines.MonitoringLine(ctx, w.asOf.Year(), province)
			if err != nil {
				return out, err
			}
			l = line{fen, src, ok}
			lines[province] = l
		}
		if l.ok {
			threshold := l.fen * (10000 + int64(s.set.LineMarginBP)) / 10000
			wn.LineFen, wn.LineSource, wn.ThresholdFen = &l.fen, l.source, &threshold
			// Only a household whose income this platform has seen in the 12 months is judged
			// against the line: one it never saw says nothing about its income.
			if r.Rolling > 0 && r.Members > 0 && wn.PerCapitaFen <= threshold {
				wn.Reasons = append(wn.Reasons, ReasonNearLine)
			}
		}
		if len(wn.Reasons) > 0 {
			out.Warnings = append(out.Warnings, wn)
		}
	}
	return out, nil
}

// RegisterWarning registers the household of warning id ("<household id>.<YYYY-MM>") as at risk
// in one step: channel data_warning, entered today (China time), the warning's figures kept with
// the registration as they were. riskType defaults to income_drop; reason defaults to the
// warning's reasons and figures. Errors: NotFound for a malformed id or a household not warned;
// Conflict when the list has moved to a later month since (reload it), or the household already
// has an open registration; Invalid for an unknown risk type.
func (s *Service) RegisterWarning(ctx context.Context, id, riskType, reason string, by uuid.UUID) (Registration, error) {
	hid, month, ok := strings.Cut(id, ".")
	household, err := text.UUID(hid)
	if !ok || err != nil {
		return Registration{}, apperr.NotFound("warning")
	}
	list, err := s.warnings(ctx, s.db, "", household)
	if err != nil {
		return Registration{}, err
	}
	if month != list.AsOf {
		return Registration{}, apperr.Conflict("warning %s is of %s; the list is now as of %s: reload it", id, month, list.AsOf)
	}
	if len(list.Warnings) == 0 {
		var open []uuid.UUID
		if err := s.db.WithContext(ctx).Raw(`SELECT id FROM monitoring_registrations WHERE household_id = ? AND exited_on IS NULL`,
			household).Scan(&open).Error; err != nil {
			return Registration{}, apperr.DB(err, "monitoring registration")
		}
		if len(open) > 0 {
			return Registration{}, openConflict(open[0])
		}
		return Registration{}, apperr.NotFound("warning")
	}
	wn := list.Warnings[0]
	if riskType == "" {
		riskType = RiskIncomeDrop
	}
	if text.Clean(reason) == "" {
		reason = describe(wn)
	}
	figures, err := json.Marshal(struct {
		From string `json:"from"`
		Warning
		DropThresholdBP int64 `json:"drop_threshold_bp"`
		LineMarginBP    int64 `json:"line_margin_bp"`
	}{"platform", wn, list.DropBP, list.LineMarginBP})
	if err != nil {
		return Registration{}, err
	}
	r := NewRegistration{HouseholdID: household, Channel: ChannelDataWarning, RiskType: riskType, Reason: reason,
		EnteredOn: civil.Today(s.now()), By: by}
	if err := r.validate(civil.Today(s.now())); err != nil {
		return Registration{}, err
	}
	return s.insert(ctx, r, figures)
}

// describe is the default reason of a registration from a warning (yuan, as the county office reads it).
func describe(w Warning) string {
	var parts []string
	for _, r := range w.Reasons {
		switch r {
		case ReasonIncomeDrop:
			parts = append(parts, fmt.Sprintf("平台收入骤减: %s %s, 上年同期 %s %s (降 %d.%02d%%)",
				w.RecentPeriod, money.Money(w.RecentFen), w.PriorPeriod, money.Money(w.PriorFen), w.DropBP/100, w.DropBP%100))
		case ReasonNearLine:
			parts = append(parts, fmt.Sprintf("人均收入接近监测线: %s 人均 %s, 监测线 %s", w.Rolling12, money.Money(w.PerCapitaFen), money.Money(*w.LineFen)))
		}
	}
	return strings.Join(parts, "; ")
}

// perCapita divides income by members, rounding half away from zero to the fen (as the reports do).
func perCapita(income int64, members int) int64 {
	if members <= 0 {
		return 0
	}
	m := int64(members)
	if income >= 0 {
		return (2*income + m) / (2 * m)
	}
	return -((-2*income + m) / (2 * m))
}
