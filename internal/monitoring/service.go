package monitoring

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/civil"
	"github.com/fupinmarket/fupin/internal/platform/database"
	"github.com/fupinmarket/fupin/internal/platform/money"
	"github.com/fupinmarket/fupin/internal/platform/text"
)

// Lines gives the monitoring line (防止返贫监测标准) of a year in a province; the report package
// owns the lines (poverty_lines) and implements it.
type Lines interface {
	MonitoringLine(ctx context.Context, year int, province string) (amountFen int64, source string, ok bool, err error)
}

// Settings are the early warning's thresholds (platform/config): DropBP, the share by which a
// household's income of the last three complete months must fall against the same months a year
// earlier to warn (more than it); LineMarginBP, how close above the monitoring line a household's
// rolling 12-month per-capita income warns (at or below line × (1 + margin)).
type Settings struct {
	DropBP       money.BasisPoints
	LineMarginBP money.BasisPoints
}

// Service registers households at risk and builds the warning list.
type Service struct {
	db    *gorm.DB
	lines Lines
	set   Settings
	now   func() time.Time
}

// NewService returns a Service over db on the wall clock.
func NewService(db *gorm.DB, lines Lines, set Settings) *Service {
	return &Service{db: db, lines: lines, set: set, now: time.Now}
}

// WithClock returns the service reading the time from now (which months are complete, today).
func (s *Service) WithClock(now func() time.Time) *Service {
	c := *s
	c.now = now
	return &c
}

func (r *NewRegistration) validate(today civil.Date) error {
	var f apperr.Fields
	reason, ok := text.Optional(r.Reason, 500)
	if r.HouseholdID == uuid.Nil {
		f.Add("household_id", "is required")
	}
	if !channels[r.Channel] {
		f.Add("channel", "must be self_declared (农户自主申报), local_check (基层日常排查) or data_warning (部门大数据预警), not %q", r.Channel)
	}
	if !riskTypes[r.RiskType] {
		f.Add("risk_type", "must be one of illness, disability, education, disaster, accident, industry_failure, "+
			"unstable_employment, income_drop, expense_surge, other, not %q", r.RiskType)
	}
	if !ok {
		f.Add("reason", "%s", text.HiddenOr(r.Reason, "must be at most 500 characters"))
	}
	r.Reason = reason
	if r.EnteredOn.IsZero() {
		f.Add("entered_on", "is required (YYYY-MM-DD)")
	} else if r.EnteredOn.After(today.Time) {
		f.Add("entered_on", "must not be after today (%s, China time)", today)
	}
	return f.Err()
}

// Register records a household at risk. A registration through channel data_warning typed in by
// hand came from another department's data (its warning is {"from":"department"}); one made from
// this platform's warning goes through RegisterWarning.
// Errors: Invalid naming fields (household_id when no such household); Conflict naming
// household_id (with registration_id) when the household already has an open registration.
func (s *Service) Register(ctx context.Context, r NewRegistration) (Registration, error) {
	if err := r.validate(civil.Today(s.now())); err != nil {
		return Registration{}, err
	}
	var warning json.RawMessage
	if r.Channel == ChannelDataWarning {
		warning = json.RawMessage(`{"from":"department"}`)
	}
	return s.insert(ctx, r, warning)
}

// insert writes a registration in one transaction: the household must exist and have no open one.
func (s *Service) insert(ctx context.Context, r NewRegistration, warning json.RawMessage) (Registration, error) {
	id := uuid.Must(uuid.NewV7())
	err := database.Tx(ctx, s.db, func(tx *gorm.DB) error {
		tx = tx.WithContext(ctx)
		// The registration day is the household's first status (household_history), as for wages:
		// a household cannot have entered monitoring before the register held it.
		var found []struct{ RegisteredOn *civil.Date }
		if err := tx.Raw(`SELECT (SELECT min(valid_from) FROM household_history_view WHERE household_id = h.id) AS registered_on
			FROM households_view h WHERE h.id = ?`, r.HouseholdID).Scan(&found).Error; err != nil {
			return err
		}
		if len(found) == 0 {
			return apperr.Invalid(apperr.Field("household_id", "names no registered household"))
		}
		if reg := found[0].RegisteredOn; reg != nil && r.EnteredOn.Before(reg.Time) {
			return apperr.Invalid(apperr.Field("entered_on", "must be on or after %s, the day the household was registered, not %s",
				*reg, r.EnteredOn))
		}
		var open []uuid.UUID
		if err := tx.Raw(`SELECT id FROM monitoring_registrations WHERE household_id = ? AND exited_on IS NULL`, r.HouseholdID).
			Scan(&open).Error; err != nil {
			return err
		}
		if len(open) > 0 {
			return openConflict(open[0])
		}
		var w *string
		if warning != nil {
			s := string(warning)
			w = &s
		}
		var by *uuid.UUID
		if r.By != uuid.Nil {
			by = &r.By
		}
		err := tx.Exec(`INSERT INTO monitoring_registrations (id, household_id, channel, risk_type, reason, entered_on, warning, registered_by)
			VALUES (?, ?, ?, ?, ?, ?, ?::jsonb, ?)`, id, r.HouseholdID, r.Channel, r.RiskType, r.Reason, r.EnteredOn, w, by).Error
		if apperr.PgCode(err) == apperr.PgUniqueViolation { // another registration committed meanwhile
			return apperr.ConflictField("household_id", "the household already has an open monitoring registration")
		}
		return err
	})
	if err != nil {
		return Registration{}, apperr.DB(err, "monitoring registration")
	}
	return s.Get(ctx, id)
}

