package trace

import (
	"fmt"
	"io"
	"net"
	"reflect"
	"time"

	"github.com/caarlos0/env/v11"
)

// Settings are the traceability knobs read from the environment (LoadSettings); every one has a
// working default. `fupin serve --help` lists them with the rest of the configuration.
type Settings struct {
	IssueSyncMax      int           `env:"ISSUE_SYNC_MAX" envDefault:"10000" desc:"issuance requests up to this many codes answer at once with the codes (201); larger ones become a tracked job (202)"`
	IssuePoll         time.Duration `env:"ISSUE_POLL" envDefault:"5s" desc:"how often the issuer looks for pending or abandoned issuance jobs"`
	ScanFlushInterval time.Duration `env:"SCAN_FLUSH_INTERVAL" envDefault:"2s" desc:"scan counts kept in Redis are written to PostgreSQL this often (a crash loses at most this much counting)"`
	SuspiciousScans   int64         `env:"SCAN_SUSPICIOUS_COUNT" envDefault:"20" desc:"a sold code scanned more than this many times is shown as suspicious"`
	SuspiciousClients int64         `env:"SCAN_SUSPICIOUS_CLIENTS" envDefault:"5" desc:"a sold code scanned from more than this many distinct clients is shown as suspicious"`
	ScanRate          float64       `env:"SCAN_RATE_PER_SECOND" envDefault:"1" desc:"scans and lookups of one code one client address may make per second on average (0 turns all scan limits off)"`
	ScanBurst         int           `env:"SCAN_BURST" envDefault:"10" desc:"scans and lookups of one code one client address may make at once before its rate applies"`
	ScanAddressRate   float64       `env:"SCAN_ADDRESS_RATE_PER_SECOND" envDefault:"20" desc:"scans and code lookups of all codes one client address may make per second on average: phones behind one carrier NAT or office gateway share it (0 turns this budget off)"`
	ScanAddressBurst  int           `env:"SCAN_ADDRESS_BURST" envDefault:"200" desc:"scans and code lookups of all codes one client address may make at once before its rate applies"`
	TrustedProxies    []string      `env:"TRUSTED_PROXIES" envSeparator:"," desc:"comma-separated addresses or CIDRs of reverse proxies whose X-Forwarded-For is believed; set it when serving behind a proxy or load balancer, or every phone shares the proxy's address (default none: the client is the TCP peer, so nobody can spoof addresses to dodge the scan rate limit or inflate a code's distinct clients)"`
	LabelFont         string        `env:"LABEL_FONT" envDefault:"/usr/share/fonts/truetype/wqy/wqy-microhei.ttc" desc:"TrueType font (.ttf, or the first font of a .ttc) with Chinese glyphs for PDF labels"`
}

// LoadSettings reads Settings from the environment.
func LoadSettings() (Settings, error) {
	var s Settings
	if err := env.Parse(&s); err != nil {
		return s, fmt.Errorf("trace settings: %w", err)
	}
	for _, p := range s.TrustedProxies {
		if _, _, err := net.ParseCIDR(p); err != nil && net.ParseIP(p) == nil {
			return s, fmt.Errorf("TRUSTED_PROXIES: %q is neither an IP address nor a CIDR", p)
		}
	}
	return s, nil
}

// withDefaults fills zero values (a Settings built in code rather than read from the environment).
func (s Settings) withDefaults() Settings {
	if s.IssueSyncMax <= 0 {
		s.IssueSyncMax = 10_000
	}
	if s.IssuePoll <= 0 {
		s.IssuePoll = 5 * time.Second
	}
	if s.ScanFlushInterval <= 0 {
		s.ScanFlushInterval = 2 * time.Second
	}
	if s.SuspiciousScans <= 0 {
		s.SuspiciousScans = 20
	}
	if s.SuspiciousClients <= 0 {
		s.SuspiciousClients = 5
	}
	if s.LabelFont == "" {
		s.LabelFont = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
	}
	return s
}

// SettingsUsage writes one line per variable: name, description and default.
func SettingsUsage(w io.Writer) {
	t := reflect.TypeOf(Settings{})
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		fmt.Fprintf(w, "  %-29s %s [%s]\n", f.Tag.Get("env"), f.Tag.Get("desc"), f.Tag.Get("envDefault"))
	}
}
