package ledger

import (
	"github.com/google/uuid"
	"gorm.io/gorm"
)

// The checks only a routine run makes (VerifyRoutine): they hold the checkpoint it starts from
// against the ledger, and catch the one omission its scope would not reach.

// checkpointBalances: every account's balance in the checkpoint equals the sum of the postings
// its snapshot saw (all postings now, less those written since). With balances (stored = all
// postings), this catches an old posting changed or added with an old txid, and a checkpoint
// balance changed with its digest recomputed.
func (v *verifier) checkpointBalances(tx *gorm.DB) error {
	var rows []struct {
		ID           uuid.UUID
		Checkpointed int64
		Derived      int64
	}
	err := tx.Raw(`
		SELECT coalesce(cb.account_id, s.account_id) AS id, coalesce(cb.balance_fen, 0) AS checkpointed,
		       coalesce(s.total, 0) - coalesce(n.total, 0) AS derived
		FROM (SELECT account_id, balance_fen FROM ledger_checkpoint_balances WHERE checkpoint_id = ?) cb
		FULL JOIN verify_sums s ON s.account_id = cb.account_id
		LEFT JOIN (SELECT account_id, sum(amount_fen) AS total FROM verify_new_postings GROUP BY account_id) n
		       ON n.account_id = coalesce(cb.account_id, s.account_id)
		WHERE coalesce(cb.balance_fen, 0) <> coalesce(s.total, 0) - coalesce(n.total, 0)
		ORDER BY 1`, v.cp.ID).Scan(&rows).Error
	for _, r := range rows {
		v.report("account %s: checkpoint %d holds %s, the postings its snapshot saw now sum to %s (an old posting or the checkpoint changed)",
			r.ID, v.cp.ID, fen(r.Checkpointed), fen(r.Derived))
	}
	return err
}

// checkpointTotals: the entries and postings the checkpoint's snapshot saw are as many now, and
// their absolute amounts sum to the same (an old row added, removed or changed shows here even
// when the accounts' sums still agree).
func (v *verifier) checkpointTotals(tx *gorm.DB) error {
	var now postingTotals
	err := tx.Raw(`SELECT
		?::bigint - (SELECT count(*) FROM verify_new_entries) AS entries,
		(SELECT coalesce(sum(n), 0) FROM verify_sums) - (SELECT count(*) FROM verify_new_postings) AS postings,
		(SELECT coalesce(sum(abs_fen), 0) FROM verify_sums) - (SELECT coalesce(sum(abs(amount_fen)), 0) FROM verify_new_postings) AS abs_fen`, v.entryCount).
		Scan(&now).Error
	want := postingTotals{Entries: v.cp.Entries, Postings: v.cp.Postings, AbsFen: v.cp.PostingsAbsFen}
	if err == nil && now != want {
		v.report("checkpoint %d: saw %d entries and %d postings of %s in absolute amounts; the ledger now has %d, %d and %s before it",
			v.cp.ID, want.Entries, want.Postings, fen(want.AbsFen), now.Entries, now.Postings, fen(now.AbsFen))
	}
	return err
}

// completedWithoutSale: a completed order has at least one sale entry. The sales check sees only
// orders the new entries touch; an order completed without any entry would touch none.
func (v *verifier) completedWithoutSale(tx *gorm.DB) error {
	var ids []uuid.UUID
	err := tx.Raw(`
		SELECT o.id FROM orders_view o
		WHERE o.status = 'completed' AND o.id NOT IN (SELECT id FROM verify_orders)
		  AND NOT EXISTS (SELECT FROM journal_entries e WHERE e.order_id = o.id AND e.kind = 'sale')
		ORDER BY o.id`).Scan(&ids).Error
	for _, id := range ids {
		v.report("order %s (completed): expected a sale entry per station shipment, found none", id)
	}
	return err
}
