package report

import (
	"fmt"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/database"
)

// bulkTemplates is how many of BenchmarkAttribution's orders are posted through the product
// before the rest are cloned from them (cloneSales): order i has product i%30, quantity 1+i%5 and
// unit i%8, so orders 0..119 are every combination once, and order i's entry is order i%120's
// with other ids.
const bulkTemplates = 120

// markTemplates records the sale entry of each of the first bulkTemplates orders (posted through
// ledger.PostSale) in bench_templates, with its postings' accounts by kind and owner.
func markTemplates(b *testing.B, db *gorm.DB) {
	b.Helper()
	exec(b, db, `CREATE UNLOGGED TABLE bench_templates AS
		SELECT bo.i AS k, bo.order_id, bo.line_id, e.id AS entry_id, e.memo
		FROM bench_orders bo JOIN journal_entries e ON e.order_id = bo.order_id AND e.kind = 'sale'
		WHERE bo.i < ?`, bulkTemplates)
	exec(b, db, `CREATE UNLOGGED TABLE bench_template_postings AS
		SELECT p.id AS posting_id, p.entry_id, a.kind, a.owner_id, p.amount_fen, p.order_line_id IS NOT NULL AS on_line
		FROM bench_templates t JOIN postings p ON p.entry_id = t.entry_id JOIN ledger_accounts a ON a.id = p.account_id`)
	// Their roll-up rows (through the view verify --full reads), read now while the ledger is small.
	exec(b, db, `CREATE UNLOGGED TABLE bench_template_rollups AS
		SELECT tp.entry_id, s.account_kind, s.household_id, s.village_code, s.product_id, s.origin_code, s.unit_id,
		       s.amount_fen, s.quantity, s.sale_credit_fen
		FROM bench_template_postings tp JOIN ledger_rollup_source s ON s.posting_id = tp.posting_id`)
	var k int
	db.Raw(`SELECT count(*) FROM bench_templates`).Scan(&k)
	if k != bulkTemplates {
		b.Fatalf("bulk ledger: %d template entries, want %d", k, bulkTemplates)
	}
}

