package report

import (
	"context"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/auth"
)

// MonthIncome is one household's income attributed by the ledger in a month (China Standard
// Time): business (经营性: sales net of refunds, purchases and rebates), wage (工资性) and property
// (财产性: dividends), in fen, and their total; the kinds of 国家统计局's household survey, as in
// HouseholdIncome.
type MonthIncome struct {
	HouseholdID uuid.UUID `json:"household_id"`
	VillageCode string    `json:"village_code"`
	BusinessFen int64     `json:"business_fen"`
	WageFen     int64     `json:"wage_fen"`
	PropertyFen int64     `json:"property_fen"`
	TotalFen    int64     `json:"total_fen"`
}

// MonthIncomes is the month's income of every household of a scope that had any: one answer for a
// page listing a station's or a village's households (the console asked once per household).
type MonthIncomes struct {
	Month      string        `json:"month"`
	Households []MonthIncome `json:"households"`
	Truncated  bool          `json:"truncated"`
}

const monthIncomesSQL = `
SELECT h.id AS household_id, h.village_code,
       coalesce(-sum(p.amount_fen) FILTER (WHERE a.kind = 'household_income'), 0) AS business_fen,
       coalesce(-sum(p.amount_fen) FILTER (WHERE a.kind = 'household_wage_income'), 0) AS wage_fen,
       coalesce(-sum(p.amount_fen) FILTER (WHERE a.kind = 'household_property_income'), 0) AS property_fen
FROM households h
JOIN ledger_accounts a ON a.owner_id = h.id AND a.kind IN ('household_income', 'household_wage_income', 'household_property_income')
JOIN postings p ON p.account_id = a.id
JOIN journal_entries e ON e.id = p.entry_id
WHERE e.occurred_at >= ? AND e.occurred_at < ? AND h.village_code LIKE ? AND `

// MonthIncomesOf returns the income in month of each household within p's villages whose village
// code starts with villagePrefix ("" for all) and that had income that month, in id order, at most
// limit (1..5000; 0 means 1000; Truncated when more had). A household absent from the answer had
// none. Errors: Invalid naming village_code (not digits, or longer than 12).
func (s *Service) MonthIncomesOf(ctx context.Context, p auth.Principal, month Month, villagePrefix string, limit int) (MonthIncomes, error) {
	if len(villagePrefix) > 12 || (villagePrefix != "" && !digits(villagePrefix)) {
		return MonthIncomes{}, apperr.Invalid(apperr.Field("village_code", "must be a region code (digits, at most 12) or a prefix of one"))
	}
	if limit <= 0 {
		limit = 1000
	}
	out := MonthIncomes{Month: month.String(), Households: []MonthIncome{}}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		scope, args := scopeSQL(p)
		args = append([]any{month.Start(), month.Next().Start(), villagePrefix + "%"}, args...)
		var rows []MonthIncome
		if err := tx.Raw(monthIncomesSQL+scope+` GROUP BY h.id, h.village_code ORDER BY h.id LIMIT ?`,
			append(args, limit+1)...).Scan(&rows).Error; err != nil {
			return apperr.DB(err, "income")
		}
		if len(rows) > limit {
			rows, out.Truncated = rows[:limit], true
		}
		for i := range rows {
			rows[i].TotalFen = rows[i].BusinessFen + rows[i].WageFen + rows[i].PropertyFen
		}
		out.Households = append(out.Households, rows...)
		return nil
	})
	return out, err
}
