package station

import (
	"context"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/auth"
	"github.com/fupinmarket/fupin/internal/platform/database"
	"github.com/fupinmarket/fupin/internal/platform/text"
)

// MaxCommissionBP bounds a station's commission: 5000 basis points (50 %), as the CHECK on
// stations.commission_bp and ledger.MaxCommissionBP do.
const MaxCommissionBP = 5000

// SetCommission is the county office's request to change a station's commission.
type SetCommission struct {
	CommissionBP *int32 `json:"commission_bp"` // basis points of each sale line, 0..5000
	Reason       string `json:"reason"`        // optional, at most 200 characters
}

// CommissionChange is one change of a station's commission, from station_commission_changes.
type CommissionChange struct {
	PreviousBP   int32      `json:"previous_bp"`
	CommissionBP int32      `json:"commission_bp"`
	ChangedAt    time.Time  `json:"changed_at"`
	ChangedBy    *uuid.UUID `json:"changed_by"` // the county office's user; null when changed directly in SQL
	Reason       string     `json:"reason"`
}

// Commission is a station's commission now, with its changes, newest first.
type Commission struct {
	StationID    uuid.UUID          `json:"station_id"`
	CommissionBP int32              `json:"commission_bp"`
	Changes      []CommissionChange `json:"changes"`
}

// SetCommission sets station id's commission, in force for orders placed from now on (an order's
// lines keep the rate of when it was placed: migration 00060), and logs the change with who made
// it and why in the same transaction. Setting the rate it already has changes and logs nothing.
// Errors: Forbidden (not the county office), Invalid naming commission_bp or reason, NotFound.
func (s *Service) SetCommission(ctx context.Context, p auth.Principal, id uuid.UUID, req SetCommission) (Commission, error) {
	if !p.IsAdmin() {
		return Commission{}, apperr.Forbidden("only the county office sets a station's commission")
	}
	var f apperr.Fields
	if req.CommissionBP == nil {
		f.Add("commission_bp", "is required: basis points of each sale line, 0 to %d (100 = 1 %%)", MaxCommissionBP)
	} else if *req.CommissionBP < 0 || *req.CommissionBP > MaxCommissionBP {
		f.Add("commission_bp", "must be 0 to %d basis points (100 = 1 %%), is %d", MaxCommissionBP, *req.CommissionBP)
	}
	reason, ok := text.Optional(req.Reason, 200)
	if !ok {
		f.Add("reason", "%s", text.HiddenOr(req.Reason, "must be at most 200 characters"))
	}
	if err := f.Err(); err != nil {
		return Commission{}, err
	}
	var old int32
	err := database.Tx(ctx, s.db, func(tx *gorm.DB) error {
		var cur []int32
		if err := tx.Raw(`SELECT commission_bp FROM stations WHERE id = ? FOR UPDATE`, id).Scan(&cur).Error; err != nil {
			return err
		}
		if len(cur) == 0 {
			return apperr.NotFound("station")
		}
		old = cur[0]
		// The trigger that logs the change (stations_commission_log) reads who and why from these
		// settings, local to this transaction.
		if err := tx.Exec(`SELECT set_config('fupin.actor', ?, true), set_config('fupin.reason', ?, true)`,
			p.UserID.String(), reason).Error; err != nil {
			return err
		}
		return tx.Exec(`UPDATE stations SET commission_bp = ? WHERE id = ?`, *req.CommissionBP, id).Error
	})
	if err != nil {
		return Commission{}, apperr.DB(err, "station")
	}
	if old != *req.CommissionBP {
		s.log.InfoContext(ctx, "station commission set", "station_id", id, "from_bp", old, "to_bp", *req.CommissionBP, "user_id", p.UserID)
	}
	return s.Commission(ctx, id)
}

// Commission returns station id's commission and its changes, newest first. Errors: NotFound.
func (s *Service) Commission(ctx context.Context, id uuid.UUID) (Commission, error) {
	out := Commission{StationID: id, Changes: []CommissionChange{}}
	var cur []int32
	if err := s.db.WithContext(ctx).Raw(`SELECT commission_bp FROM stations WHERE id = ?`, id).Scan(&cur).Error; err != nil {
		return out, apperr.DB(err, "station")
	}
	if len(cur) == 0 {
		return out, apperr.NotFound("station")
	}
	out.CommissionBP = cur[0]
	err := s.db.WithContext(ctx).Raw(`SELECT previous_bp, commission_bp, changed_at, changed_by, reason
		FROM station_commission_changes WHERE station_id = ? ORDER BY changed_at DESC, id DESC`, id).Scan(&out.Changes).Error
	return out, apperr.DB(err, "station")
}

// CommissionOf returns station id's commission now in basis points, read through db.
// Errors: NotFound.
func CommissionOf(ctx context.Context, db *gorm.DB, id uuid.UUID) (int32, error) {
	var cur []int32
	if err := db.WithContext(ctx).Raw(`SELECT commission_bp FROM stations WHERE id = ?`, id).Scan(&cur).Error; err != nil {
		return 0, apperr.DB(err, "station")
	}
	if len(cur) == 0 {
		return 0, apperr.NotFound("station")
	}
	return cur[0], nil
}
