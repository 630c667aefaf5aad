package ledger

import (
	"context"
	"database/sql"
	"fmt"
	"io"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/money"
)

// verifyShown caps the mismatches Verify prints; it still counts them all.
const verifyShown = 20

// Verify re-derives the ledger from its postings and compares, all from one snapshot (so entries
// committing meanwhile cannot cause false alarms):
//
//   - every account's stored balance equals the sum of its postings;
//   - every entry has at least two postings summing to zero;
//   - every reversal negates its entry exactly, account by account and line by line;
//   - every completed order has exactly one sale entry per station shipment, none reversed, that debit its unit's
//     receivable with orders.total_fen and credit household income with the same total
//     (no commission or fees; refunds are entries of their own, checked below), orders.total_fen equals the sum of its lines, and
//     each line's income credits equal the line's amount; no order that is not completed has a
//     sale entry, except paid or shipped orders with some shipments received;
//   - every refunded line's refund rows, refunded_quantity and refund postings agree (refunds);
//   - every payment row has exactly one payment entry, not reversed, debiting the bank with the
//     payment's amount, and every payment entry has a payment row.
//
// It writes the first 20 mismatches to w, one readable line each (ids, expected, found), then a
// summary line, and returns how many mismatches there are: 0 means the ledger is consistent.
// err is for failures to read, not for mismatches.
func Verify(ctx context.Context, db *gorm.DB, w io.Writer) (mismatches int, err error) {
	v := &verifier{w: w}
	var counts struct{ Accounts, Entries, Completed, Payments int }
	err = db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for _, check := range []func(*gorm.DB) error{
			v.balances, v.entries, v.reversals, v.sales, v.saleLines, v.payments, v.refunds,
		} {
			if err := check(tx.WithContext(ctx)); err != nil {
				return err
			}
		}
		return tx.WithContext(ctx).Raw(`SELECT
			(SELECT count(*) FROM ledger_accounts) AS accounts,
			(SELECT count(*) FROM journal_entries) AS entries,
			(SELECT count(*) FROM orders WHERE status = 'completed') AS completed,
			(SELECT count(*) FROM payments) AS payments`).Scan(&counts).Error
	}, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return v.n, fmt.Errorf("ledger verify: %w", err)
	}
	if v.n > verifyShown {
		fmt.Fprintf(w, "... and %d more\n", v.n-verifyShown)
	}
	verdict := "OK"
	if v.n > 0 {
		verdict = "FAILED"
	}
	fmt.Fprintf(w, "ledger verify %s: %d mismatches; checked %d accounts, %d entries, %d completed orders, %d payments\n",
		verdict, v.n, counts.Accounts, counts.Entries, counts.Completed, counts.Payments)
	return v.n, nil
}

type verifier struct {
	w io.Writer
	n int
}

func (v *verifier) report(format string, args ...any) {
	v.n++
	if v.n <= verifyShown {
		fmt.Fprintf(v.w, "MISMATCH "+format+"\n", args...)
	}
}

func fen(n int64) string { return fmt.Sprintf("%d fen (%s)", n, money.Money(n)) }

func (v *verifier) balances(tx *gorm.DB) error {
	var rows []struct {
		ID      uuid.UUID
		Kind    string
		OwnerID *uuid.UUID
		Stored  int64
		Derived int64
	}
	err := tx.Raw(`
		SELECT a.id, a.kind, a.owner_id, a.balance_fen AS stored, coalesce(s.total, 0) AS derived
		FROM ledger_accounts a
		LEFT JOIN (SELECT account_id, sum(amount_fen) AS total FROM postings GROUP BY account_id) s
		       ON s.account_id = a.id
		WHERE a.balance_fen <> coalesce(s.total, 0)
		ORDER BY a.id`).Scan(&rows).Error
	for _, r := range rows {
		owner := "-"
		if r.OwnerID != nil {
			owner = r.OwnerID.String()
		}
		v.report("account %s (%s, owner %s): stored balance %s, postings sum to %s",
			r.ID, r.Kind, owner, fen(r.Stored), fen(r.Derived))
	}
	return err
}

