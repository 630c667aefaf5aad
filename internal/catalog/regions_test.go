package catalog

import (
	"context"

	"github.com/fupinmarket/fupin/internal/platform/civil"
	"gorm.io/gorm"
)

// tableRegions answers Regions from the regions table as region.Store does (region imports
// catalog, so its tests cannot import region).
type tableRegions struct{ db *gorm.DB }

func (r tableRegions) Exist(ctx context.Context, codes []string, level int) (bool, error) {
	q := r.db.WithContext(ctx).Table("regions").Where("code IN ?", codes)
	if level != 0 {
		q = q.Where("level = ?", level)
	}
	var n int64
	err := q.Count(&n).Error
	return int(n) == len(codes), err
}

// NotMerged: merges are region's to test (internal/app runs the real check).
func (r tableRegions) NotMerged(context.Context, string, []string) error { return nil }
func (r tableRegions) MergedReason(code string, successor *string, validTo civil.Date) string {
	return code + " was merged into " + *successor + " on " + validTo.String()
}
