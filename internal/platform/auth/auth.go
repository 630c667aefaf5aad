// Package auth identifies callers: bcrypt-hashed passwords, HS256 bearer tokens, and the Principal
// (role and scope) that every store call receives, so that authorization lives in the queries.
package auth

import (
	"errors"
	"fmt"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/httpx"
)

// Role is what a user acts as.
type Role string

// Roles. The public (scanners) has no account and no Principal.
const (
	RoleAdmin   Role = "admin"   // county office (扶贫办 / 乡村振兴局)
	RoleStation Role = "station" // operator of a village e-commerce station, scoped to its villages
	RoleBuyer   Role = "buyer"   // buyer at an assisting unit, scoped to its unit
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleAdmin || r == RoleStation || r == RoleBuyer }

// Principal is the authenticated caller.
type Principal struct {
	UserID    uuid.UUID
	Role      Role
	StationID uuid.UUID // set for RoleStation
	UnitID    uuid.UUID // set for RoleBuyer
	// SessionID is the session the token was issued for (its `jti`), checked live on every
	// request (Users.Authenticate refuses a token without one).
	SessionID uuid.UUID
}

// IsAdmin reports whether p is a county office user.
func (p Principal) IsAdmin() bool { return p.Role == RoleAdmin }

type claims struct {
	Role      Role   `json:"role"`
	StationID string `json:"station_id,omitempty"`
	UnitID    string `json:"unit_id,omitempty"`
	jwt.RegisteredClaims
}

// Tokens issues and checks bearer tokens (JWT, HS256).
type Tokens struct {
	secret []byte
	ttl    time.Duration
}

// NewTokens takes the JWT_SECRET and the token lifetime.
func NewTokens(secret string, ttl time.Duration) *Tokens {
	return &Tokens{secret: []byte(secret), ttl: ttl}
}

const issuer = "fupin"

// issue returns a token for p and its expiry time; Users.Start records its session.
func (t *Tokens) issue(p Principal) (string, time.Time, error) {
	now := time.Now().UTC()
	exp := now.Add(t.ttl)
	c := claims{Role: p.Role, RegisteredClaims: jwt.RegisteredClaims{
		Subject: p.UserID.String(), Issuer: issuer,
		IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(exp),
	}}
	if p.StationID != uuid.Nil {
		c.StationID = p.StationID.String()
	}
	if p.UnitID != uuid.Nil {
		c.UnitID = p.UnitID.String()
	}
	if p.SessionID != uuid.Nil {
		c.ID = p.SessionID.String()
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(t.secret)
	return s, exp, err
}

// Parse checks a token's signature, issuer and expiry and returns its Principal.
func (t *Tokens) Parse(token string) (Principal, error) {
	var c claims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return t.secret, nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithIssuer(issuer), jwt.WithExpirationRequired())
	if err != nil {
		return Principal{}, err
	}
	p := Principal{Role: c.Role}
	var errs []error
	var e error
	p.UserID, e = uuid.Parse(c.Subject)
	errs = append(errs, e)
	if c.StationID != "" {
		p.StationID, e = uuid.Parse(c.StationID)
		errs = append(errs, e)
	}
	if c.UnitID != "" {
		p.UnitID, e = uuid.Parse(c.UnitID)
		errs = append(errs, e)
	}
	if c.ID != "" {
		p.SessionID, e = uuid.Parse(c.ID)
		errs = append(errs, e)
	}
	if err := errors.Join(errs...); err != nil || !p.Role.Valid() ||
		(p.Role == RoleStation) != (p.StationID != uuid.Nil) || (p.Role == RoleBuyer) != (p.UnitID != uuid.Nil) {
		return Principal{}, fmt.Errorf("auth: malformed claims")
	}
	return p, nil
}

const principalKey = "auth.principal"

// Require lets through callers with one of roles: 401 without a token, 403 with another role.
func Require(roles ...Role) gin.HandlerFunc {
	return func(c *gin.Context) {
		p, ok := From(c)
		if !ok {
			httpx.Fail(c, apperr.Unauthorized("log in first: POST /api/v1/auth/login, then send 'Authorization: Bearer <token>'"))
			return
		}
		for _, r := range roles {
			if p.Role == r {
				c.Next()
				return
			}
		}
		httpx.Fail(c, apperr.Forbidden(fmt.Sprintf("role %q may not do this", p.Role)))
	}
}

// From returns the caller's Principal, if authenticated.
func From(c *gin.Context) (Principal, bool) {
	v, ok := c.Get(principalKey)
	if !ok {
		return Principal{}, false
	}
	p, ok := v.(Principal)
	return p, ok
}

// MustFrom returns the Principal set by Require; handlers behind Require call it.
func MustFrom(c *gin.Context) Principal {
	p, _ := From(c)
	return p
}
