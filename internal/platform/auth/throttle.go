package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/httpx"
)

// Throttle is the login backoff, built so that nobody can lock an account's owner out from
// elsewhere and colleagues behind one address (a village station's or a unit's NAT) do not block
// one another. Three counts, each blocking logins for Base once it reaches its limit (the pair's and
// the address's doubled at each further failure up to Cap); while blocked, a login is answered 429
// with Retry-After and its password is not even checked, so guessing stops:
//
//   - Pair, the tight limit: failures of one account (by username, existing or not, so that the
//     answer tells nothing about which exist) from one client address. A success of the pair
//     forgets its count; a count starts over once its last failure is older than Window.
//   - Account, the loose limit: failures of one account from every address within Window, which
//     slows a guess spread over many addresses (OWASP Authentication Cheat Sheet, "Account
//     Lockout": count against the account, not only the source address). It does not apply to a
//     pair that logged in within Known: the owner's own address (a known device or address, as the
//     OWASP Credential Stuffing Prevention Cheat Sheet's "Device Fingerprinting" and "IP Mitigation
//     and Intelligence" advise) is held to its pair's limit alone, so a stranger elsewhere cannot
//     block it; lockouts usable as a denial of service are what that cheat sheet warns against. A
//     success does not forget this count: the owner logging in would otherwise reset an attack.
//     Its block is Base at every failure past the limit, never doubled: a stranger keeping up one
//     failure now and then must not keep the owner out at an address not yet known (a new phone
//     network, a monthly buyer) for longer than Base at a time, while a guess spread over many
//     addresses is still held to about AccountFree + Window/Base tries a Window.
//   - Address: the distinct usernames that failed from one address within Window (spraying one
//     password over many accounts), not its failures, so a few colleagues mistyping behind one
//     NAT are not blocked; it does not apply to a known pair either. Shared addresses are why
//     OWASP warns against blocking by address alone. An IPv6 address is also counted by its /48
//     against NetworkFree: a routed /48 is 65,536 /64s, each of them AddressFree usernames an hour.
//     Its usernames are read off pair rows of the account and the /48, counted like the /64's.
//
// The address is gin's ClientIP (the TCP peer, or what a proxy in TRUSTED_PROXIES forwards; an
// X-Forwarded-For from anyone else is ignored), an IPv6 address taken as its /64 (one subscriber's
// network, whose privacy addresses change by the day).
type Throttle struct {
	PairFree, AccountFree, AddressFree, NetworkFree int
	Base, Cap, Window, Known                        time.Duration
}

// DefaultThrottle: five tries per account and address and twenty usernames per address (two
// hundred per IPv6 /48) within the hour, then 30 s, 1 min, 2 min … 15 min; fifty per account from
// everywhere, then 30 s each time (about 170 guesses an hour at most); an address that logged in
// within 30 days is the owner's.
var DefaultThrottle = Throttle{PairFree: 5, AccountFree: 50, AddressFree: 20, NetworkFree: 200,
	Base: 30 * time.Second, Cap: 15 * time.Minute, Window: time.Hour, Known: 30 * 24 * time.Hour}

// throttled is what a login is counted under: the account as Login finds it (canonicalUsername),
// the client's address, and for IPv6 its /48 (network; "" for IPv4).
type throttled struct{ account, address, network string }

// throttleOf counts a name no account can have by '~' and its SHA-256 (no username has a '~'):
// never folded onto an account by strings.ToLower's Unicode rules, still one count per name typed
// (spraying), and of a size to fit a key (a 10,000-character name was a 500: index row too large).
func throttleOf(username, clientIP string) throttled {
	name, ok := canonicalUsername(username)
	if !ok {
		sum := sha256.Sum256([]byte(name))
		name = "~" + hex.EncodeToString(sum[:])
	}
	return throttled{account: name, address: throttleAddress(clientIP), network: throttleNetwork(clientIP)}
}

// throttleNetwork is an IPv6 address's /48 (a site's routed prefix), "" for anything else.
func throttleNetwork(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil || a.Unmap().Is4() {
		return ""
	}
	p, _ := a.WithZone("").Prefix(48)
	return p.String()
}

// throttleAddress is ip as counted: IPv4 (an IPv4-mapped IPv6 address too) as is, IPv6 as its /64.
func throttleAddress(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}

func (k throttled) pairKey() string    { return "pair:" + k.address + " " + k.account }
func (k throttled) accountKey() string { return accountKey(k.account) }
func (k throttled) addressKey() string { return "address:" + k.address }

// networkPairKey and networkKey are the /48's rows (networkKey "" for IPv4, which has none).
func (k throttled) networkPairKey() string { return "pair:" + k.network + " " + k.account }
func (k throttled) networkKey() string {
	if k.network == "" {
		return ""
	}
	return "address:" + k.network
}

