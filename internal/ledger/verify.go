package ledger

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

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
//   - every completed order has exactly one sale entry per station shipment, none reversed, that
//     together debit its unit's receivable with orders.total_fen (the sum of its lines); over its sale and refund entries,
//     household income plus station commission credited equals total − refunds (refunds: what
//     refund entries credit back to the unit), and the same line by line; no order that is not
//     completed has attributed income left, except paid or shipped orders with some shipments
//     received;
//   - every refunded line's refund rows, refunded_quantity and refund postings agree (refunds);
//   - on every order line, what is owed to households (household_payable) equals their income,
//     and every cooperative's pass-through nets to zero per entry and line (a cooperative keeps
//     nothing: its members got all of it);
//   - every household's memorandum pair holds: household_attributed = business + wage + property
//     income;
//   - no payout paid a household more than it was owed at the time (its payable not in debit after it),
//     and every payout row has its payout entry debiting the payable with its amount;
//   - every work record has its wage entry, crediting wage income with its pay;
//   - every dividend row has its dividend entry, unreversed, crediting the household's property
//     income with its amount, and every dividend entry has its row (dividends);
//   - every payment row has exactly one payment entry debiting the bank with the payment's amount,
//     reversed exactly when the payment was returned (order cancelled after payment), and every
//     payment entry has a payment row; the payment of every cancelled order, and only of those,
//     is owed back to its unit or returned (paymentReturns);
//   - every refund paid back (refunds.return_ref) has exactly one refund_payment entry, not
//     reversed, crediting the bank and debiting its unit's receivable with the refund's amount, and
//     every refund_payment entry has its refund;
//   - every double charge (a second charge of one order, double_charges) has exactly one
//     double_charge entry debiting the bank and crediting its unit with its amount, reversed
//     exactly when it was returned, and every double_charge entry has its charge (doubleCharges);
//   - every purchase-model delivery has its purchase entry and every purchase entry its delivery
//     (purchases), and every line attributed by deliveries at shipment credits only the households
//     that delivered, a purchase-model line the station, with the rebate its facts give (supplyLines);
//   - the monthly roll-ups the monthly report reads sum, per household and income kind, to its
//     account's balance, and (full run) each is what its postings give (rollups).
//
// It writes the first 20 mismatches to w, one readable line each (ids, expected, found), then a
// summary line (and, when money is owed back to units, how much and since when: not a mismatch),
// and returns how many mismatches there are: 0 means the ledger is consistent.
// err is for failures to read, not for mismatches. A run that finds no mismatch writes a
// checkpoint of the balances it verified (checkpoint.go), from which VerifyRoutine starts.
// This is `fupin verify --full`.
func Verify(ctx context.Context, db *gorm.DB, w io.Writer) (mismatches int, err error) {
	return verify(ctx, db, w, true)
}

// VerifyRoutine makes Verify's checks over what came since the newest checkpoint (`fupin
// verify`): every account's stored balance against all its postings and against the checkpoint's
// balance plus the postings since; the checkpoint's counts against the entries and postings its
// snapshot saw; every other check over the entries and postings written since (and the entries
// they reverse or that reverse them), the orders and lines those touch, and the households whose
// payable they move; plus every completed order without any sale entry. With no checkpoint it runs
// the full checks; a checkpoint whose digest does not match its rows is a mismatch, and the run
// checks everything instead. What it cannot see is in docs/ledger.md, "Checkpoints".
func VerifyRoutine(ctx context.Context, db *gorm.DB, w io.Writer) (mismatches int, err error) {
	return verify(ctx, db, w, false)
}