func (v *verifier) entries(tx *gorm.DB) error {
	var rows []struct {
		ID    uuid.UUID
		Kind  string
		N     int
		Total int64
	}
	err := tx.Raw(`
		SELECT e.id, e.kind, count(p.id) AS n, coalesce(sum(p.amount_fen), 0) AS total
		FROM journal_entries e
		LEFT JOIN postings p ON p.entry_id = e.id
		GROUP BY e.id, e.kind
		HAVING count(p.id) < 2 OR coalesce(sum(p.amount_fen), 0) <> 0
		ORDER BY e.id`).Scan(&rows).Error
	for _, r := range rows {
		v.report("entry %s (%s): expected >= 2 postings summing to 0, found %d summing to %s",
			r.ID, r.Kind, r.N, fen(r.Total))
	}
	return err
}

func (v *verifier) reversals(tx *gorm.DB) error {
	var rows []struct {
		ID       uuid.UUID
		Reverses uuid.UUID
		Groups   int
	}
	err := tx.Raw(`
		SELECT r.id, r.reverses_entry_id AS reverses, count(*) AS groups
		FROM journal_entries r
		JOIN LATERAL (
		    SELECT p.account_id, p.order_line_id
		    FROM postings p
		    WHERE p.entry_id IN (r.id, r.reverses_entry_id)
		    GROUP BY p.account_id, p.order_line_id
		    HAVING sum(p.amount_fen) <> 0
		) d ON true
		WHERE r.reverses_entry_id IS NOT NULL
		GROUP BY r.id, r.reverses_entry_id
		ORDER BY r.id`).Scan(&rows).Error
	for _, r := range rows {
		v.report("reversal %s of entry %s: expected to negate every posting, %d (account, line) pairs do not net to 0",
			r.ID, r.Reverses, r.Groups)
	}
	return err
}

func (v *verifier) sales(tx *gorm.DB) error {
	var rows []struct {
		ID          uuid.UUID
		Status      string
		TotalFen    int64
		LinesFen    int64
		Shipments   int
		SaleEntries int
		Reversed    int
		UnitDebit   int64
		Income      int64
	}
	err := tx.Raw(`
		WITH lines AS (
		    SELECT order_id, sum(amount_fen) AS total, count(DISTINCT station_id) AS shipments FROM order_lines GROUP BY order_id
		), sales AS (
		    SELECT e.order_id,
		           count(DISTINCT e.id) AS entries,
		           count(DISTINCT r.id) AS reversed,
		           coalesce(sum(p.amount_fen) FILTER (WHERE a.kind = 'unit_receivable' AND a.owner_id = o.unit_id), 0) AS unit_debit,
		           coalesce(-sum(p.amount_fen) FILTER (WHERE a.kind = 'household_income'), 0) AS income
		    FROM journal_entries e
		    JOIN orders o ON o.id = e.order_id
		    JOIN postings p ON p.entry_id = e.id
		    JOIN ledger_accounts a ON a.id = p.account_id
		    LEFT JOIN journal_entries r ON r.reverses_entry_id = e.id
		    WHERE e.kind = 'sale'
		    GROUP BY e.order_id
		)
		SELECT o.id, o.status, o.total_fen, coalesce(l.total, 0) AS lines_fen, coalesce(l.shipments, 0) AS shipments,
		       coalesce(s.entries, 0) AS sale_entries, coalesce(s.reversed, 0) AS reversed,
		       coalesce(s.unit_debit, 0) AS unit_debit, coalesce(s.income, 0) AS income
		FROM orders o
		LEFT JOIN lines l ON l.order_id = o.id
		LEFT JOIN sales s ON s.order_id = o.id
		WHERE (o.status = 'completed' AND (coalesce(s.entries, 0) <> coalesce(l.shipments, 0) OR s.reversed > 0
		        OR s.unit_debit <> o.total_fen OR s.income <> o.total_fen
		        OR coalesce(l.total, 0) <> o.total_fen))
		   OR (o.status NOT IN ('completed', 'paid', 'shipped') AND s.entries > 0)
		ORDER BY o.id`).Scan(&rows).Error
	for _, r := range rows {
		switch {
		case r.Status != "completed":
			v.report("order %s (%s): expected no sale entry before completion, found %d", r.ID, r.Status, r.SaleEntries)
		case r.SaleEntries != r.Shipments:
			v.report("order %s (completed): expected exactly %d sale entry, found %d (one per station shipment)", r.ID, r.Shipments, r.SaleEntries)
		case r.Reversed > 0:
			v.report("order %s (completed): its sale entry is reversed, so no income is attributed", r.ID)
		default:
			v.report("order %s (completed): expected total %s = order lines = unit debit = household income; "+
				"found order lines %s, unit debit %s, household income %s",
				r.ID, fen(r.TotalFen), fen(r.LinesFen), fen(r.UnitDebit), fen(r.Income))
		}
	}
	return err
}