func accountKey(name string) string { return "account:" + name }

// block is how long the n-th failure in a row blocks logins, given free tries.
func (t Throttle) block(n, free int) time.Duration {
	if n < free {
		return 0
	}
	d := float64(t.Base) * math.Pow(2, float64(n-free))
	return time.Duration(min(d, float64(t.Cap)))
}

// accountBlock is how long the n-th failure of an account from everywhere blocks it: Base past
// its free tries, never more (see Throttle).
func (t Throttle) accountBlock(n int) time.Duration {
	if n < t.AccountFree {
		return 0
	}
	return t.Base
}

// blockedFor returns how long logins of k stay blocked (0 when they are not), in whole seconds
// rounded up: its pair's block, and unless the pair is known, its account's, address's and /48's.
func (s *Users) blockedFor(ctx context.Context, k throttled) (time.Duration, error) {
	var secs *float64
	err := s.db.WithContext(ctx).Raw(`SELECT ceil(extract(epoch FROM max(blocked_until) - now()))
		FROM login_throttle WHERE blocked_until > now() AND (key = ? OR key IN (?, ?, ?) AND NOT EXISTS (
			SELECT 1 FROM login_throttle WHERE key = ? AND last_success_at > now() - make_interval(secs => ?)))`,
		k.pairKey(), k.accountKey(), k.addressKey(), k.networkKey(), k.pairKey(), s.throttle.Known.Seconds()).Scan(&secs).Error
	if err != nil {
		return 0, apperr.DB(err, "login throttle")
	}
	if secs == nil || *secs <= 0 {
		return 0, nil
	}
	return time.Duration(*secs) * time.Second, nil
}

// failed counts a failed login (or a wrong current password) of k, in one transaction: against
// its pair and its account, and the distinct usernames of its address (and /48) counted afresh
// from their pairs.
func (s *Users) failed(ctx context.Context, k throttled) error {
	t := s.throttle
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := lockAccount(tx, k.account); err != nil {
			return err
		}
		n, err := failPair(tx, k.pairKey(), k.account, k.address, t.Window)
		if err != nil {
			return err
		}
		if err := blockKey(tx, k.pairKey(), t.block(n, t.PairFree)); err != nil {
			return err
		}
		if k.network != "" { // only counted, for the /48's usernames below; never blocked itself
			if _, err := failPair(tx, k.networkPairKey(), k.account, k.network, t.Window); err != nil {
				return err
			}
		}

		err = tx.Raw(`INSERT INTO login_throttle (key, failures, last_failure_at) VALUES (?, 1, now())
			ON CONFLICT (key) DO UPDATE SET
				failures = CASE WHEN login_throttle.last_failure_at < now() - make_interval(secs => ?) THEN 1
					ELSE login_throttle.failures + 1 END,
				last_failure_at = now()
			RETURNING failures`, k.accountKey(), t.Window.Seconds()).Scan(&n).Error
		if err != nil {
			return err
		}
		if err := blockKey(tx, k.accountKey(), t.accountBlock(n)); err != nil {
			return err
		}

		if err := countNames(tx, k.addressKey(), k.address, t.AddressFree, t); err != nil {
			return err
		}
		if k.network == "" {
			return nil
		}
		return countNames(tx, k.networkKey(), k.network, t.NetworkFree, t)
	})
	if err != nil {
		return apperr.DB(err, "login throttle")
	}
	return nil
}

// failPair counts a failure of the pair row key (account from address) and returns its count.
func failPair(tx *gorm.DB, key, account, address string, window time.Duration) (int, error) {
	var n int
	err := tx.Raw(`INSERT INTO login_throttle (key, account, address, failures, last_failure_at) VALUES (?, ?, ?, 1, now())
		ON CONFLICT (key) DO UPDATE SET
			failures = CASE WHEN login_throttle.failures = 0 OR login_throttle.last_failure_at < now() - make_interval(secs => ?) THEN 1
				ELSE login_throttle.failures + 1 END,
			last_failure_at = now()
		RETURNING failures`, key, account, address, window.Seconds()).Scan(&n).Error
	return n, err
}

// countNames counts afresh the distinct usernames that failed from address (its pair rows) into
// key, and blocks it past free. The pair rows just written include this one, so it is at least 1.
func countNames(tx *gorm.DB, key, address string, free int, t Throttle) error {
	var n int
	err := tx.Raw(`INSERT INTO login_throttle (key, failures, last_failure_at)
		SELECT ?, count(*), now() FROM login_throttle
		WHERE address = ? AND failures > 0 AND last_failure_at > now() - make_interval(secs => ?)
		ON CONFLICT (key) DO UPDATE SET failures = EXCLUDED.failures, last_failure_at = now()
		RETURNING failures`, key, address, t.Window.Seconds()).Scan(&n).Error
	if err != nil {
		return err
	}
	return blockKey(tx, key, t.block(n, free))
}

