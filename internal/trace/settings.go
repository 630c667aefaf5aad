package trace

import "time"

// Settings are the traceability knobs. The app fills them from config.Config, where each is read
// from the environment with its default and described (`fupin serve --help`); zero values take
// the defaults below.
type Settings struct {
	IssueSyncMax      int           // issuance up to this many codes answers at once; larger ones are a tracked job
	IssuePoll         time.Duration // how often the issuer looks for pending or abandoned issuance jobs
	ScanFlushInterval time.Duration // how often scan counts kept in Redis are written to PostgreSQL
	SuspiciousScans   int64         // a sold code scanned more than this many times is suspicious
	SuspiciousClients int64         // a sold code scanned from more than this many clients is suspicious
	ScanRate          float64       // scans of one code per client address per second (0: no scan limits)
	ScanBurst         int           // scans of one code one client address may make at once
	ScanAddressRate   float64       // scans of all codes per client address per second (0: no such budget)
	ScanAddressBurst  int           // scans of all codes one client address may make at once
	LabelFont         string        // TrueType font (.ttf, or the first of a .ttc) with Chinese glyphs
	ScanMemoBytes     int           // bytes each in-process scan memo (decoded views, rendered bodies) may hold
}

// withDefaults fills zero values (a Settings built in code rather than from the configuration).
func (s Settings) withDefaults() Settings {
	if s.ScanMemoBytes <= 0 {
		// The rendered bodies of a sold code are about 2 KB (JSON) and 3 KB (page), its decoded
		// view about 4 KB: 64 MiB each holds some 5,000–15,000 codes (memo).
		s.ScanMemoBytes = 64 << 20
	}
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
