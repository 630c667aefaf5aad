package ledger

import (
	"context"
	"testing"

	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/database"
	"github.com/fupinmarket/fupin/internal/platform/dbtest"
)

// A sale's roll-up trigger reads the ledger's parents by their keys even in a ledger that has no
// statistics yet (a new database, or autovacuum off): planned then, as a hash join over a
// sequential scan of ledger_accounts, the trigger kept that plan for the connection's life and
// read the whole table twice for every entry (00540). pg_stat_xact_user_tables counts the
// transaction's own scans, the triggers' included. A database of its own: the package's shared
// one holds other tests' rows and whatever statistics they left, and plans follow both.
func TestRollupTriggerProbesParentsByKey(t *testing.T) {
	w := newWorldOn(t, dbtest.Fresh(t), 2)
	svc := NewService(w.db)
	p := w.product(t, "腊肉", 500, Supplier{HouseholdID: w.households[0], ShareBP: 6000},
		Supplier{HouseholdID: w.households[1], ShareBP: 4000})
	w.complete(t, svc, w.order(t, "shipped", lineSpec{p, 2, 500}), worldNow()) // accounts exist from here on
	o := w.order(t, "shipped", lineSpec{p, 3, 500})
	type scans struct {
		Relname string
		SeqScan int64
	}
	read := func(tx *gorm.DB) map[string]int64 {
		var rows []scans
		if err := tx.Raw(`SELECT relname, seq_scan FROM pg_stat_xact_user_tables
			WHERE relname IN ('ledger_accounts', 'journal_entries', 'order_lines', 'orders', 'ledger_month_rollups')`).Scan(&rows).Error; err != nil {
			t.Fatal(err)
		}
		m := map[string]int64{}
		for _, r := range rows {
			m[r.Relname] = r.SeqScan
		}
		return m
	}
	err := database.Tx(context.Background(), w.db, func(tx *gorm.DB) error {
		lines := frozenSale(t, tx, o.ID, nil)
		before := read(tx)
		if _, err := svc.PostSale(context.Background(), tx, o.ID, w.unitID, lines, worldNow()); err != nil {
			return err
		}
		for rel, n := range read(tx) {
			if n != before[rel] {
				t.Errorf("posting the sale scanned %s sequentially %d times, want its rows probed by key", rel, n-before[rel])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := count(t, w.db, `SELECT count(*) FROM ledger_month_rollups WHERE account_kind = 'household_income'`); got != 2 {
		t.Errorf("%d household roll-up rows after two sales to the same two households, want 2", got)
	}
}
