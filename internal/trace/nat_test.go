package trace_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fupinmarket/fupin/internal/app"
	"github.com/fupinmarket/fupin/internal/platform/config"
	"github.com/fupinmarket/fupin/internal/trace"
)

// Twenty phones behind one carrier NAT (one address), each scanning its own code every two
// seconds for ten minutes, all at the same instants: none is refused with the default limits.
// One phone hammering one code, and one scraper walking through codes, still are.
func TestScanLimitsCarrierNAT(t *testing.T) {
	cfg, err := config.Load()
	if err != nil {
		t.Fatal(err)
	}
	s := app.TraceSettings(cfg)
	allow := trace.ScanLimiter(s)
	if allow == nil {
		t.Fatal("the default settings have no scan limit")
	}
	start := time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
	refused, total := 0, 0
	for tick := 0; tick < 300; tick++ {
		at := start.Add(time.Duration(tick) * 2 * time.Second)
		for phone := range 20 {
			total++
			if !allow("100.64.0.1", fmt.Sprintf("CODE%02d", phone), at) {
				refused++
			}
		}
	}
	if refused != 0 {
		t.Errorf("%d of %d scans of 20 phones behind one NAT refused, want none", refused, total)
	}

	// One code scanned ten times a second from one address is refused beyond its burst.
	ok := 0
	for i := range 100 {
		if allow("198.51.100.9", "HAMMERED", start.Add(time.Duration(i)*100*time.Millisecond)) {
			ok++
		}
	}
	if ok > s.ScanBurst+int(10*s.ScanRate)+1 {
		t.Errorf("one code hammered 100 times in 10 s: %d passed, want about %d", ok, s.ScanBurst+int(10*s.ScanRate))
	}
	// A scraper trying a new code every millisecond is held to the address's budget.
	ok = 0
	for i := range 2000 {
		if allow("198.51.100.10", fmt.Sprintf("GUESS%05d", i), start.Add(time.Duration(i)*time.Millisecond)) {
			ok++
		}
	}
	if want := s.ScanAddressBurst + int(2*s.ScanAddressRate) + 1; ok > want {
		t.Errorf("a scraper passed %d lookups in 2 s, want at most %d", ok, want)
	}
	// The limits are listed by `fupin serve --help`.
	var help strings.Builder
	config.Usage(&help)
	for _, name := range []string{"SCAN_RATE_PER_SECOND", "SCAN_BURST", "SCAN_ADDRESS_RATE_PER_SECOND", "SCAN_ADDRESS_BURST", "TRUSTED_PROXIES"} {
		if !strings.Contains(help.String(), name) {
			t.Errorf("serve --help does not list %s", name)
		}
	}
	// Another address is not affected by either.
	if !allow("198.51.100.11", "HAMMERED", start.Add(10*time.Second)) {
		t.Error("another address was refused")
	}
}