func openConflict(open uuid.UUID) error {
	return apperr.ConflictField("household_id", "the household already has an open monitoring registration: "+
		"close it (POST /api/v1/monitoring/registrations/%s/exit) before registering it again", open).With("registration_id", open)
}

// ExitRegistration closes registration id. Errors: NotFound; Invalid naming exited_on (before the
// entry, or in the future) or reason; Conflict when it is closed already.
func (s *Service) ExitRegistration(ctx context.Context, id uuid.UUID, e Exit) (Registration, error) {
	var f apperr.Fields
	reason, ok := text.Name(e.Reason, 500)
	if !ok {
		f.Add("reason", "%s", text.HiddenOr(e.Reason, "must say why the risk is removed (1 to 500 characters)"))
	}
	e.Reason = reason
	today := civil.Today(s.now())
	if e.On.IsZero() {
		f.Add("exited_on", "is required (YYYY-MM-DD)")
	} else if e.On.After(today.Time) {
		f.Add("exited_on", "must not be after today (%s, China time)", today)
	}
	if err := f.Err(); err != nil {
		return Registration{}, err
	}
	err := database.Tx(ctx, s.db, func(tx *gorm.DB) error {
		tx = tx.WithContext(ctx)
		var cur []struct {
			EnteredOn civil.Date
			ExitedOn  *civil.Date
		}
		if err := tx.Raw(`SELECT entered_on, exited_on FROM monitoring_registrations WHERE id = ? FOR UPDATE`, id).Scan(&cur).Error; err != nil {
			return err
		}
		switch {
		case len(cur) == 0:
			return apperr.NotFound("monitoring registration")
		case cur[0].ExitedOn != nil:
			return apperr.Conflict("the registration was closed on %s; a registration is closed once", cur[0].ExitedOn)
		case e.On.Before(cur[0].EnteredOn.Time):
			return apperr.Invalid(apperr.Field("exited_on", "must not be before the day it entered monitoring (%s)", cur[0].EnteredOn))
		}
		var by *uuid.UUID
		if e.By != uuid.Nil {
			by = &e.By
		}
		return tx.Exec(`UPDATE monitoring_registrations SET exited_on = ?, exit_reason = ?, exited_by = ?, exited_at = ? WHERE id = ?`,
			e.On, e.Reason, by, s.now().UTC(), id).Error
	})
	if err != nil {
		return Registration{}, apperr.DB(err, "monitoring registration")
	}
	return s.Get(ctx, id)
}

const registrationSQL = `SELECT r.id, r.household_id, h.archive_no, h.village_code, r.channel, r.risk_type, r.reason,
	r.entered_on, r.warning, r.registered_at, r.exited_on, r.exit_reason, r.exited_at
	FROM monitoring_registrations r JOIN households_view h ON h.id = r.household_id`

type registrationRow struct {
	ID           uuid.UUID
	HouseholdID  uuid.UUID
	ArchiveNo    string
	VillageCode  string
	Channel      string
	RiskType     string
	Reason       string
	EnteredOn    civil.Date
	Warning      *string
	RegisteredAt time.Time
	ExitedOn     *civil.Date
	ExitReason   *string
	ExitedAt     *time.Time
}

func (r registrationRow) out() Registration {
	out := Registration{ID: r.ID, HouseholdID: r.HouseholdID, ArchiveNo: r.ArchiveNo, VillageCode: r.VillageCode,
		Channel: r.Channel, RiskType: r.RiskType, Reason: r.Reason, EnteredOn: r.EnteredOn, RegisteredAt: r.RegisteredAt.UTC(),
		ExitedOn: r.ExitedOn, ExitReason: r.ExitReason, ExitedAt: r.ExitedAt}
	if r.Warning != nil {
		out.Warning = json.RawMessage(*r.Warning)
	}
	if out.ExitedAt != nil {
		t := out.ExitedAt.UTC()
		out.ExitedAt = &t
	}
	return out
}

// Get returns one registration. Errors: NotFound.
func (s *Service) Get(ctx context.Context, id uuid.UUID) (Registration, error) {
	var rows []registrationRow
	if err := s.db.WithContext(ctx).Raw(registrationSQL+` WHERE r.id = ?`, id).Scan(&rows).Error; err != nil {
		return Registration{}, apperr.DB(err, "monitoring registration")
	}
	if len(rows) == 0 {
		return Registration{}, apperr.NotFound("monitoring registration")
	}
	return rows[0].out(), nil
}

// Filter narrows List: a household, a region code prefix (county, township, village), open only.
type Filter struct {
	HouseholdID uuid.UUID
	RegionCode  string
	OpenOnly    bool
	Limit       int
}

// List returns registrations, newest entry first (at most Limit, default 500).
func (s *Service) List(ctx context.Context, f Filter) ([]Registration, error) {
	if f.Limit <= 0 || f.Limit > 5000 {
		f.Limit = 500
	}
	var rows []registrationRow
	err := s.db.WithContext(ctx).Raw(registrationSQL+` WHERE (?::uuid IS NULL OR r.household_id = ?)
		AND h.village_code LIKE ? AND (NOT ? OR r.exited_on IS NULL)
		ORDER BY r.entered_on DESC, r.id DESC LIMIT ?`,
		nilIfZero(f.HouseholdID), f.HouseholdID, f.RegionCode+"%", f.OpenOnly, f.Limit).Scan(&rows).Error
	if err != nil {
		return nil, apperr.DB(err, "monitoring registrations")
	}
	out := make([]Registration, len(rows))
	for i, r := range rows {
		out[i] = r.out()
	}
	return out, nil
}

func nilIfZero(id uuid.UUID) *uuid.UUID {
	if id == uuid.Nil {
		return nil
	}
	return &id
}
