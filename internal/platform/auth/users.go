package auth

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"

	"github.com/google/uuid"
	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/cache"
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
	DisabledAt   *time.Time // a disabled account cannot log in; disabling it ended its sessions
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
	db       *gorm.DB
	cache    *cache.Cache
	tokens   *Tokens
	throttle Throttle
	cost     int
	// deviceKey signs device cookies (devices.go).
	deviceKey []byte
	// dummy keeps login time the same whether or not the username exists.
	dummy []byte
}

// NewUsers builds the account service; c caches whether sessions are live; cost is the bcrypt
// cost of new password hashes (bcrypt.DefaultCost, 10, takes ~50 ms a hash here).
func NewUsers(db *gorm.DB, c *cache.Cache, tokens *Tokens, cost int) *Users {
	dummy, _ := bcrypt.GenerateFromPassword([]byte("not a real password"), cost)
	return &Users{db: db, cache: c, tokens: tokens, throttle: DefaultThrottle, cost: cost, dummy: dummy}
}

// SetThrottle replaces DefaultThrottle (tests shorten it).
func (s *Users) SetThrottle(t Throttle) { s.throttle = t }

var usernameRe = regexp.MustCompile(`^[a-z0-9._-]{3,64}$`)

// canonicalUsername is s as accounts are named, blanks around it dropped and ASCII capitals
// lower-cased ("Admin" is admin), and whether that is a username: 3 to 64 characters of a-z, 0-9,
// '.', '_', '-'. Only ASCII is folded, before the check: strings.ToLower maps the Kelvin sign
// U+212A to k and U+0130 (İ) to i, which silently made "\u212aelvin" the account kelvin.
func canonicalUsername(s string) (string, bool) {
	b := []byte(strings.TrimSpace(s))
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b), usernameRe.MatchString(string(b))
}

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
	name, ok := canonicalUsername(req.Username)
	if !ok {
		f.Add("username", "%s", usernameReason(req.Username))
	}
	req.Username = name
	checkPassword(&f, "password", req.Password)
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
		return User{}, apperr.ConflictField("username", "username %q is taken", req.Username)
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

// usernameReason says why canonicalUsername refused s, naming the first character that is not
// allowed (U+212A, the Kelvin sign, looks like K).
func usernameReason(s string) string {
	const rule = "must be 3 to 64 characters of a-z, 0-9, '.', '_' or '-'"
	for _, r := range strings.TrimSpace(s) {
		if r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-' {
			continue
		}
		if r > unicode.MaxASCII {
			return fmt.Sprintf("%s: U+%04X is not one of them, though it may look like one; type the name in ASCII", rule, r)
		}
		return fmt.Sprintf("%s: %q is not one of them", rule, r)
	}
	return rule
}

// Login checks a username and password, starts a session and returns its bearer token.
// Errors: Unauthorized (wrong username or password; the two are not told apart), Forbidden (the
// account is disabled; said only to whoever knows its password).
func (s *Users) Login(ctx context.Context, username, password string) (string, time.Time, User, error) {
	var u User
	err := gorm.ErrRecordNotFound // a name no account can have (canonicalUsername) is unknown
	if name, ok := canonicalUsername(username); ok {
		err = s.db.WithContext(ctx).Where("username = ?", name).Take(&u).Error
	}
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
	if u.DisabledAt != nil {
		return "", time.Time{}, User{}, apperr.Forbidden("该账户已停用，请联系县乡村振兴局。This account is disabled: ask the county office.")
	}
	token, exp, err := s.Start(ctx, u.Principal())
	return token, exp, u, err
}
