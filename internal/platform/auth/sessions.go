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

// startSession records a session for u that ends when its token expires, and returns the token.
func (s *Users) startSession(ctx context.Context, u User) (string, time.Time, error) {
	p := u.Principal()
	p.SessionID = uuid.Must(uuid.NewV7())
	token, exp, err := s.tokens.Issue(p)
	if err != nil {
		return "", time.Time{}, err
	}
	err = s.db.WithContext(ctx).Exec("INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES (?, ?, now(), ?)",
		p.SessionID, u.ID, exp).Error
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

// Logout revokes the caller's session. A token issued without a session cannot be revoked and
// lapses at its expiry.
func (s *Users) Logout(ctx context.Context, p Principal) error {
	if p.SessionID == uuid.Nil {
		return nil
	}
	err := s.db.WithContext(ctx).Exec("UPDATE sessions SET revoked_at = now() WHERE id = ? AND revoked_at IS NULL", p.SessionID).Error
	if err != nil {
		return apperr.DB(err, "session")
	}
	s.forget(ctx, []uuid.UUID{p.SessionID})
	return nil
}

// Authenticate reads an optional `Authorization: Bearer` token: a bad, expired or revoked one is a
// 401. Tokens name their session (`jti`) since sessions exist, and the session must be live; a
// token without one (none is issued any more; tests sign their own) is taken on its signature
// and expiry alone.
func (s *Users) Authenticate() gin.HandlerFunc {
	return s.tokens.authenticate(func(c *gin.Context, p Principal) error {
		if p.SessionID == uuid.Nil {
			return nil
		}
		live, err := s.sessionLive(c.Request.Context(), p.SessionID)
		if err != nil {
			return err
		}
		if !live {
			return apperr.Unauthorized("the session has ended (logged out, password changed or account disabled); log in again")
		}
		return nil
	})
}

// Authenticate is Users.Authenticate without the session check: a token's signature and expiry
// only. For handler tests that run without the sessions table; the application uses
// Users.Authenticate.
func (t *Tokens) Authenticate() gin.HandlerFunc {
	return t.authenticate(func(*gin.Context, Principal) error { return nil })
}

func (t *Tokens) authenticate(check func(*gin.Context, Principal) error) gin.HandlerFunc {
	return func(c *gin.Context) {
		h := c.GetHeader("Authorization")
		if h == "" {
			c.Next()
			return
		}
		// The scheme name is case-insensitive (RFC 9110 §11.1): "bearer" and "BEARER" are Bearer.
		scheme, token, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			httpx.Fail(c, apperr.Unauthorized("the Authorization header must be 'Bearer <token>'"))
			return
		}
		p, err := t.Parse(strings.TrimSpace(token))
		if err != nil {
			httpx.Fail(c, apperr.Unauthorized("the bearer token is invalid or expired; log in again"))
			return
		}
		if err := check(c, p); err != nil {
			httpx.Fail(c, err)
			return
		}
		c.Set(principalKey, p)
		httpx.SetLogUser(c, p.UserID.String(), string(p.Role))
		c.Next()
	}
}
