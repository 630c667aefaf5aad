package reserve

import (
	"context"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/text"
)

// BudgetUnit is an assisting unit on a budget as the county office registered it: its area,
// whose minimum ratio applies to its filings, and its supervising department (主管部门), which
// reviews them. The supervising department is itself an assisting unit, a first-level budget
// unit (一级预算单位) with no supervisor of its own; its buyers review. A unit with no supervising
// department is reviewed by the county office.
type BudgetUnit struct {
	UnitID           uuid.UUID  `json:"unit_id"`
	RegionCode       string     `json:"region_code"`
	SupervisorUnitID *uuid.UUID `json:"supervisor_unit_id"`
	MinRatioBP       int64      `json:"min_ratio_bp"`          // in force for its area now
	MinRatioRegion   string     `json:"min_ratio_region_code"` // "" for the national default
	UpdatedAt        time.Time  `json:"updated_at"`
}

// BudgetUnitRequest registers a unit's area (a region code of 2 to 12 digits) and supervising
// department (nil: none, the county office reviews).
type BudgetUnitRequest struct {
	RegionCode       string     `json:"region_code"`
	SupervisorUnitID *uuid.UUID `json:"supervisor_unit_id"`
}

type budgetUnitRow struct {
	UnitID       uuid.UUID
	RegionCode   string
	SupervisorID *uuid.UUID
	UpdatedAt    time.Time
}

// SetBudgetUnit registers or changes a unit's area and supervising department (county office).
// Filings already made keep the area and reviewer they were made with. Errors: Forbidden,
// NotFound (the unit), Invalid (region_code; supervisor_unit_id: unknown, the unit itself, a
// supervised unit), Conflict (the unit supervises others, so it cannot be given a supervisor).
func (s *Service) SetBudgetUnit(ctx context.Context, p auth.Principal, unitID uuid.UUID, req BudgetUnitRequest) (BudgetUnit, error) {
	if !p.IsAdmin() {
		return BudgetUnit{}, apperr.Forbidden("budget units are registered by the county office")
	}
	var f apperr.Fields
	code := text.ASCII(req.RegionCode)
	if n := len(code); n != 2 && n != 4 && n != 6 && n != 9 && n != 12 || strings.Trim(code, "0123456789") != "" {
		f.Add("region_code", "must be a region code of 2, 4, 6, 9 or 12 digits (the unit's budget area)")
	} else if ok, err := s.regionExists(ctx, code); err != nil {
		return BudgetUnit{}, err
	} else if !ok {
		f.Add("region_code", "names no region")
	}
	if err := f.Err(); err != nil {
		return BudgetUnit{}, err
	}
	row := budgetUnitRow{UnitID: unitID, RegionCode: code, SupervisorID: req.SupervisorUnitID, UpdatedAt: s.now()}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if ok, err := s.unitExists(tx, unitID); err != nil || !ok {
			return firstErr(err, apperr.NotFound("assisting unit"))
		}
		// Serialise registrations, so that two at once cannot make a chain (A over B over C).
		if err := tx.Exec(`SELECT pg_advisory_xact_lock(hashtext('reserve_budget_units'))`).Error; err != nil {
			return apperr.DB(err, "budget unit")
		}
		if sup := req.SupervisorUnitID; sup != nil {
			if *sup == unitID {
				return apperr.Invalid(apperr.Field("supervisor_unit_id", "must be another unit: a unit does not supervise itself"))
			}
			if ok, err := s.unitExists(tx, *sup); err != nil || !ok {
				return firstErr(err, apperr.Invalid(apperr.Field("supervisor_unit_id", "names no assisting unit")))
			}
			var n int64
			if err := tx.Raw(`SELECT count(*) FROM reserve_budget_units WHERE unit_id = ? AND supervisor_id IS NOT NULL`, *sup).
				Scan(&n).Error; err != nil {
				return apperr.DB(err, "budget unit")
			}
			if n > 0 {
				return apperr.Invalid(apperr.Field("supervisor_unit_id",
					"names a supervised unit: a supervising department is a first-level budget unit with no supervisor"))
			}
			if err := tx.Raw(`SELECT count(*) FROM reserve_budget_units WHERE supervisor_id = ?`, unitID).Scan(&n).Error; err != nil {
				return apperr.DB(err, "budget unit")
			}
			if n > 0 {
				return apperr.Conflict("this unit supervises %d other units; a supervising department has no supervisor", n)
			}
		}
		return apperr.DB(tx.Exec(`INSERT INTO reserve_budget_units (unit_id, region_code, supervisor_id, updated_at)
			VALUES (?, ?, ?, ?) ON CONFLICT (unit_id) DO UPDATE SET region_code = EXCLUDED.region_code,
			supervisor_id = EXCLUDED.supervisor_id, updated_at = EXCLUDED.updated_at`,
			row.UnitID, row.RegionCode, row.SupervisorID, row.UpdatedAt).Error, "budget unit")
	})
	if err != nil {
		return BudgetUnit{}, err
	}
	return s.budgetUnitOut(s.db.WithContext(ctx), row)
}

// GetBudgetUnit returns a unit's registration: the county office any, a buyer its own unit's or
// a unit's it supervises. Errors: NotFound.
func (s *Service) GetBudgetUnit(ctx context.Context, p auth.Principal, unitID uuid.UUID) (BudgetUnit, error) {
	row, err := s.budgetUnit(s.db.WithContext(ctx), unitID)
	if err != nil {
		return BudgetUnit{}, err
	}
	if !p.IsAdmin() && !(p.Role == auth.RoleBuyer && (p.UnitID == unitID || row.SupervisorID != nil && *row.SupervisorID == p.UnitID)) {
		return BudgetUnit{}, apperr.NotFound("budget unit")
	}
	return s.budgetUnitOut(s.db.WithContext(ctx), row)
}

func (s *Service) budgetUnit(db *gorm.DB, unitID uuid.UUID) (budgetUnitRow, error) {
	var rows []budgetUnitRow
	err := db.Raw(`SELECT unit_id, region_code, supervisor_id, updated_at FROM reserve_budget_units WHERE unit_id = ?`, unitID).
		Scan(&rows).Error
	if err != nil {
		return budgetUnitRow{}, apperr.DB(err, "budget unit")
	}
	if len(rows) == 0 {
		return budgetUnitRow{}, apperr.NotFound("budget unit")
	}
	return rows[0], nil
}

func (s *Service) budgetUnitOut(db *gorm.DB, r budgetUnitRow) (BudgetUnit, error) {
	bp, region, err := s.minRatioFor(db, r.RegionCode)
	return BudgetUnit{UnitID: r.UnitID, RegionCode: r.RegionCode, SupervisorUnitID: r.SupervisorID, MinRatioBP: bp,
		MinRatioRegion: region, UpdatedAt: r.UpdatedAt}, err
}

// firstErr returns err when set, else alt (an existence check that failed or found nothing).
func firstErr(err error, alt error) error {
	if err != nil {
		return err
	}
	return alt
}
