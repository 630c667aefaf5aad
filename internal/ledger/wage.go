package ledger

import (
	"context"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/civil"
	"github.com/fupinmarket/fupin/internal/platform/database"
	"github.com/fupinmarket/fupin/internal/platform/idempotency"
	"github.com/fupinmarket/fupin/internal/platform/money"
)

// Tasks a station employs household members for (就业帮扶).
var workTasks = map[string]bool{"picking": true, "sorting": true, "packing": true, "delivery": true, "other": true}

// WorkRequest is work done for a station by a member of a household and its pay: Task one of
// picking, sorting, packing, delivery, other; WorkDate the day (China Standard Time); Minutes
// 1..1440; Pay in fen (> 0). Key is the caller's idempotency key (1 to 200 bytes), unique per
// station: a retry with the same key and the same work replays the first record.
type WorkRequest struct {
	StationID   uuid.UUID
	HouseholdID uuid.UUID
	Task        string
	WorkDate    civil.Date
	Minutes     int
	Pay         money.Money
	Key         string
	RecordedBy  uuid.UUID
}

// WorkRecord is a recorded piece of paid work with the ledger entry that posted its wage.
type WorkRecord struct {
	ID          uuid.UUID
	StationID   uuid.UUID
	HouseholdID uuid.UUID
	Task        string
	WorkDate    civil.Date
	Minutes     int
	Pay         money.Money
	EntryID     uuid.UUID
	Replayed    bool
}

// MaxWageFen bounds the pay of one work record (fen): a day's work of one person at a station is
// paid far less than ¥10,000, so a larger figure is a typing error that would otherwise flow into
// the household's income and the monthly report's per-capita figures.
const MaxWageFen money.Money = 1_000_000

// validate checks the request on the China day of now. A work date must fall in an open month
// (civil.FirstOpenDay): a wage is income, and income dated into a month whose report is filed
// would change that report.
func (r WorkRequest) validate(now time.Time) error {
	var f apperr.Fields
	if r.StationID == uuid.Nil {
		f.Add("station_id", "is required")
	}
	if r.HouseholdID == uuid.Nil {
		f.Add("household_id", "is required")
	}
	if !workTasks[r.Task] {
		f.Add("task", "must be one of picking, sorting, packing, delivery, other")
	}
	checkIncomeDay(&f, "work_date", r.WorkDate, now, "late work")
	if r.Minutes < 1 || r.Minutes > 1440 {
		f.Add("minutes", "must be 1 to 1440")
	}
	if r.Pay <= 0 || r.Pay > MaxWageFen {
		f.Add("pay_fen", "must be a positive number of fen, at most %d (¥%d) for one piece of work", int64(MaxWageFen), int64(MaxWageFen)/100)
	}
	if !idempotency.ValidKey(r.Key) {
		f.Add(idempotency.Header, idempotency.ReasonMalformed)
	}
	return f.Err()
}

// WageEntry posts the pay of a piece of work as wage income (工资性收入), kept apart from the
// business income of sales: debit the station's wage cost, credit what is owed to the household
// (household_payable, settled by a payout), and the memorandum pair debit household_attributed,
// credit household_wage_income. The pay is reported in the month of the work day (Asia/Shanghai),
// so occurred_at is the start of that day in China Standard Time. Key "wage:<station>:<key>".
func WageEntry(r WorkRequest) Entry {
	at := r.WorkDate.Start()
	return Entry{Kind: KindWage, IdempotencyKey: "wage:" + r.StationID.String() + ":" + r.Key, OccurredAt: at,
		Memo: r.Task + " on " + r.WorkDate.String() + " for household " + r.HouseholdID.String(),
		Postings: []Posting{
			{Account: AccountRef{Kind: StationWages, OwnerID: r.StationID}, Amount: r.Pay},
			{Account: AccountRef{Kind: HouseholdPayable, OwnerID: r.HouseholdID}, Amount: -r.Pay},
			{Account: AccountRef{Kind: HouseholdAttributed, OwnerID: r.HouseholdID}, Amount: r.Pay},
			{Account: AccountRef{Kind: HouseholdWageIncome, OwnerID: r.HouseholdID}, Amount: -r.Pay},
		}}
}

