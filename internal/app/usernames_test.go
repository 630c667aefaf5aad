package app

import (
	"strings"
	"testing"

	"github.com/fupinmarket/fupin/internal/fixture"
)

// A username is validated before it is lower-cased, and only ASCII is lower-cased: Unicode's
// case rules turned the Kelvin sign into k and İ into i, so "\u212aelvin" silently became the
// account kelvin (a reviewer's find), and logged into it.
func TestUsernamesAreNotRewritten(t *testing.T) {
	w := newWorld(t)
	suffix := fixture.RandDigits(6)
	create := func(name string) fixture.Resp {
		return w.Admin.Do("POST", "/api/v1/users", map[string]any{"username": name, "password": fixture.Password, "role": "admin"})
	}
	for in, want := range map[string]string{
		"\u212aelvin" + suffix: "U+212A is not one of them",
		"\u0130van" + suffix:   "U+0130 is not one of them",
		"ｋelvin" + suffix:      "U+FF4B is not one of them",
		"kel vin" + suffix:     `' ' is not one of them`,
	} {
		if got := reasonOf(t, create(in), "username"); !strings.Contains(got, want) {
			t.Errorf("username %q: reason %q, want it to contain %q", in, got, want)
		}
	}
	var u struct{ Username string }
	create(" Kelvin" + suffix + " ").Want(201).JSON(&u)
	if u.Username != "kelvin"+suffix {
		t.Errorf("username %q, want ASCII capitals lower-cased: kelvin%s", u.Username, suffix)
	}
	loginFrom(t, w.a, "192.0.2.71", "KELVIN"+suffix, fixture.Password).Want(200)
	loginFrom(t, w.a, "192.0.2.72", "\u212aelvin"+suffix, fixture.Password).Problem(401, "")
}