func verify(ctx context.Context, db *gorm.DB, w io.Writer, full bool) (mismatches int, err error) {
	v := &verifier{w: w, full: true, postings: "postings"}
	var counts struct {
		Accounts, Entries, Completed, Payments, Owed, Held int
		OwedFen, HeldFen                                   int64
		OldestOwed                                         *time.Time
	}
	if !full {
		// The routine run finds what came since through the BRIN indexes on txid; block ranges
		// filled since autovacuum last summarised them (or all, where it is off) are read whole.
		// Summarising is an optimisation, outside the run's transaction so that its lock on the
		// tables (against VACUUM and ANALYZE) ends with it; one that fails only costs time.
		if err := db.WithContext(ctx).Exec(`SELECT brin_summarize_new_values('journal_entries_txid'),
			brin_summarize_new_values('postings_txid')`).Error; err != nil {
			fmt.Fprintf(w, "note: the txid indexes were not summarised (%v); the run reads more\n", err)
		}
	}
	analyseStale(ctx, db, w)
	var totals postingTotals
	err = db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		tx = tx.WithContext(ctx)
		// The run's hash joins of whole tables (completed orders against sale entries, a million
		// each at a million entries; every full-run check) spilled to disk in 8 batches at the
		// default 4 MB. A verify run is one session; 64 MB is for it alone, ended with it.
		if err := tx.Exec(`SET LOCAL work_mem = '64MB'`).Error; err != nil {
			return err
		}
		if !full {
			cp, err := latestCheckpoint(tx)
			switch {
			case err != nil:
				return err
			case cp == nil:
				fmt.Fprintln(w, "no checkpoint yet: checking the whole ledger")
			case !cp.DigestOK:
				v.report("checkpoint %d: its digest does not match its balances and counts (altered?); checking the whole ledger instead", cp.ID)
			default:
				v.full, v.cp = false, cp
			}
		}
		if err := v.prepare(tx); err != nil {
			return err
		}
		checks := []func(*gorm.DB) error{
			v.balances, v.entries, v.reversals, v.sales, v.saleLines, v.lineSettlement, v.passthrough,
			v.memorandum, v.payables, v.payouts, v.wages, v.dividends, v.payments, v.paymentReturns, v.refunds, v.refundPayments, v.doubleCharges,
			v.purchases, v.supplyLines, v.rollups,
		}
		if !v.full {
			checks = append(checks, v.checkpointBalances, v.checkpointTotals, v.completedWithoutSale)
		}
		for _, check := range checks {
			if err := check(tx); err != nil {
				return err
			}
		}
		if err := tx.Raw(`SELECT ?::bigint AS entries,
			coalesce(sum(n), 0) AS postings, coalesce(sum(abs_fen), 0) AS abs_fen FROM verify_sums`, v.entryCount).Scan(&totals).Error; err != nil {
			return err
		}
		err := tx.Raw(`SELECT
			(SELECT count(*) FROM ledger_accounts) AS accounts,
			?::bigint AS entries,
			(SELECT count(*) FROM orders_view WHERE status = 'completed') AS completed,
			(SELECT count(*) FROM payments_view) AS payments,
			o.owed, o.owed_fen, o.oldest_owed, o.held, o.held_fen
			FROM (SELECT count(*) FILTER (WHERE NOT held) AS owed, coalesce(sum(amount_fen) FILTER (WHERE NOT held), 0) AS owed_fen,
			             min(due) FILTER (WHERE NOT held) AS oldest_owed,
			             count(*) FILTER (WHERE held) AS held, coalesce(sum(amount_fen) FILTER (WHERE held), 0) AS held_fen FROM (
			    SELECT amount_fen, due, return_held IS NOT NULL AS held FROM returns_owed) AS owed) AS o`, v.entryCount).Scan(&counts).Error
		if err != nil || v.n > 0 {
			return err
		}
		return writeCheckpoint(tx, v.full, v.cp, totals)
	}, &sql.TxOptions{Isolation: sql.LevelRepeatableRead})
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
	if !v.full {
		fmt.Fprintf(w, "routine run: since checkpoint %d (%d entries, %d postings then), entry by entry %d entries and %d orders\n",
			v.cp.ID, v.cp.Entries, v.cp.Postings, v.scope.Entries, v.scope.Orders)
	}
	// Not mismatches: refunds and cancelled payments the provider has yet to return.
	if counts.Owed > 0 {
		fmt.Fprintf(w, "owed back to units, not yet returned by the payment provider: %s in %d (the oldest due since %s)\n",
			fen(counts.OwedFen), counts.Owed, counts.OldestOwed.UTC().Format(time.RFC3339))
	}
	if counts.Held > 0 {
		fmt.Fprintf(w, "owed back to units, held back by the county office (return_held): %s in %d\n", fen(counts.HeldFen), counts.Held)
	}
	return v.n, nil
}

type verifier struct {
	w io.Writer
	n int
	// full: every check reads the whole ledger; otherwise only the scope since cp (prepare).
	full  bool
	cp    *checkpoint
	scope struct{ Entries, Orders int64 }
	// entryCount is the number of journal entries in the run's snapshot, counted once (prepare): a
	// count reads the whole table, 0.3 s at a million entries.
	entryCount int64
	// postings is the table the checks read postings from: all of them, or in a routine run
	// verify_postings, the scope's (prepare).
	postings string
}

// in restricts a check to the routine run's scope: col must be in the temporary table
// verify_<set> (entries, orders, lines or deliveries; prepare). In a full run it restricts nothing.
func (v *verifier) in(set, col string) string {
	if v.full {
		return "true"
	}
	return col + " IN (SELECT id FROM verify_" + set + ")"
}