// RecordWork stores a work record and posts its wage in one transaction. The household must live
// in one of the station's villages (checked in the query), and the work be dated on or after the day
// it was registered. Errors: Invalid naming fields (station_id when no station has the id,
// household_id when the household is not one the station serves, work_date before the household
// was registered, or as validate); Conflict naming Idempotency-Key
// when the key was used for different work at the station (idempotency.Do, scope work_record).
func (s *Service) RecordWork(ctx context.Context, r WorkRequest) (WorkRecord, error) {
	if err := r.validate(s.now()); err != nil {
		return WorkRecord{}, err
	}
	out := WorkRecord{StationID: r.StationID, HouseholdID: r.HouseholdID, Task: r.Task, WorkDate: r.WorkDate,
		Minutes: r.Minutes, Pay: r.Pay}
	err := database.Tx(ctx, s.db, func(tx *gorm.DB) error {
		tx = tx.WithContext(ctx)
		var found struct {
			Station, Household bool
			RegisteredOn       *civil.Date
		}
		if err := tx.Raw(`SELECT EXISTS (SELECT FROM stations_view WHERE id = ?) AS station, h.id IS NOT NULL AS household,
			`+registeredOnSQL+` AS registered_on
			FROM (SELECT) one LEFT JOIN (households_view h
				JOIN station_villages_view sv ON sv.village_code = h.village_code AND sv.station_id = ?) ON h.id = ?`,
			r.StationID, r.StationID, r.HouseholdID).Scan(&found).Error; err != nil {
			return apperr.DB(err, "household")
		}
		switch {
		case !found.Station: // only an admin names the station
			return apperr.Invalid(apperr.Field("station_id", "names no station"))
		case !found.Household:
			return apperr.Invalid(apperr.Field("household_id", "names no household of the station's villages"))
		}
		if err := checkRegistered("work_date", r.WorkDate, found.RegisteredOn, "work"); err != nil {
			return err
		}
		e := WageEntry(r)
		if err := e.validate(false); err != nil {
			return err
		}
		scope := idempotency.Scope{Name: "work_record", Within: r.StationID}
		ref, replayed, err := idempotency.Do(ctx, tx, scope, r.Key, requestHash(e, nil), func() (string, error) {
			if err := checkDayMinutes(tx, r); err != nil {
				return "", err
			}
			id, _, err := post(ctx, tx, e, nil)
			if err != nil {
				return "", err
			}
			out.ID, out.EntryID = uuid.Must(uuid.NewV7()), id
			var by *uuid.UUID
			if r.RecordedBy != uuid.Nil {
				by = &r.RecordedBy
			}
			return out.ID.String(), tx.Exec(`INSERT INTO work_records (id, station_id, household_id, task, work_date, minutes, pay_fen, entry_id, recorded_by)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, out.ID, r.StationID, r.HouseholdID, r.Task, r.WorkDate, r.Minutes,
				int64(r.Pay), id, by).Error
		})
		if err != nil || !replayed {
			return err
		}
		out.Replayed = true
		return tx.Raw(`SELECT id, entry_id FROM work_records WHERE id = ?`, ref).Row().Scan(&out.ID, &out.EntryID)
	})
	return out, apperr.DB(err, "work record")
}

// checkDayMinutes refuses work that would take the household's recorded minutes on its work day
// above members × 1440: nobody works more than a whole day, and a station posting 73 hours for
// three people puts wages into the report that were never earned. Members are those recorded for
// that day (the latest household_history row from on or before it; registration and imports write
// the first, so a household without one is counted as one person, the least it can be). The
// household's day is locked (a transaction-scoped advisory lock, fine behind a pooler) so that two
// records at once, at any stations, cannot both fit in what is left.
func checkDayMinutes(tx *gorm.DB, r WorkRequest) error {
	if err := tx.Exec(`SELECT pg_advisory_xact_lock(hashtextextended(?, 0))`,
		"work_day:"+r.HouseholdID.String()+":"+r.WorkDate.String()).Error; err != nil {
		return err
	}
	var day struct{ Members, Minutes int }
	if err := tx.Raw(`SELECT coalesce((SELECT members FROM household_history_view WHERE household_id = @h AND valid_from <= @d
			ORDER BY valid_from DESC LIMIT 1), 1) AS members,
		coalesce((SELECT sum(minutes) FROM work_records WHERE household_id = @h AND work_date = @d), 0) AS minutes`,
		map[string]any{"h": r.HouseholdID, "d": r.WorkDate}).Scan(&day).Error; err != nil {
		return err
	}
	if most := day.Members * 1440; day.Minutes+r.Minutes > most {
		return apperr.Invalid(apperr.Field("minutes", "would take the household's work on %s to %d minutes, above %d "+
			"(%d members × 1440): %d minutes are left that day", r.WorkDate, day.Minutes+r.Minutes, most, day.Members,
			max(most-day.Minutes, 0)))
	}
	return nil
}

// checkIncomeDay adds a problem on field unless day d (China) is from the first open day to today
// at now: income dated into a month whose report is filed would change it (civil.FirstOpenDay).
// late names what is dated ("late work", "a late dividend") in the advice to date it on the open day.
func checkIncomeDay(f *apperr.Fields, field string, d civil.Date, now time.Time, late string) {
	today := civil.Today(now)
	open := civil.FirstOpenDay(today)
	if d.IsZero() {
		f.Add(field, "is required (YYYY-MM-DD)")
	} else if d.After(today.Time) {
		// A future day is a typo or a plan, not a late record: the closed-month advice would mislead.
		f.Add(field, "must not be in the future: %s is after today (%s, China time); give the day it happened", d, today)
	} else if d.Before(open.Time) {
		f.Add(field, "must be a day from %s to today (%s, China time), not %s: earlier months are closed "+
			"(their reports were filed by the %dth of the next month and never change), so date %s %s",
			open, today, d, civil.ReportDueDay, late, open)
	}
}

// registeredOnSQL is the day household h was registered (China's calendar): its first status and
// size (household_history_view, written by registration and by roster imports), NULL if it has
// none. Per-capita income of a month counts a household from that day, so income dated before it
// would be counted for a household the register did not hold yet.
const registeredOnSQL = `(SELECT min(valid_from) FROM household_history_view WHERE household_id = h.id)`

// checkRegistered refuses income dated day (field) before the household's registration day
// (nil: not known, no check). what names the income in the message ("work", "a dividend").
func checkRegistered(field string, day civil.Date, registered *civil.Date, what string) error {
	if registered == nil || !day.Before(registered.Time) {
		return nil
	}
	return apperr.Invalid(apperr.Field(field, "must be on or after %s, the day the household was registered: "+
		"%s dated %s would be income of a household the register did not hold yet", *registered, what, day))
}
