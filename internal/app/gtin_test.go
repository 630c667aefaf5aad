package app

import (
	"strings"
	"testing"
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
	var got struct{ GTIN string }
	w.OpA.Do("PUT", path, map[string]any{"gtin": "４００６３８１ ３３３９３１"}).Want(200).JSON(&got)
	if got.GTIN != "04006381333931" {
		t.Errorf("full-width GTIN stored as %q, want 04006381333931", got.GTIN)
	}
}
