package household

import (
	"context"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/auth"
)

// store reads and writes household rows. Every read takes the caller's Principal and narrows the
// query to what it may see: a station operator sees only its station's villages.
type store struct{ db *gorm.DB }

// scoped narrows q to the households p may see.
func scoped(q *gorm.DB, p auth.Principal) *gorm.DB {
	switch p.Role {
	case auth.RoleAdmin:
		return q
	case auth.RoleStation:
		return q.Where("households.village_code IN (SELECT village_code FROM station_villages_view WHERE station_id = ?)", p.StationID)
	}
	return q.Where("false")
}

func (s store) get(ctx context.Context, p auth.Principal, id uuid.UUID) (row, error) {
	var r row
	err := scoped(s.db.WithContext(ctx), p).Where("id = ?", id).Take(&r).Error
	return r, err
}

// ListFilter narrows a listing. Zero values mean "any".
type ListFilter struct {
	VillageCode string
	Status      Status
	After       uuid.UUID // keyset cursor: ids are UUIDv7, so id order is creation order
	Limit       int
}

func (s store) list(ctx context.Context, p auth.Principal, f ListFilter) ([]row, error) {
	q := scoped(s.db.WithContext(ctx), p)
	if f.VillageCode != "" {
		q = q.Where("village_code LIKE ?", f.VillageCode+"%")
	}
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.After != uuid.Nil {
		q = q.Where("id > ?", f.After)
	}
	var rows []row
	err := q.Order("id").Limit(f.Limit).Find(&rows).Error
	return rows, err
}

// villageServed reports whether a station serves a village.
func (s store) villageServed(ctx context.Context, stationID uuid.UUID, village string) (bool, error) {
	var n int64
	err := s.db.WithContext(ctx).Table("station_villages_view").
		Where("station_id = ? AND village_code = ?", stationID, village).Count(&n).Error
	return n > 0, err
}

// village tells whether code is a current village, and for a village merged away (valid_to set:
// it keeps its code for history but takes no new households) its successor and the day it went.
func (s store) village(ctx context.Context, code string) (current bool, merged *mergedVillage, err error) {
	var r struct {
		Found         bool
		ValidTo       *time.Time
		SuccessorCode *string
	}
	err = s.db.WithContext(ctx).Raw(`SELECT true AS found, valid_to, successor_code FROM regions_view WHERE code = ? AND level = 5`, code).Scan(&r).Error
	switch {
	case err != nil || !r.Found:
		return false, nil, err
	case r.ValidTo == nil:
		return true, nil, nil
	case r.SuccessorCode != nil:
		return false, &mergedVillage{successor: *r.SuccessorCode, on: r.ValidTo.Format(time.DateOnly)}, nil
	}
	return false, nil, nil
}

// mergedVillage is where a merged village's households go, and from when.
type mergedVillage struct{ successor, on string }
