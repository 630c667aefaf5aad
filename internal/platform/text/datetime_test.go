package text

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// RFC 3339 §5.6: lowercase t and z are date-times; an offset of 24 hours or 60 minutes is none.
func TestDateTime(t *testing.T) {
	want := time.Date(2026, 11, 15, 16, 0, 0, 0, time.UTC)
	for _, s := range []string{"2026-11-15T16:00:00Z", "2026-11-15t16:00:00z", "2026-11-16T00:00:00+08:00", "2026-11-15T16:00:00.000Z"} {
		if got, err := DateTime(s); err != nil || !got.Equal(want) {
			t.Errorf("DateTime(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"2026-11-15T10:00:00+24:00", "2026-11-15T10:00:00-24:00", "2026-11-15T10:00:00+08:60"} {
		if _, err := DateTime(s); err == nil || !strings.Contains(err.Error(), "has the offset "+s[19:]) {
			t.Errorf("DateTime(%q) = %v; want the offset named", s, err)
		}
	}
	for _, s := range []string{"", "2026-11-15", "2026-11-15 16:00:00Z", "2026-11-15T16:00:00", "2026-11-15X16:00:00Z", "2026-13-15T16:00:00Z"} {
		if _, err := DateTime(s); !errors.Is(err, ErrDateTime) {
			t.Errorf("DateTime(%q) = %v; want ErrDateTime", s, err)
		}
	}
}
