package auth

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/httpx"
)

// liveCacheTTL is how long Redis may answer "live" for a session without PostgreSQL being asked.
// A revocation deletes the cached answer at once; only when Redis cannot be reached at that moment
// may a revoked session still be taken for live, for at most this long.
const liveCacheTTL = 30 * time.Second

// revokedCacheTTL bounds how long a "revoked" answer is cached (it never turns live again).
const revokedCacheTTL = time.Hour

func sessionKey(id uuid.UUID) string { return "session:" + id.String() }

// Start records a session for p, ending when its token expires, and returns the session's bearer
// token and expiry: what Login does once the password is right. p.UserID must name an account
// (Errors: a foreign-key violation from the database otherwise); p's role and scope are signed
// as given, so a caller other than Login (tests, tools acting as a user) must have them right.
func (s *Users) Start(ctx context.Context, p Principal) (string, time.Time, error) {
	p.SessionID = uuid.Must(uuid.NewV7())
	token, exp, err := s.tokens.issue(p)
	if err != nil {
		return "", time.Time{}, err
	}
	err = s.db.WithContext(ctx).Exec("INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES (?, ?, now(), ?)",
		p.SessionID, p.UserID, exp).Error
	if err != nil {
		return "", time.Time{}, apperr.DB(err, "session")
	}
	return token, exp, nil
}

// sessionLive reports whether session id is neither expired nor revoked and its account is not
// disabled, from Redis when it knows, else from PostgreSQL (then cached).
func (s *Users) sessionLive(ctx context.Context, id uuid.UUID) (bool, error) {
	if v, ok := s.cache.Get(ctx, sessionKey(id)); ok {
		return string(v) == "1", nil
	}
	var row struct {
		Live      bool
		ExpiresAt time.Time
	}
	err := s.db.WithContext(ctx).Raw(`SELECT s.revoked_at IS NULL AND s.expires_at > now() AND u.disabled_at IS NULL AS live, s.expires_at
		FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = ?`, id).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return false, nil
	}
	if err != nil {
		return false, apperr.DB(err, "session")
	}
	if row.Live {
		s.cache.Set(ctx, sessionKey(id), []byte("1"), min(liveCacheTTL, time.Until(row.ExpiresAt)))
	} else {
		s.cache.Set(ctx, sessionKey(id), []byte("0"), revokedCacheTTL)
	}
	return row.Live, nil
}

// revokeSessions ends the live sessions of user, except keep (uuid.Nil: none kept), on tx, and
// returns their ids, whose cached answers the caller forgets once tx commits (forget).
func revokeSessions(ctx context.Context, tx *gorm.DB, user, keep uuid.UUID) ([]uuid.UUID, error) {
	var ids []uuid.UUID
	err := tx.WithContext(ctx).Raw(`UPDATE sessions SET revoked_at = now()
		WHERE user_id = ? AND revoked_at IS NULL AND expires_at > now() AND id <> ? RETURNING id`, user, keep).Scan(&ids).Error
	if err != nil {
		return nil, apperr.DB(err, "session")
	}
	return ids, nil
}

// forget drops the cached answers of sessions (after their revocation committed).
func (s *Users) forget(ctx context.Context, ids []uuid.UUID) {
	if len(ids) == 0 {
		return
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = sessionKey(id)
	}
	_ = s.cache.Del(ctx, keys...) // Redis down: the cached "live" lapses within liveCacheTTL
}

// Logout revokes the caller's session.
func (s *Users) Logout(ctx context.Context, p Principal) error {
	err := s.db.WithContext(ctx).Exec("UPDATE sessions SET revoked_at = now() WHERE id = ? AND revoked_at IS NULL", p.SessionID).Error
	if err != nil {
		return apperr.DB(err, "session")
	}
	s.forget(ctx, []uuid.UUID{p.SessionID})
	return nil
}

// Authenticate reads an optional `Authorization: Bearer` token: a bad or expired one, one that
// names no session (`jti`), or one whose session has ended is a 401 problem. Every token names its
// session since sessions exist; one signed without (by hand, with the server's secret) would
// otherwise outlive logout, password changes and disabling, so it is refused.
func (s *Users) Authenticate() gin.HandlerFunc {
	return func(c *gin.Context) {
		h := c.GetHeader("Authorization")
		if h == "" {
			c.Next()
			return
		}
		p, err := s.authenticate(c.Request.Context(), h)
		if err != nil {
			httpx.Fail(c, err)
			return
		}
		c.Set(principalKey, p)
		httpx.SetLogUser(c, p.UserID.String(), string(p.Role))
		c.Next()
	}
}

// authenticate checks an Authorization header value and returns its Principal.
func (s *Users) authenticate(ctx context.Context, header string) (Principal, error) {
	// The scheme name is case-insensitive (RFC 9110 §11.1): "bearer" and "BEARER" are Bearer.
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return Principal{}, apperr.Unauthorized("the Authorization header must be 'Bearer <token>'")
	}
	p, err := s.tokens.Parse(strings.TrimSpace(token))
	if err != nil {
		return Principal{}, apperr.Unauthorized("the bearer token is invalid or expired; log in again")
	}
	if p.SessionID == uuid.Nil {
		return Principal{}, apperr.Unauthorized("the bearer token names no session; log in again (POST /api/v1/auth/login)")
	}
	live, err := s.sessionLive(ctx, p.SessionID)
	if err != nil {
		return Principal{}, err
	}
	if !live {
		return Principal{}, apperr.Unauthorized("the session has ended (logged out, password changed or account disabled); log in again")
	}
	return p, nil
}

// SessionRetention is how long a session that ended (expired or revoked) is kept before
// PruneSessions deletes it: long enough to answer "who was signed in then" in a quarter's review;
// without it every login of every account stayed a row for ever.
const SessionRetention = 90 * 24 * time.Hour

// PruneSessions deletes the sessions that ended more than SessionRetention ago, 1,000 a
// statement, and returns how many. When a session ended is written as the index sessions_ended
// (00980) has it, so that the lookup uses it.
func (s *Users) PruneSessions(ctx context.Context) (int64, error) {
	var total int64
	for {
		res := s.db.WithContext(ctx).Exec(`DELETE FROM sessions WHERE id IN (
			SELECT id FROM sessions WHERE least(expires_at, coalesce(revoked_at, expires_at)) < now() - make_interval(secs => ?)
			LIMIT 1000)`, SessionRetention.Seconds())
		if res.Error != nil {
			return total, apperr.DB(res.Error, "session")
		}
		total += res.RowsAffected
		if res.RowsAffected < 1000 {
			return total, nil
		}
	}
}
