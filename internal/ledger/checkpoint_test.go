package ledger

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/database"
	"github.com/fupinmarket/fupin/internal/platform/dbtest"
	"github.com/fupinmarket/fupin/internal/platform/money"
)

// checkpointed is a fresh database (these tests break the ledger on purpose) with one household's
// product, a sale, and a checkpoint made by a full verify.
type checkpointed struct {
	w       *world
	svc     *Service
	product uuid.UUID
}

func newCheckpointed(t *testing.T) *checkpointed {
	t.Helper()
	db := dbtest.Fresh(t)
	c := &checkpointed{w: newWorldOn(t, db, 2), svc: NewService(db)}
	c.product = c.w.product(t, "腊肉", 1000, Supplier{HouseholdID: c.w.households[0], ShareBP: 10000})
	c.sell(t, nil, 1000)
	if n, out := runVerify(t, db, Verify); n != 0 {
		t.Fatalf("full verify of a good ledger: %d mismatches\n%s", n, out)
	}
	return c
}

// sell completes an order of one ¥10.00 item and posts its sale entry for posted fen (a test
// may make it wrong), in tx, or in a transaction of its own when tx is nil.
func (c *checkpointed) sell(t *testing.T, tx *gorm.DB, posted money.Money) order {
	t.Helper()
	w := *c.w
	if tx != nil {
		w.db = tx // the order completes in the sale's transaction
	}
	o := w.order(t, "completed", lineSpec{c.product, 1, 1000})
	e, err := SaleEntry(o.ID, c.w.unitID, []SaleLine{{OrderLineID: o.Lines[0], Amount: posted,
		Suppliers: []Supplier{{HouseholdID: c.w.households[0], ShareBP: 10000}}}}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.svc.Post(context.Background(), tx, e); err != nil {
		t.Fatal(err)
	}
	return o
}

func runVerify(t *testing.T, db *gorm.DB, verify func(context.Context, *gorm.DB, io.Writer) (int, error)) (int, string) {
	t.Helper()
	var out bytes.Buffer
	n, err := verify(context.Background(), db, &out)
	if err != nil {
		t.Fatalf("verify: %v\n%s", err, out.String())
	}
	return n, out.String()
}

// asSuperuser runs sql with user triggers off (what only a database superuser can do): the
// append-only triggers do not stop it. The threat a checkpoint must not hide.
func asSuperuser(t *testing.T, db *gorm.DB, sql string, args ...any) {
	t.Helper()
	err := database.Tx(context.Background(), db, func(tx *gorm.DB) error {
		if err := tx.Exec(`SET LOCAL session_replication_role = replica`).Error; err != nil {
			return err
		}
		return tx.Exec(sql, args...).Error
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestRoutineVerifyChecksWhatCameSince(t *testing.T) {
	db := dbtest.Fresh(t)
	c := &checkpointed{w: newWorldOn(t, db, 2), svc: NewService(db)}
	c.product = c.w.product(t, "腊肉", 1000, Supplier{HouseholdID: c.w.households[0], ShareBP: 10000})
	c.sell(t, nil, 1000)

	// No checkpoint yet: the routine run checks everything, and leaves one.
	n, out := runVerify(t, db, VerifyRoutine)
	if n != 0 || !strings.Contains(out, "no checkpoint yet: checking the whole ledger") || strings.Contains(out, "routine run") {
		t.Fatalf("first routine run: %d\n%s", n, out)
	}
	scope := func(entries, orders int) string {
		return fmt.Sprintf("entry by entry %d entries and %d orders", entries, orders)
	}
	// Nothing since.
	if n, out = runVerify(t, db, VerifyRoutine); n != 0 || !strings.Contains(out, scope(0, 0)) {
		t.Errorf("routine run with nothing new: %d\n%s", n, out)
	}
	// One sale since.
	c.sell(t, nil, 1000)
	if n, out = runVerify(t, db, VerifyRoutine); n != 0 || !strings.Contains(out, scope(1, 1)) {
		t.Errorf("routine run after a sale: %d\n%s", n, out)
	}
	if got := count(t, db, `SELECT count(*) FROM ledger_checkpoints`); got != checkpointsKept {
		t.Errorf("%d checkpoints kept, want %d", got, checkpointsKept)
	}

	// A sale whose transaction wrote its entry before a checkpoint's snapshot and committed after
	// it (its UUIDv7 id is older than the checkpoint) is checked by the next routine run.
	tx := db.Begin()
	c.sell(t, tx, 1000)
	if n, out = runVerify(t, db, Verify); n != 0 {
		t.Fatalf("full verify while a sale is in flight: %d\n%s", n, out)
	}
	if err := tx.Commit().Error; err != nil {
		t.Fatal(err)
	}
	if n, out = runVerify(t, db, VerifyRoutine); n != 0 || !strings.Contains(out, scope(1, 1)) {
		t.Errorf("routine run after a sale committed past the checkpoint: %d\n%s", n, out)
	}
	if n, out = runVerify(t, db, VerifyRoutine); n != 0 || !strings.Contains(out, scope(0, 0)) {
		t.Errorf("the routine run after it: %d\n%s", n, out)
	}
}

// A mistake in what came since is found by the routine run, as by the full one.
func TestRoutineVerifyFindsANewMistake(t *testing.T) {
	c := newCheckpointed(t)
	o := c.sell(t, nil, 900) // the order's total is ¥10.00
	for _, verify := range []func(context.Context, *gorm.DB, io.Writer) (int, error){VerifyRoutine, Verify} {
		n, out := runVerify(t, c.w.db, verify)
		if n != 2 || !strings.Contains(out, "order "+o.ID.String()+" (completed)") || !strings.Contains(out, "order "+o.ID.String()+" line") {
			t.Errorf("a sale entry of ¥9.00 for an order of ¥10.00: %d\n%s", n, out)
		}
	}
}

// What a checkpoint stands on is checked by every routine run that starts from it.
func TestRoutineVerifyHoldsItsCheckpoint(t *testing.T) {
	t.Run("an old posting changed with its account's balance", func(t *testing.T) {
		c := newCheckpointed(t)
		db := c.w.db
		var p struct {
			ID        uuid.UUID
			AccountID uuid.UUID
		}
		if err := db.Raw(`SELECT p.id, p.account_id FROM postings p JOIN ledger_accounts a ON a.id = p.account_id
			WHERE a.kind = 'station_commission' OR a.kind = 'household_income' ORDER BY a.kind LIMIT 1`).Scan(&p).Error; err != nil {
			t.Fatal(err)
		}
		asSuperuser(t, db, `UPDATE postings SET amount_fen = amount_fen - 1 WHERE id = ?`, p.ID)
		exec(t, db, `UPDATE ledger_accounts SET balance_fen = balance_fen - 1 WHERE id = ?`, p.AccountID)
		n, out := runVerify(t, db, VerifyRoutine)
		if n == 0 || !strings.Contains(out, "account "+p.AccountID.String()+": checkpoint") || !strings.Contains(out, "in absolute amounts") {
			t.Errorf("routine run after an old posting changed: %d\n%s", n, out)
		}
	})
	t.Run("a checkpoint's balance changed", func(t *testing.T) {
		c := newCheckpointed(t)
		asSuperuser(t, c.w.db, `UPDATE ledger_checkpoint_balances SET balance_fen = balance_fen + 1
			WHERE account_id = (SELECT min(account_id::text)::uuid FROM ledger_checkpoint_balances)`)
		n, out := runVerify(t, c.w.db, VerifyRoutine)
		if n != 1 || !strings.Contains(out, "its digest does not match its balances and counts") || strings.Contains(out, "routine run") {
			t.Errorf("routine run from an altered checkpoint: %d\n%s", n, out)
		}
	})
	t.Run("a checkpoint can be neither edited nor trusted when it is", func(t *testing.T) {
		c := newCheckpointed(t)
		err := c.w.db.Exec(`UPDATE ledger_checkpoints SET entries = entries + 1`).Error
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("UPDATE of a checkpoint: %v, want it refused", err)
		}
		asSuperuser(t, c.w.db, `UPDATE ledger_checkpoints SET entries = entries + 1`)
		if n, out := runVerify(t, c.w.db, VerifyRoutine); n != 1 || !strings.Contains(out, "its digest does not match") {
			t.Errorf("routine run from a checkpoint with altered counts: %d\n%s", n, out)
		}
	})
	t.Run("an order completed without any entry", func(t *testing.T) {
		c := newCheckpointed(t)
		o := c.w.order(t, "completed", lineSpec{c.product, 1, 1000})
		n, out := runVerify(t, c.w.db, VerifyRoutine)
		if n != 1 || !strings.Contains(out, "order "+o.ID.String()+" (completed): expected a sale entry per station shipment, found none") {
			t.Errorf("routine run with an unattributed order: %d\n%s", n, out)
		}
	})
	t.Run("a posting added to an old entry", func(t *testing.T) {
		c := newCheckpointed(t)
		db := c.w.db
		// Two legs of one account that cancel: no balance moves; the checkpoint's count does.
		asSuperuser(t, db, `INSERT INTO postings (id, entry_id, account_id, amount_fen, txid)
			SELECT gen_random_uuid(), p.entry_id, p.account_id, x, 1 FROM (SELECT entry_id, account_id FROM postings LIMIT 1) p,
			(VALUES (5), (-5)) AS v(x)`)
		n, out := runVerify(t, db, VerifyRoutine)
		if n != 1 || !strings.Contains(out, "postings of") {
			t.Errorf("routine run after postings were slipped into an old entry: %d\n%s", n, out)
		}
	})
}

// The purchase model's deliveries written since the checkpoint are in a routine run's scope, with
// their entries, even when they name no new entry (supply's deliveries carry their txid, migration
// 00300).
func TestRoutineVerifyChecksDeliveriesSince(t *testing.T) {
	c := newCheckpointed(t)
	db := c.w.db
	batch := newID()
	exec(t, db, `INSERT INTO batches (id, product_id, batch_no, produced_on, quantity) VALUES (?, ?, 'B-1', '2024-05-01', 100)`, batch, c.product)
	h := c.w.households[0]
	// deliver records a purchase delivery of 2 × ¥5.00 and, with entry, its purchase entry, in one
	// transaction as supply does; named, when not nil, is the entry the row names instead.
	deliver := func(entry bool, named *uuid.UUID) uuid.UUID {
		t.Helper()
		id := newID()
		err := database.Tx(context.Background(), db, func(tx *gorm.DB) error {
			entryID := named
			if entry {
				e, err := c.svc.PostPurchase(context.Background(), tx, id, c.w.stationID, h, 1000, t0)
				if err != nil {
					return err
				}
				entryID = &e
			}
			return tx.Exec(`INSERT INTO batch_deliveries (id, batch_id, station_id, household_id, quantity, delivered_on, settlement,
				unit_cost_fen, cert_photo, entry_id) VALUES (?, ?, ?, ?, 2, '2024-05-02', 'purchase', 500, 'photos/hgz.jpg', ?)`,
				id, batch, c.w.stationID, h, entryID).Error
		})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	good := deliver(true, nil)
	if n, out := runVerify(t, db, VerifyRoutine); n != 0 || !strings.Contains(out, "entry by entry 1 entries and 0 orders") {
		t.Fatalf("routine run after a good delivery: %d\n%s", n, out)
	}
	var named []uuid.UUID
	if err := db.Raw(`SELECT entry_id FROM batch_deliveries WHERE id = ?`, good).Scan(&named).Error; err != nil || len(named) != 1 {
		t.Fatal(named, err)
	}
	goodEntry := named[0]

	// Since that checkpoint: a delivery without its entry, and one naming the checkpointed
	// delivery's entry. Neither writes an entry; both are found, by the routine run as by the full
	// one, each once: the entry named twice is one mismatch, not also its legs counted twice for
	// each of the two deliveries (which made 4 for these 2 faults).
	orphan := deliver(false, nil)
	twice := deliver(false, &goodEntry)
	for _, verify := range []func(context.Context, *gorm.DB, io.Writer) (int, error){VerifyRoutine, Verify} {
		n, out := runVerify(t, db, verify)
		if n != 2 || !strings.Contains(out, "delivery "+orphan.String()+": expected its purchase entry of 1000 fen") ||
			strings.Contains(out, "delivery "+twice.String()) || strings.Contains(out, "delivery "+good.String()) ||
			!strings.Contains(out, "purchase entry "+goodEntry.String()+": expected to be named by exactly one delivery, is by 2") {
			t.Errorf("deliveries since the checkpoint without their own entries: %d\n%s", n, out)
		}
	}
}

// A run first analyses the ledger's tables whose statistics are stale (here: never analysed in
// this fresh database), and says so.
func TestVerifyAnalysesStaleStatistics(t *testing.T) {
	db := dbtest.Fresh(t)
	w := newWorldOn(t, db, 1)
	w.product(t, "腊肉", 1000, Supplier{HouseholdID: w.households[0], ShareBP: 10000})
	n, out := runVerify(t, db, VerifyRoutine)
	if n != 0 || !strings.Contains(out, "note: analysed journal_entries, ledger_accounts, ledger_month_rollups, postings first") {
		t.Errorf("first run on a never analysed ledger: %d\n%s", n, out)
	}
	var unanalysed int
	db.Raw(`SELECT count(*) FROM pg_stat_user_tables WHERE relname IN ('ledger_accounts', 'postings', 'journal_entries', 'ledger_month_rollups')
		AND last_analyze IS NULL`).Scan(&unanalysed)
	if unanalysed != 0 {
		t.Errorf("%d of the ledger's tables still never analysed after a run", unanalysed)
	}
}
