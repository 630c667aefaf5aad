package household

import (
	"context"

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

// village tells whether code is a current village (one merged away keeps its code for history
// but takes no new households: Regions.NotMerged says where they go).
func (s store) village(ctx context.Context, code string) (current bool, err error) {
	var n int64
	err = s.db.WithContext(ctx).Table("regions_view").Where("code = ? AND level = 5 AND valid_to IS NULL", code).Count(&n).Error
	return n > 0, err
}