// lockAccount serializes, until tx ends, the transactions that write several rows of the account
// name (failed, forgetAccount, keepOnlyPair): each locks its rows in an order of its own (a
// DELETE in whatever order it scans them), and two of them could otherwise deadlock.
func lockAccount(tx *gorm.DB, name string) error {
	return tx.Exec("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", "login_throttle "+name).Error
}

// blockKey blocks logins under key for d from now (nothing when d is 0).
func blockKey(tx *gorm.DB, key string, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	return tx.Exec("UPDATE login_throttle SET blocked_until = now() + make_interval(secs => ?) WHERE key = ?", d.Seconds(), key).Error
}

// succeeded forgets the failures of k's pair and remembers that it logged in, which makes it the
// owner's known address for Known. The account's count stays (see Throttle).
func (s *Users) succeeded(ctx context.Context, k throttled) error {
	err := s.db.WithContext(ctx).Exec(`INSERT INTO login_throttle (key, account, address, failures, last_success_at) VALUES (?, ?, ?, 0, now())
		ON CONFLICT (key) DO UPDATE SET failures = 0, blocked_until = NULL, last_success_at = now()`,
		k.pairKey(), k.account, k.address).Error
	if err != nil {
		return apperr.DB(err, "login throttle")
	}
	return nil
}

// forgetAccount forgets the account name everywhere (the county office's password reset): its
// counts, and which of its pairs logged in before, since whoever logged in with the old password
// (perhaps who guessed it) must not stay exempt from the account-wide limit for Known.
func forgetAccount(tx *gorm.DB, name string) error {
	if err := lockAccount(tx, name); err != nil {
		return err
	}
	return tx.Exec("DELETE FROM login_throttle WHERE key = ? OR account = ?", accountKey(name), name).Error
}

// keepOnlyPair forgets which pairs of k's account logged in before, but k's own (the owner changing
// the password from there): the others' failures stay counted. Each statement rechecks failures
// on the row it changes, so a concurrent login cannot make it break login_throttle_counted.
func keepOnlyPair(tx *gorm.DB, k throttled) error {
	if err := lockAccount(tx, k.account); err != nil {
		return err
	}
	if err := tx.Exec("DELETE FROM login_throttle WHERE account = ? AND key <> ? AND failures = 0", k.account, k.pairKey()).Error; err != nil {
		return err
	}
	return tx.Exec("UPDATE login_throttle SET last_success_at = NULL WHERE account = ? AND key <> ? AND failures > 0 AND last_success_at IS NOT NULL",
		k.account, k.pairKey()).Error
}

// PruneThrottle deletes the rows of login_throttle that no longer count: last failed more than
// Window ago (its count would start over) and not blocked, and not a pair that logged in within
// Known. Without it, every username an attacker types from every address would stay a row. It
// deletes 1,000 rows a statement, so that no statement holds many locks for long.
func (s *Users) PruneThrottle(ctx context.Context) (int64, error) {
	var total int64
	for {
		res := s.db.WithContext(ctx).Exec(`DELETE FROM login_throttle WHERE key IN (
			SELECT key FROM login_throttle
			WHERE (last_failure_at IS NULL OR last_failure_at < now() - make_interval(secs => ?))
				AND (blocked_until IS NULL OR blocked_until < now())
				AND (last_success_at IS NULL OR last_success_at < now() - make_interval(secs => ?))
			LIMIT 1000)`, s.throttle.Window.Seconds(), s.throttle.Known.Seconds())
		if res.Error != nil {
			return total, apperr.DB(res.Error, "login throttle")
		}
		total += res.RowsAffected
		if res.RowsAffected < 1000 {
			return total, nil
		}
	}
}

// RunPrune runs PruneThrottle, PruneSessions and PruneDevices now and then every interval until ctx ends; it
// holds no state, so a restart loses nothing.
func (s *Users) RunPrune(ctx context.Context, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		for what, prune := range map[string]func(context.Context) (int64, error){
			"the login throttle": s.PruneThrottle, "ended sessions": s.PruneSessions, "expired login devices": s.PruneDevices} {
			n, err := prune(ctx)
			switch {
			case err != nil && ctx.Err() == nil:
				log.Warn("pruning "+what+" failed; retried at the next pass", "deleted", n, "err", err)
			case n > 0:
				log.Info("pruned "+what, "deleted", n)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
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
