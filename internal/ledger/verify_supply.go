package ledger

import (
	"github.com/google/uuid"
	"gorm.io/gorm"
)

// purchases re-derives the purchase model's entries at delivery (收购, docs/supply.md) from the
// deliveries (supply's batch_deliveries_view): every purchase-model delivery has its purchase entry
// debiting its station's purchases and crediting its household's payable and income with quantity
// × purchase price; every reversal of one has the reversal of that entry; and every purchase entry
// (or its reversal) is named by exactly one delivery. A routine run checks the deliveries and
// purchase entries of its scope (prepare: the deliveries written since and those naming an entry
// of the scope).
func (v *verifier) purchases(tx *gorm.DB) error {
	var rows []struct {
		DeliveryID, EntryID *uuid.UUID
		Kind                *string
		Want                int64
		Income, Purchases   int64
		Named               int
	}
	// legs sums each purchase entry by account before any delivery is joined: a delivery then
	// reads its own household's and station's legs, so an entry two deliveries name is one fault
	// (the entry's count below), not also twice the amounts for each of them.
	err := tx.Raw(`
		WITH legs AS (
		    SELECT e.id, coalesce(orig.kind, e.kind) AS kind, e.reverses_entry_id, a.kind AS account, a.owner_id,
		           sum(p.amount_fen) AS amount
		    FROM journal_entries e
		    LEFT JOIN journal_entries orig ON orig.id = e.reverses_entry_id
		    JOIN ` + v.postings + ` p ON p.entry_id = e.id
		    JOIN ledger_accounts a ON a.id = p.account_id
		    WHERE coalesce(orig.kind, e.kind) = 'purchase' AND ` + v.in("entries", "e.id") + `
		    GROUP BY e.id, orig.kind, e.kind, e.reverses_entry_id, a.kind, a.owner_id
		), delivered AS (
		    SELECT d.id AS delivery_id, l.id AS entry_id, l.kind, d.quantity * d.unit_cost_fen AS want,
		           coalesce(-sum(l.amount) FILTER (WHERE l.account = 'household_income' AND l.owner_id = d.household_id), 0) AS income,
		           coalesce(sum(l.amount) FILTER (WHERE l.account = 'station_purchases' AND l.owner_id = d.station_id), 0) AS purchases,
		           (d.reverses IS NULL) <> (l.reverses_entry_id IS NULL)
		               OR (d.reverses IS NOT NULL AND l.reverses_entry_id IS DISTINCT FROM o.entry_id) AS misreversed
		    FROM batch_deliveries_view d
		    LEFT JOIN legs l ON l.id = d.entry_id
		    LEFT JOIN batch_deliveries_view o ON o.id = d.reverses
		    WHERE d.unit_cost_fen IS NOT NULL AND ` + v.in("deliveries", "d.id") + `
		    GROUP BY d.id, d.quantity, d.unit_cost_fen, d.reverses, l.id, l.kind, l.reverses_entry_id, o.entry_id
		)
		SELECT delivery_id, entry_id, kind, want, income, purchases, 1 AS named
		FROM delivered
		WHERE entry_id IS NULL OR income <> want OR purchases <> want OR misreversed
		UNION ALL
		SELECT NULL, l.id, l.kind, 0, 0, 0, count(d.id)
		FROM (SELECT DISTINCT id, kind FROM legs) l LEFT JOIN batch_deliveries_view d ON d.entry_id = l.id
		GROUP BY l.id, l.kind
		HAVING count(d.id) <> 1
		ORDER BY 1, 2`).Scan(&rows).Error
	for _, r := range rows {
		switch {
		case r.DeliveryID == nil:
			v.report("purchase entry %s: expected to be named by exactly one delivery, is by %d (a purchase no delivery paid for)", *r.EntryID, r.Named)
		case r.EntryID == nil:
			v.report("delivery %s: expected its purchase entry of %s, found none", *r.DeliveryID, fen(r.Want))
		default:
			v.report("delivery %s: expected its purchase entry %s to credit the household's income and debit the station's purchases %s "+
				"(negated for a reversal, which reverses the delivery's entry), found income %s, purchases %s",
				*r.DeliveryID, *r.EntryID, fen(r.Want), fen(r.Income), fen(r.Purchases))
		}
	}
	return err
}

