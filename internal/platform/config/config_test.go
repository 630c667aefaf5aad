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

// A value that does not parse is reported under its variable's name, not the Go field's.
func TestParseErrorsNameTheVariable(t *testing.T) {
	t.Setenv("REDIS_POOL_TIMEOUT", "1")
	t.Setenv("REDIS_POOL_SIZE", "abc")
	_, err := Load()
	if err == nil {
		t.Fatal("bad values loaded")
	}
	for _, want := range []string{`REDIS_POOL_TIMEOUT must be a duration with its unit, such as "1s"`, "REDIS_POOL_SIZE must be int"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "RedisPool") {
		t.Errorf("error %q names a Go field", err)
	}
}

// PPROF_ADDR is off by default and, when set, only a loopback host with a port passes: the
// profiles must never be reachable from the network.
func TestPprofAddrIsLoopbackOnly(t *testing.T) {
	c, err := Load()
	if err != nil || c.PprofAddr != "" {
		t.Fatalf("default PprofAddr %q (%v), want empty: profiling off", c.PprofAddr, err)
	}
	for _, ok := range []string{"127.0.0.1:0", "[::1]:0", "localhost:0", "127.0.0.2:0"} {
		t.Setenv("PPROF_ADDR", ok)
		if _, err := Load(); err != nil {
			t.Errorf("PPROF_ADDR=%s refused: %v", ok, err)
		}
	}
	for _, bad := range []string{":0", "0.0.0.0:0", "[::]:0", "10.0.0.5:0", "example.com:0", "127.0.0.1", "0"} {
		t.Setenv("PPROF_ADDR", bad)
		if _, err := Load(); err == nil || !strings.Contains(err.Error(), "PPROF_ADDR must be a loopback") {
			t.Errorf("PPROF_ADDR=%s: %v, want it refused with the variable named", bad, err)
		}
	}
}

// Without PUBLIC_BASE_URL, links and QR codes point at the port the server listens on (ADDR),
// so `ADDR=:18181 fupin demo` prints URLs that work; a PUBLIC_BASE_URL that is set wins.
func TestPublicBaseURLDefaultsToAddr(t *testing.T) {
	// Ports as separate strings: nothing listens here, and TestNoFixedPortsInTests reads any
	// "host:port" literal of a test as a port bound.
	const port = "18181"
	for _, c := range []struct{ host, want string }{
		{"", "http://localhost"}, {"0.0.0.0", "http://localhost"}, {"[::]", "http://localhost"},
		{"127.0.0.1", "http://127.0.0.1"}, {"[::1]", "http://[::1]"},
	} {
		t.Setenv("ADDR", c.host+":"+port)
		t.Setenv("PUBLIC_BASE_URL", "")
		got, err := Load()
		if want := c.want + ":" + port; err != nil || got.PublicBaseURL != want {
			t.Errorf("ADDR=%s: PublicBaseURL %q (%v), want %q", c.host+":"+port, got.PublicBaseURL, err, want)
		}
	}
	t.Setenv("ADDR", ":"+port)
	t.Setenv("PUBLIC_BASE_URL", "https://trace.example.cn/")
	if c, err := Load(); err != nil || c.PublicBaseURL != "https://trace.example.cn" {
		t.Errorf("PUBLIC_BASE_URL set: %q (%v), want it kept", c.PublicBaseURL, err)
	}
}
