// Package civil holds a calendar date without time or zone (a harvest day, a birth date), stored
// as SQL `date` and written as "YYYY-MM-DD" in JSON.
package civil

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/fupinmarket/fupin/internal/platform/text"
)

// Date is a calendar day; the zero value is the zero time's day.
type Date struct{ time.Time }

// Start is the instant day d begins in China (00:00 China Standard Time), in UTC: facts dated by a
// China day (a wage, a dividend, a delivery) are posted then, so that they count in that day's month.
func (d Date) Start() time.Time {
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, China).UTC()
}

// DateError is why a text is no date, worded as a field's reason a person can act on (a 422's
// errors[].reason): the same words for every date field of the API.
type DateError struct{ reason string }

func (e *DateError) Error() string { return e.reason }

// FieldReason is the reason as a field error gives it (httpx uses it as it is).
func (e *DateError) FieldReason() string { return e.reason }

// ParseDate reads a day, "YYYY-MM-DD" (RFC 3339 full-date, the API's `format: date`). Errors are
// *DateError: "must be a real day as YYYY-MM-DD, such as 2026-12-06" for any other form
// (2026-2-1, 2026/02/01, a date-time); the same words saying which part is wrong for a well-formed
// day that does not exist (2026-02-29, 2026-11-31, month 13); and saying so for full-width digits
// or blanks around the day. These are not folded, unlike codes: the API's document says
// `format: date`, which clients (and the contract test) hold requests to. time.Parse's own errors
// name Go's reference layout and parser internals.
func ParseDate(s string) (Date, error) {
	if folded := text.ASCII(s); folded != s {
		if _, err := ParseDate(folded); err == nil {
			return Date{}, &DateError{fmt.Sprintf("must be a real day as YYYY-MM-DD in ASCII digits without blanks around it, such as %s", folded)}
		}
	}
	if len(s) != 10 || s[4] != '-' || s[7] != '-' || strings.Trim(s[:4]+s[5:7]+s[8:], "0123456789") != "" {
		return Date{}, &DateError{"must be a real day as YYYY-MM-DD, such as 2026-12-06"}
	}
	y, _ := strconv.Atoi(s[:4])
	m, _ := strconv.Atoi(s[5:7])
	d, _ := strconv.Atoi(s[8:])
	if m < 1 || m > 12 {
		return Date{}, &DateError{fmt.Sprintf("must be a real day as YYYY-MM-DD: %s has no month %02d (months run 01 to 12)", s, m)}
	}
	days := time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day()
	if d < 1 || d > days {
		return Date{}, &DateError{fmt.Sprintf("must be a real day as YYYY-MM-DD: %04d-%02d has days 01 to %d, not %02d", y, m, days, d)}
	}
	return Date{time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)}, nil
}

// String is "YYYY-MM-DD".
func (d Date) String() string { return d.Format(time.DateOnly) }

// MarshalJSON writes "YYYY-MM-DD".
func (d Date) MarshalJSON() ([]byte, error) { return []byte(`"` + d.String() + `"`), nil }

// UnmarshalJSON reads "YYYY-MM-DD".
func (d *Date) UnmarshalJSON(b []byte) error {
	var s string
	if len(b) < 2 || b[0] != '"' || json.Unmarshal(b, &s) != nil {
		return &DateError{"must be a real day as a string YYYY-MM-DD, such as 2026-12-06"}
	}
	v, err := ParseDate(s)
	*d = v
	return err
}

// Value stores the day.
func (d Date) Value() (driver.Value, error) { return d.String(), nil }

// Scan reads a SQL date.
func (d *Date) Scan(src any) error {
	switch v := src.(type) {
	case time.Time:
		d.Time = time.Date(v.Year(), v.Month(), v.Day(), 0, 0, 0, 0, time.UTC)
		return nil
	case string:
		p, err := ParseDate(v[:min(len(v), 10)])
		*d = p
		return err
	case []byte:
		return d.Scan(string(v))
	}
	return fmt.Errorf("civil: cannot scan %T into a Date", src)
}
