package text

import "testing"

// Only the canonical spelling is an id; uuid.Parse alone takes the other three.
func TestUUID(t *testing.T) {
	const id = "0190f3b2-7c1e-7d2a-9f00-1a2b3c4d5e6f"
	for _, ok := range []string{id, "0190F3B2-7C1E-7D2A-9F00-1A2B3C4D5E6F"} {
		if got, err := UUID(ok); err != nil || got.String() != id {
			t.Errorf("UUID(%q) = %v, %v; want %s", ok, got, err, id)
		}
	}
	for _, bad := range []string{"{" + id + "}", "urn:uuid:" + id, "0190f3b27c1e7d2a9f001a2b3c4d5e6f", "", "not-a-uuid",
		"0190f3b2-7c1e-7d2a-9f00-1a2b3c4d5e6g", "0190f3b2x7c1e-7d2a-9f00-1a2b3c4d5e6f", " " + id[1:]} {
		if got, err := UUID(bad); err == nil {
			t.Errorf("UUID(%q) = %v, want an error", bad, got)
		}
	}
}
