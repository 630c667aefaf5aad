package trace

import (
	"log/slog"
	"sync"
	"time"
)

// logSampler keeps the request lines of scans of unknown codes (404) from flooding the logs: a
// scraper guessing codes, or a batch of counterfeit labels, makes thousands. In each window it
// lets the first `first` lines through, then one in `every`; when a window ends with lines left
// out it says how many in one line of its own. /metrics counts every scan whatever is logged.
type logSampler struct {
	window      time.Duration
	first       int
	every       int
	now         func() time.Time
	log         *slog.Logger
	mu          sync.Mutex
	start       time.Time
	seen, shown int
}

func newLogSampler(log *slog.Logger) *logSampler {
	return &logSampler{window: time.Minute, first: 20, every: 100, now: time.Now, log: log}
}

// keep says whether this line is logged.
func (l *logSampler) keep() bool {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.start) >= l.window {
		if left := l.seen - l.shown; left > 0 {
			l.log.Info("scans of unknown codes not logged (sampled)", "not_logged", left, "logged", l.shown,
				"since", l.start.UTC().Format(time.RFC3339))
		}
		l.start, l.seen, l.shown = now, 0, 0
	}
	l.seen++
	if l.seen <= l.first || (l.seen-l.first)%l.every == 0 {
		l.shown++
		return true
	}
	return false
}
