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

// MinRatio is a minimum reserve ratio for a province (2-digit region code), city (4) or county
// (6), with the document it comes from (e.g. a provincial notice).
type MinRatio struct {
	RegionCode string    `json:"region_code"`
	RatioBP    int64     `json:"ratio_bp"`
	Source     string    `json:"source"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// MinRatios is the national default and the region overrides, by region code.
type MinRatios struct {
	NationalBP int64      `json:"national_bp"`
	Overrides  []MinRatio `json:"overrides"`
}

// ListMinRatios returns the national default and every override.
func (s *Service) ListMinRatios(ctx context.Context) (MinRatios, error) {
	out := MinRatios{NationalBP: int64(s.cfg.NationalMinRatioBP), Overrides: []MinRatio{}}
	err := s.db.WithContext(ctx).Raw(`SELECT region_code, ratio_bp, source, updated_at FROM reserve_min_ratios ORDER BY region_code`).
		Scan(&out.Overrides).Error
	return out, apperr.DB(err, "minimum ratio")
}

// SetMinRatio sets the minimum ratio of a province, city or county (county office only).
// Errors: Forbidden, Invalid (region_code: 2, 4 or 6 digits of a known region; ratio_bp 1..10000;
// source 1..200 characters).
func (s *Service) SetMinRatio(ctx context.Context, p auth.Principal, code string, ratioBP int64, source string) (MinRatio, error) {
	if !p.IsAdmin() {
		return MinRatio{}, apperr.Forbidden("minimum ratios are set by the county office")
	}
	var f apperr.Fields
	code = text.ASCII(code)
	if n := len(code); n != 2 && n != 4 && n != 6 || strings.Trim(code, "0123456789") != "" {
		f.Add("region_code", "must be a province (2 digits), city (4) or county (6) code")
	} else if ok, err := s.regionExists(ctx, code); err != nil {
		return MinRatio{}, err
	} else if !ok {
		f.Add("region_code", "names no region")
	}
	if ratioBP < 1 || ratioBP > 10000 {
		f.Add("ratio_bp", "must be from 1 to 10000 basis points (1500 = 15 %%)")
	}
	src, ok := text.Name(source, 200)
	if !ok {
		f.Add("source", "%s", text.HiddenOr(source, "must name the document that sets the ratio, 1 to 200 characters"))
	}
	if err := f.Err(); err != nil {
		return MinRatio{}, err
	}
	m := MinRatio{RegionCode: code, RatioBP: ratioBP, Source: src, UpdatedAt: s.now()}
	err := s.db.WithContext(ctx).Exec(`INSERT INTO reserve_min_ratios (region_code, ratio_bp, source, updated_by, updated_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (region_code) DO UPDATE SET ratio_bp = EXCLUDED.ratio_bp, source = EXCLUDED.source,
		updated_by = EXCLUDED.updated_by, updated_at = EXCLUDED.updated_at`, code, ratioBP, src, p.UserID, m.UpdatedAt).Error
	return m, apperr.DB(err, "minimum ratio")
}

// DeleteMinRatio removes a region's override (the next less specific rule applies again to
// filings made from now on; filings keep the minimum they were made under). Errors: Forbidden,
// NotFound.
func (s *Service) DeleteMinRatio(ctx context.Context, p auth.Principal, code string) error {
	if !p.IsAdmin() {
		return apperr.Forbidden("minimum ratios are set by the county office")
	}
	res := s.db.WithContext(ctx).Exec(`DELETE FROM reserve_min_ratios WHERE region_code = ?`, code)
	if res.Error != nil {
		return apperr.DB(res.Error, "minimum ratio")
	}
	if res.RowsAffected == 0 {
		return apperr.NotFound("minimum ratio")
	}
	return nil
}

// minRatioFor is the minimum ratio for a unit in area: the override of the longest prefix of
// area among its province, city and county codes, else the national default ("" region).
func (s *Service) minRatioFor(db *gorm.DB, area string) (int64, string, error) {
	var prefixes []string
	for _, n := range []int{2, 4, 6} {
		if len(area) >= n {
			prefixes = append(prefixes, area[:n])
		}
	}
	var rows []struct {
		RegionCode string
		RatioBP    int64
	}
	if len(prefixes) > 0 {
		err := db.Raw(`SELECT region_code, ratio_bp FROM reserve_min_ratios WHERE region_code IN ?
			ORDER BY length(region_code) DESC LIMIT 1`, prefixes).Scan(&rows).Error
		if err != nil {
			return 0, "", apperr.DB(err, "minimum ratio")
		}
	}
	if len(rows) == 0 {
		return int64(s.cfg.NationalMinRatioBP), "", nil
	}
	return rows[0].RatioBP, rows[0].RegionCode, nil
}

func (s *Service) regionExists(ctx context.Context, code string) (bool, error) {
	var n int64
	err := s.db.WithContext(ctx).Table("regions_view").Where("code = ?", code).Count(&n).Error
	return n > 0, apperr.DB(err, "region")
}

func (s *Service) unitExists(db *gorm.DB, id uuid.UUID) (bool, error) {
	var n int64
	err := db.Table("assisting_units_view").Where("id = ?", id).Count(&n).Error
	return n > 0, apperr.DB(err, "assisting unit")
}
