package reserve

import (
	"context"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/text"
)

// Approve approves a submitted filing. The reviewer is the supervising department fixed on the
// filing (its buyers), or the county office for a unit without one. An approval is final: a
// second one is a Conflict (and the database holds one approval per filing). Errors: NotFound,
// Forbidden (not the reviewer), Conflict (approved already, or returned).
func (s *Service) Approve(ctx context.Context, p auth.Principal, id uuid.UUID) (Filing, error) {
	return s.decide(ctx, p, id, StatusApproved, "")
}

// Return sends a submitted filing back to its unit with a reason (1 to 500 characters); the
// unit files again. Errors: as Approve, and Invalid (reason).
func (s *Service) Return(ctx context.Context, p auth.Principal, id uuid.UUID, reason string) (Filing, error) {
	r, ok := text.Name(reason, 500)
	if !ok {
		return Filing{}, apperr.Invalid(apperr.Field("reason", "%s", text.HiddenOr(reason, "must say what the unit should correct, 1 to 500 characters")))
	}
	return s.decide(ctx, p, id, StatusReturned, r)
}

func (s *Service) decide(ctx context.Context, p auth.Principal, id uuid.UUID, to Status, reason string) (Filing, error) {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var r filingRow
		if err := tx.Raw(`SELECT * FROM reserve_filings WHERE id = ? FOR UPDATE`, id).Scan(&r).Error; err != nil {
			return apperr.DB(err, "filing")
		}
		if r.ID == uuid.Nil {
			return apperr.NotFound("filing")
		}
		if ok, err := s.mayRead(tx, p, r); err != nil || !ok {
			return firstErr(err, apperr.NotFound("filing"))
		}
		if !mayReview(p, r) {
			if r.SupervisorID == nil {
				return apperr.Forbidden("this unit has no supervising department: the county office reviews its filing")
			}
			return apperr.Forbidden("only the unit's supervising department (" + r.SupervisorID.String() + ") reviews its filing")
		}
		switch r.Status {
		case StatusApproved:
			return apperr.Conflict("the filing was approved on %s; an approval is final", r.DecidedAt.Format(time.DateOnly)).
				With("current_status", r.Status)
		case StatusReturned:
			return apperr.Conflict("the filing was returned to the unit; it is reviewed again when the unit files again").
				With("current_status", r.Status)
		}
		now := s.now()
		r.Status, r.DecidedAt, r.ReturnReason = to, &now, reason
		if err := tx.Exec(`UPDATE reserve_filings SET status = ?, decided_at = ?, return_reason = ? WHERE id = ?`,
			to, now, reason, id).Error; err != nil {
			return apperr.DB(err, "filing")
		}
		var shared []uuid.UUID
		if err := tx.Raw(`SELECT unit_id FROM reserve_filing_units WHERE filing_id = ? AND role = 'covered' ORDER BY unit_id`, id).
			Scan(&shared).Error; err != nil {
			return apperr.DB(err, "filing")
		}
		return s.record(tx, r, shared, to, p.UserID, reason)
	})
	if apperr.PgCode(err) == apperr.PgUniqueViolation {
		return Filing{}, apperr.Conflict("the filing was approved at the same moment; an approval is final").With("current_status", StatusApproved)
	}
	if err != nil {
		return Filing{}, apperr.DB(err, "filing")
	}
	return s.filing(s.db.WithContext(ctx), id)
}

// mayReview: the buyers of the supervising department fixed on the filing, or the county office
// when it has none.
func mayReview(p auth.Principal, r filingRow) bool {
	if r.SupervisorID == nil {
		return p.IsAdmin()
	}
	return p.Role == auth.RoleBuyer && p.UnitID == *r.SupervisorID
}

// mayRead: whoever may read the filing (as canRead) learns that it exists; others get NotFound.
func (s *Service) mayRead(tx *gorm.DB, p auth.Principal, r filingRow) (bool, error) {
	if p.IsAdmin() || p.Role == auth.RoleBuyer && (p.UnitID == r.UnitID || r.SupervisorID != nil && *r.SupervisorID == p.UnitID) {
		return true, nil
	}
	if p.Role != auth.RoleBuyer {
		return false, nil
	}
	var n int64
	err := tx.Raw(`SELECT count(*) FROM reserve_filing_units WHERE filing_id = ? AND unit_id = ?`, r.ID, p.UnitID).Scan(&n).Error
	return n > 0, apperr.DB(err, "filing")
}

// FilingSummary is one line of a list of filings.
type FilingSummary struct {
	ID               uuid.UUID  `json:"id"`
	UnitID           uuid.UUID  `json:"unit_id"`
	UnitName         string     `json:"unit_name"`
	Year             int        `json:"year"`
	Status           Status     `json:"status"`
	Canteen          Canteen    `json:"canteen"`
	CanteenTotalFen  int64      `json:"canteen_total_fen"`
	RatioBP          int64      `json:"ratio_bp"`
	ReservedFen      int64      `json:"reserved_fen"`
	SupervisorUnitID *uuid.UUID `json:"supervisor_unit_id"`
	FiledAt          time.Time  `json:"filed_at"`
}

// List returns the year's filings the caller may read, by unit name: the county office all, a
// buyer its unit's and those its unit reviews; status filters ("" for all). Errors: Invalid.
func (s *Service) List(ctx context.Context, p auth.Principal, year int, status Status) ([]FilingSummary, error) {
	if err := s.checkYear(year); err != nil {
		return nil, err
	}
	if status != "" && status != StatusSubmitted && status != StatusApproved && status != StatusReturned {
		return nil, apperr.Invalid(apperr.Field("status", "must be submitted, approved or returned"))
	}
	q := s.db.WithContext(ctx).Table("reserve_filings f").Joins("JOIN assisting_units_view u ON u.id = f.unit_id").
		Select(`f.id, f.unit_id, u.name AS unit_name, f.year, f.status, f.canteen, f.canteen_total_fen, f.ratio_bp,
			f.reserved_fen, f.supervisor_id AS supervisor_unit_id, f.filed_at`).Where("f.year = ?", year)
	if status != "" {
		q = q.Where("f.status = ?", status)
	}
	if !p.IsAdmin() {
		if p.Role != auth.RoleBuyer {
			return []FilingSummary{}, nil
		}
		q = q.Where(`f.unit_id = ? OR f.supervisor_id = ? OR f.id IN (SELECT filing_id FROM reserve_filing_units WHERE unit_id = ? AND year = ?)`,
			p.UnitID, p.UnitID, p.UnitID, year)
	}
	out := []FilingSummary{}
	return out, apperr.DB(q.Order("u.name, f.id").Scan(&out).Error, "filing")
}
