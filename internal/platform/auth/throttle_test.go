package auth

import (
	"testing"
	"time"
)

// An address is counted as itself for IPv4 (mapped into IPv6 too) and by its /64 for IPv6, zone
// dropped; what does not parse is counted as given.
func TestThrottleAddress(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.7":                    "192.0.2.7",
		"::ffff:192.0.2.7":             "192.0.2.7",
		"2001:db8:1:2:aaaa:bbbb::1":    "2001:db8:1:2::/64",
		"2001:db8:1:2::9":              "2001:db8:1:2::/64",
		"fe80::1%eth0":                 "fe80::/64",
		"not an address":               "not an address",
		"2001:db8:1:3:ffff:ffff::ffff": "2001:db8:1:3::/64",
	} {
		if got := throttleAddress(in); got != want {
			t.Errorf("throttleAddress(%q) = %q, want %q", in, got, want)
		}
	}
}

// The free tries pass, the next failure blocks for Base, each further one doubles it up to Cap.
func TestThrottleBlock(t *testing.T) {
	th := DefaultThrottle
	for n, want := range map[int]time.Duration{4: 0, 5: 30 * time.Second, 6: time.Minute, 9: 8 * time.Minute, 10: 15 * time.Minute, 60: 15 * time.Minute} {
		if got := th.block(n, th.PairFree); got != want {
			t.Errorf("block(%d, 5) = %v, want %v", n, got, want)
		}
	}
}

// The account-wide limit blocks for Base at every failure past it, never longer, however many.
func TestThrottleAccountBlock(t *testing.T) {
	th := DefaultThrottle
	for n, want := range map[int]time.Duration{49: 0, 50: 30 * time.Second, 51: 30 * time.Second, 500: 30 * time.Second} {
		if got := th.accountBlock(n); got != want {
			t.Errorf("accountBlock(%d) = %v, want %v", n, got, want)
		}
	}
}

// An IPv6 address (zone dropped) is also counted by its /48; IPv4, mapped or not, has none.
func TestThrottleNetwork(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.7":                 "",
		"::ffff:192.0.2.7":          "",
		"2001:db8:1:2:aaaa:bbbb::1": "2001:db8:1::/48",
		"2001:db8:1:ffff::9":        "2001:db8:1::/48",
		"fe80::1%eth0":              "fe80::/48",
		"not an address":            "",
	} {
		if got := throttleNetwork(in); got != want {
			t.Errorf("throttleNetwork(%q) = %q, want %q", in, got, want)
		}
	}
}
