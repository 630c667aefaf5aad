package ledger

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/database"
)

// The references of postings (entry, account, order line) hold as the foreign keys they replaced
// did (migration 00450): a posting naming a missing parent is refused with the foreign key's
// SQLSTATE and name, and no parent a posting may name can be deleted, re-keyed or truncated.
func TestPostingReferencesHold(t *testing.T) {
	w := newWorld(t, 1)
	db := w.db
	svc := NewService(db)
	product := w.product(t, "黄桃", 1000, Supplier{HouseholdID: w.households[0], ShareBP: 10000})
	o := w.order(t, "paid", lineSpec{product, 1, 1000})
	line := o.Lines[0]
	// A posted entry naming the line, so the account and the line are parents of postings.
	posted, _, err := postTx(t, svc, Entry{Kind: KindPayout, IdempotencyKey: "refs:" + randHex(8), OccurredAt: t0,
		Postings: []Posting{{Account: bank, Amount: 700, OrderLineID: &line}, {Account: hh(w.households[0]), Amount: -700}}})
	if err != nil {
		t.Fatal(err)
	}
	var bankID uuid.UUID
	if err := db.Raw(`SELECT id FROM ledger_accounts WHERE kind = 'bank' LIMIT 1`).Row().Scan(&bankID); err != nil {
		t.Fatal(err)
	}

	// rawEntry writes a new entry and two postings of 5 fen each way in one transaction; the
	// first posting takes the given entry, account and line instead of the good ones when set.
	rawEntry := func(entry, account, orderLine *uuid.UUID) error {
		return database.Tx(context.Background(), db, func(tx *gorm.DB) error {
			id := newID()
			if err := tx.Exec(`INSERT INTO journal_entries (id, kind, idempotency_key, request_hash, occurred_at)
				VALUES (?, 'payout', ?, '\x00'::bytea, now())`, id, "raw:"+randHex(8)).Error; err != nil {
				return err
			}
			e, a := id, bankID
			if entry != nil {
				e = *entry
			}
			if account != nil {
				a = *account
			}
			// Both postings in one statement, as the ledger writes them: the check is per statement.
			return tx.Exec(`INSERT INTO postings (id, entry_id, account_id, amount_fen, order_line_id)
				VALUES (?, ?, ?, 5, ?), (?, ?, ?, -5, NULL)`, newID(), e, a, orderLine, newID(), id, bankID).Error
		})
	}
	if err := rawEntry(nil, nil, &line); err != nil {
		t.Fatalf("a good raw entry: %v", err)
	}
	missing := newID()
	for name, c := range map[string]struct {
		err        error
		constraint string
	}{
		"missing entry":      {rawEntry(&missing, nil, nil), "postings_entry_id_fkey"},
		"missing account":    {rawEntry(nil, &missing, nil), "postings_account_id_fkey"},
		"missing order line": {rawEntry(nil, nil, &missing), "postings_order_line_id_fkey"},
	} {
		if apperr.PgCode(c.err) != apperr.PgForeignKeyViolation || apperr.PgConstraint(c.err) != c.constraint {
			t.Errorf("%s: err %v, want a foreign key violation of %s", name, c.err, c.constraint)
		}
	}
	// A posting of a later statement naming an entry that no statement wrote: refused too.
	err = database.Tx(context.Background(), db, func(tx *gorm.DB) error {
		return tx.Exec(`INSERT INTO postings (id, entry_id, account_id, amount_fen) VALUES (?, ?, ?, 5)`, newID(), missing, bankID).Error
	})
	if apperr.PgCode(err) != apperr.PgForeignKeyViolation {
		t.Errorf("a lone posting to no entry: err %v, want a foreign key violation", err)
	}
	// Through the service, a line that does not exist is the caller's field error.
	_, _, err = postTx(t, svc, Entry{Kind: KindPayout, IdempotencyKey: "refs:" + randHex(8), OccurredAt: t0,
		Postings: []Posting{{Account: bank, Amount: 700, OrderLineID: &missing}, {Account: hh(w.households[0]), Amount: -700}}})
	if !apperr.Is(err, apperr.KindInvalid) {
		t.Errorf("entry naming a missing order line: err %v, want Invalid", err)
	}

	// The parents stay: no delete, re-key or truncate, with or without postings naming them.
	var unnamedAccount uuid.UUID
	if err := db.Raw(`INSERT INTO ledger_accounts (id, kind, owner_id) VALUES (?, 'unit_receivable', ?) RETURNING id`,
		newID(), newID()).Row().Scan(&unnamedAccount); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		sql string
		arg any
	}{
		{`DELETE FROM ledger_accounts WHERE id = ?`, bankID},
		{`DELETE FROM ledger_accounts WHERE id = ?`, unnamedAccount},
		{`UPDATE ledger_accounts SET id = gen_random_uuid() WHERE id = ?`, bankID},
		{`DELETE FROM order_lines WHERE id = ?`, line},
		{`UPDATE order_lines SET id = gen_random_uuid() WHERE id = ?`, line},
		{`DELETE FROM journal_entries WHERE id = ?`, posted},
		{`UPDATE journal_entries SET id = gen_random_uuid() WHERE id = ?`, posted},
	} {
		if err := db.Exec(c.sql, c.arg).Error; apperr.PgCode(err) != "23001" { // restrict_violation
			t.Errorf("%s: err %v, want restrict_violation", c.sql, err)
		}
	}
	// No foreign key refuses this TRUNCATE any more (order_lines' still do, and
	// order_line_suppliers refuses being truncated with it).
	if err := db.Exec(`TRUNCATE ledger_accounts`).Error; apperr.PgCode(err) != "23001" {
		t.Errorf("TRUNCATE ledger_accounts: err %v, want restrict_violation", err)
	}
	// Updates that keep the id still work (balances move; a line is shipped).
	exec(t, db, `UPDATE ledger_accounts SET balance_fen = balance_fen WHERE id = ?`, bankID)
	exec(t, db, `UPDATE order_lines SET shipped_at = now() WHERE id = ?`, line)
	if n := count(t, db, `SELECT count(*) FROM postings p WHERE p.order_line_id = ?
		AND EXISTS (SELECT FROM ledger_accounts a WHERE a.id = p.account_id)
		AND EXISTS (SELECT FROM journal_entries e WHERE e.id = p.entry_id)`, line); n != 2 {
		t.Errorf("%d postings name the line with their entry and account, want 2", n)
	}
}
