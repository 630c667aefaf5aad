// Package report answers the county office's questions from the ledger and the register: each
// household's income by month and year against the poverty and monitoring lines, the households
// still below a line by village, and the monthly report (月报) per county, township and village
// with its exports (JSON, CSV, XLSX) and an HTML view.
//
// Months and years are cut in China Standard Time (Asia/Shanghai, UTC+8 without daylight saving):
// an entry at 2024-05-31 17:00 UTC belongs to June. Income is what the ledger attributed: business
// income (经营性收入, sales net of refunds), wage income (工资性收入, station work) and property
// income (财产性收入, dividends of cooperatives and village collectives), by the time
// of their entries (a refund lowers the month it happens in). Per-capita income is income divided
// by the household size (家庭人口) in force at the end of the period (household_history), rounded to
// the nearest fen. Authorization is in the queries: a station operator sees only its villages.
package report

import (
	"database/sql"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/civil"
)

// Service reads reports.
type Service struct {
	db  *gorm.DB
	now func() time.Time
}

// NewService returns a report Service over db.
func NewService(db *gorm.DB) *Service {
	return &Service{db: db, now: time.Now}
}

// Month is a calendar month in China Standard Time.
type Month struct {
	Year  int
	Month time.Month
}

// Start is the first instant of the month (civil.China).
func (m Month) Start() time.Time { return time.Date(m.Year, m.Month, 1, 0, 0, 0, 0, civil.China) }

// Next is the month after m.
func (m Month) Next() Month { return MonthOf(m.Start().AddDate(0, 1, 0)) }

// String is "YYYY-MM".
func (m Month) String() string { return m.Start().Format("2006-01") }

// MonthOf is the CST month of t.
func MonthOf(t time.Time) Month {
	t = t.In(civil.China)
	return Month{t.Year(), t.Month()}
}

// ParseMonth reads "YYYY-MM".
func ParseMonth(s string) (Month, bool) {
	t, err := time.ParseInLocation("2006-01", s, civil.China)
	if err != nil || t.Year() < 2010 || t.Year() > 2100 {
		return Month{}, false
	}
	return MonthOf(t), true
}

// scopeSQL narrows households aliased h to what p may see; it returns the clause and its args.
func scopeSQL(p auth.Principal) (string, []any) {
	switch p.Role {
	case auth.RoleAdmin:
		return "true", nil
	case auth.RoleStation:
		return "h.village_code IN (SELECT village_code FROM station_villages WHERE station_id = ?)", []any{p.StationID}
	}
	return "false", nil
}

// perCapita divides income by members, rounding half away from zero to the fen.
func perCapita(income int64, members int) int64 {
	if members <= 0 {
		return 0
	}
	m := int64(members)
	if income >= 0 {
		return (2*income + m) / (2 * m)
	}
	return -((-2*income + m) / (2 * m))
}

// readOnly runs a report in one repeatable-read snapshot, so its figures agree with each other.
var readOnly = &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
