package trace

import "time"

// ScanLimiter is the scan limiter of settings s on a clock the test moves: allow(addr, code, at)
// says whether a scan of code from addr at that moment passes (nil: no limit).
func ScanLimiter(s Settings) func(addr, code string, at time.Time) bool {
	l := newLimiter(s)
	if l == nil {
		return nil
	}
	var now time.Time
	l.now = func() time.Time { return now }
	return func(addr, code string, at time.Time) bool {
		now = at
		ok, _ := l.allow(addr, code)
		return ok
	}
}

// Redis keys of a code (keys.go), without the cache's prefix.
var (
	ViewKey    = viewKey
	StatsKey   = statsKey
	ClientsKey = clientsKey
)

// AfterSyncRun is Service.afterSyncRun: the job a synchronous issue answers after its run.
var AfterSyncRun = (*Service).afterSyncRun

// RunClaimed is Service.runClaimed: the run of a job RequestIssue recorded claimed (running).
var RunClaimed = (*Service).runClaimed