// prepare sums every account's postings into verify_sums (both runs read it) and, for a routine
// run, collects the scope in temporary tables dropped at commit: the postings, entries and
// deliveries written since the checkpoint (by transactions its snapshot could not see), the
// entries those postings and deliveries belong to, the entries they reverse and that reverse them,
// the deliveries naming any of these, the orders of all of these entries (and of the new
// postings' lines), and those orders' lines.
func (v *verifier) prepare(tx *gorm.DB) error {
	err := tx.Exec(`CREATE TEMP TABLE verify_sums ON COMMIT DROP AS
		SELECT account_id, sum(amount_fen) AS total, count(*) AS n, sum(abs(amount_fen)) AS abs_fen
		FROM postings GROUP BY account_id`).Error
	if err == nil {
		err = tx.Raw(`SELECT count(*) FROM journal_entries`).Scan(&v.entryCount).Error
	}
	if err != nil || v.full {
		return err
	}
	// txid >= xmin first: the BRIN index finds the tail of the table with it.
	const since = `txid >= ? AND NOT pg_visible_in_snapshot(txid::text::xid8, ?::pg_snapshot)`
	// Each temporary table is analysed as soon as it is made: the next is planned with its size
	// (unanalysed, 3,334 entries were planned as a hash join against the whole postings table).
	for _, step := range []struct {
		sql     string
		args    []any
		analyse string
	}{
		{`CREATE TEMP TABLE verify_new_postings ON COMMIT DROP AS
			SELECT id, entry_id, account_id, amount_fen, order_line_id FROM postings WHERE ` + since, []any{v.cp.Xmin, v.cp.Snapshot}, "verify_new_postings"},
		{`CREATE TEMP TABLE verify_new_entries ON COMMIT DROP AS SELECT id FROM journal_entries WHERE ` + since, []any{v.cp.Xmin, v.cp.Snapshot}, "verify_new_entries"},
		{`CREATE TEMP TABLE verify_entries ON COMMIT DROP AS
			SELECT id FROM verify_new_entries UNION SELECT entry_id FROM verify_new_postings`, nil, "verify_entries"},
		// The purchase model's deliveries written since (supply's, migration 00300), and their
		// entries: a delivery recorded without its entry, or naming an old one, names no new entry.
		{`CREATE TEMP TABLE verify_deliveries ON COMMIT DROP AS
			SELECT id, entry_id FROM batch_deliveries_view WHERE ` + since, []any{v.cp.Xmin, v.cp.Snapshot}, ""},
		{`INSERT INTO verify_entries SELECT entry_id FROM verify_deliveries WHERE entry_id IS NOT NULL
			EXCEPT SELECT id FROM verify_entries`, nil, ""},
		{`INSERT INTO verify_entries
			SELECT e.reverses_entry_id FROM verify_entries s CROSS JOIN LATERAL (` + byIndex("journal_entries", "reverses_entry_id", "id", "s.id") + `) e
			WHERE e.reverses_entry_id IS NOT NULL
			UNION SELECT r.id FROM verify_entries s CROSS JOIN LATERAL (` + byIndex("journal_entries", "id", "reverses_entry_id", "s.id") + `) r
			EXCEPT SELECT id FROM verify_entries`, nil, ""},
		{`INSERT INTO verify_deliveries SELECT d.id, d.entry_id FROM batch_deliveries_view d JOIN verify_entries s ON s.id = d.entry_id
			EXCEPT SELECT id, entry_id FROM verify_deliveries`, nil, "verify_deliveries"},
		{`CREATE TEMP TABLE verify_orders ON COMMIT DROP AS
			SELECT e.order_id AS id FROM verify_entries s CROSS JOIN LATERAL (` + byIndex("journal_entries", "order_id", "id", "s.id") + `) e
			WHERE e.order_id IS NOT NULL
			UNION SELECT ol.order_id FROM (SELECT DISTINCT order_line_id FROM verify_new_postings WHERE order_line_id IS NOT NULL) p
			CROSS JOIN LATERAL (` + byIndex("order_lines_view", "order_id", "id", "p.order_line_id") + `) ol`, nil, "verify_orders"},
		// The scope's orders and lines (and below, its entries) with the columns the checks read,
		// copied through the indexes and analysed: the checks join these small tables, not the
		// whole ones (scopeTables are a full run's equivalents).
		{`CREATE TEMP TABLE verify_order_rows ON COMMIT DROP AS
			SELECT o.* FROM verify_orders s CROSS JOIN LATERAL (` + byIndex("orders_view", scopeCols["order_rows"], "id", "s.id") + `) o`, nil, "verify_order_rows"},
		{`CREATE TEMP TABLE verify_lines ON COMMIT DROP AS
			SELECT ol.* FROM verify_orders o CROSS JOIN LATERAL (` + byIndex("order_lines_view", scopeCols["lines"], "order_id", "o.id") + `) ol`, nil, "verify_lines"},
		// Every posting a scoped check can read: those of the scope's entries and of every entry of
		// its orders, and any on its lines (of other entries). Copied once through the indexes, so
		// that no check's plan can start from the whole postings table (with a misestimated filter
		// on journal entries, the planner did: 1.3 million index probes for 3,334 lines).
		{`CREATE TEMP TABLE verify_postings ON COMMIT DROP AS
			SELECT p.* FROM (
			    SELECT id FROM verify_entries
			    UNION SELECT e.id FROM verify_orders o CROSS JOIN LATERAL (` + byIndex("journal_entries", "id", "order_id", "o.id") + `) e
			) s CROSS JOIN LATERAL (` + byIndex("postings", postingCols, "entry_id", "s.id") + `) p`, nil, ""},
		{`INSERT INTO verify_postings
			SELECT p.* FROM verify_lines l CROSS JOIN LATERAL (` + byIndex("postings", postingCols, "order_line_id", "l.id") + `) p
			WHERE NOT EXISTS (SELECT FROM verify_postings v WHERE v.entry_id = p.entry_id)`, nil, ""},
		{`CREATE INDEX ON verify_postings (entry_id)`, nil, ""},
		{`CREATE INDEX ON verify_postings (order_line_id)`, nil, "verify_postings"},
		// The entries of the scope and of those postings, with their effective kind and whether
		// something reverses them.
		{`CREATE TEMP TABLE verify_entry_rows ON COMMIT DROP AS
			SELECT e.id, e.order_id, e.kind, ` + effectiveKindSQL + ` AS effective, r.id IS NOT NULL AS reversed
			FROM (SELECT id FROM verify_entries UNION SELECT entry_id FROM verify_postings) s
			CROSS JOIN LATERAL (` + byIndex("journal_entries", "id, order_id, kind, reverses_entry_id", "id", "s.id") + `) e
			LEFT JOIN LATERAL (` + byIndex("journal_entries", "kind", "id", "e.reverses_entry_id") + `) orig ON true
			LEFT JOIN LATERAL (` + byIndex("journal_entries", "id", "reverses_entry_id", "e.id") + `) r ON true`, nil, "verify_entry_rows"},
	} {
		if err := tx.Exec(step.sql, step.args...).Error; err != nil {
			return err
		}
		if step.analyse != "" {
			if err := tx.Exec(`ANALYZE ` + step.analyse).Error; err != nil {
				return err
			}
		}
	}
	v.postings = "verify_postings"
	return tx.Raw(`SELECT (SELECT count(*) FROM verify_entries) AS entries, (SELECT count(*) FROM verify_orders) AS orders`).Scan(&v.scope).Error
}

