package ledger

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/database"
	"github.com/fupinmarket/fupin/internal/platform/dbtest"
	"github.com/fupinmarket/fupin/internal/platform/money"
)

// transfer is an entry without an order: debit the bank, credit a unit and two households.
func transfer(key string, unitID, h1, h2 uuid.UUID, fen money.Money) Entry {
	return Entry{Kind: KindPayout, IdempotencyKey: key, Memo: "test", OccurredAt: t0, Postings: []Posting{
		{Account: bank, Amount: 3 * fen},
		{Account: unit(unitID), Amount: -fen},
		{Account: hh(h1), Amount: -fen},
		{Account: hh(h2), Amount: -fen},
	}}
}

func postTx(t *testing.T, svc *Service, e Entry) (uuid.UUID, bool, error) {
	t.Helper()
	var id uuid.UUID
	var replayed bool
	err := database.Tx(context.Background(), dbtest.DB(t), func(tx *gorm.DB) error {
		var err error
		id, replayed, err = svc.Post(context.Background(), tx, e)
		return err
	})
	return id, replayed, err
}

func TestPostBalancesAndReplays(t *testing.T) {
	db := dbtest.DB(t)
	svc := NewService(db)
	u, h1, h2 := newID(), newID(), newID()
	before := balance(t, db, bank)
	key := "test:" + randHex(8)
	e := transfer(key, u, h1, h2, 250)

	id, replayed, err := postTx(t, svc, e)
	if err != nil || replayed {
		t.Fatalf("first post: %v replayed=%v", err, replayed)
	}
	check := func() {
		t.Helper()
		if got := balance(t, db, bank) - before; got != 750 {
			t.Errorf("bank moved by %d, want 750", got)
		}
		for _, ref := range []AccountRef{unit(u), hh(h1), hh(h2)} {
			if got := balance(t, db, ref); got != -250 {
				t.Errorf("%s %s balance %d, want -250", ref.Kind, ref.OwnerID, got)
			}
		}
		if n := count(t, db, `SELECT count(*) FROM postings WHERE entry_id = ?`, id); n != 4 {
			t.Errorf("%d postings, want 4", n)
		}
		if n := count(t, db, `SELECT count(*) FROM journal_entries WHERE idempotency_key = ?`, key); n != 1 {
			t.Errorf("%d entries under the key, want 1", n)
		}
	}
	check()

	// A retry replays, even with the postings listed in another order and a later clock.
	retry := e
	retry.OccurredAt = t0.Add(time.Hour)
	retry.Postings = []Posting{e.Postings[3], e.Postings[1], e.Postings[0], e.Postings[2]}
	for _, r := range []Entry{e, retry} {
		id2, replayed, err := postTx(t, svc, r)
		if err != nil || !replayed || id2 != id {
			t.Fatalf("retry: id %s (want %s) replayed=%v err=%v", id2, id, replayed, err)
		}
	}
	check()

	// The same key for a different request is a Conflict, and changes nothing.
	different := transfer(key, u, h1, h2, 251)
	if _, _, err := postTx(t, svc, different); !apperr.Is(err, apperr.KindConflict) {
		t.Fatalf("same key, other postings: err %v, want Conflict", err)
	}
	otherMemo := e
	otherMemo.Memo = "something else"
	if _, _, err := postTx(t, svc, otherMemo); !apperr.Is(err, apperr.KindConflict) {
		t.Fatalf("same key, other memo: err %v, want Conflict", err)
	}
	check()

	// A nil tx runs in a transaction of its own.
	if id3, replayed, err := svc.Post(context.Background(), nil, e); err != nil || !replayed || id3 != id {
		t.Fatalf("post without tx: %s %v %v", id3, replayed, err)
	}
}

