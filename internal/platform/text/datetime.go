package text

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrDateTime is DateTime's error for a text that is no RFC 3339 date-time at all.
var ErrDateTime = errors.New("not an RFC 3339 date-time")

// DateTime parses an RFC 3339 date-time (§5.6) as the API takes it in JSON bodies: the T and Z may
// be lowercase (the RFC allows it; Go's time.Parse does not), and the offset's hours run 00 to 23
// and its minutes 00 to 59 (time.Parse takes +24:00 and +08:60, which name no offset). An offset
// out of range is an error naming it ("has the offset +24:00: …"); any other misfit is ErrDateTime.
func DateTime(s string) (time.Time, error) {
	up := strings.ToUpper(s)
	if len(up) < 20 || up[10] != 'T' || strings.Trim(up, "0123456789-:.+TZ") != "" {
		return time.Time{}, ErrDateTime
	}
	if off := up[len(up)-6:]; up[len(up)-1] != 'Z' && (off[0] == '+' || off[0] == '-') && off[3] == ':' {
		if off[1:3] > "23" || off[4:6] > "59" {
			return time.Time{}, fmt.Errorf("has the offset %s: offsets run from -23:59 to +23:59, such as +08:00", off)
		}
	}
	t, err := time.Parse(time.RFC3339, up)
	if err != nil {
		return time.Time{}, ErrDateTime
	}
	return t, nil
}
