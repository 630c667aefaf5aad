package civil

import "time"

// ReportDueDay is the day of the next month by which a month's report (月报) is filed; after it the
// month is closed (docs/reports.md).
const ReportDueDay = 10

// Today is the calendar day in China at instant now.
func Today(now time.Time) Date {
	t := now.In(China)
	return Date{Time: time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)}
}

// FirstOpenDay is the first day whose facts may still change on day d: the first of last month
// until its report is due (the ReportDueDay-th), the first of this month after. A closed month's
// report reproduces forever (docs/ledger.md, "History"), so a late fact (a household's change of
// size or status, a wage, a payout) is recorded from the first open day, never backdated into a
// month already filed.
func FirstOpenDay(d Date) Date {
	first := Date{Time: time.Date(d.Year(), d.Month(), 1, 0, 0, 0, 0, time.UTC)}
	if d.Day() <= ReportDueDay {
		return Date{Time: first.AddDate(0, -1, 0)}
	}
	return first
}