// postingCols are the columns of a posting the checks read (verify_postings has these).
const postingCols = "id, entry_id, account_id, amount_fen, order_line_id"

// byIndex is a subquery of table's rows whose col equals outer, for a LATERAL join from a scope's
// temporary table: OFFSET 0 keeps the planner from flattening it into a join it may plan as a hash
// join over the whole table (it prices the index's random reads at 4 sequential ones, not knowing
// them cached: from about 1/30 of a table, a sequential scan of all of it looks cheaper, and the
// routine run's time would follow the ledger instead of its scope). Kept apart, it is probed
// through col's index once per row of the scope.
func byIndex(table, cols, col, outer string) string {
	return "SELECT " + cols + " FROM " + table + " WHERE " + col + " = " + outer + " OFFSET 0"
}

// scopeCols are the columns of the scope's rows that prepare copies (verify_<name>).
var scopeCols = map[string]string{
	"order_rows": "id, unit_id, status, total_fen",
	"lines":      "id, order_id, line_no, amount_fen, station_id, unit_price_fen, refunded_quantity",
}

// scopeTables are a full run's equivalents of prepare's copies: every row.
var scopeTables = map[string]string{
	"order_rows": "(SELECT " + scopeCols["order_rows"] + " FROM orders_view)",
	"lines":      "(SELECT " + scopeCols["lines"] + " FROM order_lines_view)",
	"entry_rows": `(SELECT e.id, e.order_id, e.kind, ` + effectiveKindSQL + ` AS effective, r.id IS NOT NULL AS reversed
		FROM journal_entries e
		LEFT JOIN journal_entries orig ON orig.id = e.reverses_entry_id
		LEFT JOIN journal_entries r ON r.reverses_entry_id = e.id)`,
}