// cloneSales writes the sale entries of orders [from, to) of bench_orders set-wise, in
// transactions of 100,000 entries: each the entry of its template order (i % bulkTemplates) with
// its own ids, order, line and time, the slot of each account picked by its own id as
// ledger.insertEntry does (a sale never debits a household's payable, whose debits go to slot
// 0). Writing them entry by entry through the product takes 30–45 minutes per million on a
// quiet machine; this takes minutes, so the million the issue asks for can be run to measure
// verify and the report (not posting: that is the per-entry path's figure).
//
// The triggers of postings and journal entries (the deferred per-entry balance check, the roll-up
// trigger) and the foreign-key checks are off in these transactions (session_replication_role
// = replica); what they would do is done set-wise here: every entry sums to zero because its
// template did; the accounts' balances move by the batch's sums; the monthly roll-ups grow by each
// template's roll-up rows (ledger_rollup_source over its postings) times its clones in the month.
// The last day's orders are shipped, not completed: the batch completes them, as their receipt
// would. A verify over the result must find 0 mismatches (the benchmark fails otherwise).
// request_hash is a stand-in (sha256 of the key): verify does not read it.
func cloneSales(b *testing.B, db *gorm.DB, from, to int) {
	b.Helper()
	const batch = 100_000
	for lo := from; lo < to; lo += batch {
		hi := min(lo+batch, to)
		err := database.Tx(b.Context(), db, func(tx *gorm.DB) error {
			steps := []struct {
				sql  string
				args []any
			}{
				{`UPDATE orders o SET status = 'completed', completed_at = bo.at
					FROM bench_orders bo WHERE bo.order_id = o.id AND bo.i >= ? AND bo.i < ? AND o.status <> 'completed'`, []any{lo, hi}},
				{`SET LOCAL session_replication_role = replica`, nil},
				{`CREATE TEMP TABLE bench_clones ON COMMIT DROP AS
					SELECT bo.order_id, bo.line_id, bo.at, ` + uuidv7SQL("clock_timestamp()") + ` AS entry_id, t.entry_id AS template_entry, t.order_id AS template_order,
					       date_trunc('month', bo.at AT TIME ZONE 'Asia/Shanghai')::date AS month
					FROM bench_orders bo JOIN bench_templates t ON t.k = bo.i % ?
					WHERE bo.i >= ? AND bo.i < ?`, []any{bulkTemplates, lo, hi}},
				{`CREATE TEMP TABLE bench_clone_postings ON COMMIT DROP AS
					SELECT ` + uuidv7SQL("clock_timestamp()") + ` AS id, c.entry_id, tp.kind, coalesce(tp.owner_id, '00000000-0000-0000-0000-000000000000') AS owner,
					       CASE WHEN tp.kind = 'household_payable' AND tp.amount_fen > 0 THEN 0 ELSE get_byte(uuid_send(c.entry_id), 15) % 16 END::smallint AS slot,
					       tp.amount_fen, CASE WHEN tp.on_line THEN c.line_id END AS order_line_id
					FROM bench_clones c JOIN bench_template_postings tp ON tp.entry_id = c.template_entry`, nil},
				{`INSERT INTO ledger_accounts (id, kind, owner_id, slot, balance_fen)
					SELECT gen_random_uuid(), kind, nullif(owner, '00000000-0000-0000-0000-000000000000'), slot, 0
					FROM (SELECT DISTINCT kind, owner, slot FROM bench_clone_postings) x
					ORDER BY 2, 3, 4
					ON CONFLICT (kind, owner_id, slot) DO NOTHING`, nil},
				{`INSERT INTO journal_entries (id, kind, idempotency_key, request_hash, order_id, memo, occurred_at)
					SELECT c.entry_id, 'sale', 'order:' || c.order_id || ':sale', sha256(convert_to('order:' || c.order_id || ':sale', 'UTF8')),
					       c.order_id, 'sale of order ' || c.order_id, c.at
					FROM bench_clones c ORDER BY c.at`, nil},
				{`INSERT INTO postings (id, entry_id, account_id, amount_fen, order_line_id)
					SELECT cp.id, cp.entry_id, a.id, cp.amount_fen, cp.order_line_id
					FROM bench_clone_postings cp
					JOIN ledger_accounts a ON a.kind = cp.kind AND coalesce(a.owner_id, '00000000-0000-0000-0000-000000000000') = cp.owner AND a.slot = cp.slot`, nil},
				{`UPDATE ledger_accounts a SET balance_fen = a.balance_fen + d.delta
					FROM (SELECT a.id, sum(cp.amount_fen) AS delta FROM bench_clone_postings cp
					      JOIN ledger_accounts a ON a.kind = cp.kind AND coalesce(a.owner_id, '00000000-0000-0000-0000-000000000000') = cp.owner AND a.slot = cp.slot
					      GROUP BY a.id) d
					WHERE d.id = a.id`, nil},
				// Each template's roll-up rows (its postings through the view verify --full reads),
				// times its clones per month.
				{`INSERT INTO ledger_month_rollups AS r
					(month, account_kind, household_id, village_code, product_id, origin_code, unit_id, amount_fen, quantity, sale_credit_fen)
					SELECT n.month, s.account_kind, s.household_id, s.village_code, s.product_id, s.origin_code, s.unit_id,
					       sum(s.amount_fen * n.n), sum(s.quantity * n.n), sum(s.sale_credit_fen * n.n)
					FROM (SELECT template_entry, month, count(*) AS n FROM bench_clones GROUP BY 1, 2) n
					JOIN bench_template_rollups s ON s.entry_id = n.template_entry
					GROUP BY 1, 2, 3, 4, 5, 6, 7
					ORDER BY 1, 2, 3, 4, 5, 6, 7
					ON CONFLICT ON CONSTRAINT ledger_month_rollups_key DO UPDATE
					    SET amount_fen = r.amount_fen + excluded.amount_fen, quantity = r.quantity + excluded.quantity,
					        sale_credit_fen = r.sale_credit_fen + excluded.sale_credit_fen`, nil},
			}
			for _, s := range steps {
				if err := tx.Exec(s.sql, s.args...).Error; err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatalf("bulk ledger, orders %d–%d: %v", lo, hi, err)
		}
	}
}

// uuidv7SQL is SQL for a UUIDv7 of time t (PostgreSQL 15 has no uuidv7()): t's milliseconds,
// then random bits, as the product's uuid.NewV7 makes them. Ids that follow time are appended at
// the right of their indexes; random ones (gen_random_uuid) touch a random page of each index per
// row (the first batch's postings took 74 s with them, 25 s with these, in runs not paired).
func uuidv7SQL(t string) string {
	return `encode(set_byte(overlay(uuid_send(gen_random_uuid()) PLACING substring(int8send((extract(epoch FROM ` + t + `) * 1000)::bigint) FROM 3)
		FROM 1 FOR 6), 6, (get_byte(uuid_send(gen_random_uuid()), 6) & 15) | 112), 'hex')::uuid`
}

// benchAttributionBulk is BenchmarkAttribution over a ledger written by cloneSales: postTemplates
// posts the first bulkTemplates orders through the product, the rest of the month but its last
// day is cloned, verify --full runs, the last day (day orders) is cloned, then the routine verify
// and the report run as in the per-entry path.
func benchAttributionBulk(b *testing.B, c *county, n, day int, postTemplates func()) {
	if n-day < 2*bulkTemplates {
		b.Fatalf("bulk ledger: %d entries are too few (at least %d before the last day)", n, 2*bulkTemplates)
	}
	db := c.db
	start := time.Now()
	postTemplates()
	markTemplates(b, db)
	cloneSales(b, db, bulkTemplates, n-day)
	fmt.Printf("# bulk ledger: %d sale entries (%d posted through the product, the rest cloned set-wise) in %s\n",
		n-day, bulkTemplates, time.Since(start).Round(time.Millisecond))
	month := Month{2024, time.May}
	if benchReportOnly {
		cloneSales(b, db, n-day, n)
		benchReport(b, c, month)
		return
	}
	verifiedFull := verifyFull(b, db)
	start = time.Now()
	cloneSales(b, db, n-day, n)
	var postings int64
	db.Raw(`SELECT count(*) FROM postings`).Scan(&postings)
	fmt.Printf("# the last day: %d sale entries cloned in %s; %d postings in all\n", day, time.Since(start).Round(time.Millisecond), postings)
	benchRoutine(b, db, verifiedFull)
	benchReport(b, c, month)
}
