package civil

import (
	"encoding/json"
	"testing"
)

// Every way a day can be wrong gets a reason a person can act on, never time.Parse's words.
func TestParseDateReasons(t *testing.T) {
	if d, err := ParseDate("2024-02-29"); err != nil || d.String() != "2024-02-29" {
		t.Errorf("leap day: %v, %v", d, err)
	}
	for in, want := range map[string]string{
		"2026-02-29":   "must be a real day as YYYY-MM-DD: 2026-02 has days 01 to 28, not 29",
		"2026-04-00":   "must be a real day as YYYY-MM-DD: 2026-04 has days 01 to 30, not 00",
		"2026-00-10":   "must be a real day as YYYY-MM-DD: 2026-00-10 has no month 00 (months run 01 to 12)",
		"2026-2-1":     "must be a real day as YYYY-MM-DD, such as 2026-12-06",
		"":             "must be a real day as YYYY-MM-DD, such as 2026-12-06",
		"2026-02-+1":   "must be a real day as YYYY-MM-DD, such as 2026-12-06",
		"２０２６-０２-２８":   "must be a real day as YYYY-MM-DD in ASCII digits without blanks around it, such as 2026-02-28",
		"2026-02-28\n": "must be a real day as YYYY-MM-DD in ASCII digits without blanks around it, such as 2026-02-28",
	} {
		if _, err := ParseDate(in); err == nil || err.Error() != want {
			t.Errorf("ParseDate(%q) = %v, want %q", in, err, want)
		}
	}
	var d Date
	if err := json.Unmarshal([]byte(`"2026\u002d02\u002d28"`), &d); err != nil || d.String() != "2026-02-28" {
		t.Errorf("escaped JSON string: %v, %v", d, err)
	}
	if err := json.Unmarshal([]byte(`20260228`), &d); err == nil {
		t.Error("a number taken as a date")
	}
}
