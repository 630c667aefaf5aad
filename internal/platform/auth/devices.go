package auth

import (
	"context"
	"errors"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
)

// Device cookies, after OWASP's "Slow Down Online Guessing Attacks with Device Cookies" (the
// Authentication Cheat Sheet links it): a successful login gives the client a cookie naming the
// account and a nonce; a later login of that account presenting it is a *trusted device*, counted
// and blocked per device (Throttle's pair limit: PairFree failures, then Base doubled up to Cap) and
// never by the account-wide or address counts. A stranger keeping the account blocked from many
// addresses therefore cannot keep its owner out even at an address never used before, as long as
// the owner's browser logged in within Known. A stolen cookie buys its thief the device's few tries
// and no more; a password change or reset revokes every device of the account.
//
// The cookie is a JWT (HS256 under DEVICE_COOKIE_SECRET, golang-jwt as the bearer tokens): subject
// the user's id, id the nonce, audience deviceAudience, expiring after Throttle.Known. Each nonce is
// a row of login_devices: the row holds the device's count and is what a revocation deletes; a
// success replaces the presented device by a new one, so a copy taken earlier stops counting as
// soon as the owner logs in again.
const (
	// DeviceCookie is the cookie's name.
	DeviceCookie = "fupin_device"
	// DevicePath is the only path the browser sends it to: the login.
	DevicePath = "/api/v1/auth/login"
	// deviceAudience keeps a device cookie from passing for a bearer token (and back): the two are
	// also signed with different keys, and a bearer token has no audience.
	deviceAudience = "fupin-login-device"
)

// device is a trusted device presented at a login: its nonce, and how long its own block still
// lasts (0: not blocked).
type device struct {
	id   uuid.UUID
	wait time.Duration
}

// SetDeviceKey sets the HMAC key of device cookies (DEVICE_COOKIE_SECRET). Without one (a Users
// built for a test of another package) no cookie is issued and none is honoured.
func (s *Users) SetDeviceKey(secret string) { s.deviceKey = []byte(secret) }

// signDevice returns the cookie value of device id of user, valid until exp.
func (s *Users) signDevice(id, user uuid.UUID, now, exp time.Time) (string, error) {
	return jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.RegisteredClaims{
		Issuer: issuer, Subject: user.String(), ID: id.String(), Audience: jwt.ClaimStrings{deviceAudience},
		IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(exp),
	}).SignedString(s.deviceKey)
}

// parseDevice returns the device and user a cookie value names, if its signature (HS256 under the
// device key), issuer, audience and expiry are good.
func (s *Users) parseDevice(value string) (id, user uuid.UUID, ok bool) {
	if len(s.deviceKey) == 0 || value == "" {
		return uuid.Nil, uuid.Nil, false
	}
	var c jwt.RegisteredClaims
	_, err := jwt.ParseWithClaims(value, &c, func(*jwt.Token) (any, error) { return s.deviceKey, nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithIssuer(issuer), jwt.WithAudience(deviceAudience),
		jwt.WithExpirationRequired())
	if err != nil {
		return uuid.Nil, uuid.Nil, false
	}
	id, e1 := uuid.Parse(c.ID)
	user, e2 := uuid.Parse(c.Subject)
	if errors.Join(e1, e2) != nil {
		return uuid.Nil, uuid.Nil, false
	}
	return id, user, true
}

// presentedDevice returns the device of the cookie value when it is a live device of account (the
// canonical username, as throttleOf has it): well signed and unexpired (parseDevice), issued to
// that account, and not revoked (its row is there and unexpired). ok is false for anything else
// (no cookie, a forged, expired, revoked or other account's cookie): such a login is counted as
// one without a cookie.
func (s *Users) presentedDevice(ctx context.Context, value, account string) (device, bool, error) {
	id, user, ok := s.parseDevice(value)
	if !ok {
		return device{}, false, nil
	}
	var rows []struct{ Wait float64 }
	err := s.db.WithContext(ctx).Raw(`SELECT coalesce(ceil(extract(epoch FROM d.blocked_until - now())), 0) AS wait
		FROM login_devices d JOIN users u ON u.id = d.user_id
		WHERE d.id = ? AND d.user_id = ? AND u.username = ? AND d.expires_at > now()`, id, user, account).Scan(&rows).Error
	if err != nil {
		return device{}, false, apperr.DB(err, "login device")
	}
	if len(rows) == 0 {
		return device{}, false, nil
	}
	return device{id: id, wait: time.Duration(max(rows[0].Wait, 0)) * time.Second}, true, nil
}

// deviceFailed counts a failed login of device id and blocks it as a pair would be (Throttle). It
// reports false when the device is gone meanwhile (revoked by a password reset): the caller then
// counts the failure as a login's without a cookie.
func (s *Users) deviceFailed(ctx context.Context, id uuid.UUID) (bool, error) {
	t := s.throttle
	var counted bool
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var n []int
		err := tx.Raw(`UPDATE login_devices SET
				failures = CASE WHEN failures = 0 OR last_failure_at < now() - make_interval(secs => ?) THEN 1 ELSE failures + 1 END,
				last_failure_at = now()
			WHERE id = ? RETURNING failures`, t.Window.Seconds(), id).Scan(&n).Error
		if err != nil || len(n) == 0 {
			return err
		}
		counted = true
		if d := t.block(n[0], t.PairFree); d > 0 {
			return tx.Exec("UPDATE login_devices SET blocked_until = now() + make_interval(secs => ?) WHERE id = ?", d.Seconds(), id).Error
		}
		return nil
	})
	if err != nil {
		return false, apperr.DB(err, "login device")
	}
	return counted, nil
}

// newDevice records a new device of user, replacing previous (uuid.Nil: none) in the same
// transaction, and returns its cookie value and expiry (Throttle.Known from now). Without a device
// key it returns "".
func (s *Users) newDevice(ctx context.Context, user, previous uuid.UUID) (string, time.Time, error) {
	if len(s.deviceKey) == 0 {
		return "", time.Time{}, nil
	}
	// A nonce, not an id anything is ordered or paged by: all of it random.
	id := uuid.New()
	now := time.Now().UTC()
	exp := now.Add(s.throttle.Known)
	value, err := s.signDevice(id, user, now, exp)
	if err != nil {
		return "", time.Time{}, err
	}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if previous != uuid.Nil {
			if err := tx.Exec("DELETE FROM login_devices WHERE id = ? AND user_id = ?", previous, user).Error; err != nil {
				return err
			}
		}
		return tx.Exec("INSERT INTO login_devices (id, user_id, expires_at) VALUES (?, ?, ?)", id, user, exp).Error
	})
	if err != nil {
		return "", time.Time{}, apperr.DB(err, "login device")
	}
	return value, exp, nil
}

// revokeDevices forgets every device of user on tx (a password change or reset): whoever logged
// in with the old password, perhaps by guessing it, keeps no exemption from the account-wide limit.
func revokeDevices(tx *gorm.DB, user uuid.UUID) error {
	return tx.Exec("DELETE FROM login_devices WHERE user_id = ?", user).Error
}

// PruneDevices deletes the devices whose cookies have expired, 1,000 a statement, and returns how
// many.
func (s *Users) PruneDevices(ctx context.Context) (int64, error) {
	var total int64
	for {
		res := s.db.WithContext(ctx).Exec(`DELETE FROM login_devices WHERE id IN (
			SELECT id FROM login_devices WHERE expires_at < now() LIMIT 1000)`)
		if res.Error != nil {
			return total, apperr.DB(res.Error, "login device")
		}
		total += res.RowsAffected
		if res.RowsAffected < 1000 {
			return total, nil
		}
	}
}
