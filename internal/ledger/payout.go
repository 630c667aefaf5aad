package ledger

import (
	"context"
	"crypto/sha256"
	"strconv"
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

// PayoutRequest is a transfer to a household's bank account: Amount in fen (> 0), Reference the
// bank's transfer reference (1 to 64 characters, unique: it is the payout's idempotency key), PaidAt
// when the transfer was made.
type PayoutRequest struct {
	HouseholdID uuid.UUID
	Amount      money.Money
	Reference   string
	PaidAt      time.Time
	CreatedBy   uuid.UUID // the user recording it; uuid.Nil for commands and tests
	typed       string    // Reference as typed (cleaned, not folded), set by validate
}

// Payout is a recorded payout. OwedAfter is what is still owed to the household after it.
type Payout struct {
	ID          uuid.UUID
	HouseholdID uuid.UUID
	Amount      money.Money
	Reference   string
	EntryID     uuid.UUID
	PaidAt      time.Time
	OwedAfter   money.Money
	Replayed    bool
}

// validate checks the request at now. A payout is dated when the bank made the transfer, which
// must fall in an open month (civil.FirstOpenDay): what was owed at a month's end is in its filed
// report.
func (r *PayoutRequest) validate(now time.Time) error {
	var f apperr.Fields
	ref, ok := text.Name(r.Reference, 64)
	if r.HouseholdID == uuid.Nil {
		f.Add("household_id", "is required")
	}
	if r.Amount <= 0 {
		f.Add("amount_fen", "must be a positive number of fen")
	}
	if !ok {
		f.Add("reference", "%s", text.HiddenOr(r.Reference, "must be the bank's transfer reference, 1 to 64 characters"))
	}
	r.typed = ref
	if ok {
		// Full-width forms fold as in the other identifiers (archive_no, batch_no): "Ｒ1" is the
		// bank's R1, and the reference is the payout's idempotency key.
		ref = text.ASCII(ref)
	}
	r.Reference = ref
	if r.PaidAt.IsZero() {
		f.Add("paid_at", "is required")
	} else if r.PaidAt.After(now.Add(5 * time.Minute)) {
		// A few minutes' grace for the clocks of the bank's and the office's machines. A future time
		// is a typo, not a late transfer: the closed-month advice would mislead.
		f.Add("paid_at", "must not be in the future: %s is after now (%s); give the time the bank made the transfer",
			r.PaidAt.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	} else if open := civil.FirstOpenDay(civil.Today(now)); civil.Today(r.PaidAt).Before(open.Time) {
		f.Add("paid_at", "must be the time the bank made the transfer, from %s (China time) to now, not %s: earlier months are "+
			"closed (their reports were filed by the %dth of the next month and never change), so date a late transfer %s",
			open, r.PaidAt.UTC().Format(time.RFC3339), civil.ReportDueDay, open)
	}
	return f.Err()
}

// PayoutEntry records a transfer to a household: debit its household_payable (what is owed to it
// goes down), credit the bank. Income is untouched: the household earned the money when the sale
// (or wage) was posted. Key "payout:<reference>".
func PayoutEntry(householdID uuid.UUID, amount money.Money, reference string, at time.Time) Entry {
	return Entry{Kind: KindPayout, IdempotencyKey: "payout:" + reference, OccurredAt: at,
		Memo: "payout to household " + householdID.String() + " (ref " + reference + ")",
		Postings: []Posting{
			{Account: AccountRef{Kind: HouseholdPayable, OwnerID: householdID}, Amount: amount},
			{Account: AccountRef{Kind: Bank}, Amount: -amount},
		}}
}

// PayOut records a payout in one transaction: it locks the household's payable account (slot 0,
// where its debits go), refuses an amount larger than what is owed (the sum of its slots), posts
// PayoutEntry and stores the payouts row. The reference
// is the idempotency key (idempotency.Do, scope payout): the same reference for the same household
// and amount replays the first payout (Replayed true).
//
// Errors: Invalid naming fields; Conflict naming amount_fen when the amount exceeds what is owed,
// or reference when it was used for another payout; Invalid naming household_id when there is no
// such household; Unavailable when the database is down.
func (s *Service) PayOut(ctx context.Context, req PayoutRequest) (Payout, error) {
	if err := req.validate(s.now()); err != nil {
		return Payout{}, err
	}
	var out Payout
	err := database.Tx(ctx, s.db, func(tx *gorm.DB) error {
		tx = tx.WithContext(ctx)
		// Lock first, so that two payouts for one household are decided one after the other:
		// slot 0 of its payable, made if missing (its credits may all be in other slots), holds
		// every debit (AccountKind.slot). Only then sum every slot, in a later statement whose
		// snapshot sees every debit committed before the lock; credits still uncommitted are
		// missed, which only under-reads what is owed.
		if err := tx.Exec(`INSERT INTO ledger_accounts AS a (id, kind, owner_id, slot, balance_fen)
			VALUES (?, 'household_payable', ?, 0, 0)
			ON CONFLICT (kind, owner_id, slot) DO UPDATE SET balance_fen = a.balance_fen`,
			uuid.Must(uuid.NewV7()), req.HouseholdID).Error; err != nil {
			return apperr.DB(err, "ledger account")
		}
		var owed int64
		if err := tx.Raw(`SELECT coalesce(-sum(balance_fen), 0) FROM ledger_accounts WHERE kind = 'household_payable' AND owner_id = ?`,
			req.HouseholdID).Row().Scan(&owed); err != nil {
			return apperr.DB(err, "ledger account")
		}
		owedNow := money.Money(owed)
		scope := idempotency.Scope{Name: "payout", Field: "reference"}
		if req.typed != req.Reference {
			// References were stored as typed until 6 December 2026: a payout recorded then under
			// full-width forms keeps that key (its entry's key cannot change), and the same
			// transfer typed the same way must replay it, never pay a second time.
			_, found, err := idempotency.Lookup(ctx, tx, scope, req.typed, payoutHash(req))
			switch {
			case found, apperr.Is(err, apperr.KindConflict): // another payout's: Do says so below
				req.Reference = req.typed
			case err != nil:
				return apperr.DB(err, "payout")
			}
		}
		ref, replayed, err := idempotency.Do(ctx, tx, scope, req.Reference, payoutHash(req), func() (string, error) {
			return s.payOut(ctx, tx, req, owedNow, &out)
		})
		if err != nil || !replayed {
			return err
		}
		var p struct {
			ID          uuid.UUID
			HouseholdID uuid.UUID
			AmountFen   int64
			EntryID     uuid.UUID
			PaidAt      time.Time
		}
		if err := tx.Raw(`SELECT id, household_id, amount_fen, entry_id, paid_at FROM payouts WHERE id = ?`, ref).Scan(&p).Error; err != nil {
			return apperr.DB(err, "payout")
		}
		out = Payout{ID: p.ID, HouseholdID: p.HouseholdID, Amount: money.Money(p.AmountFen), Reference: req.Reference,
			EntryID: p.EntryID, PaidAt: p.PaidAt.UTC(), OwedAfter: owedNow, Replayed: true}
		return nil
	})
	return out, err
}

// payOut is the work of PayOut once its reference is new: the household's payable is locked in tx
// and owedNow is what it is owed. It fills out and returns the payout's id.
func (s *Service) payOut(ctx context.Context, tx *gorm.DB, req PayoutRequest, owedNow money.Money, out *Payout) (string, error) {
	if req.Amount > owedNow {
		return "", apperr.ConflictField("amount_fen", "the household is owed %s; a payout of %s would exceed it", owedNow, req.Amount).
			With("owed_fen", int64(owedNow))
	}
	least, err := owedSince(ctx, tx, req.HouseholdID, req.PaidAt)
	if err != nil {
		return "", apperr.DB(err, "ledger account")
	}
	if req.Amount > least {
		return "", apperr.ConflictField("paid_at", "from %s (China time) on, the household was owed as little as %s, less than this payout of %s: "+
			"a payout pays what was owed when the bank made the transfer; give that time", req.PaidAt.In(civil.China).Format("2006-01-02 15:04"), least, req.Amount).
			With("owed_fen", int64(least))
	}
	e := PayoutEntry(req.HouseholdID, req.Amount, req.Reference, req.PaidAt)
	if err := e.validate(false); err != nil {
		return "", err
	}
	entryID, _, err := post(ctx, tx, e, nil)
	if err != nil {
		return "", err
	}
	*out = Payout{ID: uuid.Must(uuid.NewV7()), HouseholdID: req.HouseholdID, Amount: req.Amount, Reference: req.Reference,
		EntryID: entryID, PaidAt: req.PaidAt.UTC(), OwedAfter: owedNow - req.Amount}
	var createdBy *uuid.UUID
	if req.CreatedBy != uuid.Nil {
		createdBy = &req.CreatedBy
	}
	err = tx.Exec(`INSERT INTO payouts (id, household_id, amount_fen, reference, entry_id, paid_at, created_by)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, out.ID, out.HouseholdID, int64(out.Amount), out.Reference, out.EntryID, out.PaidAt, createdBy).Error
	if apperr.PgCode(err) == apperr.PgForeignKeyViolation && apperr.PgConstraint(err) == "payouts_household_id_fkey" {
		return "", apperr.Invalid(apperr.Field("household_id", "names no household"))
	}
	return out.ID.String(), apperr.DB(err, "payout")
}

// owedSince is the least the household was owed (its payables, by their entries' occurred_at) at
// any moment from at on: what a payout dated at may take without the household having been paid
// money it had not yet earned, or paid twice over by a later debit (a refund, a later payout).
// A payout dated before the sale that earned the money made the delay report read -35 days.
func owedSince(ctx context.Context, tx *gorm.DB, householdID uuid.UUID, at time.Time) (money.Money, error) {
	var least int64
	err := tx.WithContext(ctx).Raw(`WITH p AS (
		    SELECT e.occurred_at AS at, -p.amount_fen AS owed
		    FROM ledger_accounts a
		    JOIN postings p ON p.account_id = a.id
		    JOIN journal_entries e ON e.id = p.entry_id
		    WHERE a.kind = 'household_payable' AND a.owner_id = ?
		), upto AS (SELECT coalesce(sum(owed), 0) AS owed FROM p WHERE at <= ?),
		later AS (SELECT sum(owed) OVER (ORDER BY at) AS run FROM p WHERE at > ?) -- peers summed together
		SELECT least(upto.owed, upto.owed + coalesce((SELECT min(run) FROM later), 0)) FROM upto`,
		householdID, at, at).Row().Scan(&least)
	return money.Money(least), err
}

// payoutHash is what a payout request means: the household and the amount (the paid_at of a
// retry may differ). Migration 00093 computes the same for earlier payouts:
// sha256(household_id || ':' || amount_fen).
func payoutHash(req PayoutRequest) []byte {
	sum := sha256.Sum256([]byte(req.HouseholdID.String() + ":" + strconv.FormatInt(int64(req.Amount), 10)))
	return sum[:]
}

// Waiting is a household still owed money: Owed in fen, Since the time of the unit's payment (or,
// for wages and sales paid later, the entry) behind the oldest fen not yet paid out, first in
// first out, and WaitingDays the whole days from Since to the report's time.
type Waiting struct {
	HouseholdID uuid.UUID
	ArchiveNo   string
	VillageCode string
	Owed        money.Money
	Since       time.Time
	WaitingDays int
}

// PayoutDelay is one payout with the time from the unit's payment of the oldest fen it settles
// (first in, first out) to the transfer, in whole days.
type PayoutDelay struct {
	PayoutID    uuid.UUID
	HouseholdID uuid.UUID
	Amount      money.Money
	Reference   string
	PaidAt      time.Time
	OldestSince time.Time
	DelayDays   int
}

// payableCreditsCTE lists what became owed to each household (credits to household_payable) with
// the time it counts from, and the running sum per household; debits is what reduced it
// (payouts, refunds, reversals). Matching the two running sums first in, first out says which
// credits a payout settled and which are still open.
const payableCreditsCTE = `
WITH credits AS (
    SELECT a.owner_id AS household_id, -p.amount_fen AS amount,
           coalesce(pay.paid_at, e.occurred_at) AS since, p.id AS posting_id
    FROM postings p
    JOIN ledger_accounts a ON a.id = p.account_id AND a.kind = 'household_payable'
    JOIN journal_entries e ON e.id = p.entry_id
    LEFT JOIN payments_view pay ON pay.order_id = e.order_id
    WHERE p.amount_fen < 0
), cum AS (
    SELECT c.*, sum(c.amount) OVER (PARTITION BY c.household_id ORDER BY c.since, c.posting_id) AS upto
    FROM credits c
)`

// WaitingHouseholds lists the households, within the villages that scope allows (nil: all), still
// owed money for more than days days at now, longest wait first, at most limit rows.
func (s *Service) WaitingHouseholds(ctx context.Context, scope *uuid.UUID, days int, now time.Time, limit int) ([]Waiting, error) {
	var rows []struct {
		HouseholdID uuid.UUID
		ArchiveNo   string
		VillageCode string
		Owed        int64
		Since       time.Time
	}
	err := s.db.WithContext(ctx).Raw(payableCreditsCTE+`, debits AS (
		    SELECT a.owner_id AS household_id, sum(p.amount_fen) AS paid
		    FROM postings p JOIN ledger_accounts a ON a.id = p.account_id AND a.kind = 'household_payable'
		    WHERE p.amount_fen > 0 GROUP BY a.owner_id
		)
		SELECT c.household_id, h.archive_no, h.village_code,
		       max(c.upto) - coalesce(d.paid, 0) AS owed, min(c.since) AS since
		FROM cum c
		JOIN households_view h ON h.id = c.household_id
		LEFT JOIN debits d ON d.household_id = c.household_id
		WHERE c.upto > coalesce(d.paid, 0)
		  AND (?::uuid IS NULL OR h.village_code IN (SELECT village_code FROM station_villages_view WHERE station_id = ?::uuid))
		GROUP BY c.household_id, h.archive_no, h.village_code, d.paid
		HAVING min(c.since) < ?
		ORDER BY min(c.since), c.household_id
		LIMIT ?`, scope, scope, now.Add(-time.Duration(days)*24*time.Hour), limit).Scan(&rows).Error
	if err != nil {
		return nil, apperr.DB(err, "payouts")
	}
	out := make([]Waiting, len(rows))
	for i, r := range rows {
		out[i] = Waiting{HouseholdID: r.HouseholdID, ArchiveNo: r.ArchiveNo, VillageCode: r.VillageCode,
			Owed: money.Money(r.Owed), Since: r.Since.UTC(), WaitingDays: int(now.Sub(r.Since).Hours() / 24)}
	}
	return out, nil
}

// PayoutDelays lists payouts made in [from, to), within scope (nil: all), each with the time from
// the unit's payment of the oldest fen it settled to the transfer, newest first, at most limit.
func (s *Service) PayoutDelays(ctx context.Context, scope *uuid.UUID, from, to time.Time, limit int) ([]PayoutDelay, error) {
	var rows []struct {
		PayoutID    uuid.UUID
		HouseholdID uuid.UUID
		AmountFen   int64
		Reference   string
		PaidAt      time.Time
		OldestSince time.Time
	}
	// Payouts of a household in order; before = what earlier payouts (and other debits) settled.
	err := s.db.WithContext(ctx).Raw(payableCreditsCTE+`, debits AS (
		    SELECT a.owner_id AS household_id, p.entry_id, p.amount_fen, e.occurred_at,
		           sum(p.amount_fen) OVER (PARTITION BY a.owner_id ORDER BY e.occurred_at, p.id) - p.amount_fen AS before
		    FROM postings p
		    JOIN ledger_accounts a ON a.id = p.account_id AND a.kind = 'household_payable'
		    JOIN journal_entries e ON e.id = p.entry_id
		    WHERE p.amount_fen > 0
		)
		SELECT po.id AS payout_id, po.household_id, po.amount_fen, po.reference, po.paid_at,
		       coalesce((SELECT min(c.since) FROM cum c WHERE c.household_id = d.household_id AND c.upto > d.before), po.paid_at) AS oldest_since
		FROM payouts po
		JOIN households_view h ON h.id = po.household_id
		JOIN debits d ON d.entry_id = po.entry_id
		WHERE po.paid_at >= ? AND po.paid_at < ?
		  AND (?::uuid IS NULL OR h.village_code IN (SELECT village_code FROM station_villages_view WHERE station_id = ?::uuid))
		ORDER BY po.paid_at DESC, po.id
		LIMIT ?`, from, to, scope, scope, limit).Scan(&rows).Error
	if err != nil {
		return nil, apperr.DB(err, "payouts")
	}
	out := make([]PayoutDelay, len(rows))
	for i, r := range rows {
		out[i] = PayoutDelay{PayoutID: r.PayoutID, HouseholdID: r.HouseholdID, Amount: money.Money(r.AmountFen),
			Reference: r.Reference, PaidAt: r.PaidAt.UTC(), OldestSince: r.OldestSince.UTC(),
			DelayDays: int(r.PaidAt.Sub(r.OldestSince).Hours() / 24)}
	}
	return out, nil
}