func TestPostCommitsWithTheCallersTransaction(t *testing.T) {
	db := dbtest.DB(t)
	svc := NewService(db)
	u, h1, h2 := newID(), newID(), newID()
	key := "test:" + randHex(8)
	boom := errors.New("the business event failed")
	err := database.Tx(context.Background(), db, func(tx *gorm.DB) error {
		if _, _, err := svc.Post(context.Background(), tx, transfer(key, u, h1, h2, 100)); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if n := count(t, db, `SELECT count(*) FROM journal_entries WHERE idempotency_key = ?`, key); n != 0 {
		t.Errorf("the entry survived its transaction's rollback")
	}
	if b := balance(t, db, hh(h1)); b != 0 {
		t.Errorf("balance %d survived the rollback", b)
	}
}

func TestPostRefusesUnbalanced(t *testing.T) {
	db := dbtest.DB(t)
	svc := NewService(db)
	u, h1, h2 := newID(), newID(), newID()
	good := transfer("test:"+randHex(8), u, h1, h2, 100)

	mutate := map[string]func(e *Entry){
		"unbalanced":     func(e *Entry) { e.Postings[0].Amount++ },
		"one posting":    func(e *Entry) { e.Postings = e.Postings[:1] },
		"no postings":    func(e *Entry) { e.Postings = nil },
		"zero amount":    func(e *Entry) { e.Postings = append(e.Postings, Posting{Account: bank, Amount: 0}) },
		"empty key":      func(e *Entry) { e.IdempotencyKey = "" },
		"unknown kind":   func(e *Entry) { e.Kind = "gift" },
		"reversal kind":  func(e *Entry) { e.Kind = KindReversal },
		"bank owner":     func(e *Entry) { e.Postings[0].Account.OwnerID = u },
		"no owner":       func(e *Entry) { e.Postings[1].Account.OwnerID = uuid.Nil },
		"unknown acct":   func(e *Entry) { e.Postings[1].Account.Kind = "cash" },
		"zero time":      func(e *Entry) { e.OccurredAt = time.Time{} },
		"nil order id":   func(e *Entry) { e.OrderID = &uuid.Nil },
		"unknown order":  func(e *Entry) { o := newID(); e.OrderID = &o },
		"unknown line":   func(e *Entry) { l := newID(); e.Postings[2].OrderLineID = &l },
		"overflow":       func(e *Entry) { e.Postings[0].Amount, e.Postings[1].Amount = 1<<62, 1<<62 },
		"over 255 bytes": func(e *Entry) { e.IdempotencyKey = string(make([]byte, 256)) },
	}
	for name, m := range mutate {
		e := good
		e.Postings = append([]Posting(nil), good.Postings...)
		m(&e)
		if _, _, err := postTx(t, svc, e); !apperr.Is(err, apperr.KindInvalid) {
			t.Errorf("%s: err %v, want Invalid", name, err)
		}
	}
	if n := count(t, db, `SELECT count(*) FROM ledger_accounts WHERE owner_id IN (?, ?, ?)`, u, h1, h2); n != 0 {
		t.Errorf("refused entries left %d accounts", n)
	}

	// The database refuses an unbalanced entry too, at commit (the check is deferred so that an
	// entry's rows can be written in any order).
	if _, _, err := postTx(t, svc, good); err != nil {
		t.Fatal(err)
	}
	var bankID uuid.UUID
	if err := db.Raw(`SELECT id FROM ledger_accounts WHERE kind = 'bank'`).Row().Scan(&bankID); err != nil {
		t.Fatal(err)
	}
	for name, legs := range map[string][]int64{"one posting": {100}, "not summing to zero": {100, -99}, "none": nil} {
		entryID := newID()
		err := database.Tx(context.Background(), db, func(tx *gorm.DB) error {
			if err := tx.Exec(`INSERT INTO journal_entries (id, kind, idempotency_key, request_hash, occurred_at)
				VALUES (?, 'payout', ?, '\x00'::bytea, now())`, entryID, "raw:"+randHex(8)).Error; err != nil {
				return err
			}
			for _, fen := range legs {
				if err := tx.Exec(`INSERT INTO postings (id, entry_id, account_id, amount_fen) VALUES (?, ?, ?, ?)`,
					newID(), entryID, bankID, fen).Error; err != nil {
					return err
				}
			}
			return nil
		})
		if apperr.PgCode(err) != apperr.PgCheckViolation || apperr.PgConstraint(err) != "journal_entries_balanced" {
			t.Errorf("raw entry %s: commit err %v, want the journal_entries_balanced check", name, err)
		}
	}
	// A posting added later, in another transaction, to an entry that balanced: refused.
	var goodID uuid.UUID
	if err := db.Raw(`SELECT id FROM journal_entries WHERE idempotency_key = ?`, good.IdempotencyKey).Row().Scan(&goodID); err != nil {
		t.Fatal(err)
	}
	err := db.Exec(`INSERT INTO postings (id, entry_id, account_id, amount_fen) VALUES (?, ?, ?, 5)`, newID(), goodID, bankID).Error
	if apperr.PgCode(err) != apperr.PgCheckViolation || apperr.PgConstraint(err) != "journal_entries_balanced" {
		t.Errorf("posting added to a balanced entry: err %v, want the journal_entries_balanced check", err)
	}
	// Postings added later to an old entry are refused even when they balance each other
	// (00451: the entry's balance is checked once, at the commit of the transaction that wrote it).
	err = database.Tx(context.Background(), db, func(tx *gorm.DB) error {
		return tx.Exec(`INSERT INTO postings (id, entry_id, account_id, amount_fen) VALUES (?, ?, ?, 5), (?, ?, ?, -5)`,
			newID(), goodID, bankID, newID(), goodID, bankID).Error
	})
	if apperr.PgCode(err) != apperr.PgCheckViolation || apperr.PgConstraint(err) != "journal_entries_balanced" {
		t.Errorf("balanced postings added to an old entry: err %v, want the journal_entries_balanced check", err)
	}
	// In the entry's own transaction, postings of later statements count in its one check.
	for name, legs := range map[string][][]int64{"balanced over two statements": {{100}, {-100}}, "unbalanced over three": {{100, -100}, {7}, {-6}}} {
		entryID := newID()
		err := database.Tx(context.Background(), db, func(tx *gorm.DB) error {
			if err := tx.Exec(`INSERT INTO journal_entries (id, kind, idempotency_key, request_hash, occurred_at)
				VALUES (?, 'payout', ?, '\x00'::bytea, now())`, entryID, "raw:"+randHex(8)).Error; err != nil {
				return err
			}
			for _, stmt := range legs {
				for _, fen := range stmt {
					if err := tx.Exec(`INSERT INTO postings (id, entry_id, account_id, amount_fen) VALUES (?, ?, ?, ?)`,
						newID(), entryID, bankID, fen).Error; err != nil {
						return err
					}
				}
			}
			return nil
		})
		if want := name == "balanced over two statements"; (err == nil) != want {
			t.Errorf("raw entry %s: commit err %v", name, err)
		} else if !want && apperr.PgConstraint(err) != "journal_entries_balanced" {
			t.Errorf("raw entry %s: commit err %v, want the journal_entries_balanced check", name, err)
		}
	}
	// And a zero amount at once.
	err = db.Exec(`INSERT INTO postings (id, entry_id, account_id, amount_fen) SELECT ?, id, ?, 0 FROM journal_entries LIMIT 1`,
		newID(), bankID).Error
	if apperr.PgCode(err) != apperr.PgCheckViolation {
		t.Errorf("zero posting: err %v, want a check violation", err)
	}
}

func TestLedgerIsAppendOnly(t *testing.T) {
	db := dbtest.DB(t)
	svc := NewService(db)
	id, _, err := postTx(t, svc, transfer("test:"+randHex(8), newID(), newID(), newID(), 100))
	if err != nil {
		t.Fatal(err)
	}
	for _, sql := range []string{
		`UPDATE postings SET amount_fen = amount_fen * 2 WHERE entry_id = ?`,
		`DELETE FROM postings WHERE entry_id = ?`,
		`UPDATE journal_entries SET memo = 'edited' WHERE id = ?`,
		`DELETE FROM journal_entries WHERE id = ?`,
	} {
		err := db.Exec(sql, id).Error
		if code := apperr.PgCode(err); code != "23001" { // restrict_violation
			t.Errorf("%s: err %v (SQLSTATE %q), want restrict_violation", sql, err, code)
		}
	}
	for _, table := range []string{"postings", "journal_entries"} {
		if err := db.Exec(`TRUNCATE ` + table + ` CASCADE`).Error; apperr.PgCode(err) != "23001" {
			t.Errorf("TRUNCATE %s: err %v, want restrict_violation", table, err)
		}
	}
	if n := count(t, db, `SELECT count(*) FROM postings WHERE entry_id = ?`, id); n != 4 {
		t.Errorf("%d postings left, want 4", n)
	}
}

func TestReverse(t *testing.T) {
	db := dbtest.DB(t)
	svc := NewService(db)
	ctx := context.Background()
	u, h1, h2 := newID(), newID(), newID()
	bankBefore := balance(t, db, bank)
	orig, _, err := postTx(t, svc, transfer("test:"+randHex(8), u, h1, h2, 400))
	if err != nil {
		t.Fatal(err)
	}

	key := "test:reverse:" + randHex(8)
	rev, err := svc.Reverse(ctx, nil, orig, key, "", t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range []AccountRef{unit(u), hh(h1), hh(h2)} {
		if b := balance(t, db, ref); b != 0 {
			t.Errorf("%s balance %d after reversal, want 0", ref.Kind, b)
		}
	}
	if b := balance(t, db, bank); b != bankBefore {
		t.Errorf("bank %d after reversal, want %d", b, bankBefore)
	}
	var head struct {
		Kind            string
		ReversesEntryID uuid.UUID
		Memo            string
	}
	if err := db.Raw(`SELECT kind, reverses_entry_id, memo FROM journal_entries WHERE id = ?`, rev).Scan(&head).Error; err != nil {
		t.Fatal(err)
	}
	if head.Kind != KindReversal || head.ReversesEntryID != orig || head.Memo != "reversal of entry "+orig.String() {
		t.Errorf("reversal header %+v", head)
	}
	if n := count(t, db, `SELECT count(*) FROM postings a JOIN ledger_accounts aa ON aa.id = a.account_id,
		postings b JOIN ledger_accounts ba ON ba.id = b.account_id
		WHERE ba.kind = aa.kind AND ba.owner_id IS NOT DISTINCT FROM aa.owner_id AND a.amount_fen = -b.amount_fen
		  AND a.entry_id = ? AND b.entry_id = ?`, orig, rev); n != 4 {
		t.Errorf("%d postings mirrored, want 4", n)
	}

	// The same key replays; another key, or reversing the reversal, is a Conflict.
	if again, err := svc.Reverse(ctx, nil, orig, key, "", t0.Add(2*time.Hour)); err != nil || again != rev {
		t.Errorf("replayed reversal: %s %v, want %s", again, err, rev)
	}
	if _, err := svc.Reverse(ctx, nil, orig, "test:reverse:"+randHex(8), "", t0); !apperr.Is(err, apperr.KindConflict) {
		t.Errorf("second reversal: err %v, want Conflict", err)
	}
	if _, err := svc.Reverse(ctx, nil, rev, "test:reverse:"+randHex(8), "", t0); !apperr.Is(err, apperr.KindConflict) {
		t.Errorf("reversal of a reversal: err %v, want Conflict", err)
	}
	if _, err := svc.Reverse(ctx, nil, newID(), "test:reverse:"+randHex(8), "", t0); !apperr.Is(err, apperr.KindNotFound) {
		t.Errorf("reversal of nothing: err %v, want NotFound", err)
	}

	// Two reversals racing under different keys: the unique index lets exactly one through.
	orig2, _, err := postTx(t, svc, transfer("test:"+randHex(8), u, h1, h2, 50))
	if err != nil {
		t.Fatal(err)
	}
	errs := make([]error, 8)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = svc.Reverse(ctx, nil, orig2, fmt.Sprintf("test:race:%d:%s", i, randHex(4)), "", t0)
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !apperr.Is(err, apperr.KindConflict):
			t.Errorf("racing reversal: %v", err)
		}
	}
	if ok != 1 || count(t, db, `SELECT count(*) FROM journal_entries WHERE reverses_entry_id = ?`, orig2) != 1 {
		t.Errorf("%d racing reversals succeeded, want 1", ok)
	}
	if b := balance(t, db, hh(h1)); b != 0 {
		t.Errorf("balance %d after the race, want 0", b)
	}
}

// TestConcurrentPosts: 20 goroutines post to the same, new accounts with their postings listed in
// different orders; every entry lands, no deadlock, and the balances are exact.
func TestConcurrentPosts(t *testing.T) {
	db := dbtest.DB(t)
	svc := NewService(db)
	ctx := context.Background()
	u := newID()
	households := []uuid.UUID{newID(), newID(), newID(), newID()}
	payable := AccountRef{Kind: HouseholdPayable, OwnerID: households[0]}
	const workers, perWorker = 20, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers*perWorker)
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				ps := []Posting{{Account: unit(u), Amount: 10}, {Account: payable, Amount: 1}}
				for _, h := range households {
					ps = append(ps, Posting{Account: hh(h), Amount: -2})
				}
				ps = append(ps, Posting{Account: bank, Amount: -3})
				// Rotate so that no two workers list the accounts alike.
				k := (w + i) % len(ps)
				ps = append(ps[k:], ps[:k]...)
				if w%2 == 1 {
					for a, b := 0, len(ps)-1; a < b; a, b = a+1, b-1 {
						ps[a], ps[b] = ps[b], ps[a]
					}
				}
				e := Entry{Kind: KindSale, IdempotencyKey: fmt.Sprintf("test:conc:%s:%d:%d", u, w, i),
					OccurredAt: t0, Postings: ps}
				err := database.Tx(ctx, db, func(tx *gorm.DB) error {
					_, _, err := svc.Post(ctx, tx, e)
					return err
				})
				if err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent post: %v (SQLSTATE %s)", err, apperr.PgCode(err))
	}
	n := money.Money(workers * perWorker)
	if b := balance(t, db, unit(u)); b != 10*n {
		t.Errorf("unit receivable %d, want %d", b, 10*n)
	}
	if b := balance(t, db, payable); b != n {
		t.Errorf("payable %d, want %d", b, n)
	}
	for _, h := range households {
		if b := balance(t, db, hh(h)); b != -2*n {
			t.Errorf("household income %d, want %d", b, -2*n)
		}
	}
	// The unit's receivable, which every entry shares, is spread over slots (migration 00043); a
	// household's payable, which every entry here debits, is one row in slot 0, where PayOut
	// locks it (00520; TestHouseholdSlots has credits).
	if c := count(t, db, `SELECT count(*) FROM ledger_accounts WHERE owner_id = ?`, u); c < 2 || c > accountSlots {
		t.Errorf("%d rows for the unit's receivable, want 2 to %d slots", c, accountSlots)
	}
	if c := count(t, db, `SELECT count(*) FROM ledger_accounts WHERE kind = 'household_payable' AND owner_id = ? AND slot = 0`, households[0]); c != 1 ||
		count(t, db, `SELECT count(*) FROM ledger_accounts WHERE kind = 'household_payable' AND owner_id = ?`, households[0]) != 1 {
		t.Errorf("the household's payable, only ever debited, is not one row in slot 0")
	}
}

