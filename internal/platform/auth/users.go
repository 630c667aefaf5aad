package auth

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/httpx"
)

// User is a row of `users`.
type User struct {
	ID           uuid.UUID `gorm:"primaryKey"`
	Username     string
	PasswordHash string
	Role         Role
	StationID    *uuid.UUID
	UnitID       *uuid.UUID
	CreatedAt    time.Time
}

// Principal returns the user's role and scope.
func (u User) Principal() Principal {
	p := Principal{UserID: u.ID, Role: u.Role}
	if u.StationID != nil {
		p.StationID = *u.StationID
	}
	if u.UnitID != nil {
		p.UnitID = *u.UnitID
	}
	return p
}

// Users stores accounts and logs them in.
type Users struct {
	db     *gorm.DB
	tokens *Tokens
	cost   int
	// dummy keeps login time the same whether or not the username exists.
	dummy []byte
}

// NewUsers builds the account service; cost is the bcrypt cost of new password hashes
// (bcrypt.DefaultCost, 10, takes ~50 ms a hash here).
func NewUsers(db *gorm.DB, tokens *Tokens, cost int) *Users {
	dummy, _ := bcrypt.GenerateFromPassword([]byte("not a real password"), cost)
	return &Users{db: db, tokens: tokens, cost: cost, dummy: dummy}
}

var usernameRe = regexp.MustCompile(`^[a-z0-9._-]{3,64}$`)

// NewUser is a request to create an account. Exactly one of StationID (role station) or UnitID
// (role buyer) is set; admins have neither.
type NewUser struct {
	Username  string     `json:"username"`
	Password  string     `json:"password"`
	Role      Role       `json:"role"`
	StationID *uuid.UUID `json:"station_id"`
	UnitID    *uuid.UUID `json:"unit_id"`
}

// Create validates and stores an account with a bcrypt hash of its password.
// Errors: Invalid (fields), Conflict (username taken), NotFound (station or unit).
func (s *Users) Create(ctx context.Context, req NewUser) (User, error) {
	var f apperr.Fields
	req.Username = strings.ToLower(strings.TrimSpace(req.Username))
	if !usernameRe.MatchString(req.Username) {
		f.Add("username", "must be 3 to 64 characters of a-z, 0-9, '.', '_' or '-'")
	}
	if n := len(req.Password); n < 10 || n > 72 {
		f.Add("password", "must be 10 to 72 bytes long")
	}
	if !req.Role.Valid() {
		f.Add("role", "must be admin, station or buyer")
	}
	if (req.Role == RoleStation) != (req.StationID != nil) {
		f.Add("station_id", "is required for role station and only for it")
	}
	if (req.Role == RoleBuyer) != (req.UnitID != nil) {
		f.Add("unit_id", "is required for role buyer and only for it")
	}
	if err := f.Err(); err != nil {
		return User{}, err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(req.Password), s.cost)
	if err != nil {
		return User{}, err
	}
	u := User{ID: uuid.Must(uuid.NewV7()), Username: req.Username, PasswordHash: string(hash),
		Role: req.Role, StationID: req.StationID, UnitID: req.UnitID, CreatedAt: time.Now().UTC()}
	err = s.db.WithContext(ctx).Create(&u).Error
	switch apperr.PgCode(err) {
	case "":
	case apperr.PgUniqueViolation:
		return User{}, apperr.Conflict("username %q is taken", req.Username)
	case apperr.PgForeignKeyViolation:
		if req.Role == RoleStation {
			return User{}, apperr.Invalid(apperr.Field("station_id", "names no station"))
		}
		return User{}, apperr.Invalid(apperr.Field("unit_id", "names no assisting unit"))
	default:
		return User{}, apperr.DB(err, "user")
	}
	return u, err
}

// Login checks a username and password and returns a bearer token.
// Errors: Unauthorized (wrong username or password; the two are not told apart).
func (s *Users) Login(ctx context.Context, username, password string) (string, time.Time, User, error) {
	var u User
	err := s.db.WithContext(ctx).Where("username = ?", strings.ToLower(strings.TrimSpace(username))).Take(&u).Error
	notFound := errors.Is(err, gorm.ErrRecordNotFound)
	if err != nil && !notFound {
		return "", time.Time{}, User{}, apperr.DB(err, "user")
	}
	hash := []byte(u.PasswordHash)
	if notFound {
		hash = s.dummy
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil || notFound {
		return "", time.Time{}, User{}, apperr.Unauthorized("wrong username or password")
	}
	token, exp, err := s.tokens.Issue(u.Principal())
	return token, exp, u, err
}

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
	ID        uuid.UUID  `json:"id"`
	Username  string     `json:"username"`
	Role      Role       `json:"role"`
	StationID *uuid.UUID `json:"station_id,omitempty"`
	UnitID    *uuid.UUID `json:"unit_id,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
}

// Register adds POST /api/v1/auth/login (public) and POST /api/v1/users (admin).
func (s *Users) Register(public, api gin.IRoutes) {
	public.POST("/api/v1/auth/login", func(c *gin.Context) {
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
		token, exp, u, err := s.Login(c.Request.Context(), req.Username, req.Password)
		if err != nil {
			httpx.Fail(c, err)
			return
		}
		c.JSON(http.StatusOK, loginResponse{Token: token, TokenType: "Bearer", ExpiresAt: exp, Role: u.Role,
			StationID: u.StationID, UnitID: u.UnitID})
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
		httpx.Created(c, userResponse{ID: u.ID, Username: u.Username, Role: u.Role, StationID: u.StationID,
			UnitID: u.UnitID, CreatedAt: u.CreatedAt})
	})
}
