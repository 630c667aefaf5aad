package ledger

import (
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// rollups checks the monthly roll-ups the monthly report reads (ledger_month_rollups, 00311, kept
// by a trigger as postings are written). Every run: each household's roll-ups of an income kind
// sum to its account's postings (verify_sums: a stored balance off is balances' mismatch, not
// this one's), so a changed or missing roll-up amount shows. A full run also re-derives every roll-up row from the postings
// (ledger_rollup_source, the trigger's own definition) and reports each row stored but not
// derived, or derived but not stored: an amount moved between months, villages, products or units
// of one household, or a changed quantity, shows only there.
func (v *verifier) rollups(tx *gorm.DB) error {
	var totals []struct {
		Kind        string
		HouseholdID uuid.UUID
		Postings    int64
		RolledUp    int64
	}
	err := tx.Raw(`
		WITH b AS (
		    SELECT a.kind, a.owner_id, sum(s.total) AS balance FROM ledger_accounts a JOIN verify_sums s ON s.account_id = a.id
		    WHERE a.kind IN ('household_income', 'household_wage_income', 'household_property_income') GROUP BY 1, 2
		), r AS (
		    SELECT account_kind, household_id, sum(amount_fen) AS total FROM ledger_month_rollups
		    WHERE account_kind IN ('household_income', 'household_wage_income', 'household_property_income') GROUP BY 1, 2
		)
		SELECT coalesce(b.kind, r.account_kind) AS kind, coalesce(b.owner_id, r.household_id) AS household_id,
		       coalesce(b.balance, 0) AS postings, coalesce(r.total, 0) AS rolled_up
		FROM b FULL JOIN r ON r.account_kind = b.kind AND r.household_id = b.owner_id
		WHERE coalesce(b.balance, 0) <> coalesce(r.total, 0)
		ORDER BY 2, 1`).Scan(&totals).Error
	if err != nil {
		return err
	}
	for _, r := range totals {
		v.report("household %s, %s: monthly roll-ups sum to %s, its postings to %s",
			r.HouseholdID, r.Kind, fen(r.RolledUp), fen(r.Postings))
	}
	if !v.full {
		return nil
	}
	var rows []struct {
		Side          string
		Month         time.Time
		AccountKind   string
		HouseholdID   *uuid.UUID
		VillageCode   *string
		ProductID     *uuid.UUID
		UnitID        *uuid.UUID
		AmountFen     int64
		Quantity      int64
		SaleCreditFen int64
	}
	err = tx.Raw(`
		WITH d AS (
		    SELECT month, account_kind, household_id, village_code, product_id, origin_code, unit_id,
		           sum(amount_fen)::bigint AS amount_fen, sum(quantity)::bigint AS quantity, sum(sale_credit_fen)::bigint AS sale_credit_fen
		    FROM ledger_rollup_source GROUP BY 1, 2, 3, 4, 5, 6, 7
		), s AS (
		    SELECT month, account_kind, household_id, village_code, product_id, origin_code, unit_id, amount_fen, quantity, sale_credit_fen
		    FROM ledger_month_rollups
		)
		SELECT 'stored' AS side, * FROM (SELECT * FROM s EXCEPT SELECT * FROM d) x
		UNION ALL
		SELECT 'derived' AS side, * FROM (SELECT * FROM d EXCEPT SELECT * FROM s) y
		ORDER BY 2, 3, 4, 5, 6, 8, 1`).Scan(&rows).Error
	for _, r := range rows {
		what := "stored, but the postings do not give it"
		if r.Side == "derived" {
			what = "given by the postings, but not stored"
		}
		v.report("monthly roll-up %s %s (household %s, village %s, product %s, unit %s): amount %s, quantity %d, sale credits %s %s",
			r.Month.Format("2006-01"), r.AccountKind, orDash(r.HouseholdID), orDashS(r.VillageCode), orDash(r.ProductID), orDash(r.UnitID),
			fen(r.AmountFen), r.Quantity, fen(r.SaleCreditFen), what)
	}
	return err
}

func orDash(id *uuid.UUID) string {
	if id == nil {
		return "-"
	}
	return id.String()
}

func orDashS(s *string) string {
	if s == nil {
		return "-"
	}
	return *s
}
