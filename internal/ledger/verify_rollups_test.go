package ledger

import (
	"strings"
	"testing"
)

// The monthly roll-ups follow the postings as they are written, and verify finds them changed:
// a changed amount by every run, an amount moved to another month only by a full one.
func TestVerifyChecksMonthlyRollups(t *testing.T) {
	t.Run("kept by posting", func(t *testing.T) {
		c := newCheckpointed(t)
		c.sell(t, nil, 1000)
		var got struct {
			Rows     int
			Income   int64
			Credits  int64
			Postings int64
		}
		c.w.db.Raw(`SELECT count(*) AS rows, sum(r.amount_fen) AS income, sum(r.sale_credit_fen) AS credits,
			(SELECT sum(p.amount_fen) FROM postings p JOIN ledger_accounts a ON a.id = p.account_id
			 WHERE a.kind = 'household_income' AND a.owner_id = ?) AS postings
			FROM ledger_month_rollups r WHERE r.account_kind = 'household_income' AND r.household_id = ?`,
			c.w.households[0], c.w.households[0]).Scan(&got)
		if got.Rows != 1 || got.Income != got.Postings || got.Income >= 0 || got.Credits != -got.Income {
			t.Errorf("household's roll-ups after two sales: %+v, want one row of its postings' sum, all of it sale credits", got)
		}
	})
	t.Run("an amount changed", func(t *testing.T) {
		c := newCheckpointed(t)
		exec(t, c.w.db, `UPDATE ledger_month_rollups SET amount_fen = amount_fen + 1 WHERE account_kind = 'household_income'`)
		if n, out := runVerify(t, c.w.db, VerifyRoutine); n != 1 || !strings.Contains(out, "monthly roll-ups sum to") {
			t.Errorf("routine run after a roll-up changed: %d\n%s", n, out)
		}
	})
	t.Run("an amount moved to another month", func(t *testing.T) {
		c := newCheckpointed(t)
		exec(t, c.w.db, `UPDATE ledger_month_rollups SET month = (month - interval '1 month')::date WHERE account_kind = 'household_income'`)
		if n, out := runVerify(t, c.w.db, VerifyRoutine); n != 0 {
			t.Errorf("routine run: %d mismatches, want none (it checks totals per household)\n%s", n, out)
		}
		n, out := runVerify(t, c.w.db, Verify)
		if n != 2 || !strings.Contains(out, "stored, but the postings do not give it") || !strings.Contains(out, "given by the postings, but not stored") {
			t.Errorf("full run after a roll-up moved a month: %d\n%s", n, out)
		}
	})
}