// supplyLines re-derives what the sale of a line fixed by deliveries at shipment may credit (supply's
// order_line_settlements_view and order_line_deliveries_view): a purchase-model line's sale credits
// no household (the station, station_sales), and its rebate entry credits the delivering
// households exactly floor(max(margin, 0) × rebate_bp / 10000), the margin being the station's
// sale credit on the line less the line's cost (LineRebate), and debits the station's sales with
// it; a consignment line's sale credits only the households that delivered into its batches. A
// routine run checks the lines of its scope (every line a posting since touches is in it).
func (v *verifier) supplyLines(tx *gorm.DB) error {
	var rows []struct {
		OrderLineID                    uuid.UUID
		Settlement                     string
		SaleIncome, Net, Want, Rebated int64
		StationDebit, Strangers        int64
	}
	err := tx.Raw(`
		WITH legs AS (
		    SELECT p.order_line_id, e.kind, a.kind AS account, a.owner_id, sum(p.amount_fen) AS amount
		    FROM ` + v.postings + ` p
		    JOIN journal_entries e ON e.id = p.entry_id AND e.kind IN ('sale', 'rebate')
		    JOIN ledger_accounts a ON a.id = p.account_id
		    JOIN order_line_settlements_view f ON f.order_line_id = p.order_line_id
		    WHERE ` + v.in("lines", "p.order_line_id") + `
		    GROUP BY 1, 2, 3, 4
		), per_line AS (
		    SELECT f.order_line_id, f.settlement, f.cost_fen, f.rebate_bp,
		           count(l.order_line_id) AS legs,
		           coalesce(-sum(l.amount) FILTER (WHERE l.kind = 'sale' AND l.account = 'household_income'), 0) AS sale_income,
		           coalesce(-sum(l.amount) FILTER (WHERE l.kind = 'sale' AND l.account = 'station_sales'), 0) AS net,
		           coalesce(-sum(l.amount) FILTER (WHERE l.kind = 'rebate' AND l.account = 'household_income'), 0) AS rebated,
		           coalesce(sum(l.amount) FILTER (WHERE l.kind = 'rebate' AND l.account = 'station_sales'), 0) AS station_debit,
		           count(*) FILTER (WHERE l.account = 'household_income' AND NOT EXISTS (
		               SELECT 1 FROM order_line_deliveries_view d WHERE d.order_line_id = f.order_line_id AND d.household_id = l.owner_id)) AS strangers
		    FROM order_line_settlements_view f
		    LEFT JOIN legs l ON l.order_line_id = f.order_line_id
		    WHERE ` + v.in("lines", "f.order_line_id") + `
		    GROUP BY f.order_line_id, f.settlement, f.cost_fen, f.rebate_bp
		)
		SELECT order_line_id, settlement, sale_income, net, rebated, station_debit, strangers,
		       CASE WHEN settlement = 'purchase' AND net > cost_fen THEN CAST((net - cost_fen) * rebate_bp AS bigint) / 10000 ELSE 0 END AS want
		FROM per_line
		WHERE legs > 0 AND (strangers > 0
		   OR (settlement = 'purchase' AND (sale_income <> 0 OR rebated <> station_debit
		       OR rebated <> CASE WHEN net > cost_fen THEN CAST((net - cost_fen) * rebate_bp AS bigint) / 10000 ELSE 0 END)))
		ORDER BY 1`).Scan(&rows).Error
	for _, r := range rows {
		switch {
		case r.Strangers > 0:
			v.report("order line %s (%s): %d income credits to households that delivered nothing into its batches", r.OrderLineID, r.Settlement, r.Strangers)
		default:
			v.report("order line %s (purchase): expected its sale to credit the station %s and no household (found %s), and a rebate of %s "+
				"debited to the station; found rebate %s, station debited %s",
				r.OrderLineID, fen(r.Net), fen(r.SaleIncome), fen(r.Want), fen(r.Rebated), fen(r.StationDebit))
		}
	}
	return err
}
