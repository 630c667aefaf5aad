package auth

import (
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/httpx"
)

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

type loginResponse struct {
	Token     string     `json:"token"`
	TokenType string     `json:"token_type"`
	ExpiresAt time.Time  `json:"expires_at"`
	Role      Role       `json:"role"`
	StationID *uuid.UUID `json:"station_id,omitempty"`
	UnitID    *uuid.UUID `json:"unit_id,omitempty"`
}

type userResponse struct {
	ID         uuid.UUID  `json:"id"`
	Username   string     `json:"username"`
	Role       Role       `json:"role"`
	StationID  *uuid.UUID `json:"station_id,omitempty"`
	UnitID     *uuid.UUID `json:"unit_id,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	DisabledAt *time.Time `json:"disabled_at,omitempty"`
}

func toResponse(u User) userResponse {
	return userResponse{ID: u.ID, Username: u.Username, Role: u.Role, StationID: u.StationID, UnitID: u.UnitID,
		CreatedAt: u.CreatedAt, DisabledAt: u.DisabledAt}
}

type passwordChange struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

type passwordReset struct {
	Password string `json:"password"`
}

// Register adds the public login and, behind authentication, logout, the caller's account and
// password, and the county office's management of accounts (/api/v1/users…).
func (s *Users) Register(public, api gin.IRoutes) {
	public.POST("/api/v1/auth/login", s.login)
	api.POST("/api/v1/auth/logout", Require(RoleAdmin, RoleStation, RoleBuyer), func(c *gin.Context) {
		if err := s.Logout(c.Request.Context(), MustFrom(c)); err != nil {
			httpx.Fail(c, err)
			return
		}
		c.Status(http.StatusNoContent)
	})
	api.GET("/api/v1/auth/me", Require(RoleAdmin, RoleStation, RoleBuyer), func(c *gin.Context) {
		u, err := s.Get(c.Request.Context(), MustFrom(c).UserID)
		if err != nil {
			httpx.Fail(c, err)
			return
		}
		c.JSON(http.StatusOK, toResponse(u))
	})
	api.PUT("/api/v1/auth/password", Require(RoleAdmin, RoleStation, RoleBuyer), func(c *gin.Context) {
		var req passwordChange
		if err := httpx.Bind(c, &req); err != nil {
			httpx.Fail(c, err)
			return
		}
		// Blocked as a login of the account from here would be: the current password is a
		// password guess too, made with a session (perhaps a stolen token's).
		u, err := s.Get(c.Request.Context(), MustFrom(c).UserID)
		if err != nil {
			httpx.Fail(c, err)
			return
		}
		if wait, err := s.blockedFor(c.Request.Context(), throttleOf(u.Username, c.ClientIP())); err != nil || wait > 0 {
			if err != nil {
				httpx.Fail(c, err)
			} else {
				tooMany(c, wait)
			}
			return
		}
		if err := s.ChangePassword(c.Request.Context(), MustFrom(c), c.ClientIP(), req.CurrentPassword, req.NewPassword); err != nil {
			httpx.Fail(c, err)
			return
		}
		c.Status(http.StatusNoContent)
	})
	api.GET("/api/v1/users", Require(RoleAdmin), func(c *gin.Context) {
		role := Role(c.Query("role"))
		if role != "" && !role.Valid() {
			httpx.Fail(c, apperr.Invalid(apperr.Field("role", "must be admin, station or buyer")))
			return
		}
		users, err := s.List(c.Request.Context(), role)
		if err != nil {
			httpx.Fail(c, err)
			return
		}
		out := make([]userResponse, len(users))
		for i, u := range users {
			out[i] = toResponse(u)
		}
		c.JSON(http.StatusOK, gin.H{"users": out})
	})
	api.POST("/api/v1/users", Require(RoleAdmin), func(c *gin.Context) {
		var req NewUser
		if err := httpx.Bind(c, &req); err != nil {
			httpx.Fail(c, err)
			return
		}
		u, err := s.Create(c.Request.Context(), req)
		if err != nil {
			httpx.Fail(c, err)
			return
		}
		httpx.Created(c, toResponse(u))
	})
	for path, disabled := range map[string]bool{"/api/v1/users/:id/disable": true, "/api/v1/users/:id/enable": false} {
		api.POST(path, Require(RoleAdmin), func(c *gin.Context) {
			id, ok := httpx.PathUUID(c, "id")
			if !ok {
				return
			}
			u, err := s.SetDisabled(c.Request.Context(), id, disabled)
			if err != nil {
				httpx.Fail(c, err)
				return
			}
			c.JSON(http.StatusOK, toResponse(u))
		})
	}
	api.PUT("/api/v1/users/:id/password", Require(RoleAdmin), func(c *gin.Context) {
		id, ok := httpx.PathUUID(c, "id")
		if !ok {
			return
		}
		var req passwordReset
		if err := httpx.Bind(c, &req); err != nil {
			httpx.Fail(c, err)
			return
		}
		if err := s.ResetPassword(c.Request.Context(), id, req.Password); err != nil {
			httpx.Fail(c, err)
			return
		}
		c.Status(http.StatusNoContent)
	})
}

// login checks the backoff first (a blocked login is a 429 whatever its password; Throttle): the
// device's own when the client presents a device cookie of the account (devices.go), else the
// account's from the client's address. Then the password: a failure is counted where the backoff
// was checked; a success forgets its pair's failures and gives the client a new device cookie.
func (s *Users) login(c *gin.Context) {
	var req loginRequest
	if err := httpx.Bind(c, &req); err != nil {
		httpx.Fail(c, err)
		return
	}
	var f apperr.Fields
	if req.Username == "" {
		f.Add("username", "is required")
	}
	if req.Password == "" {
		f.Add("password", "is required")
	}
	if err := f.Err(); err != nil {
		httpx.Fail(c, err)
		return
	}
	ctx := c.Request.Context()
	k := throttleOf(req.Username, c.ClientIP())
	cookie, _ := c.Cookie(DeviceCookie) // none: ""
	dev, trusted, err := s.presentedDevice(ctx, cookie, k.account)
	wait := dev.wait
	if err == nil && !trusted {
		wait, err = s.blockedFor(ctx, k)
	}
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	if wait > 0 {
		tooMany(c, wait)
		return
	}
	token, exp, u, err := s.Login(ctx, req.Username, req.Password)
	if apperr.Is(err, apperr.KindUnauthorized) {
		counted := false
		var ferr error
		if trusted {
			counted, ferr = s.deviceFailed(ctx, dev.id)
		}
		if ferr == nil && !counted {
			ferr = s.failed(ctx, k)
		}
		if ferr != nil {
			err = ferr
		}
	}
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	if err := s.succeeded(ctx, k); err != nil {
		httpx.Fail(c, err)
		return
	}
	value, until, err := s.newDevice(ctx, u.ID, dev.id)
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	if value != "" {
		setDeviceCookie(c, value, until)
	}
	c.JSON(http.StatusOK, loginResponse{Token: token, TokenType: "Bearer", ExpiresAt: exp, Role: u.Role,
		StationID: u.StationID, UnitID: u.UnitID})
}

// setDeviceCookie gives the client its device cookie (OWASP's attributes): sent back only to the
// login (DevicePath), never readable by scripts (HttpOnly), never on a request another site
// starts (SameSite=Strict), and only over TLS when served over it, here or at a proxy in front
// that says so (X-Forwarded-Proto; anyone else saying it only spoils his own cookie: browsers
// refuse a Secure cookie over plain HTTP).
func setDeviceCookie(c *gin.Context, value string, until time.Time) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: DeviceCookie, Value: value, Path: DevicePath, Expires: until, MaxAge: int(time.Until(until).Round(time.Second).Seconds()),
		HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: c.Request.TLS != nil || strings.EqualFold(c.GetHeader("X-Forwarded-Proto"), "https"),
	})
}
