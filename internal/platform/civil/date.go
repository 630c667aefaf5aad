// Package civil holds a calendar date without time or zone (a harvest day, a birth date), stored
// as SQL `date` and written as "YYYY-MM-DD" in JSON.
package civil

import (
	"database/sql/driver"
	"fmt"
	"time"
)

// Date is a calendar day; the zero value is the zero time's day.
type Date struct{ time.Time }

// Start is the instant day d begins in China (00:00 China Standard Time), in UTC: facts dated by a
// China day (a wage, a dividend, a delivery) are posted then, so that they count in that day's month.
func (d Date) Start() time.Time {
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, China).UTC()
}

// ParseDate reads "YYYY-MM-DD".
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	return Date{t}, err
}

// String is "YYYY-MM-DD".
func (d Date) String() string { return d.Format(time.DateOnly) }

// MarshalJSON writes "YYYY-MM-DD".
func (d Date) MarshalJSON() ([]byte, error) { return []byte(`"` + d.String() + `"`), nil }

// UnmarshalJSON reads "YYYY-MM-DD".
func (d *Date) UnmarshalJSON(b []byte) error {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return fmt.Errorf("civil: a date must be a string YYYY-MM-DD")
	}
	v, err := ParseDate(string(b[1 : len(b)-1]))
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
