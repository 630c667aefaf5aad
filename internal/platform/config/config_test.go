package config

import (
	"strings"
	"testing"
)

// TRUSTED_PROXIES is read with the rest and checked at start: addresses and CIDRs pass, anything
// else is refused with the variable named.
func TestTrustedProxies(t *testing.T) {
	t.Setenv("TRUSTED_PROXIES", "10.0.0.0/8,127.0.0.1,::1")
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.TrustedProxies, " "); got != "10.0.0.0/8 127.0.0.1 ::1" {
		t.Errorf("TrustedProxies = %q, want the three listed", got)
	}
	t.Setenv("TRUSTED_PROXIES", "10.0.0.0/8,proxy.local")
	if _, err := Load(); err == nil || !strings.Contains(err.Error(), `TRUSTED_PROXIES: "proxy.local"`) {
		t.Errorf("Load with a host name as proxy: %v, want TRUSTED_PROXIES named", err)
	}
}

// Every setting is listed by `fupin serve --help`, the traceability ones included.
func TestUsageListsEverySetting(t *testing.T) {
	var b strings.Builder
	Usage(&b)
	for _, name := range []string{"DATABASE_URL", "TRUSTED_PROXIES", "ISSUE_SYNC_MAX", "SCAN_RATE_PER_SECOND", "LABEL_FONT"} {
		if !strings.Contains(b.String(), "  "+name+" ") {
			t.Errorf("Usage does not list %s", name)
		}
	}
}
