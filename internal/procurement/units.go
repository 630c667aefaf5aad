package procurement

import (
	"context"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/text"
)

// Units registers and reads assisting units.
type Units struct{ db *gorm.DB }

// NewUnits builds the unit service.
func NewUnits(db *gorm.DB) *Units { return &Units{db: db} }

// NewUnit is a registration request.
type NewUnit struct {
	Name       string   `json:"name"`
	CreditCode string   `json:"credit_code"` // 统一社会信用代码, GB 32100-2015
	Kind       UnitKind `json:"kind"`
}

// Create validates and stores a unit. Errors: Invalid, Conflict naming credit_code.
func (s *Units) Create(ctx context.Context, req NewUnit) (Unit, error) {
	var f apperr.Fields
	name, ok := text.Name(req.Name, 100)
	if !ok {
		f.Add("name", "%s", text.NameReason(req.Name, 100))
	}
	code := NormalizeCreditCode(req.CreditCode)
	if why := CheckCreditCode(code); why != "" {
		f.Add("credit_code", "%s", why)
	}
	switch req.Kind {
	case UnitAgency, UnitStateOwned, UnitPrivate, UnitSocialOrg:
	default:
		f.Add("kind", "must be agency, state_owned, private or social_org")
	}
	if err := f.Err(); err != nil {
		return Unit{}, err
	}
	u := Unit{ID: uuid.Must(uuid.NewV7()), Name: name, CreditCode: code, Kind: req.Kind, CreatedAt: time.Now().UTC()}
	err := s.db.WithContext(ctx).Create(&u).Error
	if apperr.PgCode(err) == apperr.PgUniqueViolation {
		return Unit{}, apperr.ConflictField("credit_code", "a unit with credit code %s is already registered", code)
	}
	return u, apperr.DB(err, "assisting unit")
}

// Get returns a unit the caller may see: an admin any, a buyer its own. Errors: NotFound.
func (s *Units) Get(ctx context.Context, p auth.Principal, id uuid.UUID) (Unit, error) {
	if p.Role == auth.RoleBuyer && p.UnitID != id || p.Role == auth.RoleStation {
		return Unit{}, apperr.NotFound("assisting unit")
	}
	var u Unit
	err := s.db.WithContext(ctx).Take(&u, "id = ?", id).Error
	return u, apperr.DB(err, "assisting unit")
}

// List returns every unit (admins) by name.
func (s *Units) List(ctx context.Context) ([]Unit, error) {
	var list []Unit
	err := s.db.WithContext(ctx).Order("name").Find(&list).Error
	return list, apperr.DB(err, "assisting unit")
}
