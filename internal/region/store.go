package region

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/fupinmarket/fupin/internal/platform/apperr"
	"github.com/fupinmarket/fupin/internal/platform/civil"
)

// Store reads regions.
type Store struct{ db *gorm.DB }

// NewStore returns a Store over db.
func NewStore(db *gorm.DB) *Store { return &Store{db: db} }

// Get returns the region with this code: apperr NotFound ("region not found") if there is none,
// Unavailable if the database cannot be reached.
func (s *Store) Get(ctx context.Context, code string) (Region, error) {
	var r Region
	err := s.db.WithContext(ctx).Where("code = ?", code).Take(&r).Error
	return r, apperr.DB(err, "region")
}

// Exist reports whether every one of codes names a region (current or merged away) of level
// (Province to Village), or of any level when level is 0. Unavailable if the database cannot be
// reached.
func (s *Store) Exist(ctx context.Context, codes []string, level int) (bool, error) {
	q := s.db.WithContext(ctx).Model(&Region{}).Where("code IN ?", codes)
	if level != 0 {
		q = q.Where("level = ?", level)
	}
	var n int64
	if err := q.Count(&n).Error; err != nil {
		return false, apperr.DB(err, "region")
	}
	return int(n) == len(codes), nil
}

// NotMerged checks that none of codes names a region merged away (valid_to today or before,
// China's calendar): a station's villages and a product's origin are current villages, as a
// household's and a pairing's are. Errors: Invalid naming field, with the first merged code, the
// village it went into and the day, so that the caller can send the successor; Unavailable.
func (s *Store) NotMerged(ctx context.Context, field string, codes []string) error {
	var merged []Region
	err := s.db.WithContext(ctx).Where("code IN ? AND valid_to <= ?", codes, civil.Today(time.Now())).
		Order("code").Find(&merged).Error
	if err != nil || len(merged) == 0 {
		return apperr.DB(err, "region")
	}
	m := merged[0]
	return apperr.Invalid(apperr.Field(field, "%s", s.MergedReason(m.Code, m.SuccessorCode, *m.ValidTo)))
}

// MergedReason is what a request naming region code, merged away on validTo into successor (nil:
// none), is told: NotMerged's reason, for callers that read the region on a connection of their own
// (the roster import, inside its transaction).
func (*Store) MergedReason(code string, successor *string, validTo civil.Date) string {
	succ := "no successor"
	if successor != nil {
		succ = *successor
	}
	return fmt.Sprintf("%s was merged into %s on %s: use %s", code, succ, validTo, succ)
}

// pathSQL walks up parent_code from the region. The length guard stops the walk should a row ever
// name itself as parent (the table's CHECK allows that: a code starts with itself).
const pathSQL = `
WITH RECURSIVE p AS (
    SELECT code, name, level, parent_code, valid_from, valid_to, successor_code FROM regions WHERE code = ?
    UNION ALL
    SELECT r.code, r.name, r.level, r.parent_code, r.valid_from, r.valid_to, r.successor_code
    FROM regions r JOIN p ON r.code = p.parent_code AND length(r.code) < length(p.code)
)
SELECT code, name, level, parent_code, valid_from, valid_to, successor_code FROM p ORDER BY level`

// Path returns the region and all its ancestors, province first (a village normally has 5 entries),
// read in one query. apperr NotFound if the region does not exist.
func (s *Store) Path(ctx context.Context, code string) ([]Region, error) {
	var path []Region
	if err := s.db.WithContext(ctx).Raw(pathSQL, code).Scan(&path).Error; err != nil {
		return nil, apperr.DB(err, "region")
	}
	if len(path) == 0 {
		return nil, apperr.DB(gorm.ErrRecordNotFound, "region")
	}
	return path, nil
}

// Children returns the regions directly under code, ordered by code; empty (not an error) when
// there are none or the region does not exist.
func (s *Store) Children(ctx context.Context, code string) ([]Region, error) {
	children := []Region{}
	err := s.db.WithContext(ctx).Where("parent_code = ?", code).Order("code").Find(&children).Error
	if err != nil {
		return nil, apperr.DB(err, "region")
	}
	return children, nil
}
