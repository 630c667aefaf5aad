package app

import (
	"strconv"
	"strings"
	"testing"

	"github.com/fupinmarket/fupin/internal/fixture"
)

// A GTIN is read as other codes are (full-width digits folded, blanks dropped), and all zeros,
// whose check digit is valid but which GS1 never allocates, is refused (a reviewer set it).
func TestGTINAsTyped(t *testing.T) {
	w := newWorld(t)
	path := "/api/v1/products/" + w.Product + "/gtin"
	for _, zeros := range []string{"00000000000000", "0000000000000", "00000000"} {
		if got := reasonOf(t, w.OpA.Do("PUT", path, map[string]any{"gtin": zeros}), "gtin"); !strings.Contains(got, "all zeros") {
			t.Errorf("gtin %s: reason %q", zeros, got)
		}
	}
	gtin := newGTIN13()
	typed := strings.Map(func(r rune) rune { return r + 0xFEE0 }, gtin[:7]) + " " + gtin[7:]
	var got struct{ GTIN string }
	w.OpA.Do("PUT", path, map[string]any{"gtin": typed}).Want(200).JSON(&got)
	if got.GTIN != "0"+gtin {
		t.Errorf("GTIN typed %q stored as %q, want 0%s", typed, got.GTIN, gtin)
	}
}

// newGTIN13 is a GTIN-13 of the caller's own (a GTIN names one product; other tests set others):
// 12 random digits and the check digit.
func newGTIN13() string {
	gtin := "2" + fixture.RandDigits(11)
	sum := 0
	for i, c := range gtin {
		sum += int(c-'0') * (1 + 2*(i%2)) // weights 1, 3, 1, … from the left of a GTIN-13's data
	}
	return gtin + strconv.Itoa((10-sum%10)%10)
}