// TestPostLargeEntry: an entry of thousands of postings is still one statement for the legs (arrays,
// not 4 parameters per row, so no 65535-parameter limit and no chunking).
func TestPostLargeEntry(t *testing.T) {
	db := dbtest.DB(t)
	svc := NewService(db)
	const n = 3000
	ps := []Posting{{Account: unit(newID()), Amount: n * 7}}
	for range n {
		ps = append(ps, Posting{Account: hh(newID()), Amount: -7})
	}
	start := time.Now()
	id, _, err := postTx(t, svc, Entry{Kind: KindSale, IdempotencyKey: "test:large:" + randHex(8), OccurredAt: t0, Postings: ps})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("posted %d postings in %v", n+1, time.Since(start))
	if c := count(t, db, `SELECT count(*) FROM postings WHERE entry_id = ?`, id); c != n+1 {
		t.Errorf("%d postings, want %d", c, n+1)
	}
}

// statements counts the SQL statements gorm runs (BEGIN and COMMIT are not among them).
// TestPostRoundTrips: posting is one statement, replaying two, whatever the number of postings.
func TestPostRoundTrips(t *testing.T) {
	db := dbtest.DB(t)
	svc := NewService(db)
	ctx := context.Background()
	e := transfer("test:"+randHex(8), newID(), newID(), newID(), 10)
	for i := range 40 {
		e.Postings = append(e.Postings, Posting{Account: hh(newID()), Amount: money.Money(1 - 2*(i%2))})
	}
	for _, want := range []struct {
		replayed bool
		n        int
	}{{false, 1}, {true, 2}} {
		counted := db.WithContext(ctx) // a Statement of its own, not the package database's
		stmts := dbtest.CountStatements(t, counted)
		err := database.Tx(ctx, counted, func(tx *gorm.DB) error {
			_, replayed, err := svc.Post(ctx, tx, e)
			if replayed != want.replayed {
				t.Errorf("replayed %v, want %v", replayed, want.replayed)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := stmts.SQL(); len(got) != want.n {
			t.Errorf("replayed=%v: %d statements, want %d:\n%s", want.replayed, len(got), want.n, strings.Join(got, "\n"))
		}
	}
}

// Before the bank's shards were folded into its slots, a bank leg named its shard as owner (rows of
// migration 00040). Such an entry still reverses: the reversal posts to the bank's slot, the bank
// as a whole is back where it was, and verify finds the reversal whole. A new entry naming a bank
// owner is refused.
func TestReverseOfAShardedBankLeg(t *testing.T) {
	db := dbtest.DB(t)
	svc := NewService(db)
	ctx := context.Background()
	u, h1, h2 := newID(), newID(), newID()
	e := transfer("test:"+randHex(8), u, h1, h2, 400)
	e.Postings[0].Account.OwnerID = uuid.NewSHA1(uuid.NameSpaceOID, []byte("fupin:bank:3")) // as BankShard named it
	if _, _, err := postTx(t, svc, e); !apperr.Is(err, apperr.KindInvalid) {
		t.Fatalf("a new entry naming a bank owner: %v, want Invalid", err)
	}
	var orig uuid.UUID
	err := database.Tx(ctx, db, func(tx *gorm.DB) error { // what the ledger wrote before the fold
		var err error
		orig, _, err = post(ctx, tx, e, nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	rev, err := svc.Reverse(ctx, nil, orig, "test:reverse:"+randHex(8), "", t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var bankNet int64
	if err := db.Raw(`SELECT coalesce(sum(p.amount_fen), 0) FROM postings p JOIN ledger_accounts a ON a.id = p.account_id
		WHERE a.kind = 'bank' AND p.entry_id IN (?, ?)`, orig, rev).Scan(&bankNet).Error; err != nil {
		t.Fatal(err)
	}
	if bankNet != 0 {
		t.Errorf("the bank moved by %d over the entry and its reversal, want 0", bankNet)
	}
	mustVerify(t, db)
}
