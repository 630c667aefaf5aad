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
	"github.com/fupinmarket/fupin/internal/platform/text"
)

// Property income (财产性收入): the account a dividend credits and the entry kind that posts it.
const (
	// HouseholdPropertyIncome is credit-normal: dividends from cooperatives and village collectives.
	HouseholdPropertyIncome AccountKind = "household_property_income"
	// KindDividend records a dividend paid to a household: the memorandum pair only (DividendEntry).
	KindDividend = "dividend"
)

// Payers of a dividend: a farmers' cooperative (农民专业合作社) or the village collective economic
// organisation (村集体经济组织), whose asset income is shared out to households (资产收益分红).
const (
	PayerCooperative = "cooperative"
	PayerCollective  = "collective"
)

// MaxDividendFen bounds one dividend (fen): ¥100,000 to one household at once is far above any
// cooperative's or collective's share-out, so a larger figure is a typing error that would flow
// into the household's income and the reports' per-capita figures.
const MaxDividendFen money.Money = 10_000_000

// DividendRequest is a dividend paid to a household: PayerKind cooperative or collective,
// PayerName as the payer is called (1..200 characters), PaidOn the day (China's calendar, in an
// open month and not in the future), Amount in fen (1..MaxDividendFen). StationID, when set, is
// the recording station: the household must be one of its villages'. Key is the caller's
// idempotency key, unique per recorder (station, or the county office).
type DividendRequest struct {
	StationID   uuid.UUID
	HouseholdID uuid.UUID
	PayerKind   string
	PayerName   string
	PaidOn      civil.Date
	Amount      money.Money
	Key         string
	RecordedBy  uuid.UUID
}

// Dividend is a recorded dividend with the entry that posted it.
type Dividend struct {
	ID          uuid.UUID
	HouseholdID uuid.UUID
	PayerKind   string
	PayerName   string
	PaidOn      civil.Date
	Amount      money.Money
	EntryID     uuid.UUID
	Replayed    bool
}

// validate checks the request on the China day of now. Like a wage, a dividend is income, so it
// may not be dated into a month whose report is filed (civil.FirstOpenDay).
func (r *DividendRequest) validate(now time.Time) error {
	var f apperr.Fields
	name, ok := text.Name(r.PayerName, 200)
	if r.HouseholdID == uuid.Nil {
		f.Add("household_id", "is required")
	}
	if r.PayerKind != PayerCooperative && r.PayerKind != PayerCollective {
		f.Add("payer_kind", "must be cooperative (合作社) or collective (村集体经济组织), not %q", r.PayerKind)
	}
	if !ok {
		f.Add("payer_name", "%s", text.HiddenOr(r.PayerName, "must name the cooperative or collective that paid (1 to 200 characters)"))
	}
	r.PayerName = name
	checkIncomeDay(&f, "paid_on", r.PaidOn, now, "a late dividend")
	if r.Amount <= 0 || r.Amount > MaxDividendFen {
		f.Add("amount_fen", "must be a positive number of fen, at most %d (¥%d) for one dividend", int64(MaxDividendFen), int64(MaxDividendFen)/100)
	}
	if !idempotency.ValidKey(r.Key) {
		f.Add(idempotency.Header, idempotency.ReasonMalformed)
	}
	return f.Err()
}

// DividendEntry posts a dividend as property income (财产性收入): the memorandum pair only, debit
// household_attributed, credit household_property_income. The cooperative or collective pays the
// household itself, so no money passes through the platform and nothing is owed to the household
// (household_payable is untouched; docs/ledger.md "Dividends"). occurred_at is the start of the
// paid day in China Standard Time, so the dividend counts in that month. Key
// "dividend:<recorder>:<key>".
func DividendEntry(r DividendRequest) Entry {
	at := r.PaidOn.Start()
	return Entry{Kind: KindDividend, IdempotencyKey: "dividend:" + r.StationID.String() + ":" + r.Key, OccurredAt: at,
		Memo: r.PayerKind + " " + r.PayerName + " on " + r.PaidOn.String() + " for household " + r.HouseholdID.String(),
		Postings: []Posting{
			{Account: AccountRef{Kind: HouseholdAttributed, OwnerID: r.HouseholdID}, Amount: r.Amount},
			{Account: AccountRef{Kind: HouseholdPropertyIncome, OwnerID: r.HouseholdID}, Amount: -r.Amount},
		}}
}

// RecordDividend stores a dividend and posts it in one transaction. A station records dividends
// for households of its villages only; the county office (StationID nil) for any household.
// Errors: Invalid naming fields (household_id when the household is unknown or not the station's,
// paid_on in a closed month or the future); Conflict naming Idempotency-Key when the key was used
// for a different dividend by the same recorder (idempotency.Do, scope dividend).
func (s *Service) RecordDividend(ctx context.Context, r DividendRequest) (Dividend, error) {
	if err := r.validate(s.now()); err != nil {
		return Dividend{}, err
	}
	out := Dividend{HouseholdID: r.HouseholdID, PayerKind: r.PayerKind, PayerName: r.PayerName, PaidOn: r.PaidOn, Amount: r.Amount}
	err := database.Tx(ctx, s.db, func(tx *gorm.DB) error {
		tx = tx.WithContext(ctx)
		var n int64
		if err := tx.Raw(`SELECT count(*) FROM households_view h WHERE h.id = ?
			AND (?::uuid IS NULL OR h.village_code IN (SELECT village_code FROM station_villages_view WHERE station_id = ?))`,
			r.HouseholdID, nilIfZero(r.StationID), r.StationID).Scan(&n).Error; err != nil {
			return apperr.DB(err, "household")
		}
		if n == 0 {
			return apperr.Invalid(apperr.Field("household_id", "names no household you record dividends for"))
		}
		e := DividendEntry(r)
		if err := e.validate(false); err != nil {
			return err
		}
		scope := idempotency.Scope{Name: "dividend", Within: r.StationID}
		ref, replayed, err := idempotency.Do(ctx, tx, scope, r.Key, requestHash(e, nil), func() (string, error) {
			id, _, err := post(ctx, tx, e, nil)
			if err != nil {
				return "", err
			}
			out.ID, out.EntryID = uuid.Must(uuid.NewV7()), id
			return out.ID.String(), tx.Exec(`INSERT INTO dividends (id, household_id, payer_kind, payer_name, paid_on, amount_fen, entry_id, recorded_by)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, out.ID, r.HouseholdID, r.PayerKind, r.PayerName, r.PaidOn,
				int64(r.Amount), id, nilIfZero(r.RecordedBy)).Error
		})
		if err != nil || !replayed {
			return err
		}
		out.Replayed = true
		return tx.Raw(`SELECT id, entry_id FROM dividends WHERE id = ?`, ref).Row().Scan(&out.ID, &out.EntryID)
	})
	return out, apperr.DB(err, "dividend")
}

// nilIfZero is nil for uuid.Nil (SQL NULL), else a pointer to id.
func nilIfZero(id uuid.UUID) *uuid.UUID {
	if id == uuid.Nil {
		return nil
	}
	return &id
}