// from is a FROM item of the rows name stands for: the scope's (prepare's verify_<name>) in a
// routine run, all of them in a full run (scopeTables).
func (v *verifier) from(name string) string {
	if v.full {
		return scopeTables[name]
	}
	return "verify_" + name
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
		LEFT JOIN verify_sums s ON s.account_id = a.id
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
		FROM ` + v.from("entry_rows") + ` e
		LEFT JOIN ` + v.postings + ` p ON p.entry_id = e.id
		WHERE ` + v.in("entries", "e.id") + `
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
		    -- The bank is one account: the owners its rows had before the bank shards were folded
		    -- into its slots do not split it.
		    SELECT a.kind, CASE WHEN a.kind = 'bank' THEN NULL ELSE a.owner_id END AS owner, p.order_line_id
		    FROM ` + v.postings + ` p JOIN ledger_accounts a ON a.id = p.account_id
		    WHERE p.entry_id IN (r.id, r.reverses_entry_id)
		    GROUP BY 1, 2, 3
		    HAVING sum(p.amount_fen) <> 0
		) d ON true
		WHERE r.reverses_entry_id IS NOT NULL AND ` + v.in("entries", "r.id") + `
		GROUP BY r.id, r.reverses_entry_id
		ORDER BY r.id`).Scan(&rows).Error
	for _, r := range rows {
		v.report("reversal %s of entry %s: expected to negate every posting, %d (account, line) pairs do not net to 0",
			r.ID, r.Reverses, r.Groups)
	}
	return err
}

// effectiveKindSQL is the kind an entry counts as: its own, or for a reversal the kind of the
// entry it reverses (a reversed refund gives the refund back).
const effectiveKindSQL = `coalesce(orig.kind, e.kind)`

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
		Credits     int64
		Refunds     int64
	}
	// Entry by entry first, then per order: each entry is looked up once, with its order's unit,
	// not once per posting.
	err := tx.Raw(`
		WITH lines AS (
		    SELECT order_id, sum(amount_fen) AS total, count(DISTINCT station_id) AS shipments
		    FROM ` + v.from("lines") + ` ol
		    GROUP BY order_id
		), entries AS (
		    SELECT e.id, e.order_id, e.kind, e.effective, e.reversed, o.unit_id
		    FROM ` + v.from("entry_rows") + ` e
		    JOIN ` + v.from("order_rows") + ` o ON o.id = e.order_id
		    WHERE e.effective IN ('sale', 'refund')
		), legs AS (
		    SELECT en.id, en.order_id, en.kind, en.effective, en.reversed,
		           coalesce(sum(p.amount_fen) FILTER (WHERE a.kind = 'unit_receivable' AND a.owner_id = en.unit_id), 0) AS unit_debit,
		           coalesce(-sum(p.amount_fen) FILTER (WHERE a.kind = 'unit_receivable'), 0) AS unit_credit,
		           coalesce(-sum(p.amount_fen) FILTER (WHERE a.kind IN ('household_income', 'station_commission', 'station_sales')), 0) AS credits
		    FROM entries en
		    JOIN ` + v.postings + ` p ON p.entry_id = en.id
		    JOIN ledger_accounts a ON a.id = p.account_id
		    GROUP BY en.id, en.order_id, en.kind, en.effective, en.reversed
		), per_order AS (
		    SELECT order_id,
		           count(*) FILTER (WHERE kind = 'sale') AS entries,
		           count(*) FILTER (WHERE kind = 'sale' AND reversed) AS reversed,
		           sum(unit_debit) FILTER (WHERE kind = 'sale') AS unit_debit,
		           sum(credits) AS credits,
		           coalesce(sum(unit_credit) FILTER (WHERE effective = 'refund'), 0) AS refunds
		    FROM legs GROUP BY order_id
		)
		SELECT o.id, o.status, o.total_fen, coalesce(l.total, 0) AS lines_fen, coalesce(l.shipments, 0) AS shipments,
		       coalesce(s.entries, 0) AS sale_entries, coalesce(s.reversed, 0) AS reversed,
		       coalesce(s.unit_debit, 0) AS unit_debit, coalesce(s.credits, 0) AS credits,
		       coalesce(s.refunds, 0) AS refunds
		FROM ` + v.from("order_rows") + ` o
		LEFT JOIN lines l ON l.order_id = o.id
		LEFT JOIN per_order s ON s.order_id = o.id
		WHERE (o.status = 'completed' AND (coalesce(s.entries, 0) <> coalesce(l.shipments, 0) OR s.reversed > 0
		        OR s.unit_debit <> o.total_fen OR coalesce(l.total, 0) <> o.total_fen
		        OR coalesce(s.credits, 0) <> o.total_fen - coalesce(s.refunds, 0)))
		   OR (o.status NOT IN ('completed', 'paid', 'shipped') AND coalesce(s.credits, 0) <> 0)
		ORDER BY o.id`).Scan(&rows).Error
	for _, r := range rows {
		switch {
		case r.Status != "completed":
			v.report("order %s (%s): expected no attributed income before completion, found %s in %d sale entries",
				r.ID, r.Status, fen(r.Credits), r.SaleEntries)
		case r.SaleEntries != r.Shipments:
			v.report("order %s (completed): expected %d sale entries (one per station shipment), found %d", r.ID, r.Shipments, r.SaleEntries)
		case r.Reversed > 0:
			v.report("order %s (completed): its sale entry is reversed, so no income is attributed", r.ID)
		default:
			v.report("order %s (completed): expected total %s = order lines = unit debit, and household income + commission "+
				"= total - refunds (%s); found order lines %s, unit debit %s, income + commission %s",
				r.ID, fen(r.TotalFen), fen(r.Refunds), fen(r.LinesFen), fen(r.UnitDebit), fen(r.Credits))
		}
	}
	return err
}

func (v *verifier) saleLines(tx *gorm.DB) error {
	var rows []struct {
		OrderID   uuid.UUID
		ID        uuid.UUID
		AmountFen int64
		Refunds   int64
		Credits   int64
	}
	err := tx.Raw(`
		SELECT ol.order_id, ol.id, ol.amount_fen, coalesce(c.refunds, 0) AS refunds, coalesce(c.credits, 0) AS credits
		FROM ` + v.from("lines") + ` ol
		JOIN ` + v.from("order_rows") + ` o ON o.id = ol.order_id AND o.status = 'completed'
		LEFT JOIN (
		    SELECT p.order_line_id,
		           coalesce(-sum(p.amount_fen) FILTER (WHERE a.kind IN ('household_income', 'station_commission', 'station_sales')), 0) AS credits,
		           coalesce(-sum(p.amount_fen) FILTER (WHERE a.kind = 'unit_receivable' AND e.effective = 'refund'), 0) AS refunds
		    FROM ` + v.postings + ` p
		    JOIN ` + v.from("entry_rows") + ` e ON e.id = p.entry_id
		    JOIN ledger_accounts a ON a.id = p.account_id
		    WHERE p.order_line_id IS NOT NULL AND e.effective IN ('sale', 'refund') AND ` + v.in("lines", "p.order_line_id") + `
		    GROUP BY p.order_line_id
		) c ON c.order_line_id = ol.id
		WHERE coalesce(c.credits, 0) <> ol.amount_fen - coalesce(c.refunds, 0)
		ORDER BY ol.order_id, ol.line_no`).Scan(&rows).Error
	for _, r := range rows {
		v.report("order %s line %s: expected household income + commission = line %s - refunds %s, found %s",
			r.OrderID, r.ID, fen(r.AmountFen), fen(r.Refunds), fen(r.Credits))
	}
	return err
}

// lineSettlement: what a line made households earn is what the platform owes them for it.
func (v *verifier) lineSettlement(tx *gorm.DB) error {
	var rows []struct {
		OrderLineID uuid.UUID
		Income      int64
		Payable     int64
	}
	err := tx.Raw(`
		SELECT p.order_line_id,
		       coalesce(-sum(p.amount_fen) FILTER (WHERE a.kind = 'household_income'), 0) AS income,
		       coalesce(-sum(p.amount_fen) FILTER (WHERE a.kind = 'household_payable'), 0) AS payable
		FROM ` + v.postings + ` p
		JOIN ledger_accounts a ON a.id = p.account_id AND a.kind IN ('household_income', 'household_payable')
		WHERE p.order_line_id IS NOT NULL AND ` + v.in("lines", "p.order_line_id") + `
		GROUP BY p.order_line_id
		HAVING coalesce(sum(p.amount_fen) FILTER (WHERE a.kind = 'household_income'), 0)
		    <> coalesce(sum(p.amount_fen) FILTER (WHERE a.kind = 'household_payable'), 0)
		ORDER BY 1`).Scan(&rows).Error
	for _, r := range rows {
		v.report("order line %s: expected owed to households = their income %s, found owed %s",
			r.OrderLineID, fen(r.Income), fen(r.Payable))
	}
	return err
}

// passthrough: a cooperative's credit on a line is passed on, in the same entry, in full.
func (v *verifier) passthrough(tx *gorm.DB) error {
	var rows []struct {
		EntryID       uuid.UUID
		OrderLineID   *uuid.UUID
		CooperativeID uuid.UUID
		Kept          int64
	}
	err := tx.Raw(`
		SELECT p.entry_id, p.order_line_id, a.owner_id AS cooperative_id, -sum(p.amount_fen) AS kept
		FROM ` + v.postings + ` p
		JOIN ledger_accounts a ON a.id = p.account_id AND a.kind = 'cooperative_passthrough'
		WHERE ` + v.in("entries", "p.entry_id") + `
		GROUP BY p.entry_id, p.order_line_id, a.owner_id
		HAVING sum(p.amount_fen) <> 0
		ORDER BY 1, 2`).Scan(&rows).Error
	for _, r := range rows {
		v.report("entry %s line %v: cooperative %s kept %s instead of passing it to its members",
			r.EntryID, r.OrderLineID, r.CooperativeID, fen(r.Kept))
	}
	return err
}

// memorandum: each household's attributed total mirrors its business, wage and property income.
func (v *verifier) memorandum(tx *gorm.DB) error {
	var rows []struct {
		OwnerID    uuid.UUID
		Attributed int64
		Income     int64
	}
	err := tx.Raw(`
		SELECT a.owner_id,
		       coalesce(sum(s.total) FILTER (WHERE a.kind = 'household_attributed'), 0) AS attributed,
		       coalesce(-sum(s.total) FILTER (WHERE a.kind <> 'household_attributed'), 0) AS income
		FROM verify_sums s
		JOIN ledger_accounts a ON a.id = s.account_id
		WHERE a.kind IN ('household_attributed', 'household_income', 'household_wage_income', 'household_property_income')
		GROUP BY a.owner_id
		HAVING sum(s.total) <> 0
		ORDER BY a.owner_id`).Scan(&rows).Error
	for _, r := range rows {
		v.report("household %s: expected attributed %s = business + wage + property income, found income %s",
			r.OwnerID, fen(r.Attributed), fen(r.Income))
	}
	return err
}

// payables: no payout paid a household more than it was owed at the time: the running balance of
// its payable account, in entry order (UUIDv7 ids follow time), is not in debit just after a payout.
// A refund after a payout may leave a household owing money back; that is not a payout's fault.
func (v *verifier) payables(tx *gorm.DB) error {
	var rows []struct {
		OwnerID uuid.UUID
		EntryID uuid.UUID
		Running int64
	}
	// A routine run starts each household from its payable in the checkpoint and runs over the
	// postings since, in entry order (a posting since with an id older than one the checkpoint saw
	// is taken after it: the payable's row lock orders a payout after whatever it saw).
	postings, start := "postings", "0"
	if !v.full {
		postings = "verify_new_postings"
		// The household's payable in the checkpoint is the sum of its slots (00520), each
		// posted to since or not.
		start = `coalesce((SELECT sum(cb.balance_fen) FROM ledger_checkpoint_balances cb
		           JOIN ledger_accounts ca ON ca.id = cb.account_id AND ca.kind = 'household_payable' AND ca.owner_id = a.owner_id
		           WHERE cb.checkpoint_id = ` + strconv.FormatInt(v.cp.ID, 10) + `), 0)`
	}
	err := tx.Raw(`
		SELECT owner_id, entry_id, running FROM (
		    SELECT a.owner_id, p.entry_id, e.kind,
		           ` + start + ` + sum(p.amount_fen) OVER (PARTITION BY a.owner_id ORDER BY p.entry_id, p.id) AS running
		    FROM ` + postings + ` p
		    JOIN ledger_accounts a ON a.id = p.account_id AND a.kind = 'household_payable'
		    JOIN journal_entries e ON e.id = p.entry_id
		) x
		WHERE kind = 'payout' AND running > 0
		ORDER BY owner_id, entry_id`).Scan(&rows).Error
	for _, r := range rows {
		v.report("household %s: payout entry %s paid out %s more than it was owed", r.OwnerID, r.EntryID, fen(r.Running))
	}
	return err
}

func (v *verifier) payouts(tx *gorm.DB) error {
	var rows []struct {
		ID        uuid.UUID
		AmountFen int64
		Debited   int64
	}
	err := tx.Raw(`
		SELECT po.id, po.amount_fen, coalesce(sum(p.amount_fen), 0) AS debited
		FROM payouts po
		LEFT JOIN ` + v.postings + ` p ON p.entry_id = po.entry_id
		LEFT JOIN ledger_accounts a ON a.id = p.account_id
		WHERE (a.id IS NULL OR (a.kind = 'household_payable' AND a.owner_id = po.household_id)) AND ` + v.in("entries", "po.entry_id") + `
		GROUP BY po.id, po.amount_fen
		HAVING coalesce(sum(p.amount_fen), 0) <> po.amount_fen
		   OR EXISTS (SELECT 1 FROM journal_entries r WHERE r.reverses_entry_id = po.entry_id)
		ORDER BY po.id`).Scan(&rows).Error
	for _, r := range rows {
		v.report("payout %s: expected its entry to debit the household's payable with %s, found %s (or it is reversed)",
			r.ID, fen(r.AmountFen), fen(r.Debited))
	}
	return err
}

func (v *verifier) wages(tx *gorm.DB) error {
	var rows []struct {
		ID       uuid.UUID
		PayFen   int64
		Credited int64
	}
	err := tx.Raw(`
		SELECT w.id, w.pay_fen, coalesce(-sum(p.amount_fen) FILTER (
		           WHERE a.kind = 'household_wage_income' AND a.owner_id = w.household_id), 0) AS credited
		FROM work_records w
		LEFT JOIN ` + v.postings + ` p ON p.entry_id = w.entry_id
		LEFT JOIN ledger_accounts a ON a.id = p.account_id
		WHERE ` + v.in("entries", "w.entry_id") + `
		GROUP BY w.id, w.pay_fen
		HAVING coalesce(-sum(p.amount_fen) FILTER (
		           WHERE a.kind = 'household_wage_income' AND a.owner_id = w.household_id), 0) <> w.pay_fen
		ORDER BY w.id`).Scan(&rows).Error
	for _, r := range rows {
		v.report("work record %s: expected wage income %s, found %s", r.ID, fen(r.PayFen), fen(r.Credited))
	}
	return err
}

// dividends: each dividend row's entry credits its household's property income with its amount and
// is not reversed; each dividend entry belongs to a row.
func (v *verifier) dividends(tx *gorm.DB) error {
	var rows []struct {
		ID        uuid.UUID
		AmountFen int64
		Credited  int64
	}
	err := tx.Raw(`
		SELECT d.id, d.amount_fen, coalesce(-sum(p.amount_fen) FILTER (
		           WHERE a.kind = 'household_property_income' AND a.owner_id = d.household_id), 0) AS credited
		FROM dividends d
		LEFT JOIN journal_entries e ON e.id = d.entry_id AND e.kind = 'dividend'
		LEFT JOIN ` + v.postings + ` p ON p.entry_id = e.id
		LEFT JOIN ledger_accounts a ON a.id = p.account_id
		WHERE ` + v.in("entries", "d.entry_id") + `
		GROUP BY d.id, d.amount_fen, d.entry_id
		HAVING coalesce(-sum(p.amount_fen) FILTER (
		           WHERE a.kind = 'household_property_income' AND a.owner_id = d.household_id), 0) <> d.amount_fen
		    OR EXISTS (SELECT 1 FROM journal_entries r WHERE r.reverses_entry_id = d.entry_id)
		ORDER BY d.id`).Scan(&rows).Error
	if err != nil {
		return err
	}
	for _, r := range rows {
		v.report("dividend %s: expected its entry to credit property income with %s, found %s (or it is reversed)",
			r.ID, fen(r.AmountFen), fen(r.Credited))
	}
	var orphans []uuid.UUID
	err = tx.Raw(`SELECT e.id FROM ` + v.from("entry_rows") + ` e WHERE e.kind = 'dividend' AND ` + v.in("entries", "e.id") + `
		AND NOT EXISTS (SELECT 1 FROM dividends d WHERE d.entry_id = e.id) ORDER BY e.id`).Scan(&orphans).Error
	for _, id := range orphans {
		v.report("dividend entry %s: no dividend row records it", id)
	}
	return err
}

func (v *verifier) payments(tx *gorm.DB) error {
	var rows []struct {
		OrderID  uuid.UUID
		Paid     *int64
		Entries  int
		Reversed int
		Returned bool
		Bank     int64
	}
	err := tx.Raw(`
		WITH pe AS (
		    SELECT e.order_id,
		           count(DISTINCT e.id) AS entries,
		           count(DISTINCT r.id) AS reversed,
		           coalesce(sum(p.amount_fen) FILTER (WHERE a.kind = 'bank'), 0) AS bank
		    FROM journal_entries e
		    JOIN ` + v.postings + ` p ON p.entry_id = e.id
		    JOIN ledger_accounts a ON a.id = p.account_id
		    LEFT JOIN journal_entries r ON r.reverses_entry_id = e.id
		    WHERE e.kind = 'payment' AND e.order_id IS NOT NULL AND ` + v.in("orders", "e.order_id") + `
		    GROUP BY e.order_id
		)
		SELECT coalesce(pay.order_id, pe.order_id) AS order_id, pay.amount_fen AS paid, pay.returned_at IS NOT NULL AS returned,
		       coalesce(pe.entries, 0) AS entries, coalesce(pe.reversed, 0) AS reversed, coalesce(pe.bank, 0) AS bank
		FROM (SELECT * FROM payments_view WHERE ` + v.in("orders", "order_id") + `) AS pay
		FULL JOIN pe ON pe.order_id = pay.order_id
		WHERE pay.order_id IS NULL OR pe.order_id IS NULL
		   OR pe.entries <> 1 OR pe.reversed <> (pay.returned_at IS NOT NULL)::int OR pe.bank <> pay.amount_fen
		ORDER BY 1`).Scan(&rows).Error
	for _, r := range rows {
		switch {
		case r.Paid == nil:
			v.report("order %s: payment entry without a payment row (bank debit %s)", r.OrderID, fen(r.Bank))
		case r.Entries != 1:
			v.report("order %s: expected exactly 1 payment entry for the payment of %s, found %d",
				r.OrderID, fen(*r.Paid), r.Entries)
		case r.Returned && r.Reversed == 0:
			v.report("order %s: the payment of %s was returned but its entry is not reversed", r.OrderID, fen(*r.Paid))
		case !r.Returned && r.Reversed > 0:
			v.report("order %s: the payment entry for the payment of %s is reversed", r.OrderID, fen(*r.Paid))
		default:
			v.report("order %s: expected bank debit %s (the payment), found %s", r.OrderID, fen(*r.Paid), fen(r.Bank))
		}
	}
	return err
}

// paymentReturns: the payment of every cancelled order is owed back to its unit or returned
// (return_due_at set), and no payment of an order that was not cancelled is.
func (v *verifier) paymentReturns(tx *gorm.DB) error {
	var rows []struct {
		OrderID   uuid.UUID
		Status    string
		Due       bool
		AmountFen int64
	}
	err := tx.Raw(`
		SELECT o.id AS order_id, o.status, pay.return_due_at IS NOT NULL AS due, pay.amount_fen
		FROM payments_view pay JOIN orders_view o ON o.id = pay.order_id
		WHERE (o.status = 'cancelled') <> (pay.return_due_at IS NOT NULL) AND ` + v.in("orders", "o.id") + `
		ORDER BY 1`).Scan(&rows).Error
	for _, r := range rows {
		if r.Due {
			v.report("order %s is %s, but its payment of %s is owed back to the unit (only a cancelled order's is)", r.OrderID, r.Status, fen(r.AmountFen))
		} else {
			v.report("order %s is cancelled, but its payment of %s is neither owed back to the unit nor returned", r.OrderID, fen(r.AmountFen))
		}
	}
	return err
}

func (v *verifier) refundPayments(tx *gorm.DB) error {
	var rows []struct {
		Key      string
		Refund   *uuid.UUID
		Amount   *int64
		Entries  int
		Reversed int
		Bank     int64
		Unit     int64
	}
	err := tx.Raw(`
		WITH rp AS (
		    SELECT e.idempotency_key AS key,
		           count(DISTINCT e.id) AS entries,
		           count(DISTINCT r.id) AS reversed,
		           coalesce(-sum(p.amount_fen) FILTER (WHERE a.kind = 'bank'), 0) AS bank,
		           coalesce(sum(p.amount_fen) FILTER (WHERE a.kind = 'unit_receivable' AND a.owner_id = o.unit_id), 0) AS unit
		    FROM journal_entries e
		    JOIN orders_view o ON o.id = e.order_id
		    JOIN ` + v.postings + ` p ON p.entry_id = e.id
		    JOIN ledger_accounts a ON a.id = p.account_id
		    LEFT JOIN journal_entries r ON r.reverses_entry_id = e.id
		    WHERE e.kind = 'refund_payment' AND ` + v.in("orders", "e.order_id") + `
		    GROUP BY e.idempotency_key
		), rf AS (
		    SELECT id, amount_fen, 'refund:' || id || ':payment' AS key FROM refunds_view WHERE return_ref IS NOT NULL AND ` + v.in("orders", "order_id") + `
		)
		SELECT coalesce(rf.key, rp.key) AS key, rf.id AS refund, rf.amount_fen AS amount,
		       coalesce(rp.entries, 0) AS entries, coalesce(rp.reversed, 0) AS reversed,
		       coalesce(rp.bank, 0) AS bank, coalesce(rp.unit, 0) AS unit
		FROM rf FULL JOIN rp ON rp.key = rf.key
		WHERE rf.key IS NULL OR rp.key IS NULL OR rp.entries <> 1 OR rp.reversed <> 0
		   OR rp.bank <> rf.amount_fen OR rp.unit <> rf.amount_fen
		ORDER BY 1`).Scan(&rows).Error
	for _, r := range rows {
		switch {
		case r.Refund == nil:
			v.report("entry %s: a refund payment without a refund paid back (bank credit %s)", r.Key, fen(r.Bank))
		case r.Entries != 1:
			v.report("refund %s: expected exactly 1 refund payment entry for %s paid back, found %d", *r.Refund, fen(*r.Amount), r.Entries)
		case r.Reversed > 0:
			v.report("refund %s: its refund payment entry is reversed", *r.Refund)
		default:
			v.report("refund %s: expected bank credit and unit debit %s (the refund), found %s and %s",
				*r.Refund, fen(*r.Amount), fen(r.Bank), fen(r.Unit))
		}
	}
	return err
}

// staleStatistics are the ledger's tables whose statistics the planner would misjudge: never
// analysed in this database, or changed in more rows since than autovacuum's own threshold for
// analysing (50 + 10 % of the rows; PostgreSQL's autovacuum_analyze_* defaults).
const staleStatistics = `
	SELECT s.relname FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
	WHERE s.schemaname = current_schema() AND s.relname IN ('ledger_accounts', 'postings', 'journal_entries', 'ledger_month_rollups')
	  AND (coalesce(s.last_analyze, s.last_autoanalyze) IS NULL OR s.n_mod_since_analyze > 50 + 0.1 * greatest(c.reltuples, 0))
	ORDER BY 1`

// analyseStale analyses the ledger's tables whose statistics are stale before a run plans its
// checks. Where autovacuum is off or behind (a bulk month, a restored dump), the checks' joins
// were planned from the statistics of a far smaller ledger: a nested loop reading every household
// account once per posting held one routine run for 17 minutes at 57,000 postings, 0.75 s after
// an ANALYZE. Outside the run's transaction, as the BRIN summary above; one that fails only
// costs time, and says so in w.
func analyseStale(ctx context.Context, db *gorm.DB, w io.Writer) {
	var tables []string
	err := db.WithContext(ctx).Raw(staleStatistics).Scan(&tables).Error
	if err == nil && len(tables) > 0 {
		err = db.WithContext(ctx).Exec(`ANALYZE ` + strings.Join(tables, ", ")).Error
	}
	switch {
	case err != nil:
		fmt.Fprintf(w, "note: the ledger's statistics were not refreshed (%v); the run may take longer\n", err)
	case len(tables) > 0:
		fmt.Fprintf(w, "note: analysed %s first: their statistics were stale (is autovacuum on?)\n", strings.Join(tables, ", "))
	}
}
