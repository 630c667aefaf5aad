package trace

import (
	"encoding/json"
	"testing"
	"time"
)

// appendScans writes what encoding/json writes for a ScanView, so that a scan's body is the same
// whether its view was encoded whole or from the remembered halves.
func TestAppendScans(t *testing.T) {
	first := time.UnixMilli(1764853200123).UTC()
	whole := time.Date(2026, 12, 4, 16, 0, 0, 0, time.UTC)
	for _, s := range []ScanView{{}, {Count: 1, FirstAt: &first, Clients: 1}, {Count: 1 << 40, FirstAt: &whole, Clients: 7}, {Count: 3}} {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendScans([]byte("x"), s); string(got) != "x"+string(want) {
			t.Errorf("appendScans(%+v) = %s, want x%s", s, got, want)
		}
	}
}
