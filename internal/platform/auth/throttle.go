package auth

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/httpx"
)

// Throttle is the login backoff: after Free failed logins in a row (a success of the account
// forgets its count; a count starts over once its last failure is older than Window), each further
// failure blocks logins for Base, doubled at each failure, up to Cap. While blocked, a login is
// answered 429 with Retry-After and its password is not even checked, so guessing stops. Counted
// per account (by username, existing or not, so that the answer tells nothing about which exist)
// and per client address (many accounts tried from one place).
type Throttle struct {
	AccountFree, AddressFree int
	Base, Cap, Window        time.Duration
}

// DefaultThrottle: five tries per account and twenty per address, then 30 s, 1 min, 2 min … 15 min.
var DefaultThrottle = Throttle{AccountFree: 5, AddressFree: 20, Base: 30 * time.Second, Cap: 15 * time.Minute, Window: time.Hour}

// accountKey counts failures per account as Login finds it (canonicalUsername); a name no account
// can have is counted as typed, never folded onto an account by strings.ToLower's Unicode rules.
func accountKey(username string) string {
	name, _ := canonicalUsername(username)
	return "account:" + name
}
func addressKey(addr string) string { return "address:" + addr }

// block is how long the n-th failure in a row blocks logins, given free tries.
func (t Throttle) block(n, free int) time.Duration {
	if n < free {
		return 0
	}
	d := float64(t.Base) * math.Pow(2, float64(n-free))
	return time.Duration(min(d, float64(t.Cap)))
}

// blockedFor returns how long logins stay blocked under keys (0 when they are not), in whole
// seconds rounded up.
func (s *Users) blockedFor(ctx context.Context, keys ...string) (time.Duration, error) {
	var secs *float64
	err := s.db.WithContext(ctx).Raw(`SELECT ceil(extract(epoch FROM max(blocked_until) - now()))
		FROM login_throttle WHERE key IN ? AND blocked_until > now()`, keys).Scan(&secs).Error
	if err != nil {
		return 0, apperr.DB(err, "login throttle")
	}
	if secs == nil || *secs <= 0 {
		return 0, nil
	}
	return time.Duration(*secs) * time.Second, nil
}

// failed counts a failed login under key and blocks the key once it is past free tries.
func (s *Users) failed(ctx context.Context, key string, free int) error {
	var n int
	err := s.db.WithContext(ctx).Raw(`INSERT INTO login_throttle (key, failures, last_failure_at) VALUES (?, 1, now())
		ON CONFLICT (key) DO UPDATE SET
			failures = CASE WHEN login_throttle.last_failure_at < now() - make_interval(secs => ?) THEN 1
				ELSE login_throttle.failures + 1 END,
			last_failure_at = now()
		RETURNING failures`, key, s.throttle.Window.Seconds()).Scan(&n).Error
	if err != nil {
		return apperr.DB(err, "login throttle")
	}
	if d := s.throttle.block(n, free); d > 0 {
		err = s.db.WithContext(ctx).Exec("UPDATE login_throttle SET blocked_until = now() + make_interval(secs => ?) WHERE key = ?",
			d.Seconds(), key).Error
		if err != nil {
			return apperr.DB(err, "login throttle")
		}
	}
	return nil
}

// forgetFailures clears the count of key (a successful login, a password reset).
func (s *Users) forgetFailures(ctx context.Context, key string) error {
	if err := s.db.WithContext(ctx).Exec("DELETE FROM login_throttle WHERE key = ?", key).Error; err != nil {
		return apperr.DB(err, "login throttle")
	}
	return nil
}

// tooMany answers 429 with Retry-After, in Chinese first (the console shows the detail as is).
func tooMany(c *gin.Context, wait time.Duration) {
	secs := int(wait / time.Second)
	c.Header("Retry-After", strconv.Itoa(secs))
	c.Header("Content-Type", "application/problem+json")
	c.AbortWithStatusJSON(http.StatusTooManyRequests, gin.H{
		"type": httpx.ProblemBase + "rate-limited", "title": "Too many requests", "status": http.StatusTooManyRequests,
		"detail":      fmt.Sprintf("登录失败次数过多，请 %s后再试。Too many failed logins: try again in %d seconds.", chineseWait(secs), secs),
		"instance":    c.Request.URL.Path,
		"request_id":  httpx.RequestID(c),
		"retry_after": secs,
	})
}

// chineseWait writes a wait as people say it: "45 秒", "2 分钟", "2 分 30 秒".
func chineseWait(secs int) string {
	m, s := secs/60, secs%60
	switch {
	case m == 0:
		return fmt.Sprintf("%d 秒", s)
	case s == 0:
		return fmt.Sprintf("%d 分钟", m)
	default:
		return fmt.Sprintf("%d 分 %d 秒", m, s)
	}
}