func (v *verifier) saleLines(tx *gorm.DB) error {
	var rows []struct {
		OrderID   uuid.UUID
		ID        uuid.UUID
		AmountFen int64
		Income    int64
	}
	err := tx.Raw(`
		SELECT ol.order_id, ol.id, ol.amount_fen, coalesce(c.income, 0) AS income
		FROM order_lines ol
		JOIN orders o ON o.id = ol.order_id AND o.status = 'completed'
		LEFT JOIN (
		    SELECT p.order_line_id, -sum(p.amount_fen) AS income
		    FROM postings p
		    JOIN journal_entries e ON e.id = p.entry_id AND e.kind = 'sale'
		    JOIN ledger_accounts a ON a.id = p.account_id AND a.kind = 'household_income'
		    WHERE p.order_line_id IS NOT NULL
		    GROUP BY p.order_line_id
		) c ON c.order_line_id = ol.id
		WHERE coalesce(c.income, 0) <> ol.amount_fen
		ORDER BY ol.order_id, ol.line_no`).Scan(&rows).Error
	for _, r := range rows {
		v.report("order %s line %s: expected household income %s, found %s",
			r.OrderID, r.ID, fen(r.AmountFen), fen(r.Income))
	}
	return err
}

func (v *verifier) payments(tx *gorm.DB) error {
	var rows []struct {
		OrderID  uuid.UUID
		Paid     *int64
		Entries  int
		Reversed int
		Bank     int64
	}
	err := tx.Raw(`
		WITH pe AS (
		    SELECT e.order_id,
		           count(DISTINCT e.id) AS entries,
		           count(DISTINCT r.id) AS reversed,
		           coalesce(sum(p.amount_fen) FILTER (WHERE a.kind = 'bank'), 0) AS bank
		    FROM journal_entries e
		    JOIN postings p ON p.entry_id = e.id
		    JOIN ledger_accounts a ON a.id = p.account_id
		    LEFT JOIN journal_entries r ON r.reverses_entry_id = e.id
		    WHERE e.kind = 'payment' AND e.order_id IS NOT NULL
		    GROUP BY e.order_id
		)
		SELECT coalesce(pay.order_id, pe.order_id) AS order_id, pay.amount_fen AS paid,
		       coalesce(pe.entries, 0) AS entries, coalesce(pe.reversed, 0) AS reversed, coalesce(pe.bank, 0) AS bank
		FROM payments pay
		FULL JOIN pe ON pe.order_id = pay.order_id
		WHERE pay.order_id IS NULL OR pe.order_id IS NULL
		   OR pe.entries <> 1 OR pe.reversed > 0 OR pe.bank <> pay.amount_fen
		ORDER BY 1`).Scan(&rows).Error
	for _, r := range rows {
		switch {
		case r.Paid == nil:
			v.report("order %s: payment entry without a payment row (bank debit %s)", r.OrderID, fen(r.Bank))
		case r.Entries != 1:
			v.report("order %s: expected exactly 1 payment entry for the payment of %s, found %d",
				r.OrderID, fen(*r.Paid), r.Entries)
		case r.Reversed > 0:
			v.report("order %s: the payment entry for the payment of %s is reversed", r.OrderID, fen(*r.Paid))
		default:
			v.report("order %s: expected bank debit %s (the payment), found %s", r.OrderID, fen(*r.Paid), fen(r.Bank))
		}
	}
	return err
}
