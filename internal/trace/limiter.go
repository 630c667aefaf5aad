package trace

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiter bounds scans and code lookups with two token buckets (golang.org/x/time/rate) per
// request: a tight one per client address and code (SCAN_RATE_PER_SECOND, SCAN_BURST), which stops
// a script inflating one code's scan count, and a wide one per address (SCAN_ADDRESS_RATE_PER_SECOND,
// SCAN_ADDRESS_BURST), which stops a scraper enumerating codes. Phones behind one carrier NAT share
// an address but each scans its own code, so they meet only in the wide budget: 20 phones scanning
// every two seconds are 10 scans a second, well inside the default 20.
//
// It is per process: with N replicas behind a load balancer a client gets up to N times the rate.
// Buckets idle for a while are dropped, so the maps hold only recently active clients.
type limiter struct {
	code, addr *buckets // addr nil: no per-address budget
	now        func() time.Time
}

type buckets struct {
	rate  rate.Limit
	burst int
	mu    sync.Mutex
	m     map[string]*bucket
	swept time.Time
}

type bucket struct {
	l    *rate.Limiter
	seen time.Time
}

func newBuckets(perSecond float64, burst int) *buckets {
	if perSecond <= 0 {
		return nil
	}
	return &buckets{rate: rate.Limit(perSecond), burst: max(burst, 1), m: map[string]*bucket{}}
}

// newLimiter builds the limiter from the settings; nil (no limit) when SCAN_RATE_PER_SECOND is 0.
func newLimiter(s Settings) *limiter {
	code := newBuckets(s.ScanRate, s.ScanBurst)
	if code == nil {
		return nil
	}
	return &limiter{code: code, addr: newBuckets(s.ScanAddressRate, s.ScanAddressBurst), now: time.Now}
}

func (b *buckets) get(key string, now time.Time) *rate.Limiter {
	b.mu.Lock()
	defer b.mu.Unlock()
	if now.Sub(b.swept) > time.Minute {
		for k, x := range b.m {
			if now.Sub(x.seen) > 10*time.Minute {
				delete(b.m, k)
			}
		}
		b.swept = now
	}
	x := b.m[key]
	if x == nil {
		x = &bucket{l: rate.NewLimiter(b.rate, b.burst)}
		b.m[key] = x
	}
	x.seen = now
	return x.l
}

// allow takes one token from the address's bucket for code and one from the address's budget;
// when either has none left it takes neither and says how long until both have.
func (l *limiter) allow(addr, code string) (bool, time.Duration) {
	now := l.now()
	r1 := l.code.get(addr+"|"+code, now).ReserveN(now, 1)
	wait := r1.DelayFrom(now)
	var r2 *rate.Reservation
	if l.addr != nil {
		r2 = l.addr.get(addr, now).ReserveN(now, 1)
		wait = max(wait, r2.DelayFrom(now))
	}
	if wait == 0 {
		return true, 0
	}
	r1.CancelAt(now)
	if r2 != nil {
		r2.CancelAt(now)
	}
	return false, wait
}
