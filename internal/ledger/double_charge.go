package ledger

import (
	"context"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/money"
)

// A double charge is money the payment provider took from a unit a second time for one order
// (another reference after the order's payment): the platform holds it and owes it back until
// the provider returns it, when its entry is reversed.

func doubleChargeKey(chargeID uuid.UUID) string { return "charge:" + chargeID.String() }

// DoubleChargeEntry is the entry of double charge chargeID of order orderID (amount fen, > 0,
// under the provider's reference providerRef): debit the bank, credit unit unitID's receivable,
// which is then in credit by amount: owed back to the unit. Key "charge:<id>".
func DoubleChargeEntry(chargeID, orderID, unitID uuid.UUID, amount money.Money, providerRef string, at time.Time) Entry {
	oid := orderID
	return Entry{
		Kind:           KindDoubleCharge,
		IdempotencyKey: doubleChargeKey(chargeID),
		OrderID:        &oid,
		Memo:           "second charge for order " + orderID.String() + " (ref " + providerRef + "), owed back to the unit",
		OccurredAt:     at,
		Postings: []Posting{
			{Account: AccountRef{Kind: Bank}, Amount: amount},
			{Account: AccountRef{Kind: UnitReceivable, OwnerID: unitID}, Amount: -amount},
		},
	}
}

// PostDoubleCharge posts DoubleChargeEntry in one statement with the caller's guard, through db
// (a transaction, or the pool). posted is false when guard returned no row: nothing was written.
// Errors: as PostGuarded.
func (s *Service) PostDoubleCharge(ctx context.Context, db *gorm.DB, guard Guard, chargeID, orderID, unitID uuid.UUID, amount money.Money, providerRef string, at time.Time) (posted bool, err error) {
	return s.PostGuarded(ctx, db, guard, DoubleChargeEntry(chargeID, orderID, unitID, amount, providerRef, at))
}

// ReverseDoubleCharge reverses the entry of double charge chargeID inside tx when the provider has
// returned it to the unit. Idempotent per charge. Errors: NotFound when the charge has no entry;
// as Reverse.
func (s *Service) ReverseDoubleCharge(ctx context.Context, tx *gorm.DB, chargeID uuid.UUID, at time.Time) (uuid.UUID, error) {
	e, err := entryByKey(ctx, tx, doubleChargeKey(chargeID))
	if err != nil {
		return uuid.Nil, err
	}
	return s.Reverse(ctx, tx, e.ID, doubleChargeKey(chargeID)+":returned", "second charge returned to the unit", at)
}

// doubleCharges: every double charge has exactly one double_charge entry debiting the bank and
// crediting its order's unit with its amount, reversed exactly when it was returned; every
// double_charge entry has its charge.
func (v *verifier) doubleCharges(tx *gorm.DB) error {
	var rows []struct {
		Key      string
		Charge   *uuid.UUID
		Amount   *int64
		Returned bool
		Entries  int
		Reversed int
		Bank     int64
		Unit     int64
	}
	err := tx.Raw(`
		WITH de AS (
		    SELECT e.idempotency_key AS key,
		           count(DISTINCT e.id) AS entries,
		           count(DISTINCT r.id) AS reversed,
		           coalesce(sum(p.amount_fen) FILTER (WHERE a.kind = 'bank'), 0) AS bank,
		           coalesce(-sum(p.amount_fen) FILTER (WHERE a.kind = 'unit_receivable' AND a.owner_id = o.unit_id), 0) AS unit
		    FROM journal_entries e
		    JOIN orders_view o ON o.id = e.order_id
		    JOIN ` + v.postings + ` p ON p.entry_id = e.id
		    JOIN ledger_accounts a ON a.id = p.account_id
		    LEFT JOIN journal_entries r ON r.reverses_entry_id = e.id
		    WHERE e.kind = 'double_charge' AND ` + v.in("orders", "e.order_id") + `
		    GROUP BY e.idempotency_key
		), dc AS (
		    SELECT id, amount_fen, returned_at IS NOT NULL AS returned, 'charge:' || id AS key FROM double_charges_view
		    WHERE ` + v.in("orders", "order_id") + `
		)
		SELECT coalesce(dc.key, de.key) AS key, dc.id AS charge, dc.amount_fen AS amount, coalesce(dc.returned, false) AS returned,
		       coalesce(de.entries, 0) AS entries, coalesce(de.reversed, 0) AS reversed,
		       coalesce(de.bank, 0) AS bank, coalesce(de.unit, 0) AS unit
		FROM dc FULL JOIN de ON de.key = dc.key
		WHERE dc.key IS NULL OR de.key IS NULL OR de.entries <> 1 OR de.reversed <> dc.returned::int
		   OR de.bank <> dc.amount_fen OR de.unit <> dc.amount_fen
		ORDER BY 1`).Scan(&rows).Error
	for _, r := range rows {
		switch {
		case r.Charge == nil:
			v.report("entry %s: a double charge entry without its charge (bank debit %s)", r.Key, fen(r.Bank))
		case r.Entries != 1:
			v.report("double charge %s: expected exactly 1 entry for %s, found %d", *r.Charge, fen(*r.Amount), r.Entries)
		case r.Returned && r.Reversed == 0:
			v.report("double charge %s: %s was returned but its entry is not reversed", *r.Charge, fen(*r.Amount))
		case !r.Returned && r.Reversed > 0:
			v.report("double charge %s: its entry is reversed but %s was not returned", *r.Charge, fen(*r.Amount))
		default:
			v.report("double charge %s: expected bank debit and unit credit %s, found %s and %s",
				*r.Charge, fen(*r.Amount), fen(r.Bank), fen(r.Unit))
		}
	}
	return err
}
