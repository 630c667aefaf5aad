package trace

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/time/rate"

	"github.com/fupinmarket/fupin/internal/platform/httpx"
)

// limiter is a per-client token bucket (golang.org/x/time/rate) for scans and code lookups:
// SCAN_RATE_PER_SECOND on average, SCAN_BURST at once. It is per process: with N replicas behind
// a load balancer a client gets up to N times the rate, which still stops a scraper enumerating
// codes or a script inflating a code's scan count. Buckets idle for a while are dropped, so the
// map holds only recently active clients.
type limiter struct {
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

func newLimiter(perSecond float64, burst int) *limiter {
	if perSecond <= 0 {
		return nil
	}
	if burst < 1 {
		burst = 1
	}
	return &limiter{rate: rate.Limit(perSecond), burst: burst, m: map[string]*bucket{}, swept: time.Now()}
}

// allow takes one token for client; when none is left it says how long until one is.
func (l *limiter) allow(client string) (bool, time.Duration) {
	now := time.Now()
	l.mu.Lock()
	if now.Sub(l.swept) > time.Minute {
		for k, b := range l.m {
			if now.Sub(b.seen) > 10*time.Minute {
				delete(l.m, k)
			}
		}
		l.swept = now
	}
	b := l.m[client]
	if b == nil {
		b = &bucket{l: rate.NewLimiter(l.rate, l.burst)}
		l.m[client] = b
	}
	b.seen = now
	l.mu.Unlock()
	r := b.l.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// middleware answers 429 with Retry-After (whole seconds, rounded up) to a client over its rate.
func (l *limiter) middleware() gin.HandlerFunc {
	return func(c *gin.Context) {
		if l == nil {
			return
		}
		ok, wait := l.allow(c.ClientIP())
		if ok {
			return
		}
		secs := int(math.Ceil(wait.Seconds()))
		c.Header("Retry-After", strconv.Itoa(max(secs, 1)))
		c.Header("Content-Type", "application/problem+json")
		c.AbortWithStatusJSON(http.StatusTooManyRequests, httpx.Problem{
			Type: httpx.ProblemBase + "rate-limited", Title: "Too many requests", Status: http.StatusTooManyRequests,
			Detail:   "too many scans or code lookups from this client; wait as long as Retry-After says and try again",
			Instance: c.Request.URL.Path, RequestID: httpx.RequestID(c)})
	}
}
